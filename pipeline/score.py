"""Scoring: ads in the warehouse (stored per model version) and external CSV files."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from features import FeatureExtractor
from pipeline.design_matrix import design_matrix
from pipeline.model_registry import LoadedModel
from warehouse.records import ad_text

csv.field_size_limit(sys.maxsize)


def predict(model: LoadedModel, texts: Sequence[str], vectors: Sequence[dict[str, float]]) -> np.ndarray:
    matrix = design_matrix(texts, vectors, model.structured_names, model.text_columns)
    return np.asarray(model.booster.predict(matrix), dtype=float)


def score_pending(con: duckdb.DuckDBPyConnection, model: LoadedModel, batch_size: int = 5000) -> int:
    """Score every ad with features but no up-to-date score from this model version."""
    rows = con.execute(
        """
        SELECT a.ad_id, a.title, a.body, a.content_hash, f.vector
        FROM ads a JOIN features f USING (ad_id)
        LEFT JOIN scores s ON s.ad_id = a.ad_id AND s.model_version = ?
        WHERE s.ad_id IS NULL OR s.content_hash <> a.content_hash
        ORDER BY a.ad_id
        """,
        [model.version],
    ).fetchall()
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        scores = predict(model, [ad_text(r[1], r[2]) for r in batch], [json.loads(r[4]) for r in batch])
        table = pa.table(
            {
                "ad_id": pa.array([r[0] for r in batch], pa.int64()),
                "score": pa.array(scores, pa.float64()),
                "content_hash": [r[3] for r in batch],
            }
        )
        con.register("_new_scores", table)
        try:
            con.execute(
                """
                INSERT OR REPLACE INTO scores (ad_id, model_version, score, content_hash)
                SELECT ad_id, ?, score, content_hash FROM _new_scores
                """,
                [model.version],
            )
        finally:
            con.unregister("_new_scores")
    return len(rows)


def score_csv(model: LoadedModel, extractor: FeatureExtractor, source: Path, target: Path) -> int:
    """Read a CSV with a ``text`` column, write it back with a ``score`` column appended."""
    with source.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if "text" not in (reader.fieldnames or ()):
            raise ValueError(f"{source}: needs a 'text' column, found {reader.fieldnames}")
        fieldnames = [
            *(reader.fieldnames or ()),
            *([] if "score" in (reader.fieldnames or ()) else ["score"]),
        ]
        rows = list(reader)
    texts = [row["text"] or "" for row in rows]
    vectors = [f.vector() for f in extractor.extract_many(texts)]
    scores = predict(model, texts, vectors) if rows else np.array([])
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames)
        writer.writeheader()
        for row, score in zip(rows, scores, strict=True):
            writer.writerow({**row, "score": f"{score:.6f}"})
    return len(rows)
