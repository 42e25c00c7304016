"""Crawl runs and their health counters, one row per site per run, and the alerts an operator should see."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import duckdb

#: An alert is raised when a run's items fall below this share of the previous finished run's items ...
DEFAULT_DROP_RATIO = 0.5
#: ... provided that previous run had at least this many items (small sites fluctuate).
DEFAULT_MIN_ITEMS = 10


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
    ads_unchanged: int = 0,
    not_modified: int = 0,
    ads_removed: int = 0,
    complete: bool = False,
) -> None:
    con.execute(
        """
        UPDATE crawl_runs SET finished_at = now(), status = ?, pages = ?, items = ?, ads_inserted = ?,
            ads_updated = ?, errors = ?, selector_misses = ?, stats = ?, ads_unchanged = ?, not_modified = ?,
            ads_removed = ?, complete = ?
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
            ads_unchanged,
            not_modified,
            ads_removed,
            complete,
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


@dataclass(frozen=True)
class RunHealth:
    """One crawl run with the previous *finished* run of the same site and the alerts that comparison raises."""

    run_id: int
    site_id: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    pages: int
    items: int
    ads_inserted: int
    ads_updated: int
    ads_unchanged: int
    not_modified: int
    ads_removed: int
    errors: int
    selector_misses: int
    complete: bool
    prev_run_id: int | None
    prev_items: int | None
    prev_selector_misses: int | None
    stats: dict[str, Any] = field(default_factory=dict)
    alerts: tuple[str, ...] = ()


def run_alerts(
    run: RunHealth, *, drop_ratio: float = DEFAULT_DROP_RATIO, min_items: int = DEFAULT_MIN_ITEMS
) -> tuple[str, ...]:
    """Why ``run`` needs a human: it failed, its items fell sharply against the previous finished run of the
    site, selector misses appeared (the classic silently broken selector after a site redesign), or it could
    not mark removed ads (partial crawl, or the mass-removal guard held back)."""
    if run.status == "failed":
        return ("run failed",)  # its counters are partial: comparing them would only add noise
    if run.status == "running":
        return ()
    alerts: list[str] = []
    prev_items, prev_misses = run.prev_items, run.prev_selector_misses
    if prev_items is not None and prev_items >= min_items and run.items < prev_items * (1 - drop_ratio):
        drop = 1 - run.items / prev_items
        alerts.append(f"items dropped {drop:.0%} ({prev_items} → {run.items})")
    if run.selector_misses > 0:
        if not prev_misses:
            before = "first run" if prev_misses is None else "0"
            alerts.append(f"selector misses appeared ({before} → {run.selector_misses})")
        elif run.selector_misses >= 2 * prev_misses + 5:
            alerts.append(f"selector misses rose ({prev_misses} → {run.selector_misses})")
    skipped = run.stats.get("removal_skipped")
    if isinstance(skipped, str):
        if skipped.startswith("guard:"):
            alerts.append(f"removal marking held back: {skipped.removeprefix('guard:').strip()}")
        elif not skipped.startswith("disabled"):
            alerts.append(f"partial crawl: {skipped}")  # e.g. a listing page keeps failing: no removals
    return tuple(alerts)


def health_report(
    con: duckdb.DuckDBPyConnection,
    *,
    limit: int = 20,
    site: str | None = None,
    drop_ratio: float = DEFAULT_DROP_RATIO,
    min_items: int = DEFAULT_MIN_ITEMS,
) -> list[RunHealth]:
    """Latest runs first (optionally of one site), each compared with the previous finished run of its site."""
    rows = con.execute(
        """
        WITH finished AS (
            SELECT run_id AS prev_run_id, site_id AS prev_site, items AS prev_items,
                   selector_misses AS prev_misses
            FROM crawl_runs WHERE status = 'finished'
        )
        SELECT r.run_id, r.site_id, r.status, r.started_at, r.finished_at, r.pages, r.items, r.ads_inserted,
               r.ads_updated, r.ads_unchanged, r.not_modified, r.ads_removed, r.errors, r.selector_misses,
               r.complete, f.prev_run_id, f.prev_items, f.prev_misses, r.stats
        FROM crawl_runs r
        ASOF LEFT JOIN finished f ON r.site_id = f.prev_site AND r.run_id > f.prev_run_id
        WHERE $site IS NULL OR r.site_id = $site
        ORDER BY r.run_id DESC LIMIT $limit
        """,
        {"site": site, "limit": limit},
    ).fetchall()
    names = [f for f in RunHealth.__dataclass_fields__ if f not in {"stats", "alerts"}]
    report: list[RunHealth] = []
    for row in rows:
        values: dict[str, Any] = dict(zip(names, row[:-1], strict=True))
        try:
            stats = json.loads(row[-1]) if row[-1] else {}
        except ValueError:
            stats = {}
        run = RunHealth(**values, stats=stats if isinstance(stats, dict) else {})
        report.append(replace(run, alerts=run_alerts(run, drop_ratio=drop_ratio, min_items=min_items)))
    return report
