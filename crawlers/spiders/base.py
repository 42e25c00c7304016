"""What every config-driven spider shares: entry points (listing pages, sitemaps, feeds), detail requests
(conditional when the page was seen before), inline items, decoding, and the accounting behind crawl health
and removal marking."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

import scrapy
from parsel import Selector
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.sitemap import sitemap_urls_from_robots
from twisted.python.failure import Failure

from crawlers import stats as keys
from crawlers.encoding import choose_encoding
from crawlers.extract import extract_all, extract_urls, select
from crawlers.feeds import EntryError, inflate, parse_feed, parse_sitemap
from crawlers.items import CrawledAd, SeenAd, build_ad_row
from crawlers.site_config import Rule, SiteConfig
from crawlers.text import visible_text_lines
from crawlers.urls import canonical_ad_url
from warehouse.ads import PageState
from warehouse.records import AdRow, ad_text

MAX_MISS_SAMPLES = 20
ROLE = "lurewatch_role"  # request meta: "entry" (listing page, sitemap, feed) or "detail"
ENTRY, DETAIL = "entry", "detail"
#: IgnoreRequest messages that mean the crawler behaved (robots.txt, offsite filter), not that the site failed.
BENIGN_IGNORES = ("Forbidden by robots.txt", "Filtered offsite request")


def _header(response: Response, name: bytes) -> str | None:
    values = response.headers.getlist(name)
    if not values:
        return None
    text = values[-1].decode("latin-1").strip()
    return text[:512] or None


class ConfigSpider(scrapy.Spider):
    """Crawl one site as its :class:`SiteConfig` describes. Subclasses implement :meth:`detail_fields`.

    Besides items, a run leaves what the pipeline needs to decide whether the crawl was *complete* (every
    entry page read: then ads not seen may be marked removed) and which ads' fate is unknown (their detail
    page failed, was forbidden or could not be parsed: never marked removed by this run).
    """

    name = "lurewatch"
    kind: ClassVar[str] = ""

    def __init__(self, config: SiteConfig, **kwargs: Any) -> None:
        super().__init__(name=config.name, **kwargs)
        self.config = config
        self.config_hash = config.config_hash()
        self.allowed_domains = config.domains
        self.miss_samples: list[dict[str, Any]] = []
        self.page_states: dict[str, PageState] = {}  # filled by the pipeline when the run starts
        self.unknown_urls: set[str] = set()
        self.entry_failures = 0
        self.entry_misses = 0
        self.truncated = False
        self.sitemaps_requested = 0
        self.max_bytes = 5_000_000
        self.render_meta: dict[str, Any] = {}  # `render: browser`: what has a listing or ad page rendered

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.max_bytes = crawler.settings.getint("DOWNLOAD_MAXSIZE", spider.max_bytes) or spider.max_bytes
        crawler.signals.connect(spider.on_request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(spider.on_spider_error, signal=signals.spider_error)
        if spider.config.render == "browser":
            from crawlers.browser import install_gate, render_meta

            install_gate(spider.config, crawler)
            timeout_ms = crawler.settings.getfloat("LUREWATCH_BROWSER_TIMEOUT_MS", 20_000.0)
            context = crawler.settings.getdict("LUREWATCH_BROWSER_CONTEXT")
            spider.render_meta = render_meta(spider.config, timeout_ms, context)
        return spider

    @property
    def entry_complete(self) -> bool:
        """Every entry page was fetched and read, and nothing was cut short by a safety limit."""
        return not (self.entry_failures or self.entry_misses or self.truncated)

    # ---- entry points ------------------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[Request]:
        config = self.config
        if config.entry == "sitemap" and config.sitemap.from_robots:
            robots = self.entry_request(config.base_url + "/robots.txt", self.parse_robots_sitemaps)
            robots.meta["handle_httpstatus_list"] = [404, 410]  # no robots.txt: no sitemaps from it, no failure
            yield robots
        for url in config.start_urls:
            if config.entry == "listing":
                yield self.entry_request(url, self.parse_listing, rendered=True, page_no=1)
            elif config.entry == "sitemap":
                request = self.sitemap_request(url)
                if request is not None:
                    yield request
            else:
                yield self.entry_request(url, self.parse_feed)

    def entry_request(self, url: str, callback: Any, *, rendered: bool = False, **cb_kwargs: Any) -> Request:
        """An entry request; ``rendered`` (listing pages) goes through the browser on a ``render: browser``
        site, while robots.txt, sitemaps and feeds are always plain HTTP."""
        meta: dict[str, Any] = {ROLE: ENTRY, **(self.render_meta if rendered else {})}
        return Request(url, callback=callback, errback=self.on_error, cb_kwargs=cb_kwargs, meta=meta)

    def sitemap_request(self, url: str) -> Request | None:
        if self.sitemaps_requested >= self.config.sitemap.max_sitemaps:
            self.truncate(f"sitemap stops at {url}: max_sitemaps={self.config.sitemap.max_sitemaps}")
            return None
        self.sitemaps_requested += 1
        return self.entry_request(url, self.parse_sitemap)

    def detail_request(self, url: str) -> Request | None:
        """A request for an ad page, conditional (If-None-Match / If-Modified-Since) if we parsed it before."""
        if not self.config.url_filter.accepts(url):
            self._inc(keys.URL_FILTERED)
            return None
        meta: dict[str, Any] = {ROLE: DETAIL, **self.render_meta}
        headers: dict[str, str] = {}
        state = self.page_states.get(url)
        # A browser has no copy to show for a 304: rendered pages are compared by the hash of their DOM instead.
        if state is not None and not self.render_meta:
            if state.etag:
                headers["If-None-Match"] = state.etag
            if state.last_modified:
                headers["If-Modified-Since"] = state.last_modified
            meta["handle_httpstatus_list"] = [304]
        return Request(url, callback=self.parse_detail, errback=self.on_error, headers=headers, meta=meta)

    def truncate(self, message: str) -> None:
        self.truncated = True
        self._inc(keys.TRUNCATED)
        self.logger.warning(message)

    # ---- failures ----------------------------------------------------------------------------------------
    def on_error(self, failure: Failure) -> None:
        """A request that failed for good (after retries), incl. HTTP error statuses. robots.txt and offsite
        drops are the crawler behaving, not the site failing: counted apart. A redirect loop is an error."""
        request: Request | None = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            message = failure.getErrorMessage()
            if "max redirections" in message:
                self.request_failed(request, f"redirect loop: {message}", loop=True)
                return
            if not message.startswith(BENIGN_IGNORES):  # e.g. a gzip bomb over DOWNLOAD_MAXSIZE
                self.request_failed(request, message)
                return
            self._inc(keys.IGNORED_REQUESTS)
            if request is not None and request.meta.get(ROLE) == DETAIL:
                self.unknown_urls.add(canonical_ad_url(url))
            self.logger.debug("ignored %s: %s", url, message)
            return
        self.request_failed(request, failure.getErrorMessage())

    def request_failed(self, request: Request | None, message: str, *, loop: bool = False) -> None:
        self._inc(keys.REQUEST_ERRORS)
        if loop:
            self._inc(keys.REDIRECT_LOOPS)
        url = request.url if request is not None else "?"
        if request is not None and request.meta.get(ROLE) == ENTRY:
            self.entry_failures += 1
            self._inc(keys.ENTRY_ERRORS)
        elif request is not None:
            first = (request.meta.get("redirect_urls") or [url])[0]
            self.unknown_urls.update({canonical_ad_url(first), canonical_ad_url(url)})
        self.logger.error("request failed %s: %s", url, message)

    def on_request_dropped(self, request: Request, spider: scrapy.Spider | None = None) -> None:
        """A redirect back to a URL already requested is dropped by the duplicate filter without an error:
        if the chain came back to itself, that is a redirect loop."""
        chain = request.meta.get("redirect_urls") or []
        if request.url in chain:
            self.request_failed(request, f"redirect loop via {' -> '.join(chain)}", loop=True)

    def on_spider_error(self, failure: Failure, response: Response, spider: scrapy.Spider) -> None:
        """A callback crashed: the links of an entry page are lost (partial crawl); a detail page's ad is
        of unknown fate."""
        request = response.request
        if request is not None and request.meta.get(ROLE) == ENTRY:
            self.entry_failures += 1
            self._inc(keys.ENTRY_ERRORS)
        else:
            self.unknown_urls.add(canonical_ad_url(response.url))

    # ---- listing pages -----------------------------------------------------------------------------------
    def parse_listing(self, response: Response, page_no: int) -> Iterator[Request | CrawledAd]:
        page = self.as_text(response, entry=True)
        if page is None:
            return
        listing = self.config.listing
        assert listing is not None  # entry == "listing" requires it
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
                request = self.detail_request(url)
                if request is not None:
                    yield request
        if found == 0:
            self.record_miss(page.url, ["listing.item" if listing.item else "listing.detail_link"], entry=True)
        if listing.next_page is None:
            return
        next_urls = self.links(page, page.selector, listing.next_page)[:1]
        if next_urls and page_no >= listing.max_pages:
            self.truncate(f"pagination stops at {page.url}: max_pages={listing.max_pages}")
            return
        for url in next_urls:
            yield self.entry_request(url, self.parse_listing, rendered=True, page_no=page_no + 1)

    def inline_item(self, page: TextResponse, scope: Selector) -> CrawledAd | None:
        assert self.config.listing is not None and self.config.listing.permalink is not None
        links = self.links(page, scope, self.config.listing.permalink)
        if not links:
            self.record_miss(page.url, ["listing.permalink"], entry=True)
            return None
        url = canonical_ad_url(links[0])
        if not self.config.url_filter.accepts(url):
            self._inc(keys.URL_FILTERED)
            return None
        fields = extract_all(scope, self.config.fields)
        row = self.emit(scope, url, fields, inline=True)
        if row is None:
            self.unknown_urls.add(url)
            return None
        return CrawledAd(row, self.snapshot_text(scope, row, inline=True))

    # ---- sitemaps and feeds ------------------------------------------------------------------------------
    def parse_robots_sitemaps(self, response: Response) -> Iterator[Request]:
        if response.status != 200:
            return
        for url in sitemap_urls_from_robots(response.body, base_url=response.url):
            request = self.sitemap_request(url)  # `sitemap.follow` filters the children of an index only
            if request is not None:
                yield request

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        try:
            doc = parse_sitemap(inflate(response.body, self.max_bytes), response.url)
        except EntryError as exc:
            self.entry_failed(response.url, f"unreadable sitemap: {exc}")
            return
        if doc.kind == "sitemapindex":
            for url in doc.urls:
                if self.config.sitemap.follows(url):
                    request = self.sitemap_request(url)
                    if request is not None:
                        yield request
            return
        if not doc.urls:
            self.record_miss(response.url, ["sitemap.url"], entry=True)
        for url in doc.urls:
            request = self.detail_request(url)
            if request is not None:
                yield request

    def parse_feed(self, response: Response) -> Iterator[Request]:
        try:
            links = parse_feed(inflate(response.body, self.max_bytes), response.url)
        except EntryError as exc:
            self.entry_failed(response.url, f"unreadable feed: {exc}")
            return
        if not links:
            self.record_miss(response.url, ["feed.entry"], entry=True)
        for url in links:
            request = self.detail_request(url)
            if request is not None:
                yield request

    def entry_failed(self, url: str, message: str) -> None:
        self.entry_failures += 1
        self._inc(keys.ENTRY_ERRORS)
        self.parse_error(url, message)

    # ---- detail pages ------------------------------------------------------------------------------------
    def parse_detail(self, response: Response) -> Iterator[CrawledAd | SeenAd]:
        request = response.request
        requested = (request.meta.get("redirect_urls") or [request.url])[0] if request is not None else response.url
        state = self.page_states.get(requested)
        if response.status == 304:
            if state is not None and state.ad_url:
                self._inc(keys.NOT_MODIFIED)
                yield SeenAd(state.ad_url)
            else:  # a 304 we did not ask for: nothing to fall back on
                self.unknown_urls.add(canonical_ad_url(requested))
                self.parse_error(response.url, "HTTP 304 without a cached copy")
            return
        body_hash = hashlib.sha256(response.body).hexdigest()
        etag, last_modified = _header(response, b"ETag"), _header(response, b"Last-Modified")
        if state is not None and state.ad_url and state.body_hash == body_hash:
            self._inc(keys.SAME_BODY)
            refreshed = None
            if (etag, last_modified) != (state.etag, state.last_modified):
                refreshed = PageState(requested, self.config.name, state.ad_url, body_hash, self.config_hash,
                                      etag, last_modified)
            yield SeenAd(state.ad_url, refreshed)
            return
        page = self.as_text(response)
        if page is None:
            self.unknown_urls.add(canonical_ad_url(requested))
            return
        url = canonical_ad_url(page.url)
        row = self.emit(page.selector, url, self.detail_fields(page))
        if row is None:
            self.unknown_urls.update({url, canonical_ad_url(requested)})
            return
        state = PageState(requested, self.config.name, row.url, body_hash, self.config_hash, etag, last_modified)
        yield CrawledAd(row, self.snapshot_text(page.selector, row), state)

    def detail_fields(self, page: TextResponse) -> dict[str, str]:
        raise NotImplementedError

    # ---- shared helpers ----------------------------------------------------------------------------------
    def emit(self, scope: Selector, url: str, fields: dict[str, str], *, inline: bool = False) -> AdRow | None:
        """Check required fields, then build the row; ads without title or body are not emitted.

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
        return build_ad_row(self.config.ad_site_id, url, fields, self.config.external_id_pattern)

    def snapshot_text(self, scope: Selector, row: AdRow, *, inline: bool = False) -> str:
        """The visible text kept as the ad's snapshot: the config's ``snapshot`` region, else the page's
        ``<body>`` (or the listing element of an inline item)."""
        if self.config.snapshot is not None:
            region = select(scope, self.config.snapshot)
        else:
            region = scope.xpath(".") if inline else scope.xpath("/html/body")
        elements = [m.root for m in region if not isinstance(m.root, str)]
        text = "\n".join(visible_text_lines(element) for element in elements)
        return text or ad_text(row.title, row.body)

    def links(self, page: TextResponse, scope: Selector, rule: Rule) -> list[str]:
        """Absolute http(s) URLs a link rule matches (``javascript:``/``mailto:`` and the like are skipped; a
        malformed one, e.g. ``http://[oops``, is logged and skipped - it never costs the page's other links)."""
        urls: list[str] = []
        for href in extract_urls(scope, rule):
            try:
                url = page.urljoin(href)
                urlsplit(url).port  # noqa: B018 - raises ValueError for an invalid port
            except ValueError as exc:
                self.logger.warning("malformed link %r on %s: %s", href[:200], page.url, exc)
                continue
            if url.startswith(("http://", "https://")):
                urls.append(url)
        return urls

    def record_miss(self, url: str, fields: Sequence[str], *, entry: bool = False) -> None:
        self._inc(keys.SELECTOR_MISSES)
        if entry:
            self.entry_misses += 1
        for name in fields:
            self._inc(keys.SELECTOR_MISS_FIELD + name)
        if len(self.miss_samples) < MAX_MISS_SAMPLES:
            self.miss_samples.append({"url": url, "fields": list(fields)})
        self.logger.warning("selector miss on %s: nothing matched %s", url, ", ".join(fields))

    def parse_error(self, url: str, message: str) -> None:
        self._inc(keys.PARSE_ERRORS)
        self.logger.error("parse error on %s: %s", url, message)

    def as_text(self, response: Response, *, entry: bool = False) -> TextResponse | None:
        """The response as text in the right encoding (see :mod:`crawlers.encoding`): a BOM, a declaration
        the bytes agree with, else letter statistics, with the config's hints. Non-text responses are parse
        errors (and, for an entry page, make the crawl partial)."""
        if not isinstance(response, TextResponse):
            message = f"not a text response ({response.headers.get('Content-Type')!r})"
            if entry:
                self.entry_failed(response.url, message)
            else:
                self.parse_error(response.url, message)
            return None
        hints = self.config.encoding
        content_type = response.headers.get(b"Content-Type")
        choice = choose_encoding(
            response.body,
            content_type.decode("latin-1") if content_type else None,
            force=hints.force,
            fallback=hints.fallback,
        )
        self._inc(keys.ENCODING_PREFIX + choice.reason)
        if choice.reason == "corrected":
            self.logger.info("%s declares a charset its bytes contradict; decoded as %s", response.url,
                             choice.encoding)
        if choice.reason == "bom" or choice.encoding == response.encoding:
            return response
        return response.replace(encoding=choice.encoding)

    def _inc(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)

