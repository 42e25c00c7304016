"""A tiny, fully controlled job site on 127.0.0.1 for crawler-behaviour tests (robots, offsite, crash).

Unlike ``fixture_sites`` it records every request it receives, so tests can assert what was *not* fetched.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Self

import yaml


@dataclass
class Hit:
    path: str
    user_agent: str


@dataclass
class MiniSite:
    """Serve ``pages`` (path -> (status, html)) and record hits; ``delay_s`` slows every response."""

    pages: dict[str, tuple[int, str]] = field(default_factory=dict)
    delay_s: float = 0.0
    hits: list[Hit] = field(default_factory=list)
    host: str = "127.0.0.1"

    def __post_init__(self) -> None:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.hits.append(Hit(self.path, self.headers.get("User-Agent", "")))
                if site.delay_s:
                    time.sleep(site.delay_s)
                status, text = site.pages.get(self.path, (404, "<html><body>not found</body></html>"))
                body = text.encode("utf-8")
                self.send_response(status)
                ctype = "text/plain" if self.path == "/robots.txt" else "text/html; charset=utf-8"
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def paths(self) -> list[str]:
        return [hit.path for hit in self.hits]

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()


def ad_page(ref: str, title: str, body: str | None, contact: str | None = None) -> str:
    text = "" if body is None else f'<div class="text"><p>{body}</p></div>'
    contact_html = "" if contact is None else f'<div class="contact">{contact}</div>'
    return (
        f'<html lang="en"><head><title>{title}</title></head><body>'
        f'<h1 class="title">{title}</h1>{text}{contact_html}<span class="city">Riga</span></body></html>'
    )


def listing_page(links: list[str], next_href: str | None) -> str:
    items = "".join(f'<li><a class="ad" href="{href}">ad</a></li>' for href in links)
    nxt = f'<a class="next" href="{next_href}">next</a>' if next_href else ""
    return f'<html lang="en"><body><ul class="ads">{items}</ul>{nxt}</body></html>'


MINI_CONFIG = {
    "name": "minisite",
    "spider": "listing",
    "base_url": "https://minisite.example",
    "start_paths": ["/list?page=1"],
    "listing": {
        "item": {"css": "ul.ads li"},
        "detail_link": {"css": "a.ad", "attr": "href"},
        "next_page": {"css": "a.next", "attr": "href"},
    },
    "fields": {
        "title": {"css": "h1.title"},
        "body": {"css": "div.text", "mode": "paragraphs"},
        "contact_text": {"css": "div.contact"},
        "location": {"css": "span.city"},
    },
    "external_id_pattern": "/ad/(?P<ref>[^/?#]+)",
}


def write_config(directory: Path, config: Mapping[str, object] | None = None) -> Path:
    """Write the mini site's config (or ``config``) as ``<dir>/<name>.yaml`` and return the directory."""
    data = dict(config or MINI_CONFIG)
    directory.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(data, allow_unicode=True)
    (directory / f"{data['name']}.yaml").write_text(text, encoding="utf-8")
    return directory
