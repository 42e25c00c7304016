"""Running the app with uvicorn, on a socket we bind ourselves so port 0 (any free port) works and the real
address is known before the first request."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

import uvicorn

from review_app.app import create_app
from review_app.logscrub import install_access_log_scrubber
from review_app.settings import ReviewSettings


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def make_server(
    settings: ReviewSettings, *, log_level: str = "warning", forwarded_allow_ips: str | None = None
) -> uvicorn.Server:
    """The app under uvicorn. Proxy headers (X-Forwarded-For/-Proto) are honoured only from the addresses in
    ``forwarded_allow_ips`` (default: the ``trusted_proxies`` setting, empty): without a configured proxy, the
    peer address is the client address, so a client cannot pick its own IP for the login rate limit."""
    trusted = (settings.trusted_proxies if forwarded_allow_ips is None else forwarded_allow_ips).strip()
    config = uvicorn.Config(
        create_app(settings),
        log_level=log_level,
        access_log=log_level in ("info", "debug"),
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
        server_header=False,
    )
    install_access_log_scrubber()
    return uvicorn.Server(config)


def serve(
    settings: ReviewSettings,
    host: str,
    port: int,
    *,
    log_level: str = "warning",
    on_ready: Callable[[str], None] | None = None,
    forwarded_allow_ips: str | None = None,
) -> None:
    """Serve until interrupted. ``on_ready`` gets the base URL once the socket listens."""
    sock = bind(host, port)
    actual = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    if on_ready:
        on_ready(f"http://{shown}:{actual}")
    make_server(settings, log_level=log_level, forwarded_allow_ips=forwarded_allow_ips).run(sockets=[sock])


class ThreadedServer:
    """The app on 127.0.0.1 in a background thread (tests, screenshots)."""

    def __init__(self, settings: ReviewSettings, host: str = "127.0.0.1") -> None:
        self.sock = bind(host, 0)
        self.url = f"http://{host}:{self.sock.getsockname()[1]}"
        self.server = make_server(settings)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the review app failed to start")
            threading.Event().wait(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()
