"""Scoring: ads in the warehouse (stored per model version) and external CSV files.

Stored and written scores are calibrated probabilities (see :mod:`pipeline.calibration`).

Warehouse scoring isolates failures per ad like extraction does (:mod:`pipeline.feature_store`): an ad whose
features cannot be scored (or score to a non-finite number) is recorded in ``ad_failures`` and retried by the next
run; :func:`score_pending_at` holds the warehouse only to read and to commit each batch.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from features import FeatureExtractor
from pipeline import faults
from pipeline.cross_ad_features import cross_ad_vectors
from pipeline.cross_ad_inputs import batch_cross_ad, contact_keys
from pipeline.scoring_model import ScoringModel
from warehouse.ad_failures import AdFailure, describe_error, forget_resolved, record_failures
from warehouse.connection import DEFAULT_LOCK_TIMEOUT_S, session
from warehouse.records import ad_text

csv.field_size_limit(sys.maxsize)

PENDING_SQL = """
SELECT a.ad_id, a.title, a.body, a.content_hash, f.vector
FROM ads a JOIN features f USING (ad_id)
LEFT JOIN scores s ON s.ad_id = a.ad_id AND s.model_version = ?
WHERE s.ad_id IS NULL OR s.content_hash <> a.content_hash
ORDER BY a.ad_id
"""

PENDING_IDS_SQL = PENDING_SQL.replace("a.ad_id, a.title, a.body, a.content_hash, f.vector", "a.ad_id", 1)

PENDING_BATCH_SQL = """
SELECT a.ad_id, a.title, a.body, a.content_hash, f.vector
FROM ads a JOIN features f USING (ad_id)
LEFT JOIN scores s ON s.ad_id = a.ad_id AND s.model_version = ?
WHERE (s.ad_id IS NULL OR s.content_hash <> a.content_hash) AND a.ad_id IN (SELECT unnest(?))
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


@dataclass
class ScoringRun:
    """What one scoring run did."""

    pending: int = 0  # ads with features but no up-to-date score from the model when the run started
    scored: int = 0  # scores stored
    failures: list[AdFailure] = field(default_factory=list)  # ads that could not be scored (in ad_failures)


PendingScoreRow = tuple[int, str, str, str, str]  # ad_id, title, body, content_hash, feature vector (JSON)


def score_batch(
    model: ScoringModel,
    rows: Sequence[PendingScoreRow],
    cross: Mapping[int, Mapping[str, float]],
    fault_marker: str | None = None,
) -> tuple[list[PendingScoreRow], np.ndarray, list[AdFailure]]:
    """Scores of ``rows``: ``(rows scored, their scores, failures)``. The batch is scored in one go; if that raises
    (or gives a non-finite score), ad by ad, so one bad ad costs only itself."""
    ready: list[PendingScoreRow] = []
    texts: list[str] = []
    vectors: list[dict[str, float]] = []
    failed: list[AdFailure] = []
    for row in rows:
        try:
            vector = {**json.loads(row[4]), **cross[int(row[0])]}
        except Exception as error:  # a damaged feature vector: this ad only
            failed.append(AdFailure(int(row[0]), row[3], describe_error(error)))
            continue
        ready.append(row)
        texts.append(ad_text(row[1], row[2]))
        vectors.append(vector)
    try:
        faults.check("score", texts, fault_marker)
        whole = _finite(model.predict(texts, vectors))
    except Exception:  # some ad raised: which one is found below, one at a time
        whole = None
    if whole is not None:
        return ready, whole, failed
    done: list[PendingScoreRow] = []
    scores: list[float] = []
    for row, text, vector in zip(ready, texts, vectors, strict=True):
        try:
            faults.check("score", [text], fault_marker)
            one = float(_finite(model.predict([text], [vector]))[0])
        except Exception as error:  # one ad's bug must not stop the others: record it, go on
            failed.append(AdFailure(int(row[0]), row[3], describe_error(error)))
        else:
            done.append(row)
            scores.append(one)
    return done, np.asarray(scores, dtype=float), failed


def _finite(scores: np.ndarray) -> np.ndarray:
    values = np.asarray(scores, dtype=float)
    if not np.all(np.isfinite(values)):
        raise ValueError("the model gave a non-finite score")
    return values


def _score_run(
    open_con: Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]],
    model: ScoringModel,
    batch_size: int,
    fault_marker: str | None,
    progress: Callable[[int, int], None] | None,
) -> ScoringRun:
    if model.version is None:
        raise ValueError("only a registered model (with a version) can store scores")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    version = model.version
    with open_con() as con:
        forget_resolved(con)
        ids = [int(r[0]) for r in con.execute(PENDING_IDS_SQL, [version]).fetchall()]
    run = ScoringRun(pending=len(ids))
    for start in range(0, len(ids), batch_size):
        with open_con() as con:  # re-read: the ads may have changed or been scored by another writer meanwhile
            batch = con.execute(PENDING_BATCH_SQL, [version, ids[start : start + batch_size]]).fetchall()
            cross = cross_ad_vectors(con, [r[0] for r in batch])
        done, scores, failed = score_batch(model, batch, cross, fault_marker)
        with open_con() as con:
            if done:
                store_scores(con, version, [r[0] for r in done], scores, [r[3] for r in done])
            record_failures(con, "score", version, failed, [r[0] for r in done])
        run.scored += len(done)
        run.failures.extend(failed)
        if progress is not None:
            progress(min(start + batch_size, len(ids)), len(ids))
    return run


def score_pending(
    con: duckdb.DuckDBPyConnection, model: ScoringModel, batch_size: int = 5000, *, fault_marker: str | None = None
) -> int:
    """Score every ad with features but no up-to-date score from this model version, on an open connection (held
    throughout). Returns the number of ads that needed it; ads that could not be scored are in ``ad_failures``."""
    return _score_run(lambda: nullcontext(con), model, batch_size, fault_marker, None).pending


def score_pending_at(
    path: Path | str,
    model: ScoringModel,
    batch_size: int = 5000,
    *,
    fault_marker: str | None = None,
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
    progress: Callable[[int, int], None] | None = None,
) -> ScoringRun:
    """Like :func:`score_pending` on the warehouse at ``path``, opening it only to read each batch and to commit it
    (each wait up to ``lock_timeout_s``, then :class:`warehouse.WarehouseBusy`; committed batches stay)."""
    return _score_run(lambda: session(path, lock_timeout_s=lock_timeout_s), model, batch_size, fault_marker, progress)


def score_texts(model: ScoringModel, extractor: FeatureExtractor, texts: Sequence[str]) -> np.ndarray:
    """Score raw texts with no warehouse around them (the batch is the cross-ad population)."""
    if not texts:
        return np.zeros(0, dtype=float)
    found = extractor.extract_many(list(texts))
    cross = batch_cross_ad(list(texts), [contact_keys(f.contacts) for f in found])
    return model.predict(list(texts), [{**f.vector(), **c} for f, c in zip(found, cross, strict=True)])


def score_csv(model: ScoringModel, extractor: FeatureExtractor, source: Path, target: Path) -> int:
    """Read a CSV with a ``text`` column, write it to ``target`` with a ``score`` column (calibrated probability);
    the number of rows scored. Streamed, written atomically, malformed rows skipped: see :mod:`pipeline.csv_scoring`.

    Written cells are neutralised against spreadsheet formula injection (:mod:`lurewatch.csv_safety`)."""
    from pipeline.csv_scoring import score_csv_file

    return score_csv_file(model, extractor, source, target).rows
