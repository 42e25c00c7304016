"""Templates: a Jinja2 environment with autoescaping forced on, and the helpers the templates use."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from review_app.context import app_context
from review_app.decisions import BUTTON_TITLES, KEYS, LABEL_TITLES, LABELS
from review_app.deps import current_session, pop_flashes
from review_app.i18n import (
    COOKIE,
    COOKIE_MAX_AGE_S,
    LOCALES,
    chosen_by_query,
    gettext_,
    language_name,
    load_all,
    ngettext_,
    request_locale,
    use_locale,
)
from review_app.indicators import catalog, feature_label, gloss, info, phrase_language
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


def percent(probability: float | None) -> str:
    """A calibrated probability as a percentage analysts can compare: two significant digits of the probability
    or of its distance from 100 %, whichever is smaller ("0.54 %", "12 %", "99.87 %", "99.9991 %")."""
    if probability is None:
        return "–"
    value = min(max(float(probability), 0.0), 1.0) * 100.0
    if value <= 0.0 or value >= 100.0:
        return f"{value:.0f} %"
    small = min(value, 100.0 - value)
    decimals = 0
    while decimals < 6 and small < 10 ** (1 - decimals):  # two significant digits of the smaller side
        decimals += 1
    text = f"{value:.{decimals}f}"
    return (text.rstrip("0").rstrip(".") if "." in text else text) + " %"


def lang_url(request: Request, locale: str) -> str:
    """This page in another interface language."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", locale)]
    return request.url.path + "?" + urlencode(params)


def build_templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every {{ }} is HTML-escaped unless it is Markup we built by escaping (highlight.py)
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    load_all()
    env.install_gettext_callables(gettext_, ngettext_, newstyle=True)  # type: ignore[attr-defined]
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
        gloss=gloss,
        phrase_language=phrase_language,
        language_name=language_name,
        locales=LOCALES,
        lang_url=lang_url,
    )
    env.filters["dt"] = fmt_dt
    env.filters["pct"] = percent
    return Jinja2Templates(env=env)


def render(request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    context = app_context(request)
    session = current_session(request)
    locale = request_locale(request)
    page: dict[str, Any] = {
        "user": session.user if session else None,
        "csrf_token": session.csrf_token if session else getattr(request.state, "login_csrf", ""),
        "flashes": pop_flashes(context, session),
        "journal_pending": context.journal.has_pending(),
        "locale": locale,
        **values,
    }
    with use_locale(locale):  # the page is rendered here, in this thread: _() sees the request's language
        response = context.templates.TemplateResponse(request, template, page, status_code=status_code)
    chosen = chosen_by_query(request)
    if chosen is not None:
        response.set_cookie(COOKIE, chosen, max_age=COOKIE_MAX_AGE_S, httponly=True, samesite="lax",
                            secure=context.settings.cookie_secure)
    return response
