"""The item pipeline that writes ads into the DuckDB warehouse and records the crawl run's health.

The warehouse file is shared by turns (see :mod:`warehouse.connection`): the pipeline never holds it for the
whole crawl, only for one short session per unit of work (start the run, write a batch, finish the run).
Batches are written in a worker thread, so waiting for the lock never stalls the downloader.
"""

from __future__ import annotations

import asyncio
import logging
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
from crawlers.scrapy_settings import DEFAULT_BATCH_SIZE, DEFAULT_LOCK_TIMEOUT_S
from crawlers.spiders.base import ConfigSpider
from warehouse.ads import upsert_ads
from warehouse.crawl_runs import finish_run, register_site, start_run
from warehouse.records import AdRow, UpsertResult

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


class WarehousePipeline:
    """Buffers :class:`AdRow` items and upserts them in batches; each batch commits on its own, so a crash
    loses at most the unflushed buffer, and upserting by URL means a re-run never duplicates."""

    def __init__(self, crawler: Crawler, db_path: Path, batch_size: int, lock_timeout_s: float) -> None:
        self.crawler = crawler
        self.db_path = db_path
        self.batch_size = max(batch_size, 1)
        self.lock_timeout_s = lock_timeout_s
        self.run_id: int | None = None
        self.buffer: list[AdRow] = []
        self.items = 0
        self.inserted = 0
        self.updated = 0
        self.unchanged = 0
        self.write_errors = 0
        self.busy_retries = 0
        self._flushing = asyncio.Lock()

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
        )
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    @property
    def spider(self) -> ConfigSpider:
        spider = self.crawler.spider
        if not isinstance(spider, ConfigSpider):
            raise TypeError("WarehousePipeline only works with crawlers.spiders.ConfigSpider")
        return spider

    def open_spider(self) -> None:
        """Register the site and start the run (before the first request: no crawl without a run row)."""
        config = self.spider.config
        try:
            with warehouse.session(self.db_path, lock_timeout_s=self.lock_timeout_s) as con:
                stale = abandon_stale_runs(con, config.name)
                register_site(con, config.name, config.spider, config.base_url, config.config_hash())
                self.run_id = start_run(con, config.name)
        except (duckdb.Error, warehouse.WarehouseBusy) as exc:
            self._set(keys.OPEN_ERROR, f"cannot open warehouse {self.db_path}: {exc}")
            raise
        if stale:
            logger.warning("marked %d stale 'running' crawl run(s) of %s as failed", stale, config.name)
        self._set(keys.RUN_ID, self.run_id)
        logger.info("crawl run %d of %s started (db %s)", self.run_id, config.name, self.db_path)

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, AdRow):
            self.items += 1
            self.buffer.append(item)
            if len(self.buffer) >= self.batch_size:
                await self.flush()
        return item

    def _write(self, batch: list[AdRow]) -> UpsertResult:
        with warehouse.session(self.db_path, lock_timeout_s=self.lock_timeout_s) as con:
            return upsert_ads(con, batch, self.run_id)

    async def flush(self, *, final: bool = False) -> None:
        """Write the buffer in one transaction. If the file stays locked, keep the batch for the next flush
        (the last flush gives up and counts a write error)."""
        async with self._flushing:
            if not self.buffer:
                return
            batch, self.buffer = self.buffer, []
            try:
                result = await asyncio.to_thread(self._write, batch)
            except warehouse.WarehouseBusy as exc:
                if not final:
                    self.busy_retries += 1
                    self.buffer[:0] = batch
                    logger.warning("warehouse busy, keeping %d ads for the next flush: %s", len(batch), exc)
                    return
                self.write_errors += 1
                logger.error("could not write the last %d ads to %s: %s", len(batch), self.db_path, exc)
                return
            except duckdb.Error:
                self.write_errors += 1
                logger.exception("could not write %d ads to %s", len(batch), self.db_path)
                return
        self.inserted += result.inserted
        self.updated += result.updated
        self.unchanged += result.unchanged
        logger.info(
            "flushed %d ads: %d new, %d updated, %d unchanged",
            len(batch), result.inserted, result.updated, result.unchanged,
        )

    async def close_spider(self) -> None:
        await self.flush(final=True)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Write the run's counters (after every pipeline's ``close_spider``, so the buffer is flushed)."""
        if self.run_id is None:
            return
        summary = self.summary(reason)
        with warehouse.session(self.db_path, lock_timeout_s=self.lock_timeout_s) as con:
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
        detail = {
            "finish_reason": reason,
            "ads_unchanged": self.unchanged,
            "ignored_requests": get(keys.IGNORED_REQUESTS),
            "jsonld_missing": get(keys.JSONLD_MISSING),
            "offsite_filtered": get("offsite/filtered"),
            "robots_forbidden": get("robotstxt/forbidden"),
            "retries": get("retry/count"),
            "write_errors": self.write_errors,
            "warehouse_busy_retries": self.busy_retries,
            "selector_miss_samples": list(getattr(self.crawler.spider, "miss_samples", [])),
        }
        started = stats.get_value("start_time") if stats is not None else None
        if isinstance(started, datetime):
            detail["elapsed_s"] = round((datetime.now(UTC) - started).total_seconds(), 3)
        if stats is not None:
            detail["selector_miss_fields"] = {
                key.removeprefix(keys.SELECTOR_MISS_FIELD): value
                for key, value in stats.get_stats().items()
                if key.startswith(keys.SELECTOR_MISS_FIELD)
            }
        return {
            "pages": get("response_received_count"),
            "items": self.items,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": errors,
            "selector_misses": selector_misses,
            "status": "failed" if failed else "finished",
            "stats": detail,
        }

    def _set(self, key: str, value: Any) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.set_value(key, value)
