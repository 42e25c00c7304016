"""Red-team findings against the review app (issue 12, items 4, 6, 8-12), each reproduced against the app on a real
127.0.0.1 socket: contacts leaking from analyst exports, the login rate limit bypassed with X-Forwarded-For, argon2
blocking the event loop, huge bodies read before the 401, a corrupted audit trail under parallel decisions,
contacts in the logs, Host header injection in redirects, and a session row for every anonymous visitor."""

from __future__ import annotations

import asyncio
import json
import os
import re
import select
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import argon2
import httpx
import pytest
from review_support import (
    ADMIN,
    ANALYST,
    CHEAP_HASHING_ENV,
    PROJECT_ROOT,
    Client,
    ReviewEnv,
    prepare,
    query,
    running,
)

from review_app import csrf
from review_app.journal import DecisionJournal
from review_app.logscrub import scrub_target
from review_app.users import create_user
from warehouse import session

DEADLINE_S = 60.0  # generous bound for anything that waits on the app; never a speed assertion


def _wait_until(condition: Callable[[], bool], what: str, timeout_s: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _login_form(client: Client) -> str:
    return client.token("/login")


# ---- item 4: analyst exports ----------------------------------------------------------------------------------------


def _linked_pair(env: ReviewEnv) -> tuple[int, int]:
    rows = query(
        env.db,
        """
        SELECT e.ad_id, min(o.ad_id) FROM entities e
        JOIN entities o ON o.kind = e.kind AND o.value = e.value AND o.ad_id <> e.ad_id
        WHERE e.kind IN ('phone', 'email', 'telegram', 'whatsapp', 'viber') GROUP BY e.ad_id ORDER BY e.ad_id LIMIT 1
        """,
    )
    return int(rows[0][0]), int(rows[0][1])


PLANTED = {
    "linked title": "+48 600 111 222",
    "national number in the body": "2914 5678",
    "URL in the company": "www.fast-visa-jobs.lv",
    "URL in the contact line": "https://apply.recruit-abroad.example/form",
    "handle in the contact line": "@easy_money_lv",
    "national number in the location": "8 029 555 12 34",
}
# every way a planted contact could show up again: as typed, digits only, E.164
LEAK_FORMS = ["600 111 222", "600111222", "2914 5678", "29145678", "fast-visa-jobs", "recruit-abroad",
              "easy_money_lv", "555 12 34", "5551234"]


def test_analyst_exports_scrub_every_text_field_including_linked_ads(fresh_env: ReviewEnv) -> None:
    """Contacts the stored extraction never listed (planted after extraction, as a crawl re-visit or an edit
    would leave them): a phone in a *linked* ad's title, a national-format number in the body and in the location,
    URLs in company and contact line, a bare @handle. None of them leaves the app in the analyst's JSON or CSV
    export; the body is still masked in place (same length, evidence offsets valid) and the ad's own URL is kept."""
    ad_id, linked_id = _linked_pair(fresh_env)
    with session(fresh_env.db) as con:
        con.execute("UPDATE ads SET title = title || ' call ' || ? WHERE ad_id = ?",
                    [PLANTED["linked title"], linked_id]).fetchall()
        con.execute(
            "UPDATE ads SET body = body || ?, company = ?, contact_text = ?, location = ? WHERE ad_id = ?",
            [f"\nOr ring {PLANTED['national number in the body']} after 18:00.",
             f"Fast Visa Jobs ({PLANTED['URL in the company']})",
             f"Apply at {PLANTED['URL in the contact line']} or DM {PLANTED['handle in the contact line']}",
             f"Riga, office tel. {PLANTED['national number in the location']}", ad_id],
        ).fetchall()
        title, body, url = con.execute("SELECT title, body, url FROM ads WHERE ad_id = ?", [ad_id]).fetchall()[0]
    client = fresh_env.logged_in()
    exported = {fmt: client.get(f"/ads/{ad_id}/export.{fmt}") for fmt in ("json", "csv")}
    for fmt, response in exported.items():
        assert response.status_code == 200, fmt
        leaks = [form for form in LEAK_FORMS if form in response.text]
        assert leaks == [], fmt
    case: dict[str, Any] = json.loads(exported["json"].text)
    assert linked_id in {a["ad_id"] for a in case["linked_ads"]}
    linked_title = next(a["title"] for a in case["linked_ads"] if a["ad_id"] == linked_id)
    assert " call pz1_" in linked_title
    assert len(case["ad"]["body"]) == len(body) and len(case["ad"]["title"]) == len(title)
    assert "Or ring •••••••••" in case["ad"]["body"]
    assert case["ad"]["company"].startswith("Fast Visa Jobs (pz1_")
    assert case["ad"]["url"] == url  # the board's address of the ad is a reference, not a contact
    again = client.get(f"/ads/{ad_id}/export.json")  # the scrubber is deterministic: the same pseudonyms again
    assert json.loads(again.text)["ad"]["company"] == case["ad"]["company"]


# ---- item 6: X-Forwarded-For and argon2 -----------------------------------------------------------------------------


def _login_from(env: ReviewEnv, account: tuple[str, str], forwarded_for: str) -> int:
    client = env.client()
    token = _login_form(client)
    form = {"username": account[0], "password": account[1], "csrf_token": token, "next": "/"}
    return client.post("/login", form, headers={"X-Forwarded-For": forwarded_for}).status_code


def test_rotating_forwarded_for_does_not_bypass_the_login_rate_limit(review_template: Path, tmp_path: Path) -> None:
    """From a peer that is not a configured proxy, X-Forwarded-For is ignored: 3 wrong passwords from 'different'
    forwarded addresses count against the one real client, and the right password is then refused (429). With the
    proxy configured (``trusted_proxies``), the forwarded address is the client: another client still gets in."""
    settings = prepare(review_template, tmp_path / "xff", login_max_failures=3, login_max_failures_per_ip=30)
    assert settings.trusted_proxies == ""  # the default trusts no proxy
    with running(settings) as env:
        for number in range(3):
            assert _login_from(env, (ANALYST[0], "wrong-password"), f"10.9.0.{number}") == 401
        assert _login_from(env, ANALYST, "10.9.0.77") == 429
    proxied = prepare(review_template, tmp_path / "proxied", login_max_failures=3, trusted_proxies="127.0.0.1")
    with running(proxied) as env:
        for _ in range(3):
            assert _login_from(env, (ANALYST[0], "wrong-password"), "10.9.0.1") == 401
        assert _login_from(env, ANALYST, "10.9.0.1") == 429
        assert _login_from(env, ANALYST, "10.9.0.2") == 303


def test_password_hashing_runs_off_the_event_loop_in_a_bounded_pool(
    review_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """argon2 is slow by design. While four logins are inside (held) password checks, the event loop still answers
    other requests (the login page, a static file), no check runs on the event-loop thread, and no more than
    ``password_hash_threads`` (2) run at once; when released, all four logins succeed."""
    settings = prepare(review_template, tmp_path / "argon", password_hash_threads=2)
    original = argon2.PasswordHasher.verify
    release = threading.Event()
    lock = threading.Lock()
    stats = {"inside": 0, "max_inside": 0, "on_loop": 0, "calls": 0}

    def held_verify(self: argon2.PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:
            on_loop = False
        with lock:
            stats["calls"] += 1
            stats["on_loop"] += on_loop
            stats["inside"] += 1
            stats["max_inside"] = max(stats["max_inside"], stats["inside"])
        try:
            release.wait(DEADLINE_S)
            return original(self, hash, password)
        finally:
            with lock:
                stats["inside"] -= 1

    with running(settings) as env:
        clients = [env.client() for _ in range(4)]
        tokens = [_login_form(client) for client in clients]
        monkeypatch.setattr(argon2.PasswordHasher, "verify", held_verify)
        results: list[int] = []

        def log_in(client: Client, token: str) -> None:
            form = {"username": ANALYST[0], "password": ANALYST[1], "csrf_token": token, "next": "/"}
            results.append(client.post("/login", form).status_code)

        threads = [threading.Thread(target=log_in, args=pair) for pair in zip(clients, tokens, strict=True)]
        for thread in threads:
            thread.start()
        try:
            _wait_until(lambda: stats["inside"] >= 1, "a login to reach the password check")
            bystander = httpx.Client(base_url=env.url, timeout=DEADLINE_S / 2)
            try:
                assert bystander.get("/login").status_code == 200  # the loop is not stuck in argon2
                assert bystander.get("/static/app.css").status_code == 200
            finally:
                bystander.close()
            app = env.server.server.config.app if env.server else None
            limiter = getattr(getattr(app, "state", None), "password_hash_limiter", None)
            assert limiter is not None
            _wait_until(lambda: limiter.statistics().tasks_waiting == 2, "the other two logins to queue")
            assert stats["inside"] == 2
        finally:
            release.set()
            for thread in threads:
                thread.join(DEADLINE_S)
    assert sorted(results) == [303, 303, 303, 303]
    assert stats["on_loop"] == 0 and stats["max_inside"] == 2 and stats["calls"] == 4


# ---- item 8: request bodies ---------------------------------------------------------------------------------------


def _raw_request(url: str, head: str, body_chunks: int = 0, chunk: bytes = b"") -> tuple[bytes, int]:
    """Send ``head`` (and up to ``body_chunks`` chunks) on a raw socket; return the response's first bytes and how
    many body bytes were sent before the app answered."""
    parts = urlsplit(url)
    sent = 0
    with socket.create_connection((parts.hostname, parts.port), timeout=DEADLINE_S / 2) as sock:
        sock.sendall(head.encode("ascii"))
        for _ in range(body_chunks):
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        try:
            return sock.recv(4096), sent
        except ConnectionResetError:
            return b"", sent


def test_oversized_bodies_are_refused_before_they_are_read(shared_env: ReviewEnv) -> None:
    """A client without a session announcing a 500 MB body to POST /ads/1/decision or /login gets 413 at once,
    without sending a byte of it; a chunked upload (no length) is cut off with 413 after the cap, long before its
    64 MB are sent. Ordinary forms still work."""
    host = urlsplit(shared_env.url).netloc
    for path in ("/ads/1/decision", "/login"):
        head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: 500000000\r\n\r\n")
        answer, _ = _raw_request(shared_env.url, head)
        assert answer.startswith(b"HTTP/1.1 413"), (path, answer[:80])
    chunk = b"10000\r\n" + b"a" * 0x10000 + b"\r\n"
    head = (f"POST /login HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary=x\r\n"
            "Transfer-Encoding: chunked\r\n\r\n")
    answer, sent = _raw_request(shared_env.url, head, body_chunks=1024, chunk=chunk)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:80]
    assert sent < 1024 * len(chunk)
    client = shared_env.logged_in()
    ad_id = client.queue_ids()[0]
    assert client.decide(ad_id, "unsure", note="x" * 1900).status_code == 303


# ---- item 9: the audit trail under parallel decisions ---------------------------------------------------------------


def _parallel(calls: list[Callable[[], httpx.Response]]) -> list[int]:
    barrier = threading.Barrier(len(calls))
    codes: list[int] = []

    def run(call: Callable[[], httpx.Response]) -> None:
        barrier.wait()
        codes.append(call().status_code)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE_S * 2)
    return codes


def _clone(client: Client, base_url: str, cookie_name: str) -> Client:
    twin = Client(base_url, cookie_name)
    twin.http.cookies.update(client.http.cookies)
    twin._session_token = client.session_token()
    return twin


def test_parallel_decisions_keep_previous_labels_and_every_undo(fresh_env: ReviewEnv) -> None:
    """16 decisions on one ad from 4 analysts at once: in the audit trail's order every row's previous_label is the
    label of the row before it. 4 decisions posted at once from one session: all 4 can be undone, one by one."""
    hasher = fresh_env.settings.password_hasher()
    accounts = [ANALYST]
    for name in ("bob", "carol", "dave"):
        create_user(fresh_env.settings.auth_database, name, f"{name}-password-12", "analyst", created_by="test",
                    hasher=hasher)
        accounts.append((name, f"{name}-password-12"))
    ad_id, *others = fresh_env.logged_in().queue_ids()[:5]
    analysts = [fresh_env.logged_in(account) for account in accounts]
    labels = ("lure", "not_lure", "unsure", "skip")
    calls: list[Callable[[], httpx.Response]] = []
    for number in range(16):
        twin = _clone(analysts[number % 4], fresh_env.url, fresh_env.settings.session_cookie_name)
        calls.append(lambda twin=twin, label=labels[(number * 3 + number // 4) % 4]: twin.decide(ad_id, label))
    assert _parallel(calls) == [303] * 16
    journal = DecisionJournal(fresh_env.settings.journal)
    _wait_until(lambda: analysts[0].get("/").status_code == 200 and not journal.has_pending(), "the journal to drain")
    rows = query(fresh_env.db, "SELECT label, previous_label, source FROM labels WHERE ad_id = ? "
                 "ORDER BY decided_at, label_id", [ad_id])
    analyst_rows = [(i, row) for i, row in enumerate(rows) if row[2] == "analyst"]
    assert len(analyst_rows) == 16
    wrong = [i for i, (label, previous, _) in analyst_rows
             if previous != (None if i == 0 or rows[i - 1][0] == "none" else rows[i - 1][0])]
    assert wrong == []

    one = fresh_env.logged_in()
    twins = [_clone(one, fresh_env.url, fresh_env.settings.session_cookie_name) for _ in others]
    assert _parallel([lambda t=t, a=a: t.decide(a, "lure") for t, a in zip(twins, others, strict=True)]) == [303] * 4
    for _ in others:
        assert any(level == "ok" and text.startswith("Undone") for level, text in one.flashes(one.undo()))
    assert ("info", "Nothing to undo in this session.") in one.flashes(one.undo())
    undone = query(fresh_env.db, "SELECT DISTINCT ad_id FROM labels WHERE action = 'undo' AND analyst = 'alice'")
    assert {row[0] for row in undone} == set(others)


# ---- item 10: logs --------------------------------------------------------------------------------------------------

PHONE, EMAIL = "+37120000001", "bad.actor@example.com"


def test_logs_hold_no_contact_at_the_default_level(review_template: Path, tmp_path: Path) -> None:
    """`lurewatch review serve` at its default log level (access log on): searches for a phone number and an
    e-mail address, and a decision whose note holds both and is refused at replay (no such ad), leave neither in
    the log, which does show the requests and the refusal."""
    settings = prepare(review_template, tmp_path / "logs")
    log_path = tmp_path / "app.log"
    env = {**os.environ, **CHEAP_HASHING_ENV, "LUREWATCH_REVIEW_PSEUDONYM_KEY_FILE": str(settings.pseudonym_key_file),
           "PYTHONPATH": str(PROJECT_ROOT)}
    command = [sys.executable, "-m", "lurewatch.cli_review", "review", "serve", "--host", "127.0.0.1", "--port", "0",
               "--db", str(settings.database), "--insecure-cookies"]
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=PROJECT_ROOT)
    try:
        found: list[str] = []

        def ready() -> bool:
            found[:] = re.findall(r"listening on (http://\S+)", log_path.read_text(encoding="utf-8"))
            assert process.poll() is None, log_path.read_text(encoding="utf-8")
            return bool(found)

        _wait_until(ready, "the app to start")
        review = ReviewEnv(settings, found[0])
        _wait_until(lambda: review.client().get("/login").status_code == 200, "the app to answer")
        client = review.logged_in()
        for needle in (PHONE, EMAIL, "29145678"):
            assert client.get("/", params={"status": "all", "q": needle}).status_code == 200
        assert client.get(f"/login?next=/%3Fq%3D{PHONE}").status_code == 303
        response = client.decide(999_999_999, "lure", note=f"call {PHONE} or write to {EMAIL}")
        assert response.status_code == 303
        assert any(level == "error" for level, _ in client.flashes(response))
    finally:
        process.terminate()
        process.wait(timeout=30)
    text = log_path.read_text(encoding="utf-8")
    assert '"GET /?status=' in text and "refused" in text  # the log is not empty of what matters
    assert [needle for needle in (PHONE[1:], "20000001", "bad.actor", "29145678", "%40") if needle in text] == []


def test_access_log_targets_keep_paths_and_parameter_names_only() -> None:
    """What the access-log scrubber keeps: paths, ad ids and parameter names; never a parameter value or a
    phone/e-mail-like path segment."""
    assert scrub_target("/?q=%2B37120000001&status=all") == "/?q=…&status=…"
    assert scrub_target("/ads/12345678/export.json") == "/ads/12345678/export.json"
    assert scrub_target("/%2B37120000001") == "/…"
    assert scrub_target("/bad.actor%40example.com/x") == "/…/x"
    assert scrub_target("/login") == "/login"


# ---- item 11: Host header -------------------------------------------------------------------------------------------


def test_host_header_never_steers_a_redirect(shared_env: ReviewEnv) -> None:
    """With `Host: evil.example`, no answer of the app (logged in or not, trailing slashes, the login and logout
    flows) redirects off-site: every Location is a local path."""
    admin = shared_env.logged_in(ADMIN)
    anonymous = shared_env.client()
    evil = {"Host": "evil.example"}
    paths = ["/admin/users/", "/admin/users", "/", "/ads/1/", "/ads/1", "/login/", "/login?next=/admin/users", "/undo/",
             "/static", "/static/", "/nope/"]
    locations: list[str] = []
    for client in (admin, anonymous):
        for path in paths:
            response = client.get(path, headers=evil)
            assert response.status_code < 500, path
            locations += [response.headers["location"]] if "location" in response.headers else []
    logout = admin.post("/logout", {"csrf_token": admin.session_token()}, headers=evil)
    locations += [logout.headers.get("location", "")]
    assert locations and all(loc.startswith("/") and not loc.startswith("//") for loc in locations), locations
    assert not [loc for loc in locations if "evil.example" in loc]


# ---- item 12: anonymous visitors ------------------------------------------------------------------------------------


def _session_rows(env: ReviewEnv) -> int:
    with sqlite3.connect(env.settings.auth_database) as con:
        return int(con.execute("SELECT count(*) FROM sessions").fetchone()[0])


def test_anonymous_login_pages_store_no_session_and_the_form_stays_csrf_protected(shared_env: ReviewEnv) -> None:
    """300 cookieless GET /login add no row to the account store. The login form is protected by a signed
    pre-login cookie: its form token works only with its own cookie; a forged, swapped or expired cookie is
    refused (403) and logs nobody in; a login with the right pair succeeds and gets a new session."""
    before = _session_rows(shared_env)
    with httpx.Client(base_url=shared_env.url) as http:
        for _ in range(300):
            assert http.get("/login", cookies={}).status_code == 200
            http.cookies.clear()
    assert _session_rows(shared_env) == before
    first, second = shared_env.client(), shared_env.client()
    token_first, token_second = _login_form(first), _login_form(second)
    name = shared_env.settings.session_cookie_name
    assert first.http.cookies.get(name, "").startswith(csrf.LOGIN_COOKIE_PREFIX)
    form = {"username": ANALYST[0], "password": ANALYST[1], "next": "/"}
    assert first.post("/login", {**form, "csrf_token": token_second}).status_code == 403  # swapped
    forged = shared_env.client()
    forged.http.cookies.set(name, first.http.cookies.get(name, "")[:-4] + "AAAA")
    assert forged.post("/login", {**form, "csrf_token": token_first}).status_code == 403
    key = csrf.login_key(shared_env.settings.auth_database)
    expired_cookie, nonce = csrf.issue_login_cookie(key, -1)
    expired = shared_env.client()
    expired.http.cookies.set(name, expired_cookie)
    assert expired.post("/login", {**form, "csrf_token": csrf.login_form_token(key, nonce)}).status_code == 403
    assert _session_rows(shared_env) == before
    assert second.post("/login", {**form, "csrf_token": token_second}).status_code == 303
    assert _session_rows(shared_env) == before + 1
    assert not second.http.cookies.get(name, "").startswith(csrf.LOGIN_COOKIE_PREFIX)
    assert second.get("/").status_code == 200

