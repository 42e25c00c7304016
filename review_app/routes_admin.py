"""User management, for administrators only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from review_app.context import app_context
from review_app.deps import flash, require_admin, require_admin_csrf
from review_app.rendering import render
from review_app.sessions import Session
from review_app.users import MAX_PASSWORD_LENGTH, ROLES, UserError, create_user, list_users, set_active

router = APIRouter(prefix="/admin")


@router.get("/users")
def users_page(request: Request, session: Annotated[Session, Depends(require_admin)]) -> Response:
    context = app_context(request)
    return render(request, "users.html", users=list_users(context.settings.auth_database), roles=ROLES)


@router.post("/users")
def add_user(
    request: Request,
    session: Annotated[Session, Depends(require_admin_csrf)],
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=MAX_PASSWORD_LENGTH)] = "",
    role: Annotated[str, Form(max_length=20)] = "analyst",
) -> Response:
    context = app_context(request)
    assert session.user is not None
    try:
        user = create_user(
            context.settings.auth_database,
            username,
            password,
            role,
            created_by=session.user.username,
            hasher=context.settings.password_hasher(),
        )
    except UserError as error:
        flash(context, session, "error", str(error))
    else:
        flash(context, session, "ok", f"Created {user.role} account “{user.username}”.")
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{username}/active")
def change_active(
    request: Request,
    username: str,
    session: Annotated[Session, Depends(require_admin_csrf)],
    active: Annotated[str, Form(max_length=5)] = "0",
) -> Response:
    context = app_context(request)
    assert session.user is not None
    enable = active == "1"
    if username == session.user.username and not enable:
        flash(context, session, "error", "You cannot disable your own account.")
        return RedirectResponse("/admin/users", status_code=303)
    try:
        set_active(context.settings.auth_database, username, enable)
    except UserError as error:
        flash(context, session, "error", str(error))
    else:
        flash(context, session, "ok", f"Account “{username}” {'enabled' if enable else 'disabled'}.")
    return RedirectResponse("/admin/users", status_code=303)
