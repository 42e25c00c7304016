"""Run one site's crawl in *this* process (Twisted's reactor runs once per process: call this once)."""

from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess

from crawlers.browser import add_browser_settings
from crawlers.scrapy_settings import DEFAULT_BATCH_SIZE, DEFAULT_LOCK_TIMEOUT_S, build_scrapy_settings
from crawlers.site_config import SiteConfig
from crawlers.spiders import SPIDERS
from lurewatch.settings import Settings

SUMMARY_PREFIX = "lurewatch/summary/"


def crawl_in_process(
    config: SiteConfig,
    db_path: Path,
    settings: Settings,
    *,
    log_file: Path | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
) -> dict[str, Any]:
    """Crawl ``config``'s site into ``db_path`` and return the summary fields."""
    scrapy_settings = build_scrapy_settings(
        settings, log_file=log_file, batch_size=batch_size, lock_timeout_s=lock_timeout_s
    )
    add_browser_settings(config, scrapy_settings)
    scrapy_settings["LUREWATCH_DB_PATH"] = str(db_path)
    scrapy_settings["LOG_INSTALL_ROOT_HANDLER"] = log_file is not None
    process = CrawlerProcess(scrapy_settings)
    crawler = process.create_crawler(SPIDERS[config.spider])
    process.crawl(crawler, config=config)
    # Everything imported so far lives as long as the process: keep it out of the cyclic GC's full
    # collections, which otherwise re-scan DuckDB/pyarrow/pydantic objects thousands of times per crawl.
    gc.freeze()
    cpu_started = time.process_time()
    process.start()
    cpu_s = time.process_time() - cpu_started
    stats = crawler.stats.get_stats() if crawler.stats is not None else {}
    summary: dict[str, Any] = {"site": config.name, "run_id": stats.get("lurewatch/run_id")}
    summary.update(
        {key.removeprefix(SUMMARY_PREFIX): v for key, v in stats.items() if key.startswith(SUMMARY_PREFIX)}
    )
    if "status" not in summary:  # the pipeline never finished the run (e.g. the database could not be opened)
        summary["status"] = "failed"
        reason = stats.get("lurewatch/open_error") or stats.get("finish_reason")
        summary["error"] = str(reason or "the crawl run was never finished")
    start, finish = stats.get("start_time"), stats.get("finish_time")
    if start is not None and finish is not None:
        summary["elapsed_s"] = round((finish - start).total_seconds(), 3)
    summary["cpu_s"] = round(cpu_s, 3)  # this process's CPU time for the crawl (all threads)
    return summary


def preview_in_process(
    config: SiteConfig, settings: Settings, limit: int, *, log_file: Path | None = None
) -> dict[str, Any]:
    """Crawl ``config``'s site until ``limit`` ads were extracted, without touching the warehouse; return
    the ads, the selector misses and the error count (what ``lurewatch sites check --fetch`` shows)."""
    from crawlers import stats as keys

    scrapy_settings = build_scrapy_settings(settings, log_file=log_file)
    add_browser_settings(config, scrapy_settings)
    scrapy_settings["ITEM_PIPELINES"] = {"crawlers.pipelines.PreviewPipeline": 300}
    scrapy_settings["LUREWATCH_PREVIEW_ITEMS"] = limit
    scrapy_settings["CLOSESPIDER_ITEMCOUNT"] = limit
    scrapy_settings["LOG_INSTALL_ROOT_HANDLER"] = log_file is not None
    process = CrawlerProcess(scrapy_settings)
    crawler = process.create_crawler(SPIDERS[config.spider])
    process.crawl(crawler, config=config)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats is not None else {}
    spider = crawler.spider
    errors = sum(int(stats.get(key, 0) or 0) for key in (keys.REQUEST_ERRORS, keys.PARSE_ERRORS,
                                                          "spider_exceptions/count"))
    return {
        "site": config.name,
        "preview": True,
        "pages": int(stats.get("response_received_count", 0) or 0),
        "items": len(stats.get("lurewatch/preview/samples", [])),
        "errors": errors,
        "selector_misses": int(stats.get(keys.SELECTOR_MISSES, 0) or 0),
        "miss_samples": list(getattr(spider, "miss_samples", [])),
        "samples": list(stats.get("lurewatch/preview/samples", [])),
        "finish_reason": stats.get("finish_reason"),
    }
