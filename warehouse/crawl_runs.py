"""Crawl runs and their health counters, one row per site per run."""

from __future__ import annotations

import json
from typing import Any

import duckdb


def register_site(
    con: duckdb.DuckDBPyConnection, site_id: str, spider: str, base_url: str, config_hash: str
) -> None:
    con.execute(
        """
        INSERT INTO sites (site_id, spider, base_url, config_hash) VALUES (?, ?, ?, ?)
        ON CONFLICT (site_id) DO UPDATE SET spider = excluded.spider, base_url = excluded.base_url,
            config_hash = excluded.config_hash, updated_at = now()
        """,
        [site_id, spider, base_url, config_hash],
    )


def start_run(con: duckdb.DuckDBPyConnection, site_id: str) -> int:
    return int(
        con.execute("INSERT INTO crawl_runs (site_id) VALUES (?) RETURNING run_id", [site_id]).fetchall()[0][
            0
        ]
    )


def finish_run(
    con: duckdb.DuckDBPyConnection,
    run_id: int,
    *,
    status: str,
    pages: int,
    items: int,
    ads_inserted: int,
    ads_updated: int,
    errors: int,
    selector_misses: int,
    stats: dict[str, Any] | None = None,
) -> None:
    con.execute(
        """
        UPDATE crawl_runs SET finished_at = now(), status = ?, pages = ?, items = ?, ads_inserted = ?,
            ads_updated = ?, errors = ?, selector_misses = ?, stats = ?
        WHERE run_id = ?
        """,
        [
            status,
            pages,
            items,
            ads_inserted,
            ads_updated,
            errors,
            selector_misses,
            json.dumps(stats or {}, default=str),
            run_id,
        ],
    )


def health(con: duckdb.DuckDBPyConnection, limit: int = 50) -> list[dict[str, Any]]:
    """Latest runs first, with the counters an operator checks for a silently broken site."""
    cursor = con.execute(
        """
        SELECT run_id, site_id, status, started_at, finished_at, pages, items, ads_inserted, ads_updated,
               errors, selector_misses
        FROM crawl_runs ORDER BY run_id DESC LIMIT ?
        """,
        [limit],
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
