"""Request dependencies: the session behind the cookie, login and role requirements, CSRF, flash messages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException
from starlette.requests import Request

from review_app import csrf
from review_app.context import AppContext, app_context
from review_app.sessions import Session, load_session, update_data


class LoginRequired(Exception):
    """No live, logged-in session: pages redirect to the login form, other requests get 401."""


def current_session(request: Request) -> Session | None:
    """The live session behind the cookie (loaded once per request), or None."""
    try:
        cached: Session | None = request.state.review_session
        return cached
    except AttributeError:
        pass
    context = app_context(request)
    token = request.cookies.get(context.settings.session_cookie_name)
    if csrf.is_login_cookie(token):  # a signed pre-login cookie: no session behind it
        token = None
    session = load_session(context.settings.auth_database, token, context.policy)
    request.state.review_session = session
    return session


def require_user(request: Request) -> Session:
    session = current_session(request)
    if session is None or session.user is None:
        raise LoginRequired()
    return session


def require_admin(session: Annotated[Session, Depends(require_user)]) -> Session:
    if session.user is None or not session.user.is_admin:
        raise HTTPException(status_code=403, detail="This page is for administrators.")
    return session


async def require_csrf(request: Request, session: Annotated[Session, Depends(require_user)]) -> Session:
    await csrf.verify(request, session)
    return session


async def require_admin_csrf(request: Request, session: Annotated[Session, Depends(require_admin)]) -> Session:
    await csrf.verify(request, session)
    return session


def flash(context: AppContext, session: Session, level: str, text: str) -> None:
    """A message shown once on the next page (level: ok | info | warn | error)."""

    def add(data: dict[str, Any]) -> None:
        data["flash"] = [*list(data.get("flash", []))[-4:], [level, text]]

    update_data(context.settings.auth_database, session, add)


def pop_flashes(context: AppContext, session: Session | None) -> list[tuple[str, str]]:
    if session is None or not session.data.get("flash"):
        return []
    popped = update_data(context.settings.auth_database, session, lambda data: data.pop("flash", []))
    return [(str(level), str(text)) for level, text in popped]
