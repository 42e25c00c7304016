"""``render: browser``: listing and ad pages rendered by headless Chromium through ``scrapy-playwright``.

Only the page navigations go through Scrapy, so they get exactly what plain HTTP gets: robots.txt, the offsite
filter, the per-domain delay and concurrency caps (``PoliteThrottle``), retries, the User-Agent, and the
warehouse pipeline with its incremental logic. robots.txt, sitemaps and feeds are always fetched as plain HTTP.

What the browser asks for *inside* a page (its scripts, the JSON the scripts fetch) never reaches Scrapy, so
:class:`BrowserGate` decides it: only scripts, XHR/fetch and documents of the site's own allowed domains that
robots.txt allows for our User-Agent; images, media, fonts, stylesheets, trackers and every other host are
aborted (counted under ``lurewatch/browser/blocked/<reason>``). No cookie is ever sent.

Limits: the navigation and the ``wait_for`` selector time out after ``LUREWATCH_CRAWL_TIMEOUT_S`` (a timeout is
retried like a plain HTTP one), and a rendered page larger than ``LUREWATCH_CRAWL_MAX_PAGE_BYTES`` is an error.
Chromium is Debian's (``LUREWATCH_CHROMIUM``, default ``/usr/bin/chromium``); Playwright's own browser download
is never used.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response

from crawlers.site_config import SiteConfig

CHROMIUM_ENV = "LUREWATCH_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
#: Resource types a rendered page may load (Playwright's names); everything else is aborted.
ALLOWED_RESOURCE_TYPES = frozenset({"document", "script", "xhr", "fetch"})
BLOCKED_PREFIX = "lurewatch/browser/blocked/"
RENDERED_PAGES = "lurewatch/browser/rendered_pages"
SUBREQUESTS = "lurewatch/browser/subrequests"

_gate: BrowserGate | None = None


class BrowserUnavailable(RuntimeError):
    """Chromium is not where the crawler looks for it."""


def chromium_path() -> Path:
    return Path(os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM)


def check_chromium() -> Path:
    """Debian's Chromium, or :class:`BrowserUnavailable` with what to do about it."""
    path = chromium_path()
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise BrowserUnavailable(
            f"render: browser needs Chromium at {path} (apt-get install chromium, or `bin/setup --dev`; "
            f"{CHROMIUM_ENV} points elsewhere)"
        )
    return path


def add_browser_settings(config: SiteConfig, scrapy_settings: dict[str, Any]) -> None:
    """Add what a ``render: browser`` site needs to ``scrapy_settings`` (nothing for plain HTTP sites)."""
    if config.render != "browser":
        return
    from scrapy.settings import default_settings

    handler = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
    timeout_ms = max(float(scrapy_settings.get("DOWNLOAD_TIMEOUT") or 0), 1.0) * 1000
    launch = {"executable_path": str(chromium_path()), "headless": True}
    concurrency = int(scrapy_settings.get("CONCURRENT_REQUESTS_PER_DOMAIN") or 1)
    scrapy_settings.update({
        "DOWNLOAD_HANDLERS": {"http": handler, "https": handler},
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": launch,
        # One persistent context whose profile blocks every cookie: no cookie is stored or ever sent. It is
        # created by the first page (under scrapy-playwright's context lock), not at start-up, where a page
        # could race it and get an ordinary context.
        "LUREWATCH_BROWSER_CONTEXT": {"user_data_dir": str(cookieless_profile()), **launch},
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": timeout_ms,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": max(concurrency, 1),
        "PLAYWRIGHT_ABORT_REQUEST": "crawlers.browser.abort_request",
        "PLAYWRIGHT_PROCESS_REQUEST_HEADERS": "crawlers.browser.request_headers",
        # A navigation or wait_for timeout is retried like a plain HTTP timeout.
        "RETRY_EXCEPTIONS": [*default_settings.RETRY_EXCEPTIONS, "playwright.async_api.TimeoutError"],
        "LUREWATCH_BROWSER_TIMEOUT_MS": timeout_ms,
    })
    # Next to the download handler, so an oversized rendered page fails before anything else sees it.
    scrapy_settings["DOWNLOADER_MIDDLEWARES"] = {
        **scrapy_settings.get("DOWNLOADER_MIDDLEWARES", {}), "crawlers.browser.RenderedPageLimits": 950,
    }


def cookieless_profile() -> Path:
    """A throw-away Chromium profile (removed when the process exits) whose preferences block all cookies."""
    profile = Path(tempfile.mkdtemp(prefix="lurewatch-chromium-"))
    atexit.register(shutil.rmtree, profile, ignore_errors=True)
    (profile / "Default").mkdir()
    preferences = {"profile": {"default_content_setting_values": {"cookies": 2}}}
    (profile / "Default" / "Preferences").write_text(json.dumps(preferences), encoding="utf-8")
    return profile


def render_meta(config: SiteConfig, timeout_ms: float, context: dict[str, Any]) -> dict[str, Any]:
    """Request meta that has a listing or ad page rendered (empty for plain HTTP sites)."""
    if config.render != "browser":
        return {}
    from scrapy_playwright.page import PageMethod

    options = config.browser
    meta: dict[str, Any] = {
        "playwright": True,
        "playwright_context_kwargs": context,
        "playwright_page_goto_kwargs": {"wait_until": options.wait_until},
    }
    if options.wait_for:
        meta["playwright_page_methods"] = [
            PageMethod("wait_for_selector", options.wait_for, state="attached", timeout=timeout_ms)
        ]
    return meta


class BrowserGate:
    """Decides, for every request a rendered page makes, whether it may leave the browser."""

    def __init__(self, config: SiteConfig, crawler: Crawler) -> None:
        self.domains = [d.lower() for d in config.domains]
        self.crawler = crawler
        self.user_agent = crawler.settings.get("USER_AGENT") or ""

    def blocked_reason(self, url: str, resource_type: str) -> str | None:
        if resource_type not in ALLOWED_RESOURCE_TYPES:
            return f"type/{resource_type}"
        host = (urlsplit(url).hostname or "").lower()
        if not any(host == d or host.endswith("." + d) for d in self.domains):
            return "offsite"
        parser = self._robots(urlsplit(url).netloc)
        if parser is not None and not parser.allowed(url, self.user_agent):
            return "robots"
        return None

    def _robots(self, netloc: str) -> Any:
        """The robots.txt parser Scrapy already fetched for ``netloc`` (the page itself passed it)."""
        from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
        from scrapy.robotstxt import RobotParser

        engine = self.crawler.engine
        if engine is None:
            return None
        for middleware in engine.downloader.middleware.middlewares:
            if isinstance(middleware, RobotsTxtMiddleware):
                parser = middleware._parsers.get(netloc)
                return parser if isinstance(parser, RobotParser) else None
        return None

    def count(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)


def install_gate(config: SiteConfig, crawler: Crawler) -> None:
    """Called by the spider: one crawl per process, so one gate per process."""
    global _gate
    _gate = BrowserGate(config, crawler)


async def abort_request(request: Any) -> bool:
    """``PLAYWRIGHT_ABORT_REQUEST``: True aborts the browser's request (see :class:`BrowserGate`)."""
    if _gate is None:  # no spider installed a gate: nothing may leave
        return True
    _gate.count(SUBREQUESTS)
    reason = _gate.blocked_reason(request.url, request.resource_type)
    if reason is not None:
        _gate.count(BLOCKED_PREFIX + reason.split("/")[0])
        return True
    return False


async def request_headers(
    *, browser_type_name: str, playwright_request: Any, scrapy_request_data: dict[str, Any]
) -> dict[str, str]:
    """Scrapy's headers (our User-Agent) on every request of the page, and never a cookie."""
    from scrapy_playwright.headers import use_scrapy_headers

    headers = await use_scrapy_headers(
        browser_type_name=browser_type_name,
        playwright_request=playwright_request,
        scrapy_request_data=scrapy_request_data,
    )
    return {name: value for name, value in headers.items() if name.lower() != "cookie"}


class RenderedPageLimits:
    """Downloader middleware: a rendered page larger than ``DOWNLOAD_MAXSIZE`` is an error (Chromium does not
    apply Scrapy's size limit), like an oversized plain HTTP response."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.settings.getint("DOWNLOAD_MAXSIZE"))

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Response:
        if "playwright" not in response.flags:
            return response
        if _gate is not None:
            _gate.count(RENDERED_PAGES)
        if self.max_bytes and len(response.body) > self.max_bytes:
            raise IgnoreRequest(
                f"rendered page of {len(response.body)} bytes is over DOWNLOAD_MAXSIZE ({self.max_bytes})"
            )
        return response
