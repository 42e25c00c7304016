"""Writing crawled ads: re-crawling an ad updates ``last_seen`` (and its text if it changed), never duplicates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import duckdb
import pyarrow as pa

from warehouse.records import AdRow, UpsertResult

_COLUMNS = (
    "site_id",
    "url",
    "external_id",
    "title",
    "body",
    "company",
    "location",
    "country",
    "salary_text",
    "contact_text",
    "page_language",
    "posted",
    "content_hash",
)


def _staging_table(rows: Sequence[AdRow]) -> pa.Table:
    latest: dict[str, AdRow] = {}
    for row in rows:  # the same URL twice in one batch: the last sighting wins
        latest[row.url] = row
    unique = list(latest.values())
    columns = {name: [getattr(r, name) for r in unique] for name in _COLUMNS}
    return pa.table(
        {
            **{k: pa.array(v, pa.string()) for k, v in columns.items() if k != "posted"},
            "posted": pa.array(columns["posted"], pa.date32()),
        }
    )


def upsert_ads(
    con: duckdb.DuckDBPyConnection, rows: Sequence[AdRow], run_id: int | None, seen_at: datetime | None = None
) -> UpsertResult:
    """Insert new ads, refresh ``last_seen`` of known ones and update the text of changed ones, atomically."""
    if not rows:
        return UpsertResult(0, 0, 0)
    seen = seen_at or datetime.now()
    staging = _staging_table(rows)
    con.register("_incoming_ads", staging)
    try:
        con.execute("BEGIN TRANSACTION")
        counts = con.execute(
            """
            SELECT
              count(*) FILTER (WHERE a.url IS NULL),
              count(*) FILTER (WHERE a.url IS NOT NULL AND a.content_hash <> i.content_hash),
              count(*) FILTER (WHERE a.url IS NOT NULL AND a.content_hash = i.content_hash)
            FROM _incoming_ads i LEFT JOIN ads a ON a.url = i.url
            """
        ).fetchall()[0]
        con.execute(
            """
            UPDATE ads SET
              last_seen = $seen, last_run_id = $run,
              title = i.title, body = i.body, company = i.company, location = i.location,
              country = i.country, salary_text = i.salary_text, contact_text = i.contact_text,
              page_language = i.page_language, posted = coalesce(i.posted, ads.posted),
              content_hash = i.content_hash
            FROM _incoming_ads i WHERE ads.url = i.url
            """,
            {"seen": seen, "run": run_id},
        )
        con.execute(
            f"""
            INSERT INTO ads ({", ".join(_COLUMNS)}, first_seen, last_seen, last_run_id)
            SELECT {", ".join("i." + c for c in _COLUMNS)}, $seen, $seen, $run
            FROM _incoming_ads i WHERE NOT EXISTS (SELECT 1 FROM ads a WHERE a.url = i.url)
            """,
            {"seen": seen, "run": run_id},
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_incoming_ads")
    return UpsertResult(int(counts[0]), int(counts[1]), int(counts[2]))


def count_ads(con: duckdb.DuckDBPyConnection, site_id: str | None = None) -> int:
    if site_id is None:
        return int(con.execute("SELECT count(*) FROM ads").fetchall()[0][0])
    return int(con.execute("SELECT count(*) FROM ads WHERE site_id = ?", [site_id]).fetchall()[0][0])
