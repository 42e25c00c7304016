"""Logging in and out. The login form is protected against CSRF by a pre-login session; a successful login
always starts a new session (no fixation); failed logins are rate-limited per user name and client IP."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from review_app import csrf
from review_app.context import AppContext, app_context
from review_app.deps import current_session, require_csrf
from review_app.rendering import render
from review_app.sessions import Session, create_session, delete_session, purge_expired
from review_app.users import MAX_PASSWORD_LENGTH, authenticate

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
    context = app_context(request)
    session = current_session(request)
    token: str | None = None
    if session is None:
        purge_expired(context.settings.auth_database, context.policy)  # keeps pre-login sessions from piling up
        token, session = create_session(context.settings.auth_database, None, context.policy)
        request.state.review_session = session
    response = render(request, "login.html", status, next_path=next_path, error=error)
    if token:
        set_session_cookie(context, response, token)
    return response


@public_router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    session = current_session(request)
    if session is not None and session.user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, safe_next(next))


@public_router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=MAX_PASSWORD_LENGTH)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    context = app_context(request)
    target = safe_next(next)
    session = current_session(request)
    try:
        await csrf.verify(request, session)
    except csrf.CsrfRejected:
        request.state.review_session = None  # hand out a fresh pre-login session with the form
        return _login_page(request, target, 403, "The login form expired. Please try again.")
    assert session is not None
    name_key = username.strip().lower()[:100]
    ip = request.client.host if request.client else "unknown"
    wait = context.limiter.retry_after(name_key, ip)
    if wait:
        minutes = max(1, round(wait / 60))
        response = _login_page(
            request, target, 429, f"Too many failed attempts. Try again in about {minutes} minute(s)."
        )
        response.headers["Retry-After"] = str(wait)
        return response
    user = authenticate(context.settings.auth_database, username, password, context.settings.password_hasher())
    if user is None:
        context.limiter.record_failure(name_key, ip)
        return _login_page(request, target, 401, "Wrong user name or password.")
    context.limiter.clear(name_key, ip)
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
