"""The "teach the model" review mode (:mod:`review_app.learning`): a page beside the queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from lurewatch.settings import get_settings
from review_app.context import app_context
from review_app.deps import require_user
from review_app.learning import decisions_this_week, learning_batch, logit, model_change, quota
from review_app.rendering import render
from review_app.sessions import Session

router = APIRouter()


@router.get("/learn")
def learning_queue(request: Request, session: Annotated[Session, Depends(require_user)]) -> Response:
    context = app_context(request)
    budget = get_settings().review_budget
    share = context.settings.learning_share
    size = quota(budget, share)
    with context.store.session(context.settings.read_lock_timeout_s) as con:
        model = context.store.champion(con)
        items = learning_batch(con, str(model.version), float(model.threshold), size) if model else []
        decided = decisions_this_week(con)
        change = model_change(con)
    return render(
        request, "learn.html", model=model, items=items, budget=budget, share=share, size=size, decided=decided,
        change=change, threshold_logit=logit(model.threshold) if model else 0.0,
    )
