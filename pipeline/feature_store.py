"""Run feature extraction over ads whose features are missing or stale, and store features and entities.

Failures are isolated per ad: when a batch raises, its ads are extracted one by one, the ads that still raise are
recorded in ``ad_failures`` (:mod:`warehouse.ad_failures`) and everything else is stored; later batches go on. A
failed ad stays pending and is retried by the next run. :func:`extract_pending_at` holds the warehouse only to read
a batch and to commit it (never while extracting), so other writers (``lurewatch score``, the review app, crawls)
get their turn between batches.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import duckdb
import pyarrow as pa

import features
from features import AdFeatures, FeatureExtractor
from pipeline import faults
from warehouse.ad_failures import AdFailure, describe_error, forget_resolved, record_failures
from warehouse.connection import DEFAULT_LOCK_TIMEOUT_S, session
from warehouse.records import ad_text

PendingRow = tuple[int, str, str, str]  # ad_id, title, body, content_hash
Progress = Callable[[int, int], None]  # (ads handled so far, ads pending at the start), after each committed batch


@cache
def extractor_version() -> str:
    """Changes whenever the lexicons, taxonomy or extraction code change, so stale features get redone."""
    root = Path(features.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in {".py", ".jsonl", ".yaml"}):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


_PENDING_SQL = """
SELECT a.ad_id, a.title, a.body, a.content_hash
FROM ads a LEFT JOIN features f USING (ad_id)
WHERE (f.ad_id IS NULL OR f.content_hash <> a.content_hash
       OR (f.extractor_version <> ? AND a.ad_id NOT IN (SELECT ad_id FROM retention_ads)))
"""


def pending_rows(con: duckdb.DuckDBPyConnection, ad_ids: Sequence[int] | None = None) -> list[PendingRow]:
    """Ads without features, with changed text, or extracted by another extractor version — except that an ad
    whose contacts retention pseudonymised (``retention_ads``) is re-extracted only when its text changed: its
    masked text no longer holds the contacts, so a re-extraction would drop its pseudonymised links.

    With ``ad_ids``, only those of them that still need it."""
    if ad_ids is None:
        return con.execute(_PENDING_SQL + " ORDER BY a.ad_id", [extractor_version()]).fetchall()
    return con.execute(
        _PENDING_SQL + " AND a.ad_id IN (SELECT unnest(?)) ORDER BY a.ad_id",
        [extractor_version(), [int(i) for i in ad_ids]],
    ).fetchall()


def pending_ids(con: duckdb.DuckDBPyConnection) -> list[int]:
    """The ids of :func:`pending_rows`, without reading their texts."""
    sql = _PENDING_SQL.replace("a.ad_id, a.title, a.body, a.content_hash", "a.ad_id", 1)
    return [int(r[0]) for r in con.execute(sql + " ORDER BY a.ad_id", [extractor_version()]).fetchall()]


def _batches(rows: Sequence[PendingRow], size: int) -> Iterator[Sequence[PendingRow]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def store_features(con: duckdb.DuckDBPyConnection, rows: Sequence[PendingRow], found: list[AdFeatures]) -> None:
    version = extractor_version()
    feature_rows = pa.table(
        {
            "ad_id": pa.array([r[0] for r in rows], pa.int64()),
            "content_hash": [r[3] for r in rows],
            "language": [f.language for f in found],
            "language_confidence": pa.array([f.language_confidence for f in found], pa.float64()),
            "vector": [json.dumps(f.vector()) for f in found],
            "evidence": [json.dumps([asdict(e) for e in f.evidence], ensure_ascii=False) for f in found],
        }
    )
    entity_rows = pa.Table.from_pylist(
        [
            {
                "ad_id": row[0],
                "kind": c.kind,
                "value": c.value,
                "raw": c.raw,
                "start_pos": c.start,
                "end_pos": c.end,
                "free_mail": c.free_mail,
            }
            for row, feats in zip(rows, found, strict=True)
            for c in feats.contacts
        ],
        schema=pa.schema(
            [
                ("ad_id", pa.int64()),
                ("kind", pa.string()),
                ("value", pa.string()),
                ("raw", pa.string()),
                ("start_pos", pa.int32()),
                ("end_pos", pa.int32()),
                ("free_mail", pa.bool_()),
            ]
        ),
    )
    con.register("_new_features", feature_rows)
    con.register("_new_entities", entity_rows)
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute("DELETE FROM entities WHERE ad_id IN (SELECT ad_id FROM _new_features)")
        con.execute("DELETE FROM features WHERE ad_id IN (SELECT ad_id FROM _new_features)")
        con.execute(
            """
            INSERT INTO features
                (ad_id, content_hash, extractor_version, language, language_confidence, vector, evidence)
            SELECT ad_id, content_hash, ?, language, language_confidence, vector::JSON, evidence::JSON
            FROM _new_features
            """,
            [version],
        )
        con.execute(
            "INSERT INTO entities (ad_id, kind, value, raw, start_pos, end_pos, free_mail) "
            "SELECT ad_id, kind, value, raw, start_pos, end_pos, free_mail FROM _new_entities"
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_new_features")
        con.unregister("_new_entities")


@dataclass
class ExtractionRun:
    """What one extraction run did."""

    pending: int = 0  # ads that needed extraction when the run started
    extracted: int = 0  # ads whose features were stored
    failures: list[AdFailure] = field(default_factory=list)  # ads that raised (recorded in ad_failures)


def extract_batch(
    extractor: FeatureExtractor, rows: Sequence[PendingRow], fault_marker: str | None = None
) -> tuple[list[PendingRow], list[AdFeatures], list[AdFailure]]:
    """Features of ``rows``: ``(rows that went through, their features, failures)``. The batch is extracted in one
    go; if that raises, ad by ad, so one failing ad costs only itself."""
    texts = [ad_text(r[1], r[2]) for r in rows]
    try:
        faults.check("extract", texts, fault_marker)
        whole = extractor.extract_many(texts)
    except Exception:  # some ad raised: which one is found below, one at a time
        whole = None
    if whole is not None:
        return list(rows), whole, []
    done: list[PendingRow] = []
    found: list[AdFeatures] = []
    failed: list[AdFailure] = []
    for row, text in zip(rows, texts, strict=True):
        try:
            faults.check("extract", [text], fault_marker)
            one = extractor.extract_many([text])[0]
        except Exception as error:  # one ad's bug must not stop the others: record it, go on
            failed.append(AdFailure(int(row[0]), row[3], describe_error(error)))
        else:
            done.append(row)
            found.append(one)
    return done, found, failed


def _run(
    open_con: Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]],
    extractor: FeatureExtractor | None,
    batch_size: int,
    fault_marker: str | None,
    progress: Progress | None,
) -> ExtractionRun:
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    with open_con() as con:
        forget_resolved(con)
        ids = pending_ids(con)
    run = ExtractionRun(pending=len(ids))
    if not ids:
        return run
    extractor = extractor or FeatureExtractor()
    version = extractor_version()
    for start in range(0, len(ids), batch_size):
        with open_con() as con:  # re-read: another writer may have changed or extracted some meanwhile
            batch = pending_rows(con, ids[start : start + batch_size])
        done, found, failed = extract_batch(extractor, batch, fault_marker)
        with open_con() as con:
            if done:
                store_features(con, done, found)
            record_failures(con, "extract", version, failed, [r[0] for r in done])
        run.extracted += len(done)
        run.failures.extend(failed)
        if progress is not None:
            progress(min(start + batch_size, len(ids)), len(ids))
    return run


def extract_pending(
    con: duckdb.DuckDBPyConnection,
    extractor: FeatureExtractor | None = None,
    batch_size: int = 500,
    *,
    fault_marker: str | None = None,
) -> int:
    """Extract and store features for every ad that needs it, on an open connection (held throughout). Returns
    the number of ads that needed it; ads that raised are in ``ad_failures``."""
    return _run(lambda: nullcontext(con), extractor, batch_size, fault_marker, None).pending


def extract_pending_at(
    path: Path | str,
    extractor: FeatureExtractor | None = None,
    batch_size: int = 500,
    *,
    fault_marker: str | None = None,
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
    progress: Progress | None = None,
) -> ExtractionRun:
    """Like :func:`extract_pending` on the warehouse at ``path``, opening it only to read each batch and to commit
    it (each wait up to ``lock_timeout_s``, then :class:`warehouse.WarehouseBusy`; committed batches stay)."""
    return _run(
        lambda: session(path, lock_timeout_s=lock_timeout_s), extractor, batch_size, fault_marker, progress
    )
