"""The analyst's pages: the queue, an ad, decisions and undo, case exports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl

import duckdb
from fastapi import APIRouter, Depends, Form, HTTPException, Path
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from pipeline.model_registry import LoadedModel
from review_app.ad_view import AdDetail, load_ad
from review_app.context import AppContext, app_context
from review_app.decisions import LABEL_TITLES, MAX_NOTE_CHARS, DecisionError, event_status, new_decision, new_undo
from review_app.deps import flash, require_admin_csrf, require_csrf, require_user
from review_app.export import (
    FORMATS,
    MAX_REASON_CHARS,
    analyst_case,
    build_case,
    clean_reason,
    record_export,
    referral_case,
    render_case,
)
from review_app.queue import QueueFilters, filter_choices, neighbour, queue_page
from review_app.rendering import render
from review_app.sessions import Session, save_data
from warehouse import WarehouseBusy

router = APIRouter()
UNDO_DEPTH = 50
AdId = Annotated[int, Path(ge=1, le=2**63 - 1)]  # a BIGINT: anything else is a 400, not a database error


def _ad_url(ad_id: int, filters: QueueFilters) -> str:
    query = filters.query(with_page=False)
    return f"/ads/{ad_id}" + (f"?{query}" if query else "")


def _queue_url(filters: QueueFilters, page: int | None = None) -> str:
    query = filters.query(page=page)
    return "/" + (f"?{query}" if query else "")


def _filters_from_form(raw: str) -> QueueFilters:
    return QueueFilters.from_params(dict(parse_qsl(raw[:4000])))


def _champion_and_ad(
    context: AppContext, con: duckdb.DuckDBPyConnection, ad_id: int
) -> tuple[LoadedModel | None, AdDetail]:
    """The champion model and the ad as the analyst sees it (contacts linked with the app's key); 404 if no such ad."""
    model = context.store.champion(con)
    detail = load_ad(con, ad_id, model, explain_top=context.settings.explain_top, pseudonymiser=context.pseudonymiser)
    if detail is None:
        raise HTTPException(status_code=404, detail=f"There is no ad {ad_id}.")
    return model, detail


@router.get("/")
def review_queue(request: Request, session: Annotated[Session, Depends(require_user)]) -> Response:
    context = app_context(request)
    filters = QueueFilters.from_params(request.query_params)
    with context.store.session(context.settings.read_lock_timeout_s) as con:
        model = context.store.champion(con)
        page = queue_page(con, str(model.version), filters, context.settings.page_size) if model else None
        choices = filter_choices(con)
    return render(
        request,
        "queue.html",
        filters=filters,
        page=page,
        model=model,
        choices=choices,
        ad_url=_ad_url,
        queue_url=_queue_url,
    )


@router.get("/ads/{ad_id}")
def ad_page(request: Request, ad_id: AdId, session: Annotated[Session, Depends(require_user)]) -> Response:
    context = app_context(request)
    filters = QueueFilters.from_params(request.query_params)
    with context.store.session(context.settings.read_lock_timeout_s) as con:
        model, detail = _champion_and_ad(context, con, ad_id)
        next_id = prev_id = None
        if model is not None and detail.score is not None:
            version = str(model.version)
            next_id = neighbour(con, version, filters, detail.score, ad_id)
            prev_id = neighbour(con, version, filters, detail.score, ad_id, forward=False)
    return render(
        request,
        "ad.html",
        ad=detail,
        model=model,
        filters=filters,
        next_id=next_id,
        prev_id=prev_id,
        ad_url=_ad_url,
        queue_url=_queue_url,
        max_note=MAX_NOTE_CHARS,
    )


def _push_undo(request: Request, session: Session, event_id: str, ad_id: int) -> None:
    stack = [list(item) for item in session.data.get("undo", [])][-(UNDO_DEPTH - 1) :]
    stack.append([event_id, ad_id])
    session.data["undo"] = stack
    save_data(app_context(request).settings.auth_database, session)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of a journaled event when the app tried to write it to the warehouse right away."""

    label: str | None  # the label row it wrote; None if not written (yet)
    refused: str | None  # why it can never be written
    next_id: int | None  # the next ad in the queue, if it could be looked up


def _write_now(context: AppContext, event_id: str, ad_id: int, filters: QueueFilters) -> Outcome:
    """Give the warehouse a few seconds: the session replays the journal (this event included, in order)."""
    try:
        with context.store.session(context.settings.decision_lock_timeout_s) as con:
            recorded = event_status(con, event_id)
            refused = context.store.last_replay.rejected.get(event_id)
            model = context.store.champion(con)
            version = str(model.version) if model else ""
            rows = con.execute(
                "SELECT score FROM scores WHERE ad_id = ? AND model_version = ?", [ad_id, version]
            ).fetchall()
            next_id = neighbour(con, version, filters, float(rows[0][0]), ad_id) if model and rows else None
    except WarehouseBusy:
        return Outcome(None, None, None)
    return Outcome(str(recorded["label"]) if recorded else None, refused, next_id)


@router.post("/ads/{ad_id}/decision")
def decide(
    request: Request,
    ad_id: AdId,
    session: Annotated[Session, Depends(require_csrf)],
    label: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=MAX_NOTE_CHARS + 200)] = "",
    filters: Annotated[str, Form(max_length=4000)] = "",
    next_hint: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Journal the decision (fsync), then write it to the warehouse if it can be had within a few seconds."""
    context = app_context(request)
    assert session.user is not None
    queue_filters = _filters_from_form(filters)
    try:
        event = new_decision(ad_id, label, note, session.user.username)
    except DecisionError as error:
        flash(context, session, "error", str(error))
        return RedirectResponse(_ad_url(ad_id, queue_filters), status_code=303)
    context.journal.append(event.to_entry())  # durable before anything else happens
    _push_undo(request, session, event.event_id, ad_id)
    outcome = _write_now(context, event.event_id, ad_id, queue_filters)
    title = LABEL_TITLES[label]
    if outcome.refused:
        session.data["undo"] = [item for item in session.data.get("undo", []) if item[0] != event.event_id]
        flash(context, session, "error", f"Ad #{ad_id}: the decision could not be recorded ({outcome.refused}).")
        return RedirectResponse(_queue_url(queue_filters.first_page()), status_code=303)
    if outcome.label is None:
        flash(
            context,
            session,
            "warn",
            f"Ad #{ad_id}: “{title}” is saved in the local journal. The warehouse is busy (a crawl or training "
            "run is writing); it will be written there as soon as it is free.",
        )
    else:
        flash(context, session, "ok", f"Ad #{ad_id} marked “{title}”. Press z to undo.")
    next_id = outcome.next_id if outcome.label else (int(next_hint) if next_hint.isdigit() else None)
    if next_id is None:
        return RedirectResponse(_queue_url(queue_filters.first_page()), status_code=303)
    return RedirectResponse(_ad_url(next_id, queue_filters), status_code=303)


@router.post("/undo")
def undo(
    request: Request,
    session: Annotated[Session, Depends(require_csrf)],
    filters: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Undo this session's latest decision: journal an undo event that restores the value it replaced."""
    context = app_context(request)
    assert session.user is not None
    queue_filters = _filters_from_form(filters)
    stack = [list(item) for item in session.data.get("undo", [])]
    if not stack:
        flash(context, session, "info", "Nothing to undo in this session.")
        return RedirectResponse(_queue_url(queue_filters), status_code=303)
    target_event_id, ad_id = str(stack[-1][0]), int(stack[-1][1])
    session.data["undo"] = stack[:-1]
    save_data(context.settings.auth_database, session)
    event = new_undo(ad_id, target_event_id, session.user.username)
    context.journal.append(event.to_entry())
    outcome = _write_now(context, event.event_id, ad_id, queue_filters)
    if outcome.refused:
        flash(context, session, "error", f"Ad #{ad_id}: nothing undone ({outcome.refused}).")
    elif outcome.label is None:
        flash(context, session, "warn", f"Undo for ad #{ad_id} is saved in the local journal (warehouse busy).")
    else:
        restored = LABEL_TITLES.get(outcome.label, outcome.label)
        flash(context, session, "ok", f"Undone: ad #{ad_id} is back to “{restored}”.")
    return RedirectResponse(_ad_url(ad_id, queue_filters), status_code=303)


def _case(context: AppContext, ad_id: int, username: str, make: Callable[[dict[str, Any]], dict[str, Any]],
          fmt: str) -> Response:
    """Build the case, turn it into what may leave the app (``make``), log the export, return the download."""
    if fmt not in FORMATS:
        raise HTTPException(status_code=404, detail="Exports are CSV or JSON.")
    with context.store.session(context.settings.read_lock_timeout_s) as con:
        _, detail = _champion_and_ad(context, con, ad_id)
        case = make(build_case(detail, username))
        record_export(con, case, fmt, username)
    body, media_type = render_case(case, fmt)
    suffix = "" if case["case"].get("pseudonymised") else "-referral"
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="lurewatch-case-{ad_id}{suffix}.{fmt}"'},
    )


@router.get("/ads/{ad_id}/export.{fmt}")
def export_case(
    request: Request, ad_id: AdId, fmt: str, session: Annotated[Session, Depends(require_user)]
) -> Response:
    """The analyst export: contacts pseudonymised (see :mod:`review_app.export`). Without a configured key there
    is no export at all rather than one in clear."""
    context = app_context(request)
    assert session.user is not None
    pseudonymiser = context.pseudonymiser
    if pseudonymiser is None:
        raise HTTPException(
            status_code=503,
            detail="Case exports leave the app with pseudonymised contacts, and no pseudonymisation key is "
            "configured. Ask the operator to set LUREWATCH_PSEUDONYM_KEY_FILE (see `lurewatch privacy keygen`).",
        )
    return _case(context, ad_id, session.user.username, lambda case: analyst_case(case, pseudonymiser), fmt)


@router.post("/ads/{ad_id}/referral.{fmt}")
def referral_export(
    request: Request,
    ad_id: AdId,
    fmt: str,
    session: Annotated[Session, Depends(require_admin_csrf)],
    reason: Annotated[str, Form(max_length=MAX_REASON_CHARS * 4)] = "",
) -> Response:
    """The referral export, contacts in clear: administrators only, with a reason that is logged with it."""
    context = app_context(request)
    assert session.user is not None
    try:
        why = clean_reason(reason)
    except ValueError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    return _case(context, ad_id, session.user.username, lambda case: referral_case(case, why), fmt)
