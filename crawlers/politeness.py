"""Politeness Scrapy does not do by itself: honour robots.txt ``Crawl-delay`` / ``Request-rate``.

:class:`PoliteThrottle` replaces Scrapy's AutoThrottle extension. It adapts each domain's delay to the
server's latency exactly like AutoThrottle (when ``AUTOTHROTTLE_ENABLED``), but never below that domain's
floor: ``DOWNLOAD_DELAY`` or what the site's robots.txt asks of our User-Agent, whichever is larger (capped at
:data:`MAX_ROBOTS_DELAY_S` so a hostile robots.txt cannot stall a crawl forever; the cap is logged).
"""

from __future__ import annotations

import logging
from typing import Any, Self

from scrapy import Request, Spider, signals
from scrapy.core.downloader import Slot
from scrapy.crawler import Crawler
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response

logger = logging.getLogger(__name__)

#: The longest per-request delay a robots.txt can impose on us.
MAX_ROBOTS_DELAY_S = 60.0
ROBOTS_DELAY_STAT = "lurewatch/robots_crawl_delay_s"


def robots_delay(robotparser: Any, user_agent: str) -> float | None:
    """The delay a parsed robots.txt asks for: ``Crawl-delay``, or ``Request-rate: n/Ts`` as ``T/n``."""
    delays: list[float] = []
    crawl_delay = getattr(robotparser, "crawl_delay", None)
    if callable(crawl_delay):
        value = crawl_delay(user_agent)
        if value is not None and value > 0:
            delays.append(float(value))
    protego = getattr(robotparser, "rp", None)
    request_rate = getattr(protego, "request_rate", None)
    if callable(request_rate):
        rate = request_rate(user_agent)
        if rate is not None and getattr(rate, "requests", 0) > 0:
            delays.append(float(rate.seconds) / float(rate.requests))
    return max(delays) if delays else None


class PoliteThrottle(AutoThrottle):
    """AutoThrottle plus per-domain delay floors from robots.txt (works with AutoThrottle disabled, too)."""

    def __init__(self, crawler: Crawler) -> None:  # AutoThrottle's own __init__ refuses when disabled
        self.crawler = crawler
        self.adaptive = crawler.settings.getbool("AUTOTHROTTLE_ENABLED")
        self.debug = crawler.settings.getbool("AUTOTHROTTLE_DEBUG")
        self.target_concurrency = max(crawler.settings.getfloat("AUTOTHROTTLE_TARGET_CONCURRENCY"), 0.1)
        self.user_agent: str = crawler.settings.get("ROBOTSTXT_USER_AGENT") or crawler.settings.get("USER_AGENT")
        self.floors: dict[str, float] = {}
        self.mindelay = crawler.settings.getfloat("DOWNLOAD_DELAY")
        self.maxdelay = crawler.settings.getfloat("AUTOTHROTTLE_MAX_DELAY")
        crawler.signals.connect(self._spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self._response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(self._robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(self._reached_downloader, signal=signals.request_reached_downloader)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def _spider_opened(self, spider: Spider) -> None:
        self.mindelay = self._min_delay()
        self.maxdelay = max(self._max_delay(), self.mindelay)
        if self.adaptive:
            assert self.crawler.engine is not None
            self.crawler.engine.downloader._delay = self._start_delay()

    def floor(self, key: str | None) -> float:
        return max(self.mindelay, self.floors.get(key or "", 0.0))

    def _slot(self, key: str) -> Slot | None:
        engine = self.crawler.engine
        return engine.downloader.slots.get(key) if engine is not None else None

    def _apply_floor(self, key: str, slot: Slot | None) -> None:
        if slot is not None and key in self.floors and slot.delay < self.floors[key]:
            slot.delay = self.floors[key]
            slot.jitter = 0.0  # the floor is a minimum: no random shortening

    def _robots_parsed(self, robotparser: Any, request: Request) -> None:
        delay = robots_delay(robotparser, self.user_agent)
        if delay is None:
            return
        if delay > MAX_ROBOTS_DELAY_S:
            logger.warning("robots.txt of %s asks for %.0f s between requests; using %.0f s",
                           request.url, delay, MAX_ROBOTS_DELAY_S)
            delay = MAX_ROBOTS_DELAY_S
        engine = self.crawler.engine
        if engine is None:
            return
        key = engine.downloader.get_slot_key(request)
        self.floors[key] = delay
        self.maxdelay = max(self.maxdelay, delay)
        if self.crawler.stats is not None:
            self.crawler.stats.max_value(ROBOTS_DELAY_STAT, delay)
        logger.info("robots.txt asks for %.2f s between requests to %s: honoured", delay, key)
        self._apply_floor(key, self._slot(key))

    def _reached_downloader(self, request: Request, spider: Spider) -> None:
        key = request.meta.get("download_slot")
        if key is not None:  # slots are garbage-collected when idle: re-apply the floor to a fresh one
            self._apply_floor(key, self._slot(key))

    def _response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        if self.adaptive:
            super()._response_downloaded(response, request, spider)
        key = request.meta.get("download_slot")
        if key is not None:
            self._apply_floor(key, self._slot(key))
