"""CSRF protection for every state-changing request: a per-session synchronizer token that must come back in
the form (or the ``X-CSRF-Token`` header), plus a same-origin check on the Origin and Sec-Fetch-Site headers.
SameSite=Strict session cookies are a third, independent layer.

The login form has no session yet, and anonymous visitors get no server-side row (a stream of cookieless
``GET /login`` would otherwise fill the account store): it is protected by a *signed double-submit cookie*. The
pre-login cookie (same name and flags as the session cookie) carries ``pre1.<nonce>.<expiry>.<signature>``; the form
carries a token derived from the nonce with the app's key. Only a browser that holds the cookie can send the
matching form token; nothing is stored until a login succeeds."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from starlette.requests import Request

from review_app.authdb import auth_session
from review_app.sessions import Session

FORM_FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
LOGIN_COOKIE_PREFIX = "pre1."
_KEY_NAME = "login-csrf"
_KEYS: dict[str, bytes] = {}  # per account store, read once per process
_KEYS_MUTEX = threading.Lock()


class CsrfRejected(Exception):
    """A state-changing request without a valid token, or from another site."""


def _same_origin(request: Request) -> bool:
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True  # older clients send no Origin: the token alone decides
    host = request.headers.get("host", "")
    return origin != "null" and urlsplit(origin).netloc.lower() == host.lower()


async def submitted_token(request: Request) -> str:
    header = request.headers.get(HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # Starlette caches the parsed form for the route's own Form() fields
        value = form.get(FORM_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def verify(request: Request, session: Session | None) -> None:
    """Raise CsrfRejected unless the request carries this session's token and comes from this origin."""
    if session is None or not _same_origin(request):
        raise CsrfRejected("cross-origin or session-less request")
    token = await submitted_token(request)
    if not token or not hmac.compare_digest(token.encode(), session.csrf_token.encode()):
        raise CsrfRejected("missing or wrong CSRF token")


def login_key(auth_db: Path) -> bytes:
    """The app's secret for pre-login cookies: 32 random bytes created once in the account store (mode 600), so
    forms keep working across restarts and between processes serving the same store."""
    cache_key = str(auth_db.resolve())
    with _KEYS_MUTEX:
        cached = _KEYS.get(cache_key)
        if cached is not None:
            return cached
        with auth_session(auth_db) as con:
            row = con.execute("SELECT value FROM app_secrets WHERE name = ?", (_KEY_NAME,)).fetchone()
            if row is None:
                con.execute("INSERT OR IGNORE INTO app_secrets (name, value) VALUES (?, ?)",
                            (_KEY_NAME, secrets.token_bytes(32)))
                row = con.execute("SELECT value FROM app_secrets WHERE name = ?", (_KEY_NAME,)).fetchone()
        _KEYS[cache_key] = key = bytes(row[0])
        return key


def _mac(key: bytes, purpose: str, *parts: str) -> str:
    digest = hmac.new(key, "|".join((purpose, *parts)).encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def is_login_cookie(value: str | None) -> bool:
    return bool(value) and str(value).startswith(LOGIN_COOKIE_PREFIX)


def issue_login_cookie(key: bytes, lifetime_s: float) -> tuple[str, str]:
    """A new pre-login cookie value and its nonce."""
    nonce = secrets.token_urlsafe(24)
    expires = str(int(time.time() + lifetime_s))
    return f"{LOGIN_COOKIE_PREFIX}{nonce}.{expires}.{_mac(key, 'login-cookie', nonce, expires)}", nonce


def login_cookie_nonce(key: bytes, value: str | None, min_remaining_s: float = 0.0) -> str | None:
    """The nonce of a genuine, unexpired pre-login cookie (with at least ``min_remaining_s`` to go), else None."""
    if not value or not value.startswith(LOGIN_COOKIE_PREFIX) or len(value) > 200:
        return None
    parts = value[len(LOGIN_COOKIE_PREFIX) :].split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    nonce, expires, signature = parts
    if not hmac.compare_digest(signature.encode(), _mac(key, "login-cookie", nonce, expires).encode()):
        return None
    if int(expires) - time.time() <= min_remaining_s:
        return None
    return nonce


def login_form_token(key: bytes, nonce: str) -> str:
    """The token the login form carries for a pre-login cookie's nonce."""
    return _mac(key, "login-form", nonce)


async def verify_login(request: Request, session: Session | None, key: bytes, cookie: str | None) -> None:
    """Raise CsrfRejected unless the login form comes from this origin with the token of the browser's pre-login
    cookie (or, for a browser that is logged in already, of its session)."""
    if not _same_origin(request):
        raise CsrfRejected("cross-origin login form")
    token = await submitted_token(request)
    nonce = login_cookie_nonce(key, cookie)
    expected = [login_form_token(key, nonce)] if nonce else []
    if session is not None:
        expected.append(session.csrf_token)
    if not token or not any(hmac.compare_digest(token.encode(), value.encode()) for value in expected):
        raise CsrfRejected("missing or wrong login form token")
