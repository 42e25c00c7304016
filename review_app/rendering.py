"""Templates: a Jinja2 environment with autoescaping forced on, and the helpers the templates use."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from review_app.context import app_context
from review_app.decisions import BUTTON_TITLES, KEYS, LABEL_TITLES, LABELS
from review_app.deps import current_session, pop_flashes
from review_app.indicators import catalog, feature_label, info
from review_app.queue import STATUSES

TEMPLATES_DIR = Path(__file__).with_name("templates")
STATUS_TITLES = {"undecided": "Awaiting review", "all": "All ads", **LABEL_TITLES}


def http_url(url: str | None) -> str | None:
    """The URL if it is a plain http(s) URL that may become a link; None for anything else (javascript:, data:, ...)."""
    if not url or any(ord(ch) < 33 or ch in "\"'<>\\`" for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def fmt_dt(value: datetime | date | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def score_band(score: float | None) -> str:
    if score is None:
        return "none"
    if score >= 0.8:
        return "high"
    if score >= 0.5:
        return "mid"
    return "low"


def build_templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every {{ }} is HTML-escaped unless it is Markup we built by escaping (highlight.py)
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        indicator_info=info,
        indicator_catalog=catalog,
        feature_label=feature_label,
        http_url=http_url,
        label_titles=LABEL_TITLES,
        status_titles=STATUS_TITLES,
        statuses=STATUSES,
        labels=LABELS,
        label_keys=KEYS,
        button_titles=BUTTON_TITLES,
        score_band=score_band,
    )
    env.filters["dt"] = fmt_dt
    return Jinja2Templates(env=env)


def render(request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    context = app_context(request)
    session = current_session(request)
    page: dict[str, Any] = {
        "user": session.user if session else None,
        "csrf_token": session.csrf_token if session else "",
        "flashes": pop_flashes(context, session),
        "journal_pending": context.journal.has_pending(),
        **values,
    }
    return context.templates.TemplateResponse(request, template, page, status_code=status_code)
