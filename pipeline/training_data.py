"""Labelled examples for training: analyst/fixture decisions in the warehouse plus the EMSCAD real-ads CSV."""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from warehouse.records import ad_text

csv.field_size_limit(sys.maxsize)


@dataclass(slots=True)
class Example:
    text: str
    label: int
    source: str  # "warehouse" | "emscad"
    language: str | None = None
    site: str | None = None
    ad_id: int | None = None
    vector: dict[str, float] | None = field(default=None, repr=False)


def warehouse_examples(con: duckdb.DuckDBPyConnection) -> list[Example]:
    """The latest lure / not-lure decision per ad (unsure and skip are not training labels)."""
    rows = con.execute(
        """
        WITH latest AS (
            SELECT ad_id, label, row_number() OVER (PARTITION BY ad_id ORDER BY decided_at DESC, label_id DESC) AS rn
            FROM labels
        )
        SELECT a.ad_id, a.title, a.body, a.site_id, l.label, f.language, f.vector
        FROM latest l JOIN ads a USING (ad_id) LEFT JOIN features f USING (ad_id)
        WHERE l.rn = 1 AND l.label IN ('lure', 'not_lure')
        ORDER BY a.ad_id
        """
    ).fetchall()
    return [
        Example(
            text=ad_text(title, body),
            label=int(label == "lure"),
            source="warehouse",
            language=language,
            site=site,
            ad_id=ad_id,
            vector=json.loads(vector) if vector else None,
        )
        for ad_id, title, body, site, label, language, vector in rows
    ]


def emscad_examples(path: Path) -> list[Example]:
    """EMSCAD rows (``text,fraudulent``): real English job ads, already lower-cased upstream."""
    if not path.exists():
        raise FileNotFoundError(f"EMSCAD training file not found: {path} (set LUREWATCH_EMSCAD_TRAIN_CSV)")
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"text", "fraudulent"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing columns {sorted(missing)}")
        return [
            Example(
                text=row["text"], label=int(row["fraudulent"]), source="emscad", language="en", site="emscad"
            )
            for row in reader
            if row["text"].strip()
        ]


def fingerprint(examples: Sequence[Example]) -> str:
    """Identifies the exact training data (texts and labels), order-independent."""
    digest = hashlib.sha256()
    for item in sorted(hashlib.sha256(f"{e.label}\x00{e.text}".encode()).hexdigest() for e in examples):
        digest.update(item.encode())
    return digest.hexdigest()[:16]
