"""Load the lure-indicator taxonomy (features/taxonomy.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

TAXONOMY_PATH = Path(__file__).with_name("taxonomy.yaml")


@dataclass(frozen=True, slots=True)
class Indicator:
    id: str
    title: str
    description: str
    maps_to: str


@cache
def load_taxonomy(path: Path = TAXONOMY_PATH) -> tuple[Indicator, ...]:
    """Return the indicators in file order."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = tuple(
        Indicator(
            id=str(d["id"]),
            title=str(d["title"]),
            description=str(d["description"]).strip(),
            maps_to=str(d["maps_to"]),
        )
        for d in data["indicators"]
    )
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate indicator ids in {path}")
    return items


INDICATORS: tuple[str, ...] = tuple(i.id for i in load_taxonomy())
