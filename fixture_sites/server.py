"""Local HTTP servers for the three bundled fixture sites (standard library only).

* **balticjobs** – a job board with paginated listings, schema.org ``JobPosting`` JSON-LD and a sitemap;
* **skelbimai** – a classifieds board whose ad pages use legacy encodings (windows-1251 / windows-1257);
* **darbas-forum** – a message board with ads inline on offset-paginated pages, permalinks and RSS.

Every ad field is HTML-escaped on output (JSON-LD additionally escapes ``<``, ``>`` and ``&``), so the
attacker-style strings in the dataset are shown as text and never executed.

Run ``python -m fixture_sites.server [--port-base 8701]`` to browse the sites manually.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import html
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

DEFAULT_ADS_PATH = Path(__file__).resolve().parent / "data" / "ads.jsonl"
SITE_NAMES: tuple[str, ...] = ("balticjobs", "skelbimai", "darbas-forum")

BALTICJOBS_PAGE_SIZE = 20
SKELBIMAI_PAGE_SIZE = 15
FORUM_PAGE_SIZE = 25

#: Encoding of a skelbimai ad page by ad language: (Python codec, charset label sent to the client).
SKELBIMAI_ENCODINGS: dict[str, tuple[str, str]] = {
    "ru": ("cp1251", "windows-1251"),
    "lv": ("cp1257", "windows-1257"),
    "lt": ("cp1257", "windows-1257"),
    "et": ("cp1257", "windows-1257"),
    "pl": ("cp1257", "windows-1257"),
    "en": ("utf-8", "utf-8"),
    "fi": ("utf-8", "utf-8"),
}

_EMPLOYMENT_TYPES: dict[str, str] = {"agriculture": "TEMPORARY", "au-pair": "TEMPORARY"}
_NICKNAMES: tuple[str, ...] = (
    "darbas_lt",
    "jurgis77",
    "rekrutere",
    "ilze_r",
    "kaimynas",
    "tomas.k",
    "darba_piedavajumi",
    "aurelija",
    "marko_fi",
    "sveta_spb",
    "kasia_praca",
    "andrus",
    "baltic_hr",
    "vakancijos24",
)

Ad = dict[str, Any]


def load_ads(path: Path | None = None) -> list[Ad]:
    """Load the fixture ads (one JSON object per line) from ``path`` or the bundled ``ads.jsonl``."""
    path = path or DEFAULT_ADS_PATH
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def newest_first(ads: list[Ad]) -> list[Ad]:
    """Listing order used by every site: newest ``posted`` first, ties broken by ``ref`` (descending)."""
    return sorted(ads, key=lambda a: (a["posted"], a["ref"]), reverse=True)


def esc(value: object) -> str:
    """HTML-escape any value (``None`` becomes the empty string)."""
    return "" if value is None else html.escape(str(value), quote=True)


def paragraphs_html(body: str) -> str:
    return "".join(f"<p>{esc(p)}</p>" for p in body.split("\n\n"))


def json_for_script(obj: object) -> str:
    """JSON safe to embed in a ``<script>`` element: ``<``, ``>`` and ``&`` become ``\\u003c`` etc."""
    text = json.dumps(obj, ensure_ascii=False, indent=2)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def skelbimai_price(salary: Ad | None) -> str:
    """Salary as shown on skelbimai, e.g. ``1200–1500 EUR/mėn.``; empty string when unknown."""
    if not salary:
        return ""
    unit = {"month": "mėn.", "hour": "val.", "week": "sav."}[salary["period"]]
    lo = _number(salary["min"])
    amount = f"nuo {lo}" if salary.get("max") is None else f"{lo}–{_number(salary['max'])}"
    return f"{amount} {salary['currency']}/{unit}"


def nickname(ref: str) -> str:
    digest = hashlib.sha256(ref.encode("ascii")).digest()
    return _NICKNAMES[digest[0] % len(_NICKNAMES)]


def job_posting(ad: Ad) -> dict[str, Any]:
    """The schema.org ``JobPosting`` object embedded on a balticjobs ad page."""
    description = paragraphs_html(ad["body"])
    if ad.get("contact"):
        description += f"<p>{esc(ad['contact'])}</p>"
    posting: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "JobPosting",
        "title": ad["title"],
        "description": description,
        "datePosted": ad["posted"],
        "identifier": {"@type": "PropertyValue", "value": ad["ref"]},
        "inLanguage": ad["lang"],
        "employmentType": _EMPLOYMENT_TYPES.get(ad["category"], "FULL_TIME"),
        "jobLocation": {
            "@type": "Place",
            "address": {
                "@type": "PostalAddress",
                "addressLocality": ad["city"],
                "addressCountry": ad["country"],
            },
        },
    }
    if ad.get("company"):
        posting["hiringOrganization"] = {"@type": "Organization", "name": ad["company"]}
    salary = ad.get("salary")
    if salary:
        value: dict[str, Any] = {
            "@type": "QuantitativeValue",
            "minValue": salary["min"],
            "unitText": salary["period"].upper(),
        }
        if salary.get("max") is not None:
            value["maxValue"] = salary["max"]
        posting["baseSalary"] = {"@type": "MonetaryAmount", "currency": salary["currency"], "value": value}
    return posting


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"


def _html_page(title: str, content: str, lang: str = "en", head: str = "", charset: str = "utf-8") -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="{esc(lang)}">\n<head>\n<meta charset="{charset}">\n'
        f"<title>{esc(title)}</title>\n{head}</head>\n<body>\n{content}\n</body>\n</html>\n"
    )


def _ok(page: str) -> Response:
    return Response(200, page.encode("utf-8"))


def _text(text: str, content_type: str) -> Response:
    return Response(200, text.encode("utf-8"), content_type)


def _not_found() -> Response:
    return Response(404, _html_page("404 Not Found", "<h1>404 Not Found</h1>").encode("utf-8"))


def _int_param(query: dict[str, list[str]], name: str, default: int) -> int | None:
    values = query.get(name)
    if not values:
        return default
    try:
        return int(values[0])
    except ValueError:
        return None


@dataclass
class Site:
    """One fixture site: routes a request path to a :class:`Response`."""

    name: ClassVar[str] = ""
    ads: list[Ad]
    base_url: str = ""
    by_ref: dict[str, Ad] = field(init=False)

    def __post_init__(self) -> None:
        self.ads = newest_first([a for a in self.ads if a["site"] == self.name])
        self.by_ref = {a["ref"]: a for a in self.ads}

    def routes(self) -> dict[str, Callable[[dict[str, list[str]]], Response]]:
        return {}

    def handle(self, target: str) -> Response:
        parts = urlsplit(target)
        query = parse_qs(parts.query)
        route = self.routes().get(parts.path)
        if route is not None:
            return route(query)
        return self.dynamic(parts.path)

    def dynamic(self, path: str) -> Response:
        return _not_found()

    def _ref_from(self, path: str, prefix: str, suffix: str = "") -> Ad | None:
        if not (path.startswith(prefix) and path.endswith(suffix)):
            return None
        ref = path[len(prefix) : len(path) - len(suffix)]
        return self.by_ref.get(ref)

    def _page(self, query: dict[str, list[str]], size: int) -> tuple[int, int, list[Ad]] | None:
        page = _int_param(query, "page", 1)
        pages = max(1, math.ceil(len(self.ads) / size))
        if page is None or page < 1 or page > pages:
            return None
        return page, pages, self.ads[(page - 1) * size : page * size]


class BalticJobs(Site):
    name: ClassVar[str] = "balticjobs"

    def routes(self) -> dict[str, Callable[[dict[str, list[str]]], Response]]:
        return {
            "/": self.home,
            "/robots.txt": self.robots,
            "/jobs": self.listing,
            "/sitemap.xml": self.sitemap,
        }

    def home(self, query: dict[str, list[str]]) -> Response:
        content = (
            '<header><h1 class="site-title">BalticJobs</h1></header>\n'
            "<p>Job offers from Latvia, Lithuania, Estonia, Finland, Poland and beyond.</p>\n"
            '<p><a href="/jobs?page=1">Browse all jobs</a></p>'
        )
        return _ok(_html_page("BalticJobs – job offers in the Baltic Sea region", content))

    def robots(self, query: dict[str, list[str]]) -> Response:
        return _text(f"User-agent: *\nDisallow: /admin\nSitemap: {self.base_url}/sitemap.xml\n", "text/plain")

    def listing(self, query: dict[str, list[str]]) -> Response:
        paged = self._page(query, BALTICJOBS_PAGE_SIZE)
        if paged is None:
            return _not_found()
        page, pages, ads = paged
        items = "\n".join(
            f'<li class="job"><a class="job-link" href="/job/{esc(a["ref"])}">{esc(a["title"])}</a> '
            f'<span class="company">{esc(a["company"])}</span> '
            f'<span class="city">{esc(a["city"])}</span></li>'
            for a in ads
        )
        nav = f'<a class="next" rel="next" href="/jobs?page={page + 1}">Next</a>' if page < pages else ""
        content = (
            f'<h1>Jobs – page {page} of {pages}</h1>\n<ul class="jobs">\n{items}\n</ul>\n'
            f'<nav class="pager">{nav}</nav>'
        )
        return _ok(_html_page(f"Jobs – page {page}", content))

    def dynamic(self, path: str) -> Response:
        ad = self._ref_from(path, "/job/")
        if ad is None:
            return _not_found()
        head = f'<script type="application/ld+json">\n{json_for_script(job_posting(ad))}\n</script>\n'
        meta = [f'<span class="city">{esc(ad["city"])}</span>']
        if ad.get("company"):
            meta.insert(0, f'<span class="company">{esc(ad["company"])}</span>')
        contact = f'<div class="job-contact">{esc(ad["contact"])}</div>' if ad.get("contact") else ""
        content = (
            f'<h1 class="job-title">{esc(ad["title"])}</h1>\n<div class="job-meta">{" ".join(meta)} '
            f'<time datetime="{esc(ad["posted"])}">{esc(ad["posted"])}</time></div>\n'
            f'<div class="job-description">{paragraphs_html(ad["body"])}</div>\n{contact}\n'
            '<p><a href="/jobs?page=1">Back to all jobs</a></p>'
        )
        return _ok(_html_page(ad["title"], content, lang=ad["lang"], head=head))

    def sitemap(self, query: dict[str, list[str]]) -> Response:
        urls = "\n".join(
            f"  <url><loc>{esc(self.base_url)}/job/{esc(a['ref'])}</loc>"
            f"<lastmod>{esc(a['posted'])}</lastmod></url>"
            for a in self.ads
        )
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{urls}\n</urlset>\n'
        )
        return _text(xml, "application/xml; charset=utf-8")


class Skelbimai(Site):
    name: ClassVar[str] = "skelbimai"

    def routes(self) -> dict[str, Callable[[dict[str, list[str]]], Response]]:
        return {"/": self.home, "/robots.txt": self.robots, "/skelbimai/darbas": self.listing}

    def home(self, query: dict[str, list[str]]) -> Response:
        content = (
            '<h1 class="site-title">Skelbimai</h1>\n'
            '<ul class="categories"><li><a href="/skelbimai/darbas?page=1">Darbas</a></li></ul>'
        )
        return _ok(_html_page("Skelbimai – nemokami skelbimai", content, lang="lt"))

    def robots(self, query: dict[str, list[str]]) -> Response:
        return _text("User-agent: *\nAllow: /\n", "text/plain")

    def listing(self, query: dict[str, list[str]]) -> Response:
        paged = self._page(query, SKELBIMAI_PAGE_SIZE)
        if paged is None:
            return _not_found()
        page, pages, ads = paged
        cards = "\n".join(
            f'<div class="ad-card"><a class="ad-title" href="/skelbimas/{esc(a["ref"])}.html">'
            f'{esc(a["title"])}</a><span class="ad-city">{esc(a["city"])}</span></div>'
            for a in ads
        )
        nav = ""
        if page < pages:
            nav = (
                '<ul class="pagination"><li class="next">'
                f'<a href="/skelbimai/darbas?page={page + 1}">»</a></li></ul>'
            )
        content = f'<h1>Darbas – {page} psl.</h1>\n<div class="listing">\n{cards}\n</div>\n{nav}'
        return _ok(_html_page(f"Darbo skelbimai – {page} psl.", content, lang="lt"))

    def dynamic(self, path: str) -> Response:
        ad = self._ref_from(path, "/skelbimas/", ".html")
        if ad is None:
            return _not_found()
        codec, charset = SKELBIMAI_ENCODINGS.get(ad["lang"], ("utf-8", "utf-8"))
        company = f'<span class="ad-company">{esc(ad["company"])}</span>\n' if ad.get("company") else ""
        content = (
            f'<h1 class="ad-title">{esc(ad["title"])}</h1>\n<div class="ad-meta">'
            f'<span class="ad-city">{esc(ad["city"])}</span> '
            f'<span class="ad-price">{esc(skelbimai_price(ad.get("salary")))}</span> '
            f'<time class="ad-date" datetime="{esc(ad["posted"])}">{esc(ad["posted"])}</time></div>\n'
            f"{company}"
            f'<div class="ad-text">{paragraphs_html(ad["body"])}</div>\n'
            f'<div class="ad-contact">{esc(ad["contact"])}</div>'
        )
        page = _html_page(ad["title"], content, lang=ad["lang"], charset=charset)
        return Response(200, page.encode(codec, errors="xmlcharrefreplace"), f"text/html; charset={charset}")


class DarbasForum(Site):
    name: ClassVar[str] = "darbas-forum"

    def routes(self) -> dict[str, Callable[[dict[str, list[str]]], Response]]:
        return {
            "/": self.home,
            "/robots.txt": self.robots,
            "/board": self.board,
            "/feed.rss": self.feed,
        }

    def home(self, query: dict[str, list[str]]) -> Response:
        content = (
            '<h1 class="site-title">Darbas forumas</h1>\n<p><a href="/board?offset=0">Skelbimų lenta</a> · '
            '<a href="/feed.rss">RSS</a></p>'
        )
        return _ok(_html_page("Darbas forumas", content, lang="lt"))

    def robots(self, query: dict[str, list[str]]) -> Response:
        return _text("User-agent: *\nAllow: /\n", "text/plain")

    @staticmethod
    def article(ad: Ad) -> str:
        day = dt.date.fromisoformat(ad["posted"]).strftime("%d.%m.%Y")
        return (
            f'<article class="post" id="post-{esc(ad["ref"])}"><h2 class="post-title">{esc(ad["title"])}</h2>'
            f'<div class="post-meta"><span class="post-author">{esc(nickname(ad["ref"]))}</span> '
            f'<time datetime="{esc(ad["posted"])}">{day}</time> '
            f'<span class="post-city">{esc(ad["city"])}</span>'
            f'</div><div class="post-body">{paragraphs_html(ad["body"])}</div>'
            f'<div class="post-contact">{esc(ad["contact"])}</div>'
            f'<a class="permalink" href="/board/post/{esc(ad["ref"])}">#</a></article>'
        )

    def board(self, query: dict[str, list[str]]) -> Response:
        offset = _int_param(query, "offset", 0)
        if offset is None or offset < 0 or (offset >= len(self.ads) and offset != 0):
            return _not_found()
        posts = self.ads[offset : offset + FORUM_PAGE_SIZE]
        articles = "\n".join(self.article(a) for a in posts)
        older = offset + FORUM_PAGE_SIZE
        nav = f'<a class="older" href="/board?offset={older}">Older</a>' if older < len(self.ads) else ""
        content = f'<h1>Darbo skelbimai</h1>\n<div class="board">\n{articles}\n</div>\n<nav>{nav}</nav>'
        return _ok(_html_page("Darbas forumas – skelbimai", content, lang="lt"))

    def dynamic(self, path: str) -> Response:
        ad = self._ref_from(path, "/board/post/")
        if ad is None:
            return _not_found()
        content = f'{self.article(ad)}\n<p><a href="/board?offset=0">Atgal</a></p>'
        return _ok(_html_page(ad["title"], content, lang=ad["lang"]))

    def feed(self, query: dict[str, list[str]]) -> Response:
        items = []
        for ad in self.ads:
            posted = dt.datetime.fromisoformat(ad["posted"]).replace(hour=9, tzinfo=dt.UTC)
            link = f"{self.base_url}/board/post/{ad['ref']}"
            items.append(
                f"<item><title>{esc(ad['title'])}</title><link>{esc(link)}</link>"
                f'<guid isPermaLink="true">{esc(link)}</guid><pubDate>{format_datetime(posted)}</pubDate>'
                f"<description>{esc(ad['body'])}</description></item>"
            )
        rss = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            f"<title>Darbas forumas</title><link>{esc(self.base_url)}/board</link>"
            "<description>Darbo skelbimai</description>\n" + "\n".join(items) + "\n</channel></rss>\n"
        )
        return _text(rss, "application/rss+xml; charset=utf-8")


SITE_CLASSES: dict[str, type[Site]] = {cls.name: cls for cls in (BalticJobs, Skelbimai, DarbasForum)}


def _make_handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = f"{site.name}/1.0"
        protocol_version = "HTTP/1.0"

        def _respond(self, with_body: bool) -> None:
            try:
                response = site.handle(self.path)
            except Exception:  # pragma: no cover - defensive: never leak a traceback to the client
                response = Response(500, b"Internal Server Error", "text/plain; charset=utf-8")
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if with_body:
                self.wfile.write(response.body)

        def do_GET(self) -> None:
            self._respond(with_body=True)

        def do_HEAD(self) -> None:
            self._respond(with_body=False)

        def log_message(self, format: str, *args: Any) -> None:  # quiet: no per-request stderr lines
            return

    return Handler


class FixtureSites:
    """Serves the three bundled fixture sites on 127.0.0.1, one ThreadingHTTPServer per site on an
    ephemeral port, in daemon threads."""

    def __init__(
        self, ads_path: Path | None = None, host: str = "127.0.0.1", ports: dict[str, int] | None = None
    ) -> None:
        self.ads: list[Ad] = load_ads(ads_path)
        self.host = host
        self.ports: dict[str, int] = dict(ports or {})
        self.base_urls: dict[str, str] = {}
        self.sites: dict[str, Site] = {name: cls(self.ads) for name, cls in SITE_CLASSES.items()}
        self._servers: list[ThreadingHTTPServer] = []
        self._threads: list[threading.Thread] = []

    def start(self) -> FixtureSites:
        if self._servers:
            return self
        try:
            for name, site in self.sites.items():
                server = ThreadingHTTPServer((self.host, self.ports.get(name, 0)), _make_handler(site))
                server.daemon_threads = True
                self._servers.append(server)
                port = server.server_address[1]
                site.base_url = f"http://{self.host}:{port}"
                self.base_urls[name] = site.base_url
                thread = threading.Thread(target=server.serve_forever, name=f"fixture-{name}", daemon=True)
                thread.start()
                self._threads.append(thread)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> FixtureSites:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the bundled fixture sites until interrupted.")
    parser.add_argument("--port-base", type=int, default=8701, help="first port (default: %(default)s)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--ads", type=Path, default=None, help="ads.jsonl to serve (default: bundled)")
    args = parser.parse_args(argv)
    ports = {name: args.port_base + i for i, name in enumerate(SITE_NAMES)}
    with FixtureSites(args.ads, host=args.host, ports=ports) as sites:
        for name, url in sites.base_urls.items():
            print(f"{name:13s} {url}/", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
