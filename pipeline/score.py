"""Scoring: ads in the warehouse (stored per model version) and external CSV files.

Stored and written scores are calibrated probabilities (see :mod:`pipeline.calibration`).
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from features import FeatureExtractor
from lurewatch.csv_safety import neutralise, neutralise_value
from pipeline.cross_ad_features import cross_ad_vectors
from pipeline.cross_ad_inputs import batch_cross_ad, contact_keys
from pipeline.scoring_model import ScoringModel
from warehouse.records import ad_text

csv.field_size_limit(sys.maxsize)

PENDING_SQL = """
SELECT a.ad_id, a.title, a.body, a.content_hash, f.vector
FROM ads a JOIN features f USING (ad_id)
LEFT JOIN scores s ON s.ad_id = a.ad_id AND s.model_version = ?
WHERE s.ad_id IS NULL OR s.content_hash <> a.content_hash
ORDER BY a.ad_id
"""


def predict(model: ScoringModel, texts: Sequence[str], vectors: Sequence[Mapping[str, float]]) -> np.ndarray:
    """Calibrated lure probabilities for texts with their (lure + cross-ad) feature vectors."""
    return model.predict(texts, vectors)


def store_scores(
    con: duckdb.DuckDBPyConnection, version: str, ad_ids: Sequence[int], scores: np.ndarray, hashes: Sequence[str]
) -> None:
    table = pa.table(
        {
            "ad_id": pa.array(list(ad_ids), pa.int64()),
            "score": pa.array(np.asarray(scores, dtype=float), pa.float64()),
            "content_hash": pa.array(list(hashes), pa.string()),
        }
    )
    con.register("_new_scores", table)
    try:
        con.execute(
            """
            INSERT OR REPLACE INTO scores (ad_id, model_version, score, content_hash)
            SELECT ad_id, ?, score, content_hash FROM _new_scores
            """,
            [version],
        )
    finally:
        con.unregister("_new_scores")


def score_pending(con: duckdb.DuckDBPyConnection, model: ScoringModel, batch_size: int = 5000) -> int:
    """Score every ad with features but no up-to-date score from this model version."""
    if model.version is None:
        raise ValueError("only a registered model (with a version) can store scores")
    rows = con.execute(PENDING_SQL, [model.version]).fetchall()
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        cross = cross_ad_vectors(con, [r[0] for r in batch])
        vectors = [{**json.loads(r[4]), **cross[int(r[0])]} for r in batch]
        scores = model.predict([ad_text(r[1], r[2]) for r in batch], vectors)
        store_scores(con, model.version, [r[0] for r in batch], scores, [r[3] for r in batch])
    return len(rows)


def score_texts(model: ScoringModel, extractor: FeatureExtractor, texts: Sequence[str]) -> np.ndarray:
    """Score raw texts with no warehouse around them (the batch is the cross-ad population)."""
    if not texts:
        return np.zeros(0, dtype=float)
    found = extractor.extract_many(list(texts))
    cross = batch_cross_ad(list(texts), [contact_keys(f.contacts) for f in found])
    return model.predict(list(texts), [{**f.vector(), **c} for f, c in zip(found, cross, strict=True)])


def score_csv(model: ScoringModel, extractor: FeatureExtractor, source: Path, target: Path) -> int:
    """Read a CSV with a ``text`` column, write it back with a ``score`` column (calibrated probability).

    Written cells are neutralised against spreadsheet formula injection (:mod:`lurewatch.csv_safety`)."""
    with source.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if "text" not in (reader.fieldnames or ()):
            raise ValueError(f"{source}: needs a 'text' column, found {reader.fieldnames}")
        fieldnames = [
            *(reader.fieldnames or ()),
            *([] if "score" in (reader.fieldnames or ()) else ["score"]),
        ]
        rows = list(reader)
    scores = score_texts(model, extractor, [row["text"] or "" for row in rows])
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames)
        writer.writerow({name: neutralise(name) for name in fieldnames})
        for row, score in zip(rows, scores, strict=True):
            # ad texts are attacker-written: no cell may run as a spreadsheet formula
            writer.writerow({**{k: neutralise_value(v) for k, v in row.items()}, "score": f"{score:.6f}"})
    return len(rows)
