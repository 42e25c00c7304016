"""The item pipeline that writes ads into the DuckDB warehouse and records the crawl run's health.

The warehouse file is shared by turns (see :mod:`warehouse.connection`): the pipeline never holds it for the
whole crawl, only for one short session per unit of work (start the run, write a batch, finish the run).
Batches are written in a worker thread, so waiting for the lock never stalls the downloader.

After a *complete* run (every entry page read, nothing truncated, nothing lost on the way to the warehouse)
the site's live ads that the run did not see get ``removed_at``; ads whose page failed are left alone.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import duckdb
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.spiders import Spider

import warehouse
from crawlers import stats as keys
from crawlers.items import CrawledAd, SeenAd
from crawlers.politeness import ROBOTS_DELAY_STAT
from crawlers.scrapy_settings import DEFAULT_BATCH_SIZE, DEFAULT_FLUSH_INTERVAL_S, DEFAULT_LOCK_TIMEOUT_S
from crawlers.spiders.base import ConfigSpider
from warehouse.ads import PageState, RemovalResult, load_page_states, mark_removed, write_crawl_batch
from warehouse.crawl_runs import finish_run, register_site, start_run
from warehouse.records import AdRow

logger = logging.getLogger(__name__)


def abandon_stale_runs(con: duckdb.DuckDBPyConnection, site_id: str) -> int:
    """Mark runs of ``site_id`` still 'running' as failed: one crawl per site at a time, so they died."""
    rows = con.execute(
        """
        UPDATE crawl_runs SET status = 'failed', finished_at = coalesce(finished_at, now())
        WHERE site_id = ? AND status = 'running' RETURNING run_id
        """,
        [site_id],
    ).fetchall()
    return len(rows)


class _Batch:
    """Items waiting for the next warehouse write."""

    def __init__(self) -> None:
        self.rows: list[AdRow] = []
        self.page_texts: dict[str, str] = {}
        self.seen: list[str] = []
        self.pages: list[PageState] = []

    def __len__(self) -> int:
        return len(self.rows) + len(self.seen)

    def empty(self) -> bool:
        return not (self.rows or self.seen or self.pages)

    def prepend(self, other: _Batch) -> None:
        self.rows[:0] = other.rows
        self.page_texts = {**other.page_texts, **self.page_texts}
        self.seen[:0] = other.seen
        self.pages[:0] = other.pages


class WarehousePipeline:
    """Buffers items and writes them in batches; each batch commits on its own, so a crash loses at most the
    unflushed buffer, and upserting by URL means a re-run never duplicates."""

    def __init__(
        self,
        crawler: Crawler,
        db_path: Path,
        batch_size: int,
        lock_timeout_s: float,
        flush_interval_s: float = DEFAULT_FLUSH_INTERVAL_S,
    ) -> None:
        self.crawler = crawler
        self.db_path = db_path
        self.batch_size = max(batch_size, 1)
        self.lock_timeout_s = lock_timeout_s
        self.flush_interval_s = flush_interval_s
        self.last_flush = time.monotonic()
        self.run_id: int | None = None
        self.run_started: datetime = datetime.now()
        self.buffer = _Batch()
        self.seen_in_run: set[str] = set()
        self.duplicates = 0
        self.not_modified = 0
        self.inserted = 0
        self.updated = 0
        self.unchanged = 0
        self.reappeared = 0
        self.snapshots = 0
        self.write_errors = 0
        self.lost_items = 0
        self.busy_retries = 0
        self.removal: RemovalResult | None = None
        self.removal_skipped: str | None = None
        self._flushing = asyncio.Lock()
        self._pending: set[asyncio.Task[None]] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        db = crawler.settings.get("LUREWATCH_DB_PATH")
        if not db:
            raise NotConfigured("LUREWATCH_DB_PATH is not set")
        pipeline = cls(
            crawler,
            Path(db),
            crawler.settings.getint("LUREWATCH_BATCH_SIZE", DEFAULT_BATCH_SIZE),
            crawler.settings.getfloat("LUREWATCH_LOCK_TIMEOUT_S", DEFAULT_LOCK_TIMEOUT_S),
            crawler.settings.getfloat("LUREWATCH_FLUSH_INTERVAL_S", DEFAULT_FLUSH_INTERVAL_S),
        )
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    @property
    def spider(self) -> ConfigSpider:
        spider = self.crawler.spider
        if not isinstance(spider, ConfigSpider):
            raise TypeError("WarehousePipeline only works with crawlers.spiders.ConfigSpider")
        return spider

    @property
    def items(self) -> int:
        """Distinct ads seen by this run (parsed, or confirmed unchanged without parsing)."""
        return len(self.seen_in_run)

    @contextmanager
    def _first_session(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The run's first warehouse session; says so in the log when another process holds the file."""
        with ExitStack() as stack:
            try:
                con = stack.enter_context(warehouse.session(self.db_path, lock_timeout_s=0))
            except warehouse.WarehouseBusy:
                logger.info("warehouse %s is held by another process: waiting up to %g s for it", self.db_path,
                            self.lock_timeout_s)
                con = stack.enter_context(warehouse.session(self.db_path, lock_timeout_s=self.lock_timeout_s))
            yield con

    def open_spider(self) -> None:
        """Register the site, start the run and load what earlier runs remember about its pages (before the
        first request: no crawl without a run row)."""
        spider = self.spider
        config = spider.config
        self.run_started = datetime.now()
        try:
            with self._first_session() as con:
                stale = abandon_stale_runs(con, config.name)
                register_site(con, config.name, config.spider, config.base_url, spider.config_hash)
                self.run_id = start_run(con, config.name)
                spider.page_states = load_page_states(con, config.name, spider.config_hash)
        except (duckdb.Error, warehouse.WarehouseBusy) as exc:
            self._set(keys.OPEN_ERROR, f"cannot open warehouse {self.db_path}: {exc}")
            raise
        if stale:
            logger.warning("marked %d stale 'running' crawl run(s) of %s as failed", stale, config.name)
        self._set(keys.RUN_ID, self.run_id)
        logger.info("crawl run %d of %s started (db %s, %d known pages)", self.run_id, config.name, self.db_path,
                    len(spider.page_states))

    def process_item(self, item: Any) -> Any:
        """Buffer the item (synchronously: no task per item); a full buffer is written by a background task."""
        if isinstance(item, AdRow):
            item = CrawledAd(item, "")
        if isinstance(item, CrawledAd):
            url = item.row.url
            if item.page is not None:
                self.buffer.pages.append(item.page)
            if url in self.seen_in_run:
                self.duplicates += 1  # listed twice (pages shifted while crawling, or two entry points)
            else:
                self.seen_in_run.add(url)
                self.buffer.rows.append(item.row)
                if item.page_text:
                    self.buffer.page_texts[url] = item.page_text
        elif isinstance(item, SeenAd):
            self.not_modified += 1
            if item.page is not None:
                self.buffer.pages.append(item.page)
            if item.url not in self.seen_in_run:
                self.seen_in_run.add(item.url)
                self.buffer.seen.append(item.url)
        due = len(self.buffer) >= self.batch_size or time.monotonic() - self.last_flush >= self.flush_interval_s
        if due and not self._flushing.locked():  # while one flush runs, the next item after it starts another
            self.last_flush = time.monotonic()
            task = asyncio.get_running_loop().create_task(self.flush())
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
        return item

    def _write(self, batch: _Batch) -> Any:
        with warehouse.session(self.db_path, lock_timeout_s=self.lock_timeout_s) as con:
            return write_crawl_batch(
                con, batch.rows, run_id=self.run_id, page_texts=batch.page_texts, seen_urls=batch.seen,
                pages=batch.pages,
            )

    async def flush(self, *, final: bool = False) -> None:
        """Write the buffer in one transaction. If the file stays locked, keep the batch for the next flush
        (the last flush gives up and counts a write error)."""
        async with self._flushing:
            if self.buffer.empty():
                return
            batch, self.buffer = self.buffer, _Batch()
            self.last_flush = time.monotonic()
            try:
                result = await asyncio.to_thread(self._write, batch)
            except warehouse.WarehouseBusy as exc:
                if not final:
                    self.busy_retries += 1
                    self.buffer.prepend(batch)
                    logger.warning("warehouse busy, keeping %d ads for the next flush: %s", len(batch), exc)
                    return
                self.write_errors += 1
                self.lost_items += len(batch)
                logger.error("could not write the last %d ads to %s: %s", len(batch), self.db_path, exc)
                return
            except Exception:  # duckdb.Error, or anything else: never lose a batch silently in a background task
                self.write_errors += 1
                self.lost_items += len(batch)
                logger.exception("could not write %d ads to %s", len(batch), self.db_path)
                return
        self.inserted += result.inserted
        self.updated += result.updated
        self.unchanged += result.unchanged + result.seen
        self.reappeared += result.reappeared
        self.snapshots += result.snapshots
        logger.info(
            "flushed %d ads: %d new, %d updated, %d unchanged, %d not re-parsed",
            len(batch), result.inserted, result.updated, result.unchanged, result.seen,
        )

    async def close_spider(self) -> None:
        while self._pending:
            await asyncio.gather(*list(self._pending))
        await self.flush(final=True)

    def incomplete_reason(self, reason: str) -> str | None:
        """Why this run did not see the whole site (``None``: it did - every entry page read, nothing cut
        short, nothing lost on the way to the warehouse)."""
        spider = self.spider
        if reason != "finished":
            return f"crawl ended early ({reason})"
        if self.write_errors:
            return "warehouse write errors"
        if spider.entry_failures:
            return f"{spider.entry_failures} entry page(s) failed"
        if spider.entry_misses:
            return f"selector misses on {spider.entry_misses} entry page(s)"
        if spider.truncated:
            return "cut short by max_pages / max_sitemaps"
        if self.items == 0:
            return "no ads seen"
        return None

    def removal_blocker(self, reason: str) -> str | None:
        """Why this run may not mark ads removed (``None``: it may)."""
        if not self.spider.config.marks_removals:
            return f"disabled for entry {self.spider.config.entry!r}"
        return self.incomplete_reason(reason)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Mark removed ads (complete runs only) and write the run's counters (after every pipeline's
        ``close_spider``, so the buffer is flushed)."""
        if self.run_id is None:
            return
        config = self.spider.config
        blocker = self.removal_blocker(reason)
        with warehouse.session(self.db_path, lock_timeout_s=self.lock_timeout_s) as con:
            if blocker is None:
                self.removal = mark_removed(
                    con, config.ad_site_id, self.run_started, exclude_urls=self.spider.unknown_urls,
                    max_fraction=config.removal.max_fraction,
                )
                if self.removal.skipped:
                    self.removal_skipped = f"guard: {self.removal.skipped}"
                    logger.warning("removal marking held back for %s: %s", config.ad_site_id, self.removal.skipped)
                elif self.removal.removed:
                    logger.info("marked %d ads of %s as removed", self.removal.removed, config.ad_site_id)
            else:
                self.removal_skipped = blocker
                logger.info("no removal marking for %s: %s", config.name, blocker)
            summary = self.summary(reason)
            finish_run(
                con,
                self.run_id,
                status=summary["status"],
                pages=summary["pages"],
                items=summary["items"],
                ads_inserted=summary["inserted"],
                ads_updated=summary["updated"],
                errors=summary["errors"],
                selector_misses=summary["selector_misses"],
                stats=summary["stats"],
                ads_unchanged=summary["unchanged"],
                not_modified=summary["not_modified"],
                ads_removed=summary["removed"],
                complete=summary["complete"],
            )
        for key, value in summary.items():
            if key != "stats":
                self._set(f"lurewatch/summary/{key}", value)

    def summary(self, reason: str) -> dict[str, Any]:
        stats = self.crawler.stats
        get = (lambda key: int(stats.get_value(key, 0) or 0)) if stats is not None else (lambda key: 0)
        errors = get(keys.REQUEST_ERRORS) + get(keys.PARSE_ERRORS) + get("spider_exceptions/count")
        errors += self.write_errors
        selector_misses = get(keys.SELECTOR_MISSES)
        failed = reason != "finished" or self.write_errors > 0 or (self.items == 0 and errors > 0)
        spider = self.spider
        detail: dict[str, Any] = {
            "finish_reason": reason,
            "site_id": spider.config.ad_site_id,
            "entry": spider.config.entry,
            "ads_unchanged": self.unchanged,
            "not_modified_304": get(keys.NOT_MODIFIED),
            "same_body": get(keys.SAME_BODY),
            "duplicates": self.duplicates,
            "reappeared": self.reappeared,
            "snapshots": self.snapshots,
            "removal_skipped": self.removal_skipped,
            "unknown_urls": len(spider.unknown_urls),
            "entry_errors": get(keys.ENTRY_ERRORS),
            "redirect_loops": get(keys.REDIRECT_LOOPS),
            "truncated": spider.truncated,
            "url_filtered": get(keys.URL_FILTERED),
            "ignored_requests": get(keys.IGNORED_REQUESTS),
            "jsonld_missing": get(keys.JSONLD_MISSING),
            "offsite_filtered": get("offsite/filtered"),
            "robots_forbidden": get("robotstxt/forbidden"),
            "robots_crawl_delay_s": stats.get_value(ROBOTS_DELAY_STAT) if stats is not None else None,
            "retries": get("retry/count"),
            "write_errors": self.write_errors,
            "lost_items": self.lost_items,
            "warehouse_busy_retries": self.busy_retries,
            "selector_miss_samples": list(spider.miss_samples),
        }
        started = stats.get_value("start_time") if stats is not None else None
        if isinstance(started, datetime):
            detail["elapsed_s"] = round((datetime.now(UTC) - started).total_seconds(), 3)
        if stats is not None:
            all_stats = stats.get_stats()
            detail["selector_miss_fields"] = {
                key.removeprefix(keys.SELECTOR_MISS_FIELD): value
                for key, value in all_stats.items()
                if key.startswith(keys.SELECTOR_MISS_FIELD)
            }
            detail["encoding"] = {
                key.removeprefix(keys.ENCODING_PREFIX): value
                for key, value in all_stats.items()
                if key.startswith(keys.ENCODING_PREFIX)
            }
        removed = self.removal.removed if self.removal is not None else 0
        return {
            "pages": get("response_received_count"),
            "items": self.items,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "not_modified": self.not_modified,
            "removed": removed,
            "complete": self.incomplete_reason(reason) is None and not failed,
            "errors": errors,
            "selector_misses": selector_misses,
            "status": "failed" if failed else "finished",
            "stats": detail,
        }

    def _set(self, key: str, value: Any) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.set_value(key, value)


class PreviewPipeline:
    """Keeps the first ads in memory instead of writing them (``python -m crawlers.run --preview N``): what
    a new site config extracts, checked before anything reaches the warehouse."""

    def __init__(self, crawler: Crawler, limit: int) -> None:
        self.crawler = crawler
        self.limit = limit
        self.samples: list[dict[str, Any]] = []
        self.seen = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler, crawler.settings.getint("LUREWATCH_PREVIEW_ITEMS", 5))

    def process_item(self, item: Any) -> Any:
        row = item.row if isinstance(item, CrawledAd) else item
        if isinstance(row, AdRow):
            self.seen += 1
            if len(self.samples) < self.limit:
                sample = {f.name: getattr(row, f.name) for f in dataclasses.fields(row)}
                sample["posted"] = row.posted.isoformat() if row.posted else None
                self.samples.append(sample)
                if self.crawler.stats is not None:
                    self.crawler.stats.set_value("lurewatch/preview/samples", list(self.samples))
        return item
