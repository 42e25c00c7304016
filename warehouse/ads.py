"""Writing crawled ads: re-crawling an ad updates ``last_seen`` (and its text if it changed), never duplicates.

History is kept, never deleted: every distinct page text an ad showed is an ``ad_snapshots`` row (a new row
only when the text differs from the ad's latest snapshot), an ad missing from a complete crawl of its site
gets ``removed_at`` (cleared when it is seen again), and ``crawl_pages`` remembers each fetched page's HTTP
validators and body hash so the next crawl can ask "changed since?" and skip unchanged pages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from warehouse.records import AdRow, UpsertResult, ad_text

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
#: Columns that may change without the text (title + body) changing.
_METADATA = ("external_id", "company", "location", "country", "salary_text", "contact_text", "page_language")


def text_hash(text: str) -> str:
    """sha256 of a page text (``ad_snapshots.content_hash``)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class PageState:
    """What the crawler remembers about one fetched detail page (a ``crawl_pages`` row)."""

    url: str
    site_id: str
    ad_url: str | None
    body_hash: str
    config_hash: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What one :func:`write_crawl_batch` did. ``seen`` counts ads confirmed unchanged without a re-parse
    (HTTP 304 or identical body); ``reappeared`` counts ads whose ``removed_at`` was cleared."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    seen: int = 0
    reappeared: int = 0
    snapshots: int = 0

    def as_upsert_result(self) -> UpsertResult:
        return UpsertResult(self.inserted, self.updated, self.unchanged)


@dataclass(frozen=True, slots=True)
class RemovalResult:
    """Outcome of :func:`mark_removed`: how many ads were marked, of how many live ones, or why none were."""

    removed: int
    active: int
    skipped: str | None = None


def _staging_table(rows: Sequence[AdRow], page_texts: Mapping[str, str] | None) -> pa.Table:
    latest: dict[str, AdRow] = {}
    for row in rows:  # the same URL twice in one batch: the last sighting wins
        latest[row.url] = row
    unique = list(latest.values())
    columns: dict[str, list[Any]] = {name: [getattr(r, name) for r in unique] for name in _COLUMNS}
    texts = [(page_texts or {}).get(r.url) or ad_text(r.title, r.body) for r in unique]
    return pa.table(
        {
            **{k: pa.array(v, pa.string()) for k, v in columns.items() if k != "posted"},
            "posted": pa.array(columns["posted"], pa.date32()),
            "page_text": pa.array(texts, pa.string()),
            "page_hash": pa.array([text_hash(t) for t in texts], pa.string()),
        }
    )


def _pages_table(pages: Sequence[PageState]) -> pa.Table:
    latest = {page.url: page for page in pages}
    fields = ("url", "site_id", "ad_url", "etag", "last_modified", "body_hash", "config_hash")
    return pa.table({name: pa.array([getattr(p, name) for p in latest.values()], pa.string()) for name in fields})


def write_crawl_batch(
    con: duckdb.DuckDBPyConnection,
    rows: Sequence[AdRow],
    *,
    run_id: int | None,
    seen_at: datetime | None = None,
    page_texts: Mapping[str, str] | None = None,
    seen_urls: Collection[str] = (),
    pages: Sequence[PageState] = (),
) -> BatchResult:
    """Write one crawl batch atomically.

    * ``rows``: parsed ads. New URLs are inserted; known ones get ``last_seen``/``last_run_id`` and lose
      ``removed_at``; their text and metadata columns are rewritten only when something differs.
    * ``page_texts``: ad URL -> visible page text; a snapshot is added when its hash differs from the ad's
      latest snapshot (default text: title + body).
    * ``seen_urls``: ads confirmed unchanged without parsing (HTTP 304 / same body): only ``last_seen``,
      ``last_run_id`` and ``removed_at`` change.
    * ``pages``: ``crawl_pages`` rows to insert or replace.
    """
    seen = seen_at or datetime.now()
    params = {"seen": seen, "run": run_id}
    registered: list[str] = []
    con.execute("BEGIN TRANSACTION")
    try:
        inserted = updated = unchanged = reappeared = snapshots = touched = 0
        if rows:
            con.register("_incoming_ads", _staging_table(rows, page_texts))
            registered.append("_incoming_ads")
            counts = con.execute(
                """
                SELECT
                  count(*) FILTER (WHERE a.url IS NULL),
                  count(*) FILTER (WHERE a.url IS NOT NULL AND a.content_hash <> i.content_hash),
                  count(*) FILTER (WHERE a.url IS NOT NULL AND a.content_hash = i.content_hash),
                  count(*) FILTER (WHERE a.removed_at IS NOT NULL)
                FROM _incoming_ads i LEFT JOIN ads a ON a.url = i.url
                """
            ).fetchall()[0]
            inserted, updated, unchanged, reappeared = (int(c) for c in counts)
            differs = " OR ".join(
                [
                    "ads.content_hash <> i.content_hash",
                    "(i.posted IS NOT NULL AND ads.posted IS DISTINCT FROM i.posted)",
                    *(f"ads.{c} IS DISTINCT FROM i.{c}" for c in _METADATA),
                ]
            )
            con.execute(
                f"""
                UPDATE ads SET
                  title = i.title, body = i.body, external_id = i.external_id, company = i.company,
                  location = i.location, country = i.country, salary_text = i.salary_text,
                  contact_text = i.contact_text, page_language = i.page_language,
                  posted = coalesce(i.posted, ads.posted), content_hash = i.content_hash,
                  last_seen = $seen, last_run_id = $run, removed_at = NULL
                FROM _incoming_ads i WHERE ads.url = i.url AND ({differs})
                """,
                params,
            )
            con.execute(
                """
                UPDATE ads SET last_seen = $seen, last_run_id = $run, removed_at = NULL
                FROM _incoming_ads i WHERE ads.url = i.url AND ads.last_seen IS DISTINCT FROM $seen
                """,
                params,
            )
            con.execute(
                f"""
                INSERT INTO ads ({", ".join(_COLUMNS)}, first_seen, last_seen, last_run_id)
                SELECT {", ".join("i." + c for c in _COLUMNS)}, $seen, $seen, $run
                FROM _incoming_ads i WHERE NOT EXISTS (SELECT 1 FROM ads a WHERE a.url = i.url)
                """,
                params,
            )
            snapshots = len(
                con.execute(
                    """
                    INSERT INTO ad_snapshots (ad_id, run_id, fetched_at, content_hash, page_text)
                    SELECT a.ad_id, $run, $seen, i.page_hash, i.page_text
                    FROM _incoming_ads i JOIN ads a ON a.url = i.url
                    LEFT JOIN (
                        SELECT ad_id, arg_max(content_hash, fetched_at) AS latest
                        FROM ad_snapshots WHERE ad_id IN (SELECT a2.ad_id FROM ads a2 JOIN _incoming_ads i2 USING (url))
                        GROUP BY ad_id
                    ) s ON s.ad_id = a.ad_id
                    WHERE s.latest IS DISTINCT FROM i.page_hash
                    RETURNING 1
                    """,
                    params,
                ).fetchall()
            )
        if seen_urls:
            con.register("_seen_urls", pa.table({"url": pa.array(sorted(set(seen_urls)), pa.string())}))
            registered.append("_seen_urls")
            reappeared += int(
                con.execute(
                    "SELECT count(*) FROM ads WHERE removed_at IS NOT NULL AND url IN (SELECT url FROM _seen_urls)"
                ).fetchall()[0][0]
            )
            touched = len(
                con.execute(
                    """
                    UPDATE ads SET last_seen = $seen, last_run_id = $run, removed_at = NULL
                    FROM _seen_urls s WHERE ads.url = s.url
                    RETURNING ad_id
                    """,
                    params,
                ).fetchall()
            )
        if pages:
            con.register("_pages", _pages_table(pages))
            registered.append("_pages")
            con.execute(
                """
                INSERT OR REPLACE INTO crawl_pages
                  (url, site_id, ad_url, etag, last_modified, body_hash, config_hash, fetched_at, run_id)
                SELECT url, site_id, ad_url, etag, last_modified, body_hash, config_hash, $seen, $run FROM _pages
                """,
                params,
            )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        for name in registered:
            con.unregister(name)
    return BatchResult(inserted, updated, unchanged, touched, reappeared, snapshots)


def upsert_ads(
    con: duckdb.DuckDBPyConnection, rows: Sequence[AdRow], run_id: int | None, seen_at: datetime | None = None
) -> UpsertResult:
    """Insert new ads, refresh ``last_seen`` of known ones and update the text of changed ones, atomically."""
    if not rows:
        return UpsertResult(0, 0, 0)
    return write_crawl_batch(con, rows, run_id=run_id, seen_at=seen_at).as_upsert_result()


def load_page_states(con: duckdb.DuckDBPyConnection, site_id: str, config_hash: str) -> dict[str, PageState]:
    """Pages this site config fetched before and parsed into an ad that is still in the warehouse: the ones a
    crawl may ask "changed since?" and skip when unchanged. Pages parsed under another config are left out
    (a selector change must re-parse everything)."""
    rows = con.execute(
        """
        SELECT p.url, p.site_id, p.ad_url, p.body_hash, p.config_hash, p.etag, p.last_modified
        FROM crawl_pages p JOIN ads a ON a.url = p.ad_url
        WHERE p.site_id = ? AND p.config_hash = ?
        """,
        [site_id, config_hash],
    ).fetchall()
    return {row[0]: PageState(*row) for row in rows}


def mark_removed(
    con: duckdb.DuckDBPyConnection,
    site_id: str,
    seen_before: datetime,
    *,
    exclude_urls: Collection[str] = (),
    max_fraction: float | None = 0.5,
    guard_min_active: int = 10,
    removed_at: datetime | None = None,
) -> RemovalResult:
    """Set ``removed_at`` on live ads of ``site_id`` not seen since ``seen_before`` (the start of a complete
    crawl). ``exclude_urls`` are ads whose fate is unknown (their page failed). If more than ``max_fraction``
    of at least ``guard_min_active`` live ads would go at once, nothing is marked (a broken selector or a
    site outage looks like that) and the reason is returned instead. Rows are never deleted."""
    excluded = pa.table({"url": pa.array(sorted(set(exclude_urls)), pa.string())})
    con.register("_unknown_urls", excluded)
    try:
        active, gone = con.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE last_seen < $before AND url NOT IN (SELECT url FROM _unknown_urls))
            FROM ads WHERE site_id = $site AND removed_at IS NULL
            """,
            {"site": site_id, "before": seen_before},
        ).fetchall()[0]
        active, gone = int(active), int(gone)
        if gone and max_fraction is not None and active >= guard_min_active and gone > max_fraction * active:
            return RemovalResult(
                0, active, f"{gone} of {active} live ads missing (> {max_fraction:.0%}): not marked as removed"
            )
        if not gone:
            return RemovalResult(0, active)
        marked = con.execute(
            """
            UPDATE ads SET removed_at = $at
            WHERE site_id = $site AND removed_at IS NULL AND last_seen < $before
              AND url NOT IN (SELECT url FROM _unknown_urls)
            RETURNING ad_id
            """,
            {"site": site_id, "before": seen_before, "at": removed_at or datetime.now()},
        ).fetchall()
    finally:
        con.unregister("_unknown_urls")
    return RemovalResult(len(marked), active)


def ad_snapshots(con: duckdb.DuckDBPyConnection, url: str) -> list[dict[str, Any]]:
    """Every snapshot of the ad at ``url``, oldest first."""
    cursor = con.execute(
        """
        SELECT s.run_id, s.fetched_at, s.content_hash, s.page_text
        FROM ad_snapshots s JOIN ads a USING (ad_id) WHERE a.url = ? ORDER BY s.fetched_at
        """,
        [url],
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def count_ads(con: duckdb.DuckDBPyConnection, site_id: str | None = None) -> int:
    if site_id is None:
        return int(con.execute("SELECT count(*) FROM ads").fetchall()[0][0])
    return int(con.execute("SELECT count(*) FROM ads WHERE site_id = ?", [site_id]).fetchall()[0][0])
