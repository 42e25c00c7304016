"""Logging in and out. The login form is protected against CSRF by a signed pre-login cookie (no server-side
state for anonymous visitors); a successful login always starts a new session (no fixation); failed logins are
rate-limited per user name and client IP (the peer address, or X-Forwarded-For only from a configured proxy)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import anyio
from anyio.to_thread import run_sync
from fastapi import APIRouter, Depends, Form
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from review_app import csrf
from review_app.context import AppContext, app_context
from review_app.deps import current_session, require_csrf
from review_app.rendering import render
from review_app.sessions import Session, create_session, delete_session, purge_expired
from review_app.users import MAX_PASSWORD_LENGTH, User, authenticate

public_router = APIRouter()
router = APIRouter()


def safe_next(target: str | None) -> str:
    """Only local paths are followed after login (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target or len(target) > 2000:
        return "/"
    return target


def set_session_cookie(context: AppContext, response: Response, token: str) -> None:
    response.set_cookie(
        context.settings.session_cookie_name,
        token,
        httponly=True,
        secure=context.settings.cookie_secure,
        samesite="strict",
        path="/",
    )


def _login_page(request: Request, next_path: str, status: int = 200, error: str | None = None) -> Response:
    """The login form. A browser without a live session gets a signed pre-login cookie (kept while it has more
    than half its lifetime to go) and the matching form token; nothing is stored for it on the server."""
    context = app_context(request)
    session = current_session(request)
    cookie: str | None = None
    if session is None:
        key = csrf.login_key(context.settings.auth_database)
        lifetime = context.policy.anonymous_s
        nonce = csrf.login_cookie_nonce(
            key, request.cookies.get(context.settings.session_cookie_name), min_remaining_s=lifetime / 2
        )
        if nonce is None:
            cookie, nonce = csrf.issue_login_cookie(key, lifetime)
        request.state.login_csrf = csrf.login_form_token(key, nonce)
    response = render(request, "login.html", status, next_path=next_path, error=error)
    if cookie:
        set_session_cookie(context, response, cookie)
    return response


@public_router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    session = current_session(request)
    if session is not None and session.user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, safe_next(next))


def _hash_limiter(request: Request) -> anyio.CapacityLimiter:
    """At most ``password_hash_threads`` argon2 computations at once, per app."""
    state = request.app.state
    limiter: anyio.CapacityLimiter | None = getattr(state, "password_hash_limiter", None)
    if limiter is None:
        limiter = anyio.CapacityLimiter(app_context(request).settings.password_hash_threads)
        state.password_hash_limiter = limiter
    return limiter


@public_router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=MAX_PASSWORD_LENGTH)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the form's origin and token, the rate limits, then the password. Everything that blocks (SQLite, and
    argon2 above all: tens of milliseconds of CPU by design) runs in worker threads, argon2 in a bounded pool, so
    logins never stall the event loop and the pages of other analysts."""
    context = app_context(request)
    settings = context.settings
    target = safe_next(next)
    session = await run_sync(current_session, request)
    key = await run_sync(csrf.login_key, settings.auth_database)
    try:
        await csrf.verify_login(request, session, key, request.cookies.get(settings.session_cookie_name))
    except csrf.CsrfRejected:
        return await run_sync(_login_page, request, target, 403, "The login form expired. Please try again.")
    name_key = username.strip().lower()[:100]
    ip = request.client.host if request.client else "unknown"
    wait = await run_sync(context.limiter.retry_after, name_key, ip)
    if wait:
        minutes = max(1, round(wait / 60))
        response = await run_sync(
            _login_page, request, target, 429, f"Too many failed attempts. Try again in about {minutes} minute(s)."
        )
        response.headers["Retry-After"] = str(wait)
        return response
    user = await run_sync(
        partial(authenticate, settings.auth_database, username, password, settings.password_hasher()),
        limiter=_hash_limiter(request),
    )
    if user is None:
        await run_sync(context.limiter.record_failure, name_key, ip)
        return await run_sync(_login_page, request, target, 401, "Wrong user name or password.")
    return await run_sync(_start_session, request, session, user, name_key, ip, target)


def _start_session(
    request: Request, session: Session | None, user: User, name_key: str, ip: str, target: str
) -> Response:
    """A new session for a successful login (never the old one: no fixation)."""
    context = app_context(request)
    context.limiter.clear(name_key, ip)
    if session is not None:
        delete_session(context.settings.auth_database, session)
    purge_expired(context.settings.auth_database, context.policy)
    token, _ = create_session(context.settings.auth_database, user, context.policy)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(context, response, token)
    return response


@router.post("/logout")
def logout(request: Request, session: Annotated[Session, Depends(require_csrf)]) -> Response:
    context = app_context(request)
    delete_session(context.settings.auth_database, session)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        context.settings.session_cookie_name, path="/", secure=context.settings.cookie_secure, httponly=True,
        samesite="strict",
    )
    return response
