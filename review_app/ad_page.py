"""What the ad page renders of one ad, bounded so that one huge ad cannot take the app down (issue 12).

- The text is shown up to ``page_text_chars`` characters (cut at a space), with at most ``page_max_highlights``
  evidence spans marked, and says so ("Showing 500 of 24,264 highlights"); the whole text, every span marked, is
  one click away (``GET /ads/{id}/text``, streamed in chunks and escaped piece by piece).
- Highlighting runs in a small pool of worker threads with a deadline (``page_deadline_s``): past it the worker is
  told to stop and the page shows the text escaped, without highlights, and says why.
- The reasons for the score (exact contributions over the whole text: about a second for a 1 MB ad) are computed in
  the same pool from inputs read in the warehouse session, outside it. The page waits for them up to
  ``page_deadline_s`` for an ad shown in full; for an ad whose text is cut only ``page_long_ad_wait_s``, and then says
  they are being computed: they go on and are cached per ad, content and model, so the next view shows them.
- Contacts, linked ads and the decision history show at most ``page_list_rows`` rows each, with their total.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Generic, TypeVar

from markupsafe import Markup, escape

from pipeline.explain import ExplainInputs, explain_from
from pipeline.model_registry import LoadedModel
from review_app.ad_view import AdDetail, ReasonView, reason_view
from review_app.highlight import Span, cut_point, first_spans, highlight, iter_highlight
from review_app.settings import ReviewSettings

logger = logging.getLogger(__name__)
T = TypeVar("T")

WORKERS = 2  # threads for slow page work, shared by every request of the process
MAX_PENDING = 8  # explanations computing or queued at once; more are not started (the page says so)
CACHE_SIZE = 128  # explanations kept
NEGATIVE_REASONS = 5  # reasons that pull the score down, shown besides the top reasons (issue 14)


@dataclass(frozen=True, slots=True)
class PageLimits:
    text_chars: int = 20_000
    highlights: int = 500
    list_rows: int = 50
    deadline_s: float = 5.0
    long_ad_wait_s: float = 0.15

    @classmethod
    def from_settings(cls, settings: ReviewSettings) -> PageLimits:
        return cls(settings.page_text_chars, settings.page_max_highlights, settings.page_list_rows,
                   settings.page_deadline_s, settings.page_long_ad_wait_s)


@dataclass(slots=True)
class Outcome(Generic[T]):
    value: T | None
    finished: bool  # False: the deadline passed (the work was told to stop, or goes on for the cache)


class PageWorkers:
    """A bounded thread pool for slow page work with a deadline, and a cache of explanations computed in it."""

    def __init__(self, workers: int = WORKERS, cache_size: int = CACHE_SIZE, max_pending: int = MAX_PENDING) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="review-page")
        self._lock = threading.Lock()
        self._cache: OrderedDict[Hashable, object] = OrderedDict()
        self._pending: dict[Hashable, Future[object]] = {}
        self._cache_size = cache_size
        self._max_pending = max_pending

    def run(self, work: Callable[[threading.Event], T], deadline_s: float) -> Outcome[T]:
        """``work(cancel)`` in the pool; after ``deadline_s`` the event is set (work should stop soon) and the
        outcome is unfinished."""
        cancel = threading.Event()
        future = self._pool.submit(work, cancel)
        try:
            return Outcome(future.result(timeout=deadline_s), True)
        except FutureTimeout:
            cancel.set()
            future.cancel()  # not started yet: it never will
            return Outcome(None, False)

    def known(self, key: Hashable) -> bool:
        """Whether ``key`` is cached or being computed (then :meth:`cached` needs no ``work``)."""
        with self._lock:
            return key in self._cache or key in self._pending

    def cached(self, key: Hashable, work: Callable[[], T] | None, wait_s: float) -> Outcome[T]:
        """The cached value of ``key``, else ``work()`` in the pool (one at a time per key), waited for up to
        ``wait_s``; if it takes longer it goes on and its value is cached for the next call."""
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return Outcome(self._cache[key], True)  # type: ignore[arg-type]
            future = self._pending.get(key)
            if future is None:
                if work is None or len(self._pending) >= self._max_pending:
                    return Outcome(None, False)
                future = self._pool.submit(work)
                self._pending[key] = future
                future.add_done_callback(lambda done: self._store(key, done))
        try:
            return Outcome(future.result(timeout=wait_s), True)  # type: ignore[arg-type]
        except FutureTimeout:
            return Outcome(None, False)

    def _store(self, key: Hashable, future: Future[object]) -> None:
        with self._lock:
            self._pending.pop(key, None)
            if future.cancelled() or future.exception() is not None:
                if not future.cancelled():
                    logger.error("page work failed", exc_info=future.exception())
                return
            self._cache[key] = future.result()
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)


_workers: PageWorkers | None = None
_workers_lock = threading.Lock()


def workers() -> PageWorkers:
    """The process's page workers (created on first use)."""
    global _workers
    with _workers_lock:
        if _workers is None:
            _workers = PageWorkers()
        return _workers


@dataclass(slots=True)
class AdPage:
    """The bounded view of an ad for ``ad.html``."""

    text_html: Markup
    shown_chars: int
    total_chars: int
    shown_highlights: int
    total_highlights: int
    highlights_timed_out: bool = False
    reasons_note: str = ""
    list_rows: int = 50

    @property
    def text_cut(self) -> bool:
        return self.shown_chars < self.total_chars

    @property
    def highlights_capped(self) -> bool:
        return self.shown_highlights < self.total_highlights


def valid_spans(spans: list[Span], length: int) -> int:
    """Spans that mark at least one character of a text of ``length`` characters."""
    return sum(1 for s in spans if s.start < s.end and s.start < length and s.end > 0)


def build_page(detail: AdDetail, limits: PageLimits, pool: PageWorkers | None = None) -> AdPage:
    """The text window with its first highlights, computed in the pool with the deadline."""
    pool = pool or workers()
    text = detail.text
    spans = detail.spans()
    total = valid_spans(spans, len(text))
    hi = cut_point(text, limits.text_chars)
    shown, _ = first_spans(spans, 0, hi, limits.highlights)
    outcome = pool.run(lambda cancel: highlight(text, shown, 0, hi, cancel=cancel), limits.deadline_s)
    html = outcome.value if outcome.finished and outcome.value is not None else escape(text[:hi])
    return AdPage(
        text_html=Markup(html),
        shown_chars=hi,
        total_chars=len(text),
        shown_highlights=len(shown) if outcome.finished else 0,
        total_highlights=total,
        highlights_timed_out=not outcome.finished,
        list_rows=limits.list_rows,
    )


def reasons_key(cache_scope: str, detail: AdDetail, model: LoadedModel, top: int) -> Hashable:
    """What an explanation depends on: the warehouse, the ad and its content, the model, how many reasons."""
    return (cache_scope, detail.ad_id, model.version, detail.content_hash, top)


def add_reasons(
    page: AdPage,
    detail: AdDetail,
    model: LoadedModel,
    inputs: ExplainInputs | None,
    limits: PageLimits,
    top: int,
    cache_scope: str,
    pool: PageWorkers | None = None,
) -> None:
    """Fill ``detail.reasons`` from the cache or the pool, waiting as :class:`PageLimits` says. ``inputs`` may be
    None when :meth:`PageWorkers.known` said the reasons are cached or being computed."""
    pool = pool or workers()
    work: Callable[[], list[ReasonView]] | None = None
    if inputs is not None:
        read = inputs

        def compute() -> list[ReasonView]:
            explained = explain_from(model, read, top, bottom=NEGATIVE_REASONS).get(detail.ad_id, [])
            return [reason_view(reason, detail.feature_values) for reason in explained]

        work = compute
    outcome: Outcome[list[ReasonView]]
    if page.text_cut or work is None:  # a long ad: cached (cross-ad features may move on, its text and model not)
        outcome = pool.cached(reasons_key(cache_scope, detail, model, top), work, limits.long_ad_wait_s)
    else:  # an ad shown in full: computed afresh, as before, in the pool with the deadline
        fresh = work
        outcome = pool.run(lambda cancel: fresh(), limits.deadline_s)
    if outcome.finished and outcome.value is not None:
        detail.reasons = outcome.value
    else:
        page.reasons_note = "The reasons for this score are still being computed: reload the page in a few seconds."


def iter_full_text(detail: AdDetail, chunk_chars: int = 65_536) -> Iterator[Markup]:
    """The whole text, every span marked, in chunks (for a streamed response)."""
    return iter_highlight(detail.text, detail.spans(), chunk_chars=chunk_chars)
