"""The model registry and the model report (:mod:`pipeline.model_report`), for administrators only.

``/admin/models`` lists the registered models; ``/admin/models/report`` is the report of the champion and
``/admin/models/{version}/report`` that of any version. A report scores the evaluation rows (a few seconds): the
features of those rows are extracted outside the warehouse session, and a page is kept until the champion, the
labels or the registry change.
"""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from lurewatch.settings import get_settings
from pipeline.model_registry import champion_version, list_models
from review_app.context import app_context
from review_app.deps import require_admin
from review_app.rendering import render
from review_app.sessions import Session

router = APIRouter(prefix="/admin/models")
STYLESHEET = "/admin/models/report.css"
Version = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")]

_cache_lock = threading.Lock()
_cache: dict[tuple[str, ...], str] = {}
_build_lock = threading.Lock()  # one report computed at a time per app process (each takes a core for seconds)


@router.get("")
def models_page(request: Request, session: Annotated[Session, Depends(require_admin)]) -> Response:
    context = app_context(request)
    with context.store.session(context.settings.read_lock_timeout_s) as con:
        rows = list_models(con)
    rows.reverse()  # newest first
    grouped = {r.version: r.metrics.get("cv", {}).get("grouped", {}).get("overall", {}).get("pr_auc") for r in rows}
    return render(request, "models.html", models=rows, grouped=grouped)


@router.get("/report.css")
def report_css(session: Annotated[Session, Depends(require_admin)]) -> Response:
    from pipeline.model_report import CSS

    return Response(CSS, media_type="text/css; charset=utf-8")


@router.get("/report")
def champion_report(request: Request, session: Annotated[Session, Depends(require_admin)]) -> Response:
    context = app_context(request)
    with context.store.session(context.settings.read_lock_timeout_s) as con:
        version = champion_version(con)
    if version is None:
        raise HTTPException(status_code=404, detail="There is no champion model yet.")
    return _report(request, version)


@router.get("/{version}/report")
def version_report(request: Request, version: Version, session: Annotated[Session, Depends(require_admin)]) -> Response:
    return _report(request, version)


def _report(request: Request, version: str) -> Response:
    from features import FeatureExtractor
    from pipeline.model_report import build_report, render_html, report_evaluation_set
    from pipeline.train import ensure_cross_ad, ensure_vectors

    context = app_context(request)
    timeout = context.settings.read_lock_timeout_s
    with _build_lock:
        with context.store.session(timeout) as con:
            if version not in {r.version for r in list_models(con)}:
                raise HTTPException(status_code=404, detail="There is no model with that version.")
            state = con.execute(
                "SELECT (SELECT coalesce(max(label_id), 0) FROM labels), (SELECT count(*) FROM models), "
                "(SELECT coalesce(max(version), '') FROM models WHERE status = 'champion'), "
                "(SELECT count(*) FROM scores)"
            ).fetchall()[0]
            key = (str(context.settings.database), version, *(str(v) for v in state))
            with _cache_lock:
                cached = _cache.get(key)
            if cached is not None:
                return HTMLResponse(cached)
            evaluation = report_evaluation_set(con, get_settings().emscad_train_csv)
        extractor = FeatureExtractor()
        ensure_vectors(evaluation.examples, extractor)  # the slow part, with the warehouse free for others
        ensure_cross_ad(evaluation.examples)
        with context.store.session(timeout) as con:
            try:
                report = build_report(con, version, evaluation, extractor)
            except (LookupError, ValueError) as error:
                raise HTTPException(status_code=404, detail=str(error)) from error
        page = render_html(report, stylesheet=STYLESHEET)
        with _cache_lock:
            _cache.clear()  # one page per app is enough to keep
            _cache[key] = page
    return HTMLResponse(page)
