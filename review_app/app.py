"""The FastAPI application: routers, static files, security headers, error pages, journal replay on startup
and in the background while the journal is not empty."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from review_app import authdb, routes_admin, routes_auth, routes_learning, routes_models, routes_review
from review_app.context import AppContext
from review_app.csrf import CsrfRejected
from review_app.deps import LoginRequired, require_user
from review_app.limits import BodyLimitMiddleware
from review_app.rendering import build_templates, render
from review_app.security import SecurityHeadersMiddleware
from review_app.settings import ReviewSettings
from warehouse import WarehouseBusy

logger = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).with_name("static")
PUBLIC_PATHS = frozenset({"/login"})  # everything else needs a logged-in session (see tests)


def _background_replayer(context: AppContext, stop: threading.Event) -> None:
    while not stop.wait(context.settings.replay_interval_s):
        try:
            context.store.try_replay(1.0)
        except Exception:  # never let the thread die; the next request replays too
            logger.exception("background journal replay failed")


def create_app(settings: ReviewSettings | None = None) -> FastAPI:
    settings = settings or ReviewSettings()
    context = AppContext.build(settings, build_templates())
    if context.pseudonymiser is None:
        logger.warning("no pseudonymisation key configured: analysts cannot export cases (set "
                       "LUREWATCH_PSEUDONYM_KEY_FILE, see `lurewatch privacy keygen`)")
    else:
        logger.info("case exports are pseudonymised with key %s", context.pseudonymiser.key_id)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        authdb.initialise(settings.auth_database)
        try:
            context.store.try_replay(settings.decision_lock_timeout_s)
        except Exception:
            logger.exception("journal replay at startup failed")
        stop = threading.Event()
        thread = threading.Thread(
            target=_background_replayer, args=(context, stop), name="journal-replayer", daemon=True
        )
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=5)

    app = FastAPI(
        title="lurewatch review", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan,
        # Starlette's trailing-slash redirect is absolute, built from the Host header (Host: evil.example sent
        # /admin/users/ to http://evil.example/admin/users): off, every redirect of the app is a relative path.
        redirect_slashes=False,
    )
    app.state.context = context
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.cookie_secure)  # outermost: also on 413s
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(routes_auth.public_router)
    protected = [Depends(require_user)]
    app.include_router(routes_auth.router, dependencies=protected)
    app.include_router(routes_review.router, dependencies=protected)
    app.include_router(routes_admin.router, dependencies=protected)
    app.include_router(routes_models.router, dependencies=protected)
    app.include_router(routes_learning.router, dependencies=protected)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if request.method in ("GET", "HEAD"):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        return render(request, "error.html", 401, title="Not logged in", message="Please log in again.")

    @app.exception_handler(CsrfRejected)
    async def csrf_rejected(request: Request, exc: CsrfRejected) -> Response:
        return render(
            request,
            "error.html",
            403,
            title="Request refused",
            message="This form was not sent from this app (or it expired). Go back, reload the page and try again.",
        )

    @app.exception_handler(WarehouseBusy)
    async def warehouse_busy(request: Request, exc: WarehouseBusy) -> Response:
        response = render(
            request,
            "error.html",
            503,
            title="The warehouse is busy",
            message="A crawl, feature extraction or training run is writing to the warehouse right now. "
            "Decisions you made are kept safe in the local journal. Reload in a few seconds.",
        )
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {
            400: "Bad request", 403: "Not allowed", 404: "Not found", 405: "Method not allowed", 503: "Not available"
        }
        response = render(
            request, "error.html", exc.status_code, title=titles.get(exc.status_code, "Error"), message=str(exc.detail)
        )
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        return render(request, "error.html", 400, title="Bad request", message="The request could not be understood.")

    return app
