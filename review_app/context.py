"""What every request handler needs, built once per app: settings, stores, templates."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.templating import Jinja2Templates
from starlette.requests import Request

from review_app.journal import DecisionJournal
from review_app.ratelimit import LoginLimiter
from review_app.sessions import SessionPolicy
from review_app.settings import ReviewSettings
from review_app.store import ReviewWarehouse
from warehouse.pseudonymise import Pseudonymiser


@dataclass(frozen=True, slots=True)
class AppContext:
    settings: ReviewSettings
    policy: SessionPolicy
    journal: DecisionJournal
    store: ReviewWarehouse
    limiter: LoginLimiter
    templates: Jinja2Templates
    pseudonymiser: Pseudonymiser | None  # None: no key configured, so analysts cannot export cases

    @classmethod
    def build(cls, settings: ReviewSettings, templates: Jinja2Templates) -> AppContext:
        journal = DecisionJournal(settings.journal)
        return cls(
            settings=settings,
            policy=SessionPolicy(
                max_age_s=settings.session_max_age_minutes * 60.0,
                idle_s=settings.session_idle_minutes * 60.0,
                anonymous_s=settings.login_session_minutes * 60.0,
            ),
            journal=journal,
            store=ReviewWarehouse(settings.database, journal),
            limiter=LoginLimiter(
                settings.auth_database,
                settings.login_max_failures,
                settings.login_failure_window_minutes * 60.0,
                settings.login_max_failures_per_ip,
            ),
            templates=templates,
            pseudonymiser=settings.pseudonymiser(),
        )


def app_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context
