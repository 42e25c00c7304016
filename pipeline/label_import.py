"""Importing known labels (fixture ground truth, partner data) into the labels table, idempotently."""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pyarrow as pa


def import_labels(
    con: duckdb.DuckDBPyConnection,
    labels: Iterable[tuple[str, str, bool]],
    *,
    source: str,
    analyst: str,
    note: str | None = None,
) -> int:
    """Attach ``(site_id, external_id, is_lure)`` labels to crawled ads. Returns how many were new.

    An ad that already has a label from the same source keeps it; ads not crawled yet are ignored.
    """
    rows = list(labels)
    if not rows:
        return 0
    table = pa.table(
        {
            "site_id": [r[0] for r in rows],
            "external_id": [r[1] for r in rows],
            "label": ["lure" if r[2] else "not_lure" for r in rows],
        }
    )
    con.register("_incoming_labels", table)
    try:
        inserted = con.execute(
            """
            INSERT INTO labels (ad_id, label, source, analyst, note)
            SELECT a.ad_id, i.label, ?, ?, ?
            FROM _incoming_labels i JOIN ads a ON a.site_id = i.site_id AND a.external_id = i.external_id
            WHERE NOT EXISTS (SELECT 1 FROM labels l WHERE l.ad_id = a.ad_id AND l.source = ?)
            RETURNING label_id
            """,
            [source, analyst, note, source],
        ).fetchall()
    finally:
        con.unregister("_incoming_labels")
    return len(inserted)
