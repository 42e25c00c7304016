"""What every config-driven spider shares: listing pagination, detail requests, inline items, accounting."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any, ClassVar
from urllib.parse import urlsplit

import scrapy
from parsel import Selector
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding

from crawlers.extract import extract_all, extract_urls, select
from crawlers.items import build_ad_row
from crawlers.site_config import Rule, SiteConfig
from crawlers.stats import (
    IGNORED_REQUESTS,
    PARSE_ERRORS,
    REQUEST_ERRORS,
    SELECTOR_MISS_FIELD,
    SELECTOR_MISSES,
)
from warehouse.records import AdRow

MAX_MISS_SAMPLES = 20


class ConfigSpider(scrapy.Spider):
    """Crawl one site as its :class:`SiteConfig` describes. Subclasses implement :meth:`detail_fields`."""

    name = "lurewatch"
    kind: ClassVar[str] = ""

    def __init__(self, config: SiteConfig, **kwargs: Any) -> None:
        super().__init__(name=config.name, **kwargs)
        self.config = config
        self.allowed_domains = config.domains
        self.miss_samples: list[dict[str, Any]] = []

    # ---- requests ----------------------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[Request]:
        for url in self.config.start_urls:
            yield Request(url, callback=self.parse_listing, errback=self.on_error, cb_kwargs={"page_no": 1})

    def on_error(self, failure: Failure) -> None:
        """A request that failed for good (after retries), incl. HTTP error statuses; robots/offsite drops are
        counted separately because they are the crawler behaving, not the site failing."""
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            self._inc(IGNORED_REQUESTS)
            self.logger.debug("ignored %s: %s", url, failure.getErrorMessage())
            return
        self._inc(REQUEST_ERRORS)
        self.logger.error("request failed %s: %s", url, failure.getErrorMessage())

    # ---- listing pages -----------------------------------------------------------------------------------
    def parse_listing(self, response: Response, page_no: int) -> Iterator[Request | AdRow]:
        page = self.as_text(response)
        if page is None:
            return
        listing = self.config.listing
        scopes: list[Selector] = list(select(page.selector, listing.item)) if listing.item else [page.selector]
        found = 0
        for scope in scopes:
            if listing.inline:
                item = self.inline_item(page, scope)
                if item is not None:
                    found += 1
                    yield item
                continue
            assert listing.detail_link is not None  # guaranteed by the config validator
            for url in self.links(page, scope, listing.detail_link):
                found += 1
                yield Request(url, callback=self.parse_detail, errback=self.on_error)
        if found == 0:
            self.record_miss(page.url, ["listing.item" if listing.item else "listing.detail_link"])
        if listing.next_page is None:
            return
        if page_no >= listing.max_pages:
            self.logger.warning("pagination stops at %s: max_pages=%d", page.url, listing.max_pages)
            return
        for url in self.links(page, page.selector, listing.next_page)[:1]:
            yield Request(url, callback=self.parse_listing, errback=self.on_error, cb_kwargs={"page_no": page_no + 1})

    def inline_item(self, page: TextResponse, scope: Selector) -> AdRow | None:
        assert self.config.listing.permalink is not None
        links = self.links(page, scope, self.config.listing.permalink)
        if not links:
            self.record_miss(page.url, ["listing.permalink"])
            return None
        url = links[0]
        fields = extract_all(scope, self.config.fields)
        return self.emit(scope, url, fields, inline=True)

    # ---- detail pages ------------------------------------------------------------------------------------
    def parse_detail(self, response: Response) -> Iterator[AdRow]:
        page = self.as_text(response)
        if page is None:
            return
        item = self.emit(page.selector, page.url, self.detail_fields(page))
        if item is not None:
            yield item

    def detail_fields(self, page: TextResponse) -> dict[str, str]:
        raise NotImplementedError

    # ---- shared helpers ----------------------------------------------------------------------------------
    def emit(self, scope: Selector, url: str, fields: dict[str, str], *, inline: bool = False) -> AdRow | None:
        """Check required fields, then build the item; ads without title or body are not emitted.

        Without a language field the ``lang`` attribute of ``scope`` is used: the ``<html>`` element of a detail
        page, or the item element itself for inline items (a board's ``<html lang>`` is its UI language, not
        the language of each post).
        """
        if not fields.get("page_language"):
            lang = scope.xpath("./@lang" if inline else "/html/@lang").get()
            if lang:
                fields["page_language"] = lang
        missing = [name for name in self.config.required if not fields.get(name)]
        if missing:
            self.record_miss(url, missing)
        if not fields.get("title") or not fields.get("body"):
            return None
        return build_ad_row(self.config.name, url, fields, self.config.external_id_pattern)

    @staticmethod
    def links(page: TextResponse, scope: Selector, rule: Rule) -> list[str]:
        """Absolute http(s) URLs a link rule matches (``javascript:``/``mailto:`` and the like are skipped)."""
        urls = (page.urljoin(href) for href in extract_urls(scope, rule))
        return [url for url in urls if urlsplit(url).scheme in {"http", "https"}]

    def record_miss(self, url: str, fields: Sequence[str]) -> None:
        self._inc(SELECTOR_MISSES)
        for name in fields:
            self._inc(SELECTOR_MISS_FIELD + name)
        if len(self.miss_samples) < MAX_MISS_SAMPLES:
            self.miss_samples.append({"url": url, "fields": list(fields)})
        self.logger.warning("selector miss on %s: nothing matched %s", url, ", ".join(fields))

    def parse_error(self, url: str, message: str) -> None:
        self._inc(PARSE_ERRORS)
        self.logger.error("parse error on %s: %s", url, message)

    def as_text(self, response: Response) -> TextResponse | None:
        """The response as text, decoded per the config's encoding hints; non-text responses are errors."""
        if not isinstance(response, TextResponse):
            self.parse_error(response.url, f"not a text response ({response.headers.get('Content-Type')!r})")
            return None
        hints = self.config.encoding
        if hints.force:
            return response.replace(encoding=hints.force)
        if hints.fallback and not self._declared_encoding(response):
            return response.replace(encoding=hints.fallback)
        return response

    @staticmethod
    def _declared_encoding(response: TextResponse) -> str | None:
        content_type = response.headers.get(b"Content-Type")
        header = http_content_type_encoding(content_type.decode("latin-1")) if content_type else None
        return header or html_body_declared_encoding(response.body)

    def _inc(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)

