"""Helpers for the review app tests: a fixture warehouse built by the real flow, the app on a real 127.0.0.1
socket (in a thread or a separate process), an HTTP client that logs in like a browser, HTML checks."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
from suite_support import app_answers, build_flow_warehouse
from suite_support import query as query  # re-exported for the review app tests

from review_app.authdb import initialise
from review_app.server import ThreadedServer
from review_app.settings import ReviewSettings
from review_app.users import create_user
from warehouse.pseudonymise import generate_key_file

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ANALYST = ("alice", "alice-password-1")
ADMIN = ("root", "root-password-12")
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
AD_LINK = re.compile(r'data-href="/ads/(\d+)')
FLASH = re.compile(r'class="flash flash-(\w+)"[^>]*>([^<]*)<')


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass(frozen=True)
class Template:
    db: Path
    site_ports: dict[str, int]  # where the fixture sites were served: ad URLs contain these ports


def build_template(folder: Path) -> Template:
    """The real crawl_and_score flow over the fixture sites; a first model trained on the fixture labels only
    (an empty EMSCAD file keeps this to about a minute), model files inside ``folder``. The sites are served on
    remembered ports so a later crawl of (extended) fixture sites on the same ports sees the same ad URLs."""
    from fixture_sites import FixtureSites
    from fixture_sites.server import SITE_NAMES

    ports = dict(zip(SITE_NAMES, free_ports(len(SITE_NAMES)), strict=True))
    with FixtureSites(ports=ports) as sites:
        db = build_flow_warehouse(folder, sites.base_urls, name="template.duckdb")
    return Template(db, ports)


# Real argon2id, with costs low enough that the many logins of the suite stay fast on two cores.
CHEAP_HASHING = {"password_time_cost": 1, "password_memory_kib": 8192, "password_parallelism": 1}
CHEAP_HASHING_ENV = {f"LUREWATCH_REVIEW_{key.upper()}": str(value) for key, value in CHEAP_HASHING.items()}


def make_settings(db: Path, **overrides: Any) -> ReviewSettings:
    values: dict[str, Any] = {"db_path": db, "cookie_secure": False, **CHEAP_HASHING, **overrides}
    return ReviewSettings(**values)


def prepare(template: Path, folder: Path, **overrides: Any) -> ReviewSettings:
    """A private copy of the template warehouse with an account store holding ANALYST and ADMIN, and a
    pseudonymisation key file of its own (unless ``pseudonym_key_file`` is given)."""
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "lurewatch.duckdb"
    shutil.copyfile(template, db)
    if "pseudonym_key_file" not in overrides:  # case exports need a key: a fresh one per app, mode 600
        overrides["pseudonym_key_file"] = folder / "pseudonym.key"
        generate_key_file(overrides["pseudonym_key_file"])
    settings = make_settings(db, **overrides)
    initialise(settings.auth_database)
    hasher = settings.password_hasher()
    create_user(settings.auth_database, ANALYST[0], ANALYST[1], "analyst", created_by="test", hasher=hasher)
    create_user(settings.auth_database, ADMIN[0], ADMIN[1], "admin", created_by="test", hasher=hasher)
    return settings


@dataclass
class ReviewEnv:
    settings: ReviewSettings
    url: str
    server: ThreadedServer | None = None

    @property
    def db(self) -> Path:
        return self.settings.database

    def client(self) -> Client:
        return Client(self.url, self.settings.session_cookie_name)

    def logged_in(self, account: tuple[str, str] = ANALYST) -> Client:
        client = self.client()
        response = client.login(*account)
        assert response.status_code == 303, response.text
        return client


@contextmanager
def running(settings: ReviewSettings) -> Iterator[ReviewEnv]:
    with ThreadedServer(settings) as server:
        yield ReviewEnv(settings, server.url, server)


class Client:
    """Talks to the app like a browser form would: cookies, CSRF tokens from the pages, no redirects followed."""

    def __init__(self, base_url: str, cookie_name: str) -> None:
        self.http = httpx.Client(base_url=base_url, follow_redirects=False, timeout=30)
        self.cookie_name = cookie_name
        self._session_token: str | None = None

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def post(self, path: str, data: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        return self.http.post(path, data=data or {}, **kwargs)

    def token(self, path: str = "/login") -> str:
        page = self.get(path)
        match = CSRF_INPUT.search(page.text)
        assert match, f"no CSRF token on {path} ({page.status_code})"
        return match.group(1)

    def login(self, username: str, password: str) -> httpx.Response:
        self._session_token = None
        token = self.token("/login")
        return self.post("/login", {"username": username, "password": password, "csrf_token": token, "next": "/"})

    def session_token(self) -> str:
        """The logged-in session's CSRF token (constant for the session; read from a page once)."""
        if self._session_token is None:
            self._session_token = self.token("/")
        return self._session_token

    def decide(self, ad_id: int, label: str, note: str = "", filters: str = "", next_hint: str = "") -> httpx.Response:
        data = {"csrf_token": self.session_token(), "label": label, "note": note, "filters": filters}
        data["next_hint"] = next_hint
        return self.post(f"/ads/{ad_id}/decision", data)

    def undo(self) -> httpx.Response:
        return self.post("/undo", {"csrf_token": self.session_token(), "filters": ""})

    def flashes(self, response: httpx.Response) -> list[tuple[str, str]]:
        """Follow a redirect and return the flash messages shown on the page it leads to."""
        page = self.get(response.headers["location"]) if response.status_code in (302, 303) else response
        return FLASH.findall(page.text)

    def queue_ids(self, params: dict[str, str] | None = None) -> list[int]:
        page = self.get("/", params=params or {})
        assert page.status_code == 200, page.text
        return [int(x) for x in AD_LINK.findall(page.text)]


class AppProcess:
    """``lurewatch review serve`` in its own process (so it competes for the DuckDB file like production)."""

    def __init__(self, settings: ReviewSettings, extra_env: dict[str, str] | None = None) -> None:
        self.settings = settings
        env = {**os.environ, **CHEAP_HASHING_ENV, **(extra_env or {})}
        if settings.pseudonym_key_file is not None:
            env["LUREWATCH_REVIEW_PSEUDONYM_KEY_FILE"] = str(settings.pseudonym_key_file)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
        command = [
            sys.executable, "-m", "lurewatch.cli_review", "review", "serve", "--host", "127.0.0.1", "--port", "0",
            "--db", str(settings.database), "--insecure-cookies", "--log-level", "warning",
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = re.search(r"listening on (http://\S+)", line)
        if not match:
            self.process.kill()
            error = self.process.stderr.read() if self.process.stderr else ""
            raise RuntimeError(f"app did not start: {line!r} {error}")
        self.url = match.group(1)
        if not app_answers(self.url, 30):
            raise RuntimeError("app did not answer within 30 s")

    def env(self) -> ReviewEnv:
        return ReviewEnv(self.settings, self.url)

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, like a crash or a power cut."""
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class _TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def active_content(html: str) -> list[str]:
    """Everything in a page that could run or load attacker content: script elements without our own src, event
    handler attributes, javascript:/data: URLs, inline styles, and tags the app never emits (img, svg, iframe...)."""
    parser = _TagCollector()
    parser.feed(html)
    problems: list[str] = []
    for tag, attrs in parser.tags:
        if tag == "script" and dict(attrs).get("src") != "/static/app.js":
            problems.append(f"<script {attrs}>")
        if tag in ("img", "svg", "iframe", "object", "embed", "style", "base", "frame", "math", "video", "audio"):
            problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name == "style" or name == "srcdoc":
                problems.append(f"<{tag} {name}=...>")
            if name in ("href", "src", "action", "formaction") and value:
                scheme = value.strip().lower().split(":", 1)[0]
                if ":" in value and scheme not in ("http", "https"):
                    problems.append(f"<{tag} {name}={value!r}>")
    return problems
