"""``lurewatch sites new URL``: look at a few pages of a board, politely, and propose a site config.

What it does, in order, with at most ``max_pages`` requests besides robots.txt (one at a time, our User-Agent,
no cookies, the crawler's timeout and page-size cap, robots.txt ``Disallow`` and ``Crawl-delay`` obeyed):

1. **robots.txt** first: its ``Sitemap:`` lines, its delay, what it forbids us. A start URL it forbids, or a
   robots.txt that cannot be read (5xx, no answer), stops here: nothing else is requested.
2. **The start page**, its **feeds** (``<link rel=alternate type=...rss/atom>``, links to ``*.rss`` / ``/feed``)
   and the **sitemap** (robots.txt's, else ``/sitemap.xml``; the first child of an index).
3. **Ad links**: links of the listing page grouped by the shape of their URL (``/job/bj-#``, ``/*/1-#``); the
   largest repeated group is taken as the ads. If the start page has none, a few of its links that look like
   listings (``jobs``, ``darbas``, ``praca``, ``?page=``...) are tried.
4. **Pagination**: ``rel=next``, else a link to the same page with the next ``?page=N`` / ``offset=N`` (or a
   path ``/page/N``), verified on the next page (it must show new ads, and the selector must lead further on).
5. **Ad pages**: a few are fetched and read with :func:`crawlers.jobposting.structured_fields` (JSON-LD,
   microdata, RDFa via extruct). Fields the markup lacks get CSS selectors only if one selector finds exactly
   one non-empty element on every sampled page (and, for title and body, a different text on each).

The result is a :class:`Proposal`: a config dict that :class:`crawlers.site_config.SiteConfig` accepts (always
``enabled: false``) and a report of what was found and which fields could not be filled. Nothing is guessed for
a field no sampled page supports; a required field that could not be found gets the placeholder selector
``fill-me`` (it matches nothing, so ``sites check --fetch`` shows it as a selector miss until it is fixed).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx
from lxml import etree
from parsel import Selector
from protego import Protego

from crawlers.encoding import choose_encoding
from crawlers.extract import extract
from crawlers.feeds import EntryError, inflate, parse_feed, parse_sitemap
from crawlers.jobposting import structured_fields
from crawlers.politeness import MAX_ROBOTS_DELAY_S
from crawlers.site_config import FieldName, Rule, SiteConfig
from crawlers.urls import canonical_ad_url

T = TypeVar("T")

#: A link shape needs this many distinct URLs on a page to count as "the ads".
MIN_GROUP = 3
#: Ad pages fetched to read their markup and test selectors.
AD_SAMPLES = 3
MAX_REDIRECTS = 5
PLACEHOLDER = "fill-me"

_FIELD_ORDER: tuple[FieldName, ...] = (
    "title", "body", "company", "location", "country", "salary_text", "contact_text", "posted", "page_language",
    "external_id",
)
_LISTING_WORDS = (
    "job", "jobs", "work", "career", "vacanc", "vakan", "darb", "praca", "oferty", "ogloszen", "tyopaik",
    "työpaik", "ilmoitu", "too", "töö", "kuulutu", "skelbim", "sludinaj", "board", "listing", "search", "ads",
    "category", "kategor", "page=", "offset=",
)
_KEYWORDS: dict[str, tuple[str, ...]] = {
    "location": ("city", "location", "locality", "place", "region", "address", "miest", "pilset", "vieta",
                 "kaupunki", "paikka", "linn", "asukoht", "miasto", "lokaliz"),
    "company": ("company", "employer", "organization", "organisation", "firm", "imone", "uznemum", "yritys",
                "tooandja", "pracodawca"),
    "salary_text": ("salary", "wage", "price", "pay", "atlyg", "alga", "kaina", "palkka", "palk", "wynagrodz",
                    "cena"),
    "contact_text": ("contact", "phone", "tel", "email", "kontakt"),
    "posted": ("date", "posted", "published"),
}
_SKIP_TAGS = {"script", "style", "noscript", "template", "head", "title", "meta", "link", "nav", "footer", "header",
              "aside", "form", "button", "select", "option"}
_CSS_IDENT = re.compile(r"-?[_a-zA-Z][_a-zA-Z0-9-]*")
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json", "application/rdf+xml")
_FEED_HREF = re.compile(r"(?:\.rss|\.atom|/feed/?|/rss/?|[./]rss\.xml|/atom\.xml)$", re.IGNORECASE)
_NUMBER = re.compile(r"^\d{1,6}$")


class OnboardError(ValueError):
    """An ordinary reason the proposal cannot be made (bad URL, robots.txt forbids it, site unreachable)."""


# ---- polite fetching -----------------------------------------------------------------------------------------
@dataclass(slots=True)
class Page:
    url: str
    status: int
    body: bytes
    content_type: str
    location: str | None = None

    def html(self, fallback: str | None = None) -> Selector:
        choice = choose_encoding(self.body, self.content_type or None, fallback=fallback)
        return Selector(text=self.body.decode(choice.encoding, errors="replace"))


@dataclass
class Fetcher:
    """One request at a time to one host: robots.txt first, then only what it allows, at most ``max_pages``."""

    base_url: str
    user_agent: str
    max_pages: int
    timeout_s: float
    max_bytes: int
    min_delay_s: float
    fetched: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    robots: Protego | None = None
    robots_status: str = ""
    delay_s: float = 0.0
    _last: float | None = None
    _client: httpx.Client | None = None

    def __post_init__(self) -> None:
        self.host = urlsplit(self.base_url).netloc.lower()
        self._client = httpx.Client(
            headers={"User-Agent": self.user_agent, "Accept": "text/html,application/xhtml+xml,application/xml,*/*"},
            timeout=self.timeout_s, follow_redirects=False, trust_env=False,
        )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    @property
    def budget_left(self) -> int:
        return self.max_pages - len(self.fetched)

    def allowed(self, url: str) -> bool:
        return self.robots is None or bool(self.robots.can_fetch(url, self.user_agent))

    def on_site(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in {"http", "https"} and parts.netloc.lower() == self.host

    def read_robots(self) -> None:
        """robots.txt: missing (4xx) means everything is allowed; unreadable (5xx, no answer) means stop."""
        url = self.base_url + "/robots.txt"
        try:
            page = self._get(url)
        except OnboardError as exc:
            raise OnboardError(f"robots.txt of {self.host} could not be read ({exc}): nothing else fetched") from exc
        if page.status >= 500:
            raise OnboardError(f"robots.txt of {self.host} answered HTTP {page.status}: nothing else fetched; "
                               "try again later")
        if page.status >= 400:
            self.robots_status = f"none (HTTP {page.status}): everything allowed"
            self.robots = Protego.parse("")
        else:
            self.robots = Protego.parse(page.body.decode("utf-8", errors="replace"))
            self.robots_status = "read"
        delays = [d for d in (self.robots.crawl_delay(self.user_agent),) if d]
        rate = self.robots.request_rate(self.user_agent)
        if rate is not None and rate.requests > 0:
            delays.append(float(rate.seconds) / float(rate.requests))
        self.delay_s = min(max(delays), MAX_ROBOTS_DELAY_S) if delays else 0.0

    def get(self, url: str, why: str) -> Page | None:
        """``url`` if robots.txt allows it, it is on the site and the budget lasts; else ``None`` (noted)."""
        if not self.on_site(url):
            self.skipped.append((url, "not on the site"))
            return None
        if not self.allowed(url):
            self.skipped.append((url, "robots.txt"))
            return None
        if self.budget_left <= 0:
            self.skipped.append((url, f"page budget ({self.max_pages}) used up"))
            return None
        for _ in range(MAX_REDIRECTS + 1):
            self.fetched.append(url)
            try:
                page = self._get(url)
            except OnboardError as exc:
                self.skipped.append((url, str(exc)))
                return None
            if page.location is not None:
                target = canonical_ad_url(urljoin(url, page.location))
                if not self.on_site(target) or not self.allowed(target):
                    self.skipped.append((target, "redirect off the site or to a disallowed URL"))
                    return None
                if self.budget_left <= 0:
                    self.skipped.append((target, f"page budget ({self.max_pages}) used up"))
                    return None
                url = target
                continue
            if page.status != 200:
                self.skipped.append((url, f"HTTP {page.status} ({why})"))
                return None
            return page
        self.skipped.append((url, "too many redirects"))
        return None

    def _get(self, url: str) -> Page:
        assert self._client is not None
        if self._last is not None:
            wait = max(self.delay_s, self.min_delay_s) - (time.monotonic() - self._last)
            if wait > 0:
                time.sleep(wait)
        started = time.monotonic()
        try:
            with self._client.stream("GET", url) as response:
                if response.is_redirect:
                    return Page(url, response.status_code, b"", "", response.headers.get("location", ""))
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise OnboardError(f"larger than {self.max_bytes} bytes")
                    if time.monotonic() - started > self.timeout_s:
                        raise OnboardError(f"no complete answer within {self.timeout_s:g} s")
                    chunks.append(chunk)
                return Page(str(response.url), response.status_code, b"".join(chunks),
                            response.headers.get("content-type", ""))
        except httpx.TimeoutException as exc:
            raise OnboardError(f"no answer within {self.timeout_s:g} s") from exc
        except httpx.HTTPError as exc:
            raise OnboardError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            self._last = time.monotonic()
            if self._client is not None:
                self._client.cookies.clear()  # no cookie is ever stored or sent back


# ---- URL shapes ------------------------------------------------------------------------------------------------
def _segment_shape(segment: str) -> str:
    if not any(ch.isdigit() for ch in segment):
        return "*" if len(segment) > 24 or segment.count("-") >= 3 else segment
    shape = re.sub(r"\d{3,}", "#", segment)
    return "*" if len(shape) > 12 else shape


def url_shape(url: str, *, coarse: bool = False) -> tuple[str, ...]:
    """The shape of a URL's path (and query parameter names): ids and slugs wildcarded."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    shapes = [_segment_shape(s) for s in segments]
    if coarse and shapes:
        last = segments[-1]
        ext = last.rsplit(".", 1)[1] if "." in last else ""
        shapes[-1] = f"*.{ext}" if ext else "*"
    names = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return (*shapes, "?" + "&".join(names))


def _esc(text: str) -> str:
    """``re.escape`` for people: only the characters that mean something in a regex (not ``-``)."""
    return re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1", text)


def _common_prefix(values: list[str]) -> str:
    first, last = min(values), max(values)
    n = 0
    while n < len(first) and n < len(last) and first[n] == last[n]:
        n += 1
    prefix = first[:n]
    while prefix and prefix[-1].isalnum():  # cut back to a separator: "bj-00" -> "bj-"
        prefix = prefix[:-1]
    return prefix


def _common_suffix(values: list[str]) -> str:
    suffix = _common_prefix([v[::-1] for v in values])[::-1]
    return suffix


@dataclass(frozen=True, slots=True)
class UrlPattern:
    """``allow``: a regex matching the ad URLs (any host, so a moved site still matches); ``ref``: the
    ``external_id_pattern`` (the last varying part, preferring one with digits)."""

    allow: str
    ref: str | None


def _generalise(values: list[str], last: bool) -> tuple[str, str, str, bool]:
    prefix = _common_prefix(values)
    rest = [v[len(prefix):] for v in values]
    suffix = _common_suffix(rest) if all(rest) else ""
    while suffix and suffix[0].isalnum():
        suffix = suffix[1:]
    cores = [v[: len(v) - len(suffix)] if suffix else v for v in rest]
    digits = all(c.isdigit() for c in cores) and all(cores)
    core = r"\d+" if digits else ("[^/?#]+?" if last and suffix else "[^/?#]+")
    return _esc(prefix), core, _esc(suffix), digits


def url_pattern(urls: list[str]) -> UrlPattern:
    """A regex for URLs like ``urls`` (same shape): constant parts literal, varying parts wildcarded."""
    split = [urlsplit(u) for u in urls]
    paths = [[s for s in p.path.split("/") if s] for p in split]
    width = min(len(p) for p in paths)
    parts: list[str] = []
    varying: list[tuple[int, bool]] = []
    generalised: list[tuple[str, str, str]] = []
    for i in range(width):
        values = [p[i] for p in paths]
        if len(set(values)) == 1:
            generalised.append((_esc(values[0]), "", ""))
            parts.append(_esc(values[0]))
            continue
        prefix, core, suffix, digits = _generalise(values, last=i == width - 1)
        generalised.append((prefix, core, suffix))
        parts.append(prefix + core + suffix)
        varying.append((i, digits))
    trailing = "/" if all(p.path.endswith("/") and p.path != "/" for p in split) else ""
    path_re = "/" + "/".join(parts) + trailing
    queries = [parse_qsl(p.query, keep_blank_values=True) for p in split]
    query_re = ""
    ref: str | None = None
    if any(queries):
        names = [k for k, _ in queries[0]]
        pieces: list[str] = []
        for k in names:
            values = [dict(q).get(k, "") for q in queries]
            if len(set(values)) == 1:
                pieces.append(f"{_esc(k)}={_esc(values[0])}")
            else:
                pieces.append(f"{_esc(k)}=[^&#]+")
                if ref is None or all(v.isdigit() for v in values):
                    ref = rf"[?&]{_esc(k)}=(?P<ref>[^&#]+)"
        query_re = r"\?" + "&".join(pieces)
    if ref is None and varying:
        with_digits = [i for i, digits in varying if digits] or [i for i, _ in varying]
        index = with_digits[-1]
        prefix, core, suffix = generalised[index]
        end = "" if index < width - 1 else ("/?" if trailing else "") + r"(?:[?#]|$)"
        ref = f"/{prefix}(?P<ref>{core}){suffix}" + (end or "/")
    end = r"(?:[?#]|$)" if not query_re else r"(?:[&#]|$)"
    return UrlPattern(r"^https?://[^/]+" + path_re + query_re + end, ref)


# ---- pages -----------------------------------------------------------------------------------------------------
def page_links(page: Selector, url: str, fetcher: Fetcher) -> list[tuple[Selector, str]]:
    """``(anchor, absolute canonical URL)`` of every link to the same site, in page order."""
    links: list[tuple[Selector, str]] = []
    for anchor in page.xpath("//a[@href]"):
        href = (anchor.attrib.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        try:
            absolute = canonical_ad_url(urljoin(url, href))
            urlsplit(absolute).port  # noqa: B018 - a malformed port raises ValueError
        except ValueError:
            continue
        if fetcher.on_site(absolute):
            links.append((anchor, absolute))
    return links


@dataclass
class LinkGroup:
    shape: tuple[str, ...]
    urls: list[str]
    anchors: list[Selector]


def link_groups(links: Sequence[tuple[Selector | None, str]], page_url: str | None) -> list[LinkGroup]:
    """Links (anchor or ``None``, URL) grouped by URL shape, largest first; links to the page itself
    (its pagination) left out."""
    own_path = urlsplit(page_url).path if page_url else None
    for coarse in (False, True):
        groups: dict[tuple[str, ...], LinkGroup] = {}
        for anchor, url in links:
            if urlsplit(url).path == own_path:
                continue
            shape = url_shape(url, coarse=coarse)
            group = groups.setdefault(shape, LinkGroup(shape, [], []))
            if url not in group.urls:
                group.urls.append(url)
                if anchor is not None:
                    group.anchors.append(anchor)
        ranked = sorted((g for g in groups.values() if len(g.urls) >= MIN_GROUP),
                        key=lambda g: (len(g.urls), len(g.shape)), reverse=True)
        if ranked:
            return ranked
    return []


def _element_ok(element: Any) -> bool:
    node = element
    while node is not None:
        if isinstance(node.tag, str) and node.tag.lower() in _SKIP_TAGS:
            return False
        node = node.getparent()
    return True


def _simple_parts(element: Any) -> list[str]:
    tag = element.tag.lower() if isinstance(element.tag, str) else "*"
    parts: list[str] = []
    ident = element.get("id") or ""
    if ident and _CSS_IDENT.fullmatch(ident) and not re.search(r"\d{2,}", ident):
        parts.append(f"{tag}#{ident}")
    for cls in (element.get("class") or "").split():
        if _CSS_IDENT.fullmatch(cls) and not re.search(r"\d{3,}", cls):
            parts.append(f"{tag}.{cls}")
    prop = element.get("itemprop")
    if prop and _CSS_IDENT.fullmatch(prop):
        parts.append(f'{tag}[itemprop="{prop}"]')
    return parts


def candidate_selectors(element: Any) -> Iterator[str]:
    """CSS selectors for ``element``, most specific-to-the-element first: its own id/class/itemprop, then
    under an ancestor's, then its bare tag."""
    own = _simple_parts(element)
    yield from own
    tag = element.tag.lower() if isinstance(element.tag, str) else "*"
    ancestor = element.getparent()
    depth = 0
    while ancestor is not None and depth < 4 and isinstance(ancestor.tag, str) and ancestor.tag not in {"body",
                                                                                                      "html"}:
        for part in _simple_parts(ancestor):
            for mine in [*own[:1], tag]:
                yield f"{part} {mine}"
        ancestor = ancestor.getparent()
        depth += 1
    yield tag


# ---- listing ---------------------------------------------------------------------------------------------------
@dataclass
class Listing:
    url: str
    group: LinkGroup
    detail_css: str | None = None
    next_css: str | None = None
    next_attr: str = "href"
    next_url: str | None = None
    next_note: str = ""


def _detail_selector(page: Selector, group: LinkGroup, pattern: re.Pattern[str], url: str) -> str | None:
    """A selector whose links on the page are exactly the group's ad links (url_filter then keeps the ads)."""
    wanted = set(group.urls)
    seen: set[str] = set()
    for anchor in group.anchors[:5]:
        for css in candidate_selectors(anchor.root):
            if css in seen or css == "a":
                continue
            seen.add(css)
            found = {canonical_ad_url(urljoin(url, h.strip())) for h in page.css(css).xpath("@href").getall()}
            if found and wanted <= found and all(pattern.search(u) for u in found):
                return css
    return None


def _number_step(page_url: str, link: str) -> int | None:
    """The page number (or offset) ``link`` goes to if it is ``page_url`` with one number changed."""
    a, b = urlsplit(page_url), urlsplit(link)
    if a.path == b.path:
        qa, qb = dict(parse_qsl(a.query, keep_blank_values=True)), dict(parse_qsl(b.query, keep_blank_values=True))
        changed = [k for k in set(qa) | set(qb) if qa.get(k) != qb.get(k)]
        if len(changed) == 1 and _NUMBER.match(qb.get(changed[0], "")):
            here = int(qa.get(changed[0], "0") or 0) if _NUMBER.match(qa.get(changed[0], "0") or "0") else 0
            there = int(qb[changed[0]])
            return there if there > here else None
        return None
    sa, sb = a.path.rstrip("/").split("/"), b.path.rstrip("/").split("/")
    if len(sb) == len(sa) + 2 and sb[: len(sa)] == sa and sb[-2] in {"page", "p", "lapa", "psl"} and sb[-1].isdigit():
        return int(sb[-1])  # /jobs -> /jobs/page/2
    if len(sa) == len(sb) and a.query == b.query:
        diff = [i for i, (x, y) in enumerate(zip(sa, sb, strict=True)) if x != y]
        if len(diff) == 1 and sa[diff[0]].isdigit() and sb[diff[0]].isdigit() and int(sb[diff[0]]) > int(sa[diff[0]]):
            return int(sb[diff[0]])
    return None


def find_next(page: Selector, url: str, fetcher: Fetcher) -> tuple[str, str, str] | None:
    """``(css, attr, next URL)`` of the link to the next listing page, whose *first* match is that link."""
    head = page.css("link[rel~=next]::attr(href)").get()
    if head:
        return "link[rel~=next]", "href", canonical_ad_url(urljoin(url, head.strip()))
    rel = page.css("a[rel~=next]::attr(href)").get()
    if rel:
        return "a[rel~=next]", "href", canonical_ad_url(urljoin(url, rel.strip()))
    steps = [(step, anchor, link) for anchor, link in page_links(page, url, fetcher)
             if (step := _number_step(url, link)) is not None]
    if not steps:
        return None
    _, anchor, target = min(steps, key=lambda s: s[0])
    for css in candidate_selectors(anchor.root):
        first = page.css(css).xpath("@href").get()
        if first and canonical_ad_url(urljoin(url, first.strip())) == target:
            return css, "href", target
    return None


# ---- fields ----------------------------------------------------------------------------------------------------
@dataclass
class Sample:
    url: str
    page: Selector
    source: str | None
    markup: dict[str, str]


def _rule(css: str, **extra: Any) -> Rule:
    return Rule(css=css, **extra)


def _unique_everywhere(rule: Rule, samples: list[Sample], check: Any) -> bool:
    for sample in samples:
        if len(sample.page.css(rule.css or "")) != 1:
            return False
        value = extract(sample.page, rule)
        if not value or not check(value):
            return False
    return True


def _differs(rule: Rule, samples: list[Sample]) -> bool:
    values = [extract(s.page, rule) for s in samples]
    return len(samples) < 2 or len(set(values)) == len(values)


def _try(elements: list[Any], samples: list[Sample], check: Any, *, varies: bool = False,
         **extra: Any) -> Rule | None:
    tried: set[str] = set()
    for element in elements:
        for css in candidate_selectors(element):
            if css in tried:
                continue
            tried.add(css)
            try:
                rule = _rule(css, **extra)
            except ValueError:
                continue
            if _unique_everywhere(rule, samples, check) and (not varies or _differs(rule, samples)):
                return rule
    return None


def _title_rule(samples: list[Sample]) -> Rule | None:
    first = samples[0].page
    title = " ".join((first.xpath("//title/text()").get() or "").split())
    pieces = {title, *(p.strip() for p in re.split(r"\s[|–—-]\s", title))} - {""}
    elements: list[Any] = []
    for element in first.xpath("//body//*[self::h1 or self::h2 or self::h3 or self::*[@itemprop='title']]"):
        text = " ".join((element.xpath("string()").get() or "").split())
        if text and text in pieces and _element_ok(element.root):
            elements.append(element.root)
    elements.extend(e.root for e in first.xpath("//body//h1") if _element_ok(e.root))
    return _try(elements, samples, lambda v: len(v) <= 400, varies=True)


def _body_rule(samples: list[Sample]) -> Rule | None:
    first = samples[0].page
    scores: Counter[Any] = Counter()
    for p in first.xpath("//body//p"):
        parent = p.root.getparent()
        if parent is not None and _element_ok(parent):
            scores[parent] += len(" ".join((p.xpath("string()").get() or "").split()))
    elements = [element for element, _ in scores.most_common(5)]
    return _try(elements, samples, lambda v: len(v) >= 20, varies=True, mode="paragraphs")


def _keyword_elements(page: Selector, words: tuple[str, ...]) -> list[Any]:
    found: list[Any] = []
    for element in page.xpath("//body//*[@class or @id or @itemprop]"):
        root = element.root
        tokens = re.split(r"[^a-z0-9]+", " ".join(
            root.get(a) or "" for a in ("class", "id", "itemprop")).lower())
        if any(t.startswith(w) for t in tokens if t for w in words) and _element_ok(root):
            found.append(root)
    return found


def _field_rule(name: str, samples: list[Sample]) -> Rule | None:
    page = samples[0].page
    if name == "posted":
        times = [e.root for e in page.xpath("//body//time[@datetime]") if _element_ok(e.root)]
        rule = _try(times, samples, lambda v: any(c.isdigit() for c in v), attr="datetime")
        if rule is not None:
            return rule
    checks = {
        "salary_text": lambda v: any(c.isdigit() for c in v) and len(v) <= 120,
        "contact_text": lambda v: (any(c.isdigit() for c in v) or "@" in v) and len(v) <= 300,
        "posted": lambda v: any(c.isdigit() for c in v) and len(v) <= 60,
        "location": lambda v: 2 <= len(v) <= 120 and not v.isdigit(),
        "company": lambda v: 2 <= len(v) <= 120 and not v.isdigit(),
    }
    return _try(_keyword_elements(page, _KEYWORDS[name]), samples, checks[name])


# ---- the proposal ----------------------------------------------------------------------------------------------
@dataclass
class Proposal:
    config: dict[str, Any]
    found: list[tuple[str, str]] = field(default_factory=list)
    unfilled: list[str] = field(default_factory=list)
    alternatives: list[str] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def yaml_text(self, source_url: str) -> str:
        import yaml

        header = [
            f"# Proposed by `lurewatch sites new {source_url}` on {date.today().isoformat()}: review it, run",
            f"# `lurewatch sites check {self.config['name']} --fetch 5`, then set `enabled: true`.",
            *(f"# found: {what}: {detail}" for what, detail in self.found),
            *(f"# not filled: {name}" for name in self.unfilled),
            *(f"# alternative: {text}" for text in self.alternatives),
        ]
        body = yaml.safe_dump(self.config, sort_keys=False, allow_unicode=True, width=1000)
        # the site's URLs are in the comments: no line break or control character may end a comment early
        return "\n".join(re.sub(r"[\x00-\x1f\x7f\u2028\u2029]", " ", line) for line in header) + "\n" + body


def site_root(url: str) -> str:
    """``scheme://host[:port]`` of ``url``; :class:`OnboardError` if it is not an http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise OnboardError(f"not an http(s) URL: {url!r}")
    try:
        parts.port  # noqa: B018
    except ValueError as exc:
        raise OnboardError(f"not a valid URL: {url!r}") from exc
    return f"{parts.scheme}://{parts.netloc}"


def default_name(url: str) -> str:
    """``https://www.cv.lv/lv/`` -> ``cv-lv``."""
    host = (urlsplit(url).hostname or "site").lower().removeprefix("www.")
    return re.sub(r"[^a-z0-9]+", "-", host).strip("-") or "site"


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _fetch_parsed(fetcher: Fetcher, url: str, what: str, parse: Callable[[bytes, str], T]) -> T | None:
    """Fetch ``url`` and parse its (inflated) body; None when it cannot be fetched or parsed (noted in ``skipped``)."""
    page = fetcher.get(url, what)
    if page is None:
        return None
    try:
        return parse(inflate(page.body, fetcher.max_bytes), page.url)
    except EntryError as exc:
        fetcher.skipped.append((url, f"unreadable {what}: {exc}"))
        return None


def _read_sitemaps(fetcher: Fetcher, base: str, budget_floor: int) -> tuple[str | None, list[str], str]:
    """The first readable sitemap (robots.txt's, else /sitemap.xml): its URL, its ad-page URLs, a note."""
    candidates = list(dict.fromkeys([*(fetcher.robots.sitemaps if fetcher.robots else []), base + "/sitemap.xml"]))
    for sitemap_url in candidates[:2]:
        if fetcher.budget_left <= budget_floor:
            break
        doc = _fetch_parsed(fetcher, sitemap_url, "sitemap", parse_sitemap)
        if doc is None:
            continue
        if doc.kind == "urlset":
            return sitemap_url, doc.urls, f"{_path_of(sitemap_url)}: {len(doc.urls)} URLs"
        for child in doc.urls[:2]:
            if fetcher.budget_left <= budget_floor:
                break
            child_doc = _fetch_parsed(fetcher, child, "child sitemap", parse_sitemap)
            if child_doc is not None and child_doc.kind == "urlset" and child_doc.urls:
                return sitemap_url, child_doc.urls, (
                    f"{_path_of(sitemap_url)}: index of {len(doc.urls)} sitemaps; {_path_of(child)} has "
                    f"{len(child_doc.urls)} URLs")
    return None, [], "none found" + (" (robots.txt names none; /sitemap.xml not there)" if candidates else "")


def _feed_links(page: Selector, url: str, fetcher: Fetcher) -> list[str]:
    feeds: list[str] = []
    for link in page.xpath("//link[@href]"):
        if (link.attrib.get("type") or "").lower() in _FEED_TYPES:
            feeds.append(urljoin(url, link.attrib["href"].strip()))
    for _, href in page_links(page, url, fetcher):
        if _FEED_HREF.search(urlsplit(href).path):
            feeds.append(href)
    return [f for f in dict.fromkeys(feeds) if fetcher.on_site(f)]


def _read_feed(fetcher: Fetcher, feeds: list[str], budget_floor: int) -> tuple[str | None, list[str], str]:
    for feed_url in feeds[:2]:
        if fetcher.budget_left <= budget_floor:
            break
        entries = _fetch_parsed(fetcher, feed_url, "feed", parse_feed)
        if entries is not None:
            return feed_url, entries, f"{_path_of(feed_url)}: {len(entries)} entries"
    return None, [], "none found"


def _listing_candidates(page: Selector, url: str, fetcher: Fetcher) -> list[str]:
    scored: list[tuple[int, int, str]] = []
    for index, (anchor, link) in enumerate(page_links(page, url, fetcher)):
        if link == canonical_ad_url(url) or _FEED_HREF.search(urlsplit(link).path):
            continue
        text = (link + " " + " ".join((anchor.xpath("string()").get() or "").split())).lower()
        score = sum(word in text for word in _LISTING_WORDS)
        if score:
            scored.append((-score, index, link))
    return list(dict.fromkeys(link for _, _, link in sorted(scored)))


def propose(url: str, name: str, *, user_agent: str, max_pages: int, timeout_s: float, max_bytes: int,
            min_delay_s: float) -> Proposal:
    """Fetch a few pages of the board at ``url`` and propose a site config named ``name`` (see the module doc)."""
    base = site_root(url)
    start_url = canonical_ad_url(url if urlsplit(url).path else url + "/")
    fetcher = Fetcher(base, user_agent, max_pages, timeout_s, max_bytes, min_delay_s)
    try:
        return _propose(fetcher, base, start_url, name)
    finally:
        fetcher.close()


def _propose(fetcher: Fetcher, base: str, start_url: str, name: str) -> Proposal:
    found: list[tuple[str, str]] = []
    alternatives: list[str] = []
    fetcher.read_robots()
    assert fetcher.robots is not None
    delay = f", Crawl-delay {fetcher.delay_s:g} s" if fetcher.delay_s else ""
    found.append(("robots.txt", f"{fetcher.robots_status}{delay}; {len(list(fetcher.robots.sitemaps))} Sitemap: "
                                "line(s)"))
    if not fetcher.allowed(start_url):
        raise OnboardError(f"robots.txt of {fetcher.host} disallows {start_url} for our User-Agent: nothing fetched")
    start = fetcher.get(start_url, "start page")
    if start is None:
        reason = fetcher.skipped[-1][1] if fetcher.skipped else "no answer"
        raise OnboardError(f"cannot fetch {start_url}: {reason}")
    start_page = start.html()

    # listing: the start page, else the links of it that look like listings
    listing: Listing | None = None
    listing_page: Selector | None = None
    groups = link_groups(page_links(start_page, start.url, fetcher), start.url)
    if groups:
        listing, listing_page = Listing(start.url, groups[0]), start_page
    else:
        for candidate in _listing_candidates(start_page, start.url, fetcher)[:3]:
            if fetcher.budget_left <= AD_SAMPLES + 1:
                break
            page = fetcher.get(candidate, "listing candidate")
            if page is None:
                continue
            selector = page.html()
            groups = link_groups(page_links(selector, page.url, fetcher), page.url)
            if groups:
                listing, listing_page = Listing(page.url, groups[0]), selector
                break

    feed_url, feed_entries, feed_note = _read_feed(
        fetcher, _feed_links(start_page, start.url, fetcher) + (
            _feed_links(listing_page, listing.url, fetcher) if listing_page is not None and listing else []),
        AD_SAMPLES + 1)
    found.append(("feed", feed_note))
    sitemap_url, sitemap_urls, sitemap_note = _read_sitemaps(fetcher, base, AD_SAMPLES + 1)

    # which URLs are ads: the listing's repeated links, else the largest group of the sitemap or the feed
    if listing is not None:
        ad_urls = listing.group.urls
    else:
        pool: list[tuple[Selector | None, str]] = [
            (None, u) for u in (sitemap_urls or feed_entries) if fetcher.on_site(u)]
        pooled = link_groups(pool, None)
        ad_urls = pooled[0].urls if pooled else []
    if not ad_urls:
        raise OnboardError(
            f"found no repeated ad links on {start_url} (nor in a sitemap or feed): give the URL of a page that "
            "lists the ads (a search or category page); a board that shows its ads only after JavaScript runs needs a "
            "`render: browser` config written by hand")
    pattern = url_pattern(ad_urls)
    ad_re = re.compile(pattern.allow)

    if listing is not None and listing_page is not None:
        listing.detail_css = _detail_selector(listing_page, listing.group, ad_re, listing.url)
        found.append(("listing", f"{_path_of(listing.url)}: {len(listing.group.urls)} ad links like "
                                 f"{_path_of(listing.group.urls[0])} (selector {listing.detail_css or 'a[href]'})"))
        step = find_next(listing_page, listing.url, fetcher)
        if step is None:
            listing.next_note = "no next-page link found (rel=next, ?page=N, offset=N, /page/N)"
        else:
            listing.next_css, listing.next_attr, listing.next_url = step
            listing.next_note = _verify_next(fetcher, listing, ad_re)
        found.append(("pagination", listing.next_note))
    sitemap_ads = [u for u in sitemap_urls if ad_re.search(u)]
    found.append(("sitemap", sitemap_note + (f", {len(sitemap_ads)} of them ad pages" if sitemap_url else "")))
    feed_ads = [u for u in feed_entries if ad_re.search(u)]

    # ad pages
    samples = _sample_ads(fetcher, [*ad_urls, *sitemap_ads, *feed_ads])
    if not samples:
        raise OnboardError("could not fetch any ad page (robots.txt, errors or the page budget): see --pages")
    sources = Counter(s.source for s in samples if s.source)
    if sources:
        found.append(("ad pages", f"{len(samples)} sampled; JobPosting as " + ", ".join(
            f"{src} on {n} of {len(samples)}" for src, n in sources.items())))
    else:
        found.append(("ad pages", f"{len(samples)} sampled; no schema.org JobPosting (JSON-LD, microdata, RDFa)"))
    spider = "jsonld" if sources else "listing"

    fields: dict[str, dict[str, Any]] = {}
    unfilled: list[str] = []
    from_markup = [f for f in _FIELD_ORDER if all(s.markup.get(f) for s in samples)]
    if from_markup:
        found.append(("from the markup", ", ".join(from_markup)))
    partly = {f: sum(bool(s.markup.get(f)) for s in samples) for f in _FIELD_ORDER if f not in from_markup}
    partly = {f: n for f, n in partly.items() if n}
    if partly:
        found.append(("partly from the markup", ", ".join(f"{f} (on {n} of {len(samples)} pages)"
                                                          for f, n in partly.items())))
    for field_name in ("title", "body", "company", "location", "salary_text", "contact_text", "posted"):
        if field_name in from_markup:
            continue
        if field_name == "title":
            rule = _title_rule(samples)
        elif field_name == "body":
            rule = _body_rule(samples)
        else:
            rule = _field_rule(field_name, samples)
        if rule is not None:
            fields[field_name] = rule.model_dump(exclude_defaults=True)
            found.append((f"selector {field_name}", f"{rule.css}{' @' + rule.attr if rule.attr else ''} "
                                                    f"(one match on each of {len(samples)} pages)"))
        elif field_name in partly:
            continue  # the markup gives it where the page has it: nothing to add
        elif field_name in {"title", "body"} and spider == "listing":
            fields[field_name] = {"css": PLACEHOLDER, **({"mode": "paragraphs"} if field_name == "body" else {})}
            unfilled.append(f"{field_name} (required: the placeholder selector {PLACEHOLDER!r} must be replaced)")
        else:
            unfilled.append(field_name)
    if "page_language" not in from_markup:
        note = "the page's <html lang>" if all(s.page.xpath("/html/@lang").get() for s in samples) else None
        if note:
            found.append(("page_language", note + " (the spider's default)"))
        else:
            unfilled.append("page_language")
    if "country" not in from_markup:
        unfilled.append("country")
    if "external_id" not in from_markup:
        if pattern.ref:
            found.append(("external_id", f"from the URL: {pattern.ref}"))
        else:
            unfilled.append("external_id")

    config: dict[str, Any] = {"name": name, "enabled": False, "spider": spider}
    entry = _choose_entry(listing, sitemap_url, sitemap_ads, feed_url, feed_ads, alternatives)
    config["entry"] = entry
    config["base_url"] = base
    if entry == "sitemap":
        assert sitemap_url is not None
        config["start_paths"] = [_path_of(sitemap_url)]
    elif entry == "feed":
        assert feed_url is not None
        config["start_paths"] = [_path_of(feed_url)]
    else:
        assert listing is not None
        config["start_paths"] = [_path_of(listing.url)]
        section: dict[str, Any] = {"detail_link": {"css": listing.detail_css or "a[href]", "attr": "href"}}
        if listing.next_css:
            section["next_page"] = {"css": listing.next_css, "attr": listing.next_attr}
        section["max_pages"] = 500
        config["listing"] = section
    config["url_filter"] = {"allow": [pattern.allow]}
    config["fields"] = fields
    config["required"] = ["title", "body"]
    if pattern.ref:
        config["external_id_pattern"] = pattern.ref
    if any(s.source == "microdata" for s in samples) and all(
            len(s.page.css('[itemtype$="/JobPosting"]')) == 1 for s in samples):
        config["snapshot"] = {"css": '[itemtype$="/JobPosting"]'}
    SiteConfig.model_validate(config)  # the proposal is always a valid config
    return Proposal(config, found, unfilled, alternatives, list(fetcher.fetched), list(fetcher.skipped))


def _verify_next(fetcher: Fetcher, listing: Listing, ad_re: re.Pattern[str]) -> str:
    assert listing.next_url is not None and listing.next_css is not None
    what = f"{listing.next_css} -> {_path_of(listing.next_url)}"
    if fetcher.budget_left <= AD_SAMPLES:
        return f"{what} (not verified: page budget)"
    page = fetcher.get(listing.next_url, "next listing page")
    if page is None:
        reason = fetcher.skipped[-1][1] if fetcher.skipped else "not fetched"
        listing.next_css = None
        return f"{what}: not followed ({reason}); set listing.next_page by hand"
    selector = page.html()
    new = {u for _, u in page_links(selector, page.url, fetcher) if ad_re.search(u)} - set(listing.group.urls)
    following = selector.css(listing.next_css).xpath("@href").get()
    onward = canonical_ad_url(urljoin(page.url, following.strip())) if following else None
    if not new:
        listing.next_css = None
        return f"{what}: the next page shows no new ads; set listing.next_page by hand"
    if onward in {canonical_ad_url(listing.url), canonical_ad_url(page.url)}:
        listing.next_css = None
        return f"{what}: on the next page it leads back; set listing.next_page by hand"
    return f"{what} (verified: {len(new)} new ad links on that page)"


def _sample_ads(fetcher: Fetcher, urls: list[str]) -> list[Sample]:
    samples: list[Sample] = []
    for ad_url in dict.fromkeys(urls):
        if len(samples) >= AD_SAMPLES or fetcher.budget_left <= 0:
            break
        if not fetcher.allowed(ad_url):
            fetcher.skipped.append((ad_url, "robots.txt"))
            continue
        page = fetcher.get(ad_url, "ad page")
        if page is None:
            continue
        try:
            selector = page.html()
        except (ValueError, etree.LxmlError):
            continue
        found = structured_fields(selector, page.url)
        samples.append(Sample(page.url, selector, found.source, found.fields))
    return samples


def _choose_entry(listing: Listing | None, sitemap_url: str | None, sitemap_ads: list[str], feed_url: str | None,
                  feed_ads: list[str], alternatives: list[str]) -> str:
    """A sitemap that lists the ads, else the listing pages, else a feed (recent ads only)."""
    listed = len(listing.group.urls) if listing else 0
    choice = "listing" if listing is not None else ("feed" if feed_ads else "sitemap")
    if sitemap_url and len(sitemap_ads) >= max(MIN_GROUP, listed):
        choice = "sitemap"
    if sitemap_url and sitemap_ads and choice != "sitemap":
        alternatives.append(f"entry: sitemap from {_path_of(sitemap_url)} ({len(sitemap_ads)} ad URLs)")
    if listing is not None and choice != "listing":
        alternatives.append(f"entry: listing from {_path_of(listing.url)} (paginated: "
                            f"{'yes' if listing.next_css else 'no'})")
    if feed_url and feed_ads and choice != "feed":
        alternatives.append(f"entry: feed from {_path_of(feed_url)} ({len(feed_ads)} ad URLs; recent ads only, "
                            "never marks removals)")
    if choice == "feed" and not feed_url:
        choice = "sitemap"
    return choice
