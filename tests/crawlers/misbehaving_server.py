"""A configurable misbehaving web server on 127.0.0.1 for crawler robustness tests.

Each path maps to a :data:`Behaviour`: a function that writes the whole response (or none at all). Helpers
build the usual kinds - plain pages in any bytes and charset, slow or hanging responses, flaky 5xx, redirects
(loops too), endless or oversized bodies, gzip bombs, conditional responses with ETag/Last-Modified - and the
server records every request (path, headers, arrival time) and the peak number of requests in flight.
All sleeps end as soon as the server stops, so a hanging route never delays teardown.
"""

from __future__ import annotations

import contextlib
import gzip
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self

Behaviour = Callable[["Handler", "Site"], None]


@dataclass(frozen=True)
class Hit:
    path: str
    headers: dict[str, str]
    at: float  # time.monotonic() on arrival


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server: _Server

    def do_GET(self) -> None:
        site = self.server.site
        site.arrived(self)
        try:
            behaviour = site.routes.get(self.path) or site.routes.get(self.path.split("?", 1)[0])
            (behaviour or site.not_found)(self, site)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the crawler hung up (e.g. a page over its size limit): that is the point
        finally:
            site.left()

    def send(self, status: int, body: bytes, content_type: str | None = "text/html; charset=utf-8",
             headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: Site


@dataclass
class Site:
    """Serve ``routes`` on an ephemeral 127.0.0.1 port (use as a context manager)."""

    routes: dict[str, Behaviour] = field(default_factory=dict)
    host: str = "127.0.0.1"
    hits: list[Hit] = field(default_factory=list)
    max_in_flight: int = 0
    counters: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight = 0
        self.stopping = threading.Event()
        self._server = _Server((self.host, 0), Handler)
        self._server.site = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def arrived(self, handler: Handler) -> None:
        with self._lock:
            self.hits.append(Hit(handler.path, dict(handler.headers.items()), time.monotonic()))
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def left(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def count(self, key: str) -> int:
        """Increment and return a per-key counter (how often a flaky route was asked)."""
        with self._lock:
            self.counters[key] = self.counters.get(key, 0) + 1
            return self.counters[key]

    def sleep(self, seconds: float) -> None:
        self.stopping.wait(seconds)

    @staticmethod
    def not_found(handler: Handler, site: Site) -> None:
        handler.send(404, b"<html><body>not found</body></html>")

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def paths(self) -> list[str]:
        return [hit.path for hit in self.hits]

    def hits_for(self, path: str) -> list[Hit]:
        return [hit for hit in self.hits if hit.path == path]

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()


# ---- behaviours -----------------------------------------------------------------------------------------
def page(body: bytes | str, status: int = 200, content_type: str | None = "text/html; charset=utf-8",
         headers: Mapping[str, str] | None = None) -> Behaviour:
    """A fixed response; ``str`` bodies are sent as UTF-8, ``bytes`` exactly as given."""
    data = body.encode("utf-8") if isinstance(body, str) else body

    def respond(handler: Handler, site: Site) -> None:
        handler.send(status, data, content_type, headers)

    return respond


def text(body: str, content_type: str = "text/plain") -> Behaviour:
    return page(body, content_type=content_type)


def slow(seconds: float, then: Behaviour) -> Behaviour:
    """Wait ``seconds`` (longer than the crawler's timeout: a timeout) before behaving like ``then``."""

    def respond(handler: Handler, site: Site) -> None:
        site.sleep(seconds)
        if not site.stopping.is_set():
            then(handler, site)

    return respond


def flaky(failures: int, then: Behaviour, status: int = 503) -> Behaviour:
    """``status`` for the first ``failures`` requests of the path, then ``then`` (``failures < 0``: always)."""

    def respond(handler: Handler, site: Site) -> None:
        n = site.count("flaky:" + handler.path)
        if failures < 0 or n <= failures:
            handler.send(status, b"<html><body>Service Unavailable</body></html>")
        else:
            then(handler, site)

    return respond


def redirect(location: str, status: int = 302) -> Behaviour:
    def respond(handler: Handler, site: Site) -> None:
        handler.send(status, b"", None, {"Location": location})

    return respond


def endless_redirect(prefix: str) -> Behaviour:
    """``prefix?n=1`` -> ``prefix?n=2`` -> ... forever (a loop the duplicate filter cannot catch)."""

    def respond(handler: Handler, site: Site) -> None:
        n = int(handler.path.rsplit("=", 1)[-1]) if "=" in handler.path else 0
        handler.send(302, b"", None, {"Location": f"{prefix}?n={n + 1}"})

    return respond


def huge(size: int, *, declare_length: bool = True, chunk: bytes = b"<p>" + b"x" * 8189 + b"</p>") -> Behaviour:
    """An HTML page of ``size`` bytes, streamed; with ``declare_length=False`` the size is only known by
    reading it (no Content-Length, connection closes at the end)."""

    def respond(handler: Handler, site: Site) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        if declare_length:
            handler.send_header("Content-Length", str(size))
        handler.end_headers()
        sent = 0
        while sent < size and not site.stopping.is_set():
            part = chunk[: size - sent]
            handler.wfile.write(part)
            sent += len(part)

    return respond


def gzip_bomb(size: int) -> Behaviour:
    """A few kilobytes on the wire (``Content-Encoding: gzip``) that inflate to ``size`` bytes."""
    body = gzip.compress(b"<html><body>" + b" " * size + b"</body></html>", compresslevel=9)

    def respond(handler: Handler, site: Site) -> None:
        handler.send(200, body, "text/html; charset=utf-8", {"Content-Encoding": "gzip"})

    return respond


@dataclass
class Conditional:
    """A page that supports conditional requests: 304 if the client's validator still matches. Change
    ``body`` (and bump ``version``) to make it a new page; set ``etag``/``last_modified`` to ``False`` to send
    no such header."""

    body: str
    version: int = 1
    etag: bool = True
    last_modified: bool = True
    served_304: int = 0
    served_200: int = 0
    _modified: float = field(default_factory=lambda: 1_767_225_600.0)  # 2026-01-01

    def bump(self, body: str) -> None:
        self.body = body
        self.version += 1
        self._modified += 86_400

    def __call__(self, handler: Handler, site: Site) -> None:
        tag = f'"v{self.version}"'
        stamp = formatdate(self._modified, usegmt=True)
        if self.etag:  # RFC 9110: If-None-Match wins over If-Modified-Since
            fresh = handler.headers.get("If-None-Match") == tag
        else:
            fresh = self.last_modified and handler.headers.get("If-Modified-Since") == stamp
        headers = {}
        if self.etag:
            headers["ETag"] = tag
        if self.last_modified:
            headers["Last-Modified"] = stamp
        if fresh:
            self.served_304 += 1
            handler.send_response(304)
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            return
        self.served_200 += 1
        handler.send(200, self.body.encode("utf-8"), headers=headers)


def hang_up(handler: Handler, site: Site) -> None:
    """Close the connection without a response."""
    with contextlib.suppress(OSError):
        handler.connection.shutdown(2)
    handler.close_connection = True
