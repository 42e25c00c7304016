"""CSRF protection for every state-changing request: a per-session synchronizer token that must come back in
the form (or the ``X-CSRF-Token`` header), plus a same-origin check on the Origin and Sec-Fetch-Site headers.
SameSite=Strict session cookies are a third, independent layer."""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from starlette.requests import Request

from review_app.sessions import Session

FORM_FIELD = "csrf_token"
HEADER = "X-CSRF-Token"


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
