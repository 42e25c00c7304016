"""Scrapy settings built from the product's typed :class:`lurewatch.settings.Settings` - polite by default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lurewatch.settings import Settings

DEFAULT_BATCH_SIZE = 500  # ads per warehouse write: each write opens, migrates-checks and checkpoints the file
DEFAULT_FLUSH_INTERVAL_S = 30.0  # ... but a slow (polite) crawl still writes at least this often
DEFAULT_LOCK_TIMEOUT_S = 60.0  # how long one warehouse session waits for another process to let go
# Defaults that would belong in lurewatch.settings.Settings (not ours to edit yet).
DEFAULT_RETRY_TIMES = 2  # retries after the first attempt, for timeouts, connection errors and RETRY_HTTP_CODES
DEFAULT_MAX_REDIRECTS = 5
DEFAULT_AUTOTHROTTLE_MAX_DELAY_S = 30.0


def build_scrapy_settings(
    settings: Settings,
    *,
    log_file: Path | None = None,
    log_level: str = "INFO",
    batch_size: int = DEFAULT_BATCH_SIZE,
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
) -> dict[str, Any]:
    """Settings for one site's crawl. Logging goes to ``log_file`` (console stays quiet without one)."""
    delay = max(settings.crawl_delay_s, 0.0)
    return {
        "BOT_NAME": "lurewatch",
        "USER_AGENT": settings.user_agent,
        "ROBOTSTXT_OBEY": True,
        "ROBOTSTXT_USER_AGENT": settings.user_agent,
        # Scrapy 2.19 starts a remote-control server and a telnet console unless told not to.
        "REMOTE_CONTROL_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        # Politeness: per-domain limits from settings, AutoThrottle adapts to the server's latency on top.
        # The delay is a minimum (no jitter below it); robots.txt Crawl-delay / Request-rate raise it per domain
        # (crawlers.politeness.PoliteThrottle, which also does AutoThrottle's latency-based adaptation).
        "CONCURRENT_REQUESTS": max(settings.crawl_concurrency_per_domain, 1) * 4,
        "CONCURRENT_REQUESTS_PER_DOMAIN": max(settings.crawl_concurrency_per_domain, 1),
        "CONCURRENT_REQUESTS_PER_IP": 0,
        "DOWNLOAD_DELAY": delay,
        "DOWNLOAD_DELAY_JITTER": 0.0,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": max(delay, 0.1),
        "AUTOTHROTTLE_MAX_DELAY": max(DEFAULT_AUTOTHROTTLE_MAX_DELAY_S, delay),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(max(settings.crawl_concurrency_per_domain, 1)),
        "EXTENSIONS": {
            "scrapy.extensions.throttle.AutoThrottle": None,
            "crawlers.politeness.PoliteThrottle": 0,
        },
        # Limits.
        "DOWNLOAD_TIMEOUT": settings.crawl_timeout_s,
        "DOWNLOAD_MAXSIZE": settings.crawl_max_page_bytes,
        "DOWNLOAD_WARNSIZE": max(settings.crawl_max_page_bytes // 2, 1),
        "RETRY_ENABLED": True,
        "RETRY_TIMES": DEFAULT_RETRY_TIMES,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "REDIRECT_MAX_TIMES": DEFAULT_MAX_REDIRECTS,
        "METAREFRESH_ENABLED": False,
        # Scrapy re-parses the source of every generator callback (tokenize + compile + ast walk) for *every*
        # response to warn about `return value` in generators: its cache is keyed by the bound method, which is a
        # new object each time. That alone cost ~1 ms per page; our callbacks are tested instead.
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
        "COOKIES_ENABLED": False,
        # Offsite filtering uses the spider's allowed_domains (from the site config).
        "DOWNLOADER_MIDDLEWARES": {"scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": 50},
        "ITEM_PIPELINES": {"crawlers.pipelines.WarehousePipeline": 300},
        "LUREWATCH_BATCH_SIZE": batch_size,
        "LUREWATCH_FLUSH_INTERVAL_S": DEFAULT_FLUSH_INTERVAL_S,
        "LUREWATCH_LOCK_TIMEOUT_S": lock_timeout_s,
        # Logging: INFO to a file, nothing on the console unless asked (stdout carries the JSON summary).
        "LOG_ENABLED": log_file is not None,
        "LOG_FILE": str(log_file) if log_file is not None else None,
        "LOG_FILE_APPEND": True,
        "LOG_LEVEL": log_level,
        "LOG_STDOUT": False,
        "LOGSTATS_INTERVAL": 60.0,
        "STATS_DUMP": True,
    }
