"""Accounts, sessions, login rate limiting, CSRF and roles, against the app on a real socket."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from review_support import ADMIN, ANALYST, CHEAP_HASHING_ENV, ReviewEnv, make_settings, prepare, query, running
from starlette.routing import BaseRoute, Mount
from typer import Typer
from typer.testing import CliRunner

from lurewatch.cli_review import review_cli, users_cli
from review_app.app import PUBLIC_PATHS, create_app
from review_app.sessions import SessionPolicy, create_session, load_session
from review_app.settings import ReviewSettings
from review_app.users import authenticate, create_user

HASHER = make_settings(Path("unused.duckdb")).password_hasher()


def _any_ad(env: ReviewEnv) -> int:
    return int(query(env.db, "SELECT min(ad_id) FROM ads")[0][0])


def _concrete(path: str, ad_id: int) -> str:
    return path.replace("{ad_id}", str(ad_id)).replace("{fmt}", "csv").replace("{username}", ANALYST[0])


def _app_routes(app: FastAPI) -> Iterator[tuple[str, set[str], BaseRoute]]:
    """(path, methods, route) for every route of ``app.routes``, looking through included routers (FastAPI
    >= 0.150 keeps them as lazy wrappers in app.routes)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: app.routes is already flat
        for route in app.routes:
            yield str(getattr(route, "path", "")), set(getattr(route, "methods", None) or ()), route
        return
    for context in iter_route_contexts(app.routes):
        yield str(context.path), set(context.methods or ()), context.original_route


def _routes() -> list[tuple[str, str]]:
    app = create_app(make_settings(Path("/nonexistent/lw.duckdb")))
    found: list[tuple[str, str]] = []
    for path, methods, route in _app_routes(app):
        if isinstance(route, Mount):
            assert path == "/static", f"unexpected mount {path}"
            continue
        assert isinstance(route, APIRoute), f"unexpected route type {route!r}"
        found += [(method, path) for method in sorted(methods)]
    return found


def test_every_route_requires_a_logged_in_session(shared_env: ReviewEnv) -> None:
    """Iterating over app.routes: every route except the login form redirects (GET) or refuses (POST) without a
    session, and shows no ad data; the API docs routes do not exist."""
    ad_id = _any_ad(shared_env)
    client = shared_env.client()
    checked = 0
    for method, path in _routes():
        if path in PUBLIC_PATHS:
            continue
        response = client.http.request(method, _concrete(path, ad_id), data={"csrf_token": "x", "label": "lure"})
        if method in ("GET", "HEAD"):
            assert response.status_code == 303, (method, path)
            assert response.headers["location"].startswith("/login?next=")
        else:
            assert response.status_code == 401, (method, path)
        assert "ad-text" not in response.text and "queue-item" not in response.text
        checked += 1
    assert checked >= 7
    assert {path for _, path in _routes()} >= {"/", "/ads/{ad_id}", "/ads/{ad_id}/decision", "/undo", "/admin/users"}
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code in (303, 404)
    assert query(shared_env.db, "SELECT count(*) FROM labels WHERE source = 'analyst'")[0][0] == 0


def test_login_sets_a_hardened_server_side_session_cookie(shared_env: ReviewEnv, tmp_path: Path) -> None:
    """The session cookie is HttpOnly, SameSite=Strict, Path=/ and carries a random token whose hash (never the
    token) is stored; with the default settings it is also Secure and __Host- prefixed."""
    client = shared_env.client()
    response = client.login(*ANALYST)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert re.search(r"HttpOnly", cookie, re.I) and re.search(r"SameSite=strict", cookie, re.I)
    assert "Path=/" in cookie and "secure" not in cookie.lower()  # tests run over plain http
    token = cookie.split(";")[0].split("=", 1)[1]
    with sqlite3.connect(shared_env.settings.auth_database) as con:
        stored = [row[0] for row in con.execute("SELECT token_hash FROM sessions")]
    assert token not in stored and len(token) >= 40
    assert client.get("/").status_code == 200

    secure = make_settings(shared_env.db, auth_db_path=tmp_path / "auth.sqlite3")
    secure = secure.model_copy(update={"cookie_secure": True})
    with running(secure) as env:
        login_page = env.client().get("/login")
        cookie = login_page.headers["set-cookie"]
        assert cookie.startswith("__Host-lw_session=")
        assert re.search(r";\s*Secure", cookie) and re.search(r"HttpOnly", cookie, re.I)
        assert "max-age=31536000" in login_page.headers["strict-transport-security"]


def test_wrong_password_or_unknown_user_is_refused_alike(shared_env: ReviewEnv) -> None:
    """A wrong password and an unknown user get the same 401 answer and no logged-in session."""
    client = shared_env.client()
    wrong = client.login(ANALYST[0], "not-the-password")
    unknown = client.login("nobody-here", "not-the-password")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Wrong user name or password." in response.text
    assert client.get("/").status_code == 303


def test_failed_logins_are_rate_limited_per_user_and_ip(review_template: Path, tmp_path: Path) -> None:
    """After the allowed number of failures for one user from one IP, even the right password is refused (429,
    Retry-After) without being checked; other users from the same IP can still log in, until that IP has failed
    too often across user names (password spraying). The account store is readable by its owner only."""
    settings = prepare(review_template, tmp_path / "rl", login_max_failures=3, login_max_failures_per_ip=6)
    create_user(settings.auth_database, "bob", "bob-password-123", "analyst", created_by="test", hasher=HASHER)
    with running(settings) as env:
        client = env.client()
        for _ in range(3):
            assert client.login("bob", "wrong-password").status_code == 401
        blocked = client.login("bob", "bob-password-123")
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) > 0
        assert "Too many failed attempts" in blocked.text
        assert client.get("/").status_code == 303
        assert env.client().login(*ANALYST).status_code == 303
        sprayer = env.client()  # many user names from one IP: the per-IP limit stops it
        for number in range(3):
            assert sprayer.login(f"guess{number}", "wrong-password").status_code == 401
        assert sprayer.login("guess9", "wrong-password").status_code == 429
        assert env.client().login(*ADMIN).status_code == 429
    with sqlite3.connect(settings.auth_database) as con:
        assert con.execute("SELECT count(*) FROM login_failures").fetchone()[0] == 6
    assert settings.auth_database.stat().st_mode & 0o777 == 0o600  # hashes and client IPs: owner only


def test_state_changing_routes_reject_missing_wrong_or_cross_site_csrf(shared_env: ReviewEnv) -> None:
    """Every POST route (iterated from app.routes) refuses a logged-in request without the session's CSRF token,
    with another token, or from another origin, and nothing changes."""
    ad_id = _any_ad(shared_env)
    admin = shared_env.logged_in(ADMIN)
    token = admin.session_token()
    labels_before = query(shared_env.db, "SELECT count(*) FROM labels")[0][0]
    posts = [path for method, path in _routes() if method == "POST" and path not in PUBLIC_PATHS]
    assert len(posts) >= 5
    form = {"label": "lure", "username": "mallory", "password": "mallory-password", "role": "admin", "active": "0"}
    for path in posts:
        url = _concrete(path, ad_id)
        attempts = [
            admin.post(url, form),
            admin.post(url, {**form, "csrf_token": "forged-token"}),
            admin.post(url, {**form, "csrf_token": token}, headers={"Origin": "http://evil.example"}),
            admin.post(url, {**form, "csrf_token": token}, headers={"Sec-Fetch-Site": "cross-site"}),
        ]
        assert [r.status_code for r in attempts] == [403, 403, 403, 403], path
    assert query(shared_env.db, "SELECT count(*) FROM labels")[0][0] == labels_before
    assert admin.get("/").status_code == 200  # still logged in: logout was refused too
    hasher = shared_env.settings.password_hasher()
    assert authenticate(shared_env.settings.auth_database, "mallory", "mallory-password", hasher) is None
    assert authenticate(shared_env.settings.auth_database, *ANALYST, hasher) is not None


def test_login_form_itself_is_csrf_protected(shared_env: ReviewEnv) -> None:
    """Posting credentials without the login form's token (login CSRF) does not log anyone in."""
    client = shared_env.client()
    response = client.post("/login", {"username": ANALYST[0], "password": ANALYST[1], "next": "/"})
    assert response.status_code == 403
    assert client.get("/").status_code == 303


def test_user_management_is_for_admins_only(shared_env: ReviewEnv) -> None:
    """Analysts get 403 on the admin page and its actions; an admin can create an account that can then log in,
    and disable it, which ends its sessions."""
    analyst = shared_env.logged_in(ANALYST)
    assert analyst.get("/admin/users").status_code == 403
    refused = analyst.post(
        "/admin/users",
        {"csrf_token": analyst.session_token(), "username": "eve", "password": "eve-password-123", "role": "admin"},
    )
    assert refused.status_code == 403
    assert authenticate(shared_env.settings.auth_database, "eve", "eve-password-123", HASHER) is None

    admin = shared_env.logged_in(ADMIN)
    page = admin.get("/admin/users")
    assert page.status_code == 200 and ANALYST[0] in page.text
    created = admin.post(
        "/admin/users",
        {"csrf_token": admin.session_token(), "username": "carol", "password": "carol-password-1", "role": "analyst"},
    )
    assert created.status_code == 303
    carol = shared_env.logged_in(("carol", "carol-password-1"))
    assert carol.get("/").status_code == 200
    disabled = admin.post("/admin/users/carol/active", {"csrf_token": admin.session_token(), "active": "0"})
    assert disabled.status_code == 303
    assert carol.get("/").status_code == 303
    assert carol.login("carol", "carol-password-1").status_code == 401


def test_logout_ends_the_server_side_session(shared_env: ReviewEnv) -> None:
    """After logout the old cookie value is worthless, even if replayed."""
    client = shared_env.logged_in(ANALYST)
    cookie = client.http.cookies.get(client.cookie_name)
    assert client.post("/logout", {"csrf_token": client.session_token()}).status_code == 303
    replay = shared_env.client()
    replay.http.cookies.set(client.cookie_name, cookie or "")
    assert replay.get("/").status_code == 303


def test_sessions_expire_when_idle_or_too_old(tmp_path: Path) -> None:
    """Server-side expiry: a session unused longer than the idle limit, or older than the absolute limit, is gone.
    No sleeping: the stored timestamps are moved back (a slow machine cannot make a fresh session look idle)."""
    settings = make_settings(tmp_path / "lw.duckdb")
    from review_app.authdb import initialise

    initialise(settings.auth_database)
    user = create_user(
        settings.auth_database, "dave", "dave-password-12", "analyst", created_by="test", hasher=HASHER
    )
    policy = SessionPolicy(max_age_s=3600, idle_s=600, anonymous_s=60)

    def age(token_hash: str, *, unused_s: float = 0, created_s: float = 0) -> None:
        with sqlite3.connect(settings.auth_database) as con:
            con.execute(
                "UPDATE sessions SET last_seen = last_seen - ?, created_at = created_at - ?, "
                "expires_at = expires_at - ? WHERE token_hash = ?",
                (unused_s, created_s, created_s, token_hash),
            )

    token, session = create_session(settings.auth_database, user, policy)
    assert session.expires_at - time.time() == pytest.approx(3600, abs=60)  # absolute limit from the policy
    age(session.token_hash, unused_s=590)
    assert load_session(settings.auth_database, token, policy) is not None  # 590 s unused: alive (and touched)
    age(session.token_hash, unused_s=610)
    assert load_session(settings.auth_database, token, policy) is None  # 610 s unused: idle, and deleted
    assert load_session(settings.auth_database, token, SessionPolicy(3600, 10**6, 60)) is None  # gone for good

    token, session = create_session(settings.auth_database, user, policy)
    age(session.token_hash, created_s=3500)
    assert load_session(settings.auth_database, token, policy) is not None  # 3,500 s old: within the limit
    age(session.token_hash, created_s=200)
    assert load_session(settings.auth_database, token, policy) is None  # 3,700 s old, though just used
    assert load_session(settings.auth_database, "made-up-token", policy) is None


def test_cli_creates_argon2_accounts_and_refuses_bad_input(tmp_path: Path) -> None:
    """`lurewatch users create NAME --role ... --password-stdin` stores an argon2id hash; short passwords, unknown
    roles and duplicate names are refused with a non-zero exit."""
    cli = Typer()
    cli.add_typer(users_cli, name="users")
    cli.add_typer(review_cli, name="review")
    runner = CliRunner()
    db = tmp_path / "lw.duckdb"
    ok = runner.invoke(
        cli,
        ["users", "create", "Erin", "--role", "admin", "--password-stdin", "--db", str(db)],
        input="erin-password-123\n",
        env=CHEAP_HASHING_ENV,
    )
    assert ok.exit_code == 0, ok.output
    assert "created admin erin" in ok.output
    auth_db = make_settings(db).auth_database
    with sqlite3.connect(auth_db) as con:
        (stored,) = con.execute("SELECT password_hash FROM users WHERE username = 'erin'").fetchone()
    assert stored.startswith("$argon2id$v=19$m=8192,t=1,p=1$") and "erin-password-123" not in stored
    assert authenticate(auth_db, "erin", "erin-password-123", HASHER) is not None
    defaults = ReviewSettings().password_hasher()  # production: argon2-cffi's RFC 9106 low-memory profile
    assert (defaults.time_cost, defaults.memory_cost, defaults.parallelism) == (3, 65536, 4)
    for args, password in (
        (["users", "create", "frank", "--password-stdin"], "short\n"),
        (["users", "create", "frank", "--role", "root", "--password-stdin"], "frank-password-12\n"),
        (["users", "create", "erin", "--password-stdin"], "another-password-1\n"),
    ):
        refused = runner.invoke(cli, [*args, "--db", str(db)], input=password, env=CHEAP_HASHING_ENV)
        assert refused.exit_code != 0, args
    listed = runner.invoke(cli, ["users", "list", "--db", str(db)])
    assert "erin" in listed.output and "frank" not in listed.output


def test_password_hashes_are_upgraded_at_login(tmp_path: Path) -> None:
    """A hash made with weaker argon2 parameters than configured is replaced at the next successful login."""
    settings = make_settings(tmp_path / "lw.duckdb")
    from review_app.authdb import initialise

    initialise(settings.auth_database)
    create_user(settings.auth_database, "gina", "gina-password-12", "analyst", created_by="test", hasher=HASHER)
    stronger = make_settings(tmp_path / "lw.duckdb", password_time_cost=2).password_hasher()
    assert authenticate(settings.auth_database, "gina", "gina-password-12", stronger) is not None
    with sqlite3.connect(settings.auth_database) as con:
        (stored,) = con.execute("SELECT password_hash FROM users WHERE username = 'gina'").fetchone()
    assert "$m=8192,t=2,p=1$" in stored
    assert authenticate(settings.auth_database, "gina", "wrong-password-1", stronger) is None


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_login_never_redirects_off_site(shared_env: ReviewEnv, target: str) -> None:
    """The post-login `next` parameter only accepts local paths (no open redirect)."""
    client = shared_env.client()
    token = client.token(f"/login?next={target}")
    form = {"username": ANALYST[0], "password": ANALYST[1], "csrf_token": token, "next": target}
    response = client.post("/login", form)
    assert response.status_code == 303 and response.headers["location"] == "/"
