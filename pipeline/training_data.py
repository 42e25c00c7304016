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
import numpy as np

from pipeline.cross_ad_features import cross_ad_vectors
from warehouse.records import ad_text

csv.field_size_limit(sys.maxsize)

TRAINING_LABELS = ("lure", "not_lure")


@dataclass(slots=True)
class Example:
    text: str
    label: int
    source: str  # where the label came from: "fixture" | "analyst" | ... (labels.source) or "emscad"
    language: str | None = None
    site: str | None = None
    ad_id: int | None = None
    external_id: str | None = None
    vector: dict[str, float] | None = field(default=None, repr=False)
    contacts: tuple[str, ...] | None = field(default=None, repr=False)  # linking contact values (cross-ad)
    group: str | None = None  # a known template / campaign id; joined with near-duplicate clusters for CV
    label_id: int | None = None


def text_key(text: str) -> int:
    """A 63-bit content key of a text: what the model files remember about each training example."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") >> 1


def text_keys(texts: Sequence[str]) -> np.ndarray:
    return np.array([text_key(t) for t in texts], dtype=np.int64)


def warehouse_examples(con: duckdb.DuckDBPyConnection) -> list[Example]:
    """The latest lure / not-lure decision per ad (an ad whose latest decision is unsure or skip is left out).

    Feature vectors include the stored cross-ad features of each ad.
    """
    rows = con.execute(
        """
        WITH latest AS (
            SELECT ad_id, label, source, label_id,
                   row_number() OVER (PARTITION BY ad_id ORDER BY decided_at DESC, label_id DESC) AS rn
            FROM labels
        )
        SELECT a.ad_id, a.title, a.body, a.site_id, a.external_id, l.label, l.source, l.label_id,
               f.language, f.vector
        FROM latest l JOIN ads a USING (ad_id) LEFT JOIN features f USING (ad_id)
        WHERE l.rn = 1 AND l.label IN ('lure', 'not_lure')
        ORDER BY a.ad_id
        """
    ).fetchall()
    cross = cross_ad_vectors(con, [r[0] for r in rows if r[9]])
    return [
        Example(
            text=ad_text(title, body),
            label=int(label == "lure"),
            source=str(source),
            language=language,
            site=site,
            ad_id=int(ad_id),
            external_id=external,
            vector={**json.loads(vector), **cross[int(ad_id)]} if vector else None,
            label_id=int(label_id),
        )
        for ad_id, title, body, site, external, label, source, label_id, language, vector in rows
    ]


def label_watermark(con: duckdb.DuckDBPyConnection) -> int:
    """The newest label id: labels with a larger id are 'new since' a model trained now."""
    return int(con.execute("SELECT coalesce(max(label_id), 0) FROM labels").fetchall()[0][0])


def emscad_examples(path: Path, limit: int | None = None) -> list[Example]:
    """EMSCAD rows (``text,fraudulent``): real English job ads, already lower-cased upstream.

    ``limit`` keeps a deterministic stratified-ish sample (every k-th row) for quick experiments and tests.
    """
    if not path.exists():
        raise FileNotFoundError(f"EMSCAD training file not found: {path} (set LUREWATCH_EMSCAD_TRAIN_CSV)")
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"text", "fraudulent"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing columns {sorted(missing)}")
        examples = [
            Example(text=row["text"], label=int(row["fraudulent"]), source="emscad", language="en", site="emscad")
            for row in reader
            if row["text"].strip()
        ]
    if limit is not None and limit < len(examples):
        step = len(examples) / limit
        examples = [examples[int(i * step)] for i in range(limit)]
    return examples


def fingerprint(examples: Sequence[Example]) -> str:
    """Identifies the exact training data (texts and labels), order-independent."""
    digest = hashlib.sha256()
    for item in sorted(hashlib.sha256(f"{e.label}\x00{e.text}".encode()).hexdigest() for e in examples):
        digest.update(item.encode())
    return digest.hexdigest()[:16]
