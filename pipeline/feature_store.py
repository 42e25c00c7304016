"""Run feature extraction over ads whose features are missing or stale, and store features and entities."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from functools import cache
from pathlib import Path

import duckdb
import pyarrow as pa

import features
from features import AdFeatures, FeatureExtractor
from warehouse.records import ad_text


@cache
def extractor_version() -> str:
    """Changes whenever the lexicons, taxonomy or extraction code change, so stale features get redone."""
    root = Path(features.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in {".py", ".jsonl", ".yaml"}):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def pending_rows(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str, str, str]]:
    """Ads without features, with changed text, or extracted by another extractor version — except that an ad
    whose contacts retention pseudonymised (``retention_ads``) is re-extracted only when its text changed: its
    masked text no longer holds the contacts, so a re-extraction would drop its pseudonymised links."""
    return con.execute(
        """
        SELECT a.ad_id, a.title, a.body, a.content_hash
        FROM ads a LEFT JOIN features f USING (ad_id)
        WHERE f.ad_id IS NULL OR f.content_hash <> a.content_hash
           OR (f.extractor_version <> ? AND a.ad_id NOT IN (SELECT ad_id FROM retention_ads))
        ORDER BY a.ad_id
        """,
        [extractor_version()],
    ).fetchall()


def _batches(
    rows: Sequence[tuple[int, str, str, str]], size: int
) -> Iterator[Sequence[tuple[int, str, str, str]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def store_features(
    con: duckdb.DuckDBPyConnection, rows: Sequence[tuple[int, str, str, str]], found: list[AdFeatures]
) -> None:
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


def extract_pending(
    con: duckdb.DuckDBPyConnection, extractor: FeatureExtractor | None = None, batch_size: int = 500
) -> int:
    """Extract and store features for every ad that needs it. Returns the number of ads processed."""
    rows = pending_rows(con)
    if not rows:
        return 0
    extractor = extractor or FeatureExtractor()
    for batch in _batches(rows, batch_size):
        found = extractor.extract_many([ad_text(r[1], r[2]) for r in batch])
        store_features(con, batch, found)
    return len(rows)
