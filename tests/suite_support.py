"""Helpers the test packages share (``tests/`` is on ``sys.path`` through the root conftest): environment patches
for session-wide builds, the fixture warehouse built by the real flow, fixture ads as crawled rows, warehouse
queries."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from warehouse import session
from warehouse.records import AdRow


@contextmanager
def patched_env(values: dict[str, str]) -> Iterator[None]:
    """``os.environ`` with ``values`` set, restored afterwards (for session-scoped fixtures, where pytest's
    ``monkeypatch`` is not available)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def build_flow_warehouse(folder: Path, base_urls: dict[str, str], name: str = "flow.duckdb") -> Path:
    """The real crawl_and_score flow over the fixture sites at ``base_urls`` into ``folder/name``: a first model
    trained on the fixture train labels only (an empty EMSCAD file keeps this to about a minute), model files
    inside ``folder``."""
    from fixture_sites import load_ads
    from flows.crawl_and_score import crawl_and_score

    folder.mkdir(parents=True, exist_ok=True)
    empty = folder / "no-emscad.csv"
    empty.write_text("text,fraudulent\n", encoding="utf-8")
    db = folder / name
    seed = [(ad["site"], ad["ref"], bool(ad["label"])) for ad in load_ads() if ad["split"] == "train"]
    with patched_env({"LUREWATCH_MODELS_DIR": str(folder / "models"), "LUREWATCH_EMSCAD_TRAIN_CSV": str(empty)}):
        crawl_and_score(base_urls=base_urls, db_path=str(db), seed_labels=seed, seed_label_source="fixture")
    return db


def fixture_ad_row(ad: dict[str, Any], url: str) -> AdRow:
    """A fixture ad (``fixture_sites/data/ads.jsonl``) as the crawler stores it: the contact line follows the body,
    as the sites show it."""
    return AdRow(
        site_id=ad["site"],
        url=url,
        title=ad["title"],
        body=ad["body"] + (f"\n\n{ad['contact']}" if ad.get("contact") else ""),
        external_id=ad["ref"],
        company=ad.get("company"),
        location=ad.get("city"),
        country=ad.get("country"),
        contact_text=ad.get("contact"),
        page_language=ad["lang"],
        posted=date.fromisoformat(ad["posted"]) if ad.get("posted") else None,
    )


def app_answers(url: str, timeout_s: float) -> bool:
    """Whether the review app at ``url`` serves its login page within ``timeout_s`` (polled every 50 ms)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{url}/login", timeout=5).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def query(db: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """One read in its own short warehouse session."""
    with session(db) as con:
        return con.execute(sql, list(params)).fetchall()
