"""**jsjobs** - a job board that shows nothing without JavaScript (the shape of many modern boards).

Its listing and ad pages are empty shells (``<div id="app">Loading…</div>`` and a script); ``/static/app.js``
fetches the ads from a JSON API (``/api/jobs?page=N``, ``/api/job/<ref>``) and builds the page with
``textContent`` (never ``innerHTML``: ad text is attacker-controlled). A plain HTTP crawler sees no ads at all;
a browser sees the same ads as balticjobs (the fixture ads of balticjobs, newest first, 20 per page).

To show what a polite renderer must not do, every page also references a stylesheet, an image, a script on
another host and a "tracking" call to ``/api/private/…``, which robots.txt disallows. The server records every
request (path, User-Agent, Cookie header, monotonic time) in :attr:`JsJobs.requests`; shell pages set a cookie.

``python -m fixture_sites.jsjobs [--port 8704]`` serves it for a look in a browser.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar
from urllib.parse import unquote

from fixture_sites.server import (
    BALTICJOBS_PAGE_SIZE,
    Ad,
    Response,
    Site,
    _html_page,
    _not_found,
    _ok,
    _text,
    esc,
    load_ads,
    newest_first,
)

SOURCE_SITE = "balticjobs"

APP_JS = r"""
(function () {
  "use strict";
  var app = document.getElementById("app");
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }
  function done() { document.body.setAttribute("data-rendered", "1"); }
  function listing(page) {
    return fetch("/api/jobs?page=" + encodeURIComponent(page)).then(function (r) { return r.json(); })
      .then(function (data) {
        app.textContent = "";
        app.appendChild(el("h1", {}, "Jobs – page " + data.page + " of " + data.pages));
        var list = el("ul", {"class": "jobs"});
        data.jobs.forEach(function (job) {
          var li = el("li", {"class": "job"});
          li.appendChild(el("a", {"class": "job-link", "href": "/job/" + encodeURIComponent(job.ref)}, job.title));
          li.appendChild(document.createTextNode(" "));
          li.appendChild(el("span", {"class": "company"}, job.company || ""));
          li.appendChild(document.createTextNode(" "));
          li.appendChild(el("span", {"class": "city"}, job.city));
          list.appendChild(li);
        });
        app.appendChild(list);
        var nav = el("nav", {"class": "pager"});
        if (data.page < data.pages) {
          nav.appendChild(el("a", {"class": "next", "rel": "next", "href": "/jobs?page=" + (data.page + 1)}, "Next"));
        }
        app.appendChild(nav);
      });
  }
  function job(ref) {
    return fetch("/api/job/" + encodeURIComponent(ref)).then(function (r) { return r.json(); })
      .then(function (ad) {
        document.documentElement.setAttribute("lang", ad.lang);
        document.title = ad.title;
        app.textContent = "";
        var article = el("article", {"class": "job"});
        article.appendChild(el("h1", {"class": "job-title"}, ad.title));
        var meta = el("div", {"class": "job-meta"});
        if (ad.company) { meta.appendChild(el("span", {"class": "company"}, ad.company)); }
        meta.appendChild(el("span", {"class": "city"}, ad.city));
        meta.appendChild(el("time", {"datetime": ad.posted}, ad.posted));
        article.appendChild(meta);
        var description = el("div", {"class": "job-description"});
        ad.paragraphs.forEach(function (p) { description.appendChild(el("p", {}, p)); });
        article.appendChild(description);
        if (ad.contact) { article.appendChild(el("div", {"class": "job-contact"}, ad.contact)); }
        app.appendChild(article);
      });
  }
  fetch("/api/private/track?view=" + encodeURIComponent(location.pathname)).catch(function () {});
  var view = app.getAttribute("data-view");
  var work = view === "listing" ? listing(app.getAttribute("data-page")) : job(app.getAttribute("data-ref"));
  work.then(done, function () { app.textContent = "Could not load the jobs."; done(); });
})();
"""


@dataclass
class JsJobs(Site):
    """The JavaScript-only board; ``limit`` serves only the newest ``limit`` balticjobs ads."""

    name: ClassVar[str] = "jsjobs"
    limit: int | None = None
    offsite_script: str = ""
    requests: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        ads = newest_first([a for a in self.ads if a["site"] == SOURCE_SITE])
        self.ads = ads[: self.limit] if self.limit is not None else ads
        self.by_ref = {a["ref"]: a for a in self.ads}

    def routes(self) -> dict[str, Callable[[dict[str, list[str]]], Response]]:
        return {
            "/": self.home,
            "/robots.txt": self.robots,
            "/jobs": self.listing,
            "/static/app.js": lambda q: _text(APP_JS, "application/javascript; charset=utf-8"),
            "/static/app.css": lambda q: _text("body { font-family: sans-serif; }", "text/css; charset=utf-8"),
            "/static/logo.png": lambda q: Response(200, b"\x89PNG\r\n\x1a\n", "image/png"),
            "/api/jobs": self.api_listing,
        }

    def home(self, query: dict[str, list[str]]) -> Response:
        return _ok(_html_page("JsJobs", '<h1>JsJobs</h1><p><a href="/jobs?page=1">All jobs</a></p>'))

    def robots(self, query: dict[str, list[str]]) -> Response:
        return _text("User-agent: *\nDisallow: /admin\nDisallow: /api/private\n", "text/plain")

    def shell(self, title: str, app_attrs: str) -> Response:
        head = '<link rel="stylesheet" href="/static/app.css">\n'
        scripts = '<script src="/static/app.js"></script>'
        if self.offsite_script:
            scripts = f'<script src="{esc(self.offsite_script)}"></script>\n{scripts}'
        content = (
            '<header><img class="logo" src="/static/logo.png" alt="JsJobs"></header>\n'
            f'<main><div id="app" {app_attrs}><p class="loading">Loading…</p></div></main>\n'
            "<noscript>This board needs JavaScript.</noscript>\n"
            f"{scripts}"
        )
        return _ok(_html_page(title, content, head=head))

    def listing(self, query: dict[str, list[str]]) -> Response:
        paged = self._page(query, BALTICJOBS_PAGE_SIZE)
        if paged is None:
            return _not_found()
        return self.shell(f"Jobs – page {paged[0]}", f'data-view="listing" data-page="{paged[0]}"')

    def api_listing(self, query: dict[str, list[str]]) -> Response:
        paged = self._page(query, BALTICJOBS_PAGE_SIZE)
        if paged is None:
            return _not_found()
        page, pages, ads = paged
        jobs = [{"ref": a["ref"], "title": a["title"], "company": a.get("company"), "city": a["city"]} for a in ads]
        return _text(json.dumps({"page": page, "pages": pages, "jobs": jobs}, ensure_ascii=False), "application/json")

    def dynamic(self, path: str) -> Response:
        ad = self._ref_from(path, "/job/")
        if ad is not None:
            return self.shell("JsJobs", f'data-view="job" data-ref="{esc(ad["ref"])}"')
        ad = self._ref_from(unquote(path), "/api/job/")
        if ad is not None:
            payload = {
                "ref": ad["ref"], "title": ad["title"], "company": ad.get("company"), "city": ad["city"],
                "posted": ad["posted"], "lang": ad["lang"], "paragraphs": ad["body"].split("\n\n"),
                "contact": ad.get("contact"),
            }
            return _text(json.dumps(payload, ensure_ascii=False), "application/json")
        return _not_found()


def _handler(site: JsJobs) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        server_version = "jsjobs/1.0"
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:
            with lock:
                site.requests.append({
                    "path": self.path,
                    "user_agent": self.headers.get("User-Agent", ""),
                    "cookie": self.headers.get("Cookie", ""),
                    "at": f"{time.monotonic():.6f}",
                })
            try:
                response = site.handle(self.path)
            except Exception:  # pragma: no cover - defensive: never leak a traceback to the client
                response = Response(500, b"Internal Server Error", "text/plain; charset=utf-8")
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            if response.content_type.startswith("text/html"):
                self.send_header("Set-Cookie", "session=jsjobs-visitor; Path=/")
            self.end_headers()
            self.wfile.write(response.body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


class JsJobsServer:
    """Serves :class:`JsJobs` on 127.0.0.1 (ephemeral port by default) in a daemon thread."""

    def __init__(self, ads: list[Ad] | None = None, *, limit: int | None = None, host: str = "127.0.0.1",
                 port: int = 0, offsite_script: str = "") -> None:
        self.site = JsJobs(ads if ads is not None else load_ads(), limit=limit, offsite_script=offsite_script)
        self.host, self.port = host, port
        self.base_url = ""
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> JsJobsServer:
        server = ThreadingHTTPServer((self.host, self.port), _handler(self.site))
        server.daemon_threads = True
        self._server = server
        self.base_url = self.site.base_url = f"http://{self.host}:{server.server_address[1]}"
        self._thread = threading.Thread(target=server.serve_forever, name="fixture-jsjobs", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> JsJobsServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the JavaScript-only fixture board until interrupted.")
    parser.add_argument("--port", type=int, default=8704)
    parser.add_argument("--limit", type=int, default=None, help="serve only the newest N ads")
    args = parser.parse_args(argv)
    with JsJobsServer(limit=args.limit, port=args.port) as server:
        print(f"jsjobs        {server.base_url}/", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
