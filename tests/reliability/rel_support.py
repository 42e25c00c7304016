"""Helpers of the reliability tests: warehouses, the review app in its own process (so it can be SIGKILLed), an
HTTP client that logs in like a browser, and processes that report progress on stdout so a test can kill them at a
known point."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from suite_support import app_answers, fixture_ad_row
from suite_support import build_flow_warehouse as build_flow_warehouse  # re-exported for the reliability tests
from suite_support import query as query

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ANALYSTS = [(f"analyst{i}", f"analyst{i}-password-long") for i in range(8)]
ADMIN = ("chief", "chief-password-long")
CHEAP_HASHING = {
    "LUREWATCH_REVIEW_PASSWORD_TIME_COST": "1",
    "LUREWATCH_REVIEW_PASSWORD_MEMORY_KIB": "8192",
    "LUREWATCH_REVIEW_PASSWORD_PARALLELISM": "1",
}
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
AD_LINK = re.compile(r'data-href="/ads/(\d+)')


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, **(extra or {})}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def fixture_rows(copies: int = 1, old_share: float = 0.0) -> list[tuple[Any, bool]]:
    """AdRows of the fixture ads (``copies`` times, distinct URLs), each with whether it is 'old'."""
    from fixture_sites import load_ads

    rows: list[tuple[Any, bool]] = []
    ads = load_ads()
    cut = int(len(ads) * old_share)
    for copy in range(copies):
        for index, ad in enumerate(ads):
            url = f"https://{ad['site']}.example/ad/{ad['ref']}" + (f"?copy={copy}" if copy else "")
            rows.append((fixture_ad_row(ad, url), index < cut))
    return rows


def build_quick_warehouse(db: Path, *, old_share: float = 0.6, extract: bool = True) -> Path:
    """Fixture ads written with :func:`warehouse.ads.write_crawl_batch` (old ones 100 days ago), features and
    entities extracted, near-duplicate clusters and cross-ad features computed."""
    from pipeline.feature_store import extract_pending
    from warehouse import session
    from warehouse.ads import write_crawl_batch

    rows = fixture_rows(1, old_share)
    with session(db) as con:
        write_crawl_batch(con, [r for r, old in rows if old], run_id=None, seen_at=datetime.now() - timedelta(days=100))
        write_crawl_batch(con, [r for r, old in rows if not old], run_id=None)
        if extract:
            extract_pending(con)
    return db


class Progress:
    """A child process whose stdout lines tell how far it got (so a test can SIGKILL it at a known point)."""

    def __init__(self, args: Sequence[str], env: dict[str, str] | None = None, cwd: Path = PROJECT_ROOT) -> None:
        self.process = subprocess.Popen(
            list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env(env), cwd=cwd,
            start_new_session=True,
        )
        self.lines: list[str] = []

    def wait_for(self, pattern: str, timeout_s: float = 120) -> str:
        """Read stdout until a line matches ``pattern`` (bounded by ``timeout_s`` and the child's lifetime)."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout_s
        regex = re.compile(pattern)
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                stderr = self.process.stderr.read() if self.process.stderr else ""
                raise AssertionError(f"child ended before {pattern!r}: {self.lines[-5:]} {stderr[-2000:]}")
            self.lines.append(line.rstrip("\n"))
            if regex.search(line):
                return line
        raise AssertionError(f"no {pattern!r} within {timeout_s} s")

    def kill(self) -> None:
        """SIGKILL (the child's whole process group): no cleanup, no atexit, like a power cut."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def finish(self, timeout_s: float = 300) -> tuple[int, str, str]:
        out, err = self.process.communicate(timeout=timeout_s)
        return self.process.returncode, out, err


@dataclass
class ReviewProcess:
    """``lurewatch review serve`` (via ``python -m lurewatch.cli_review``) in its own process group on 127.0.0.1."""

    db: Path
    extra_env: dict[str, str] | None = None
    log_path: Path | None = None

    def __post_init__(self) -> None:
        env = {**CHEAP_HASHING, **(self.extra_env or {})}
        command = [
            sys.executable, "-m", "lurewatch.cli_review", "review", "serve", "--host", "127.0.0.1", "--port", "0",
            "--db", str(self.db), "--insecure-cookies", "--log-level", "info",
        ]
        self.log_path = self.log_path or self.db.with_name(self.db.name + ".app.log")
        start = self.log_path.stat().st_size if self.log_path.exists() else 0  # a restart appends: read what is new
        self._log = self.log_path.open("a", encoding="utf-8")
        self.process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, env=child_env(env), cwd=PROJECT_ROOT,
            start_new_session=True,
        )
        match = None
        deadline = time.monotonic() + 60
        while match is None and time.monotonic() < deadline and self.process.poll() is None:
            with self.log_path.open("rb") as handle:
                handle.seek(start)
                match = re.search(r"listening on (http://\S+)", handle.read().decode("utf-8", errors="replace"))
            time.sleep(0.02)
        if not match:
            self.kill()
            raise RuntimeError(f"review app did not start; see {self.log_path}")
        self.url = match.group(1)
        if not app_answers(self.url, 60):
            self.kill()
            raise RuntimeError("review app did not answer within 60 s")

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=15)
        self.kill()


def create_accounts(db: Path, accounts: Sequence[tuple[str, str]] = (*ANALYSTS,), admin: bool = True) -> None:
    from review_app.authdb import initialise
    from review_app.settings import ReviewSettings
    from review_app.users import create_user

    settings = ReviewSettings(db_path=db, password_time_cost=1, password_memory_kib=8192, password_parallelism=1)
    initialise(settings.auth_database)
    hasher = settings.password_hasher()
    for name, password in accounts:
        create_user(settings.auth_database, name, password, "analyst", created_by="test", hasher=hasher)
    if admin:
        create_user(settings.auth_database, ADMIN[0], ADMIN[1], "admin", created_by="test", hasher=hasher)


class Analyst:
    """A browser-like client: cookies, CSRF token from the pages, no redirects followed."""

    def __init__(self, base_url: str, timeout_s: float = 60) -> None:
        self.http = httpx.Client(base_url=base_url, follow_redirects=False, timeout=timeout_s)
        self.csrf = ""

    def close(self) -> None:
        self.http.close()

    def login(self, username: str, password: str) -> httpx.Response:
        page = self.http.get("/login")
        match = CSRF_INPUT.search(page.text)
        assert match, page.text[:500]
        response = self.http.post(
            "/login", data={"username": username, "password": password, "csrf_token": match.group(1), "next": "/"}
        )
        if response.status_code == 303:
            queue = self.http.get("/")
            token = CSRF_INPUT.search(queue.text)
            self.csrf = token.group(1) if token else ""
        return response

    def decide(self, ad_id: int, label: str, note: str = "") -> httpx.Response:
        return self.http.post(
            f"/ads/{ad_id}/decision",
            data={"csrf_token": self.csrf, "label": label, "note": note, "filters": "", "next_hint": ""},
        )


def digest_warehouse(db: Path, country: str, ads: int = 12) -> Path:
    """A warehouse whose high-risk ads of one week all carry ``country`` (a crawled, attacker-controlled field),
    scored by a stand-in champion."""
    from warehouse import session
    from warehouse.ads import upsert_ads
    from warehouse.records import AdRow

    rows = [
        AdRow(site_id="evil", url=f"https://evil.example/ad/{i}", title=f"Work abroad {i}",
              body="High pay, no experience needed, free housing. Registration fee 100 EUR.", country=country,
              posted=date(2026, 11, 18))
        for i in range(ads)
    ]
    with session(db) as con:
        upsert_ads(con, rows, None)
        con.execute("INSERT INTO scores (ad_id, model_version, score, content_hash) "
                    "SELECT ad_id, 'standin', 0.9, content_hash FROM ads").fetchall()
        con.execute("INSERT INTO models (version, created_by, path, status, training_fingerprint, feature_names, "
                    "metrics, params) VALUES ('standin', 'test', '/nonexistent', 'champion', 'none', '[]', '{}', "
                    "'{\"threshold\": 0.5}')").fetchall()
    return db


def render_digest(db: Path) -> dict[str, str]:
    """Every file of the digest of the week of 2026-11-16, with suppression off (k=0), as text."""
    from digest import service
    from digest.config import parse_config

    config = parse_config(
        {"archive_dir": "archive", "smtp": {"host": "127.0.0.1", "port": 25, "sender": "lw <d@lurewatch.test>"},
         "defaults": {"thresholds": {"suppress_below": 0}},
         "recipients": [{"id": "ngo", "name": "NGO", "emails": ["a@ngo.test"], "formats": ["html", "csv"]}]},
        db.parent,
    )
    recipient = config.recipients[0]
    digest = service.build(db, config, recipient, service.compute(db, recipient, date(2026, 11, 16)))
    return {item.name: item.read().decode("utf-8-sig") for item in digest.files}
