"""The analyst's pages: the queue, an ad, decisions and undo, case exports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl

import duckdb
from fastapi import APIRouter, Depends, Form, HTTPException, Path
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from pipeline.explain import explain_inputs
from pipeline.model_registry import LoadedModel
from review_app.ad_page import PageLimits, add_reasons, build_page, iter_full_text, reasons_key, workers
from review_app.ad_view import AdDetail, load_ad
from review_app.context import AppContext, app_context
from review_app.decisions import (
    LABEL_TITLES,
    MAX_NOTE_CHARS,
    DecisionError,
    event_status,
    new_cluster_decision,
    new_decision,
    new_undo,
    undecided_cluster_members,
)
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
from review_app.sessions import Session, update_data
from warehouse import WarehouseBusy

router = APIRouter()
UNDO_DEPTH = 50
MAX_CLUSTER_DECISION = 500  # ads one decision may apply to besides the one shown
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
    context: AppContext, con: duckdb.DuckDBPyConnection, ad_id: int, with_reasons: bool = True
) -> tuple[LoadedModel | None, AdDetail]:
    """The champion model and the ad as the analyst sees it (contacts linked with the app's key); 404 if no such ad."""
    model = context.store.champion(con)
    detail = load_ad(con, ad_id, model, explain_top=context.settings.explain_top, pseudonymiser=context.pseudonymiser,
                     with_reasons=with_reasons)
    if detail is None:
        raise HTTPException(status_code=404, detail=f"There is no ad {ad_id}.")
    return model, detail


@router.get("/")
def review_queue(request: Request, session: Annotated[Session, Depends(require_user)]) -> Response:
    context = app_context(request)
    filters = QueueFilters.from_params(request.query_params)
    with context.store.session(context.settings.read_lock_timeout_s) as con:
        model = context.store.champion(con)
        page = (
            queue_page(con, str(model.version), filters, context.settings.page_size, threshold=model.threshold)
            if model else None
        )
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
    """The ad page, bounded (:mod:`review_app.ad_page`): the warehouse session only reads; highlighting and the
    reasons for the score are computed after it, in worker threads with a deadline."""
    context = app_context(request)
    filters = QueueFilters.from_params(request.query_params)
    limits = PageLimits.from_settings(context.settings)
    scope, top = str(context.settings.database), context.settings.explain_top
    with context.store.session(context.settings.read_lock_timeout_s) as con:
        model, detail = _champion_and_ad(context, con, ad_id, with_reasons=False)
        explained = model is not None and detail.score is not None
        key = reasons_key(scope, detail, model, top) if model is not None else None
        # the inputs of the reasons (the whole text again) are read unless a long ad's reasons are cached or computing
        inputs = explain_inputs(con, [ad_id]) if explained and not workers().known(key) else None
        cluster_open = (
            undecided_cluster_members(con, ad_id, MAX_CLUSTER_DECISION)
            if detail.cluster_size > 1 and detail.status == "undecided" else []
        )
        next_id = prev_id = None
        if model is not None and detail.score is not None:
            version = str(model.version)
            next_id = neighbour(con, version, filters, detail.score, ad_id)
            prev_id = neighbour(con, version, filters, detail.score, ad_id, forward=False)
    page = build_page(detail, limits)
    if model is not None and explained and (inputs is None or inputs.rows):
        add_reasons(page, detail, model, inputs, limits, top, scope)
    return render(
        request,
        "ad.html",
        ad=detail,
        page=page,
        limits=limits,
        model=model,
        filters=filters,
        next_id=next_id,
        prev_id=prev_id,
        ad_url=_ad_url,
        queue_url=_queue_url,
        max_note=MAX_NOTE_CHARS,
        cluster_open=cluster_open,
        export_enabled=context.pseudonymiser is not None,
    )


FULL_TEXT_MARKER = Markup("<!--lurewatch:full-text-->")  # only our templates can produce it: ad text is escaped


@router.get("/ads/{ad_id}/text")
def ad_full_text(request: Request, ad_id: AdId, session: Annotated[Session, Depends(require_user)]) -> Response:
    """The whole text of an ad, every evidence span marked, streamed in chunks (each escaped piece by piece): the
    'show full text' link of a page that shows only the start. A client that goes away stops the work."""
    context = app_context(request)
    filters = QueueFilters.from_params(request.query_params)
    with context.store.session(context.settings.read_lock_timeout_s) as con:
        _, detail = _champion_and_ad(context, con, ad_id, with_reasons=False)
    frame = render(request, "ad_text.html", ad=detail, filters=filters, ad_url=_ad_url, marker=FULL_TEXT_MARKER)
    head, _, tail = bytes(frame.body).decode("utf-8").partition(str(FULL_TEXT_MARKER))

    def chunks() -> Iterator[bytes]:
        yield head.encode("utf-8")
        for part in iter_full_text(detail):
            yield str(part).encode("utf-8")
        yield tail.encode("utf-8")

    return StreamingResponse(chunks(), media_type="text/html; charset=utf-8")


def _push_undo(request: Request, session: Session, event_id: str, ad_id: int,
               members: list[list[Any]] | None = None) -> None:
    """Add a decision to the session's undo stack (atomically: parallel decisions of one session all land). A
    cluster decision is one entry: ``[event_id, ad_id, [[member event_id, member ad_id], ...]]``."""
    entry: list[Any] = [event_id, ad_id, members] if members else [event_id, ad_id]

    def push(data: dict[str, Any]) -> None:
        data["undo"] = [*[list(item) for item in data.get("undo", [])][-(UNDO_DEPTH - 1) :], entry]

    update_data(app_context(request).settings.auth_database, session, push)


def _drop_undo(context: AppContext, session: Session, event_id: str) -> None:
    def drop(data: dict[str, Any]) -> None:
        data["undo"] = [item for item in data.get("undo", []) if item[0] != event_id]

    update_data(context.settings.auth_database, session, drop)


def _pop_undo(context: AppContext, session: Session) -> list[Any] | None:
    """Take this session's latest decision off its undo stack (atomically), or None if there is none."""

    def pop(data: dict[str, Any]) -> list[Any] | None:
        stack = [list(item) for item in data.get("undo", [])]
        if not stack:
            return None
        data["undo"] = stack[:-1]
        return stack[-1]

    return update_data(context.settings.auth_database, session, pop)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of a journaled event when the app tried to write it to the warehouse right away."""

    label: str | None  # the label row it wrote; None if not written (yet)
    refused: str | None  # why it can never be written
    next_id: int | None  # the next ad in the queue, if it could be looked up
    also_written: int = 0  # of the ``also`` events (the rest of a cluster decision): how many were written


def _write_now(context: AppContext, event_id: str, ad_id: int, filters: QueueFilters,
               also: tuple[str, ...] = ()) -> Outcome:
    """Give the warehouse a few seconds: the session replays the journal (this event included, in order)."""
    try:
        with context.store.session(context.settings.decision_lock_timeout_s) as con:
            recorded = event_status(con, event_id)
            refused = context.store.last_replay.rejected.get(event_id)
            also_written = sum(1 for other in also if event_status(con, other) is not None)
            model = context.store.champion(con)
            version = str(model.version) if model else ""
            rows = con.execute(
                "SELECT score FROM scores WHERE ad_id = ? AND model_version = ?", [ad_id, version]
            ).fetchall()
            next_id = neighbour(con, version, filters, float(rows[0][0]), ad_id) if model and rows else None
    except WarehouseBusy:
        return Outcome(None, None, None)
    return Outcome(str(recorded["label"]) if recorded else None, refused, next_id, also_written)


def _cluster_ids(raw: str, ad_id: int) -> list[int]:
    """The other ads of the cluster the page said the decision applies to (validated again when written)."""
    ids = [int(part) for part in raw.split(",") if part.strip().isdigit() and len(part.strip()) <= 19]
    return [i for i in dict.fromkeys(ids) if 0 < i < 2**63 and i != ad_id][:MAX_CLUSTER_DECISION]


@router.post("/ads/{ad_id}/decision")
def decide(
    request: Request,
    ad_id: AdId,
    session: Annotated[Session, Depends(require_csrf)],
    label: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=MAX_NOTE_CHARS + 200)] = "",
    filters: Annotated[str, Form(max_length=4000)] = "",
    next_hint: Annotated[str, Form(max_length=20)] = "",
    cluster: Annotated[str, Form(max_length=MAX_CLUSTER_DECISION * 21)] = "",
    just_this: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Journal the decision (fsync), then write it to the warehouse if it can be had within a few seconds.

    ``cluster``: the other undecided ads of the ad's template cluster the page showed (the queue's "+N similar"):
    the same decision is journaled for each, and undone with it; ``just_this`` splits the ad off (only it)."""
    context = app_context(request)
    assert session.user is not None
    queue_filters = _filters_from_form(filters)
    try:
        event = new_decision(ad_id, label, note, session.user.username)
    except DecisionError as error:
        flash(context, session, "error", str(error))
        return RedirectResponse(_ad_url(ad_id, queue_filters), status_code=303)
    # durable before anything else happens; stamped under the journal lock, so times follow the replay order
    context.journal.append(event.to_entry(), timestamp_key="decided_at")
    members = [] if just_this else [new_cluster_decision(event, other) for other in _cluster_ids(cluster, ad_id)]
    for member in members:
        context.journal.append(member.to_entry(), timestamp_key="decided_at")
    _push_undo(request, session, event.event_id, ad_id, [[m.event_id, m.ad_id] for m in members])
    outcome = _write_now(context, event.event_id, ad_id, queue_filters, tuple(m.event_id for m in members))
    title = LABEL_TITLES[label]
    if outcome.refused:
        _drop_undo(context, session, event.event_id)
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
    elif members:
        skipped = len(members) - outcome.also_written
        flash(
            context,
            session,
            "ok",
            f"Ad #{ad_id} and {outcome.also_written} similar "
            f"{'ad' if outcome.also_written == 1 else 'ads'} of its template marked “{title}”"
            + (f" ({skipped} decided meanwhile by someone else, left as they were)" if skipped else "")
            + ". Press z to undo them all.",
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
    latest = _pop_undo(context, session)
    if latest is None:
        flash(context, session, "info", "Nothing to undo in this session.")
        return RedirectResponse(_queue_url(queue_filters), status_code=303)
    target_event_id, ad_id = str(latest[0]), int(latest[1])
    members = [(str(m[0]), int(m[1])) for m in (latest[2] if len(latest) > 2 and latest[2] else [])]
    undos = [new_undo(member_ad, member_event, session.user.username) for member_event, member_ad in members]
    for member_undo in undos:  # the rest of a cluster decision first (one refused: that ad was not decided by it)
        context.journal.append(member_undo.to_entry(), timestamp_key="decided_at")
    event = new_undo(ad_id, target_event_id, session.user.username)
    context.journal.append(event.to_entry(), timestamp_key="decided_at")
    outcome = _write_now(context, event.event_id, ad_id, queue_filters, tuple(u.event_id for u in undos))
    if outcome.refused:
        flash(context, session, "error", f"Ad #{ad_id}: nothing undone ({outcome.refused}).")
    elif outcome.label is None:
        flash(context, session, "warn", f"Undo for ad #{ad_id} is saved in the local journal (warehouse busy).")
    else:
        restored = LABEL_TITLES.get(outcome.label, outcome.label)
        ads = "ad" if outcome.also_written == 1 else "ads"
        also = f" and {outcome.also_written} similar {ads} are" if undos else " is"
        flash(context, session, "ok", f"Undone: ad #{ad_id}{also} back to “{restored}”.")
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
