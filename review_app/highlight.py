"""Ad text as HTML with evidence spans marked, built so that ad text can never become markup.

The text is cut at every span boundary; each piece is escaped on its own and, if any span covers it, wrapped in
one ``<mark>`` whose classes and attributes come only from our indicator catalogue (escaped as well). Spans may
overlap or nest, lie partly outside the text or be empty: pieces covered by several spans carry all of them, in
the order they became active.

The work is linear in the length of the text plus the number of spans (plus one sort of the span boundaries): one
sweep over the boundaries keeps the active indicators with a count each, and the opening tag is rebuilt only when
the set of active indicators changes (issue 12: the earlier version compared every piece with every span, 12 s for
16,000 spans). :func:`iter_highlight` yields the HTML in chunks (to stream a long text) and stops when asked to.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from markupsafe import Markup, escape

from review_app.indicators import CONTACT_CLASS, gloss, info

ELLIPSIS = "…"
SEARCH_SPAN = "search"  # a span marking what the analyst searched for (queue snippets)
CANCEL_CHECK_EVERY = 256  # pieces between two looks at the cancel event


class HighlightCancelled(Exception):
    """The caller gave up waiting (see :func:`iter_highlight`'s ``cancel``)."""


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    indicator: str  # a lure indicator id, or "contact:<kind>" for an extracted contact


def spans_from_evidence(evidence: Iterable[dict[str, object]]) -> list[Span]:
    spans: list[Span] = []
    for item in evidence:
        start, end = item.get("start"), item.get("end")
        if type(start) is not int or type(end) is not int:  # the stored JSON has ints: the rest is the slow path
            try:
                start, end = int(str(item["start"])), int(str(item["end"]))
            except (KeyError, TypeError, ValueError):
                continue
        spans.append(Span(start, end, str(item.get("indicator", ""))))
    return spans


def _clip(spans: Sequence[Span], lo: int, hi: int) -> list[Span]:
    clipped = [
        Span(max(s.start, lo), min(s.end, hi), s.indicator) for s in spans if max(s.start, lo) < min(s.end, hi)
    ]
    return sorted(clipped, key=lambda s: (s.start, -s.end, s.indicator))


@lru_cache(maxsize=4096)
def _open_tag(active: tuple[str, ...]) -> str:
    """The ``<mark ...>`` for a piece covered by these (distinct) indicators and ``contact:<kind>`` ids."""
    indicators = [i for i in active if not i.startswith("contact:") and i != SEARCH_SPAN]
    contacts = [i.removeprefix("contact:") for i in active if i.startswith("contact:")]
    classes = ["hl"]
    if indicators:
        classes.append(info(indicators[0]).css_class)
    if len(indicators) > 1:
        classes.append("hl-multi")
    if contacts:
        classes.append(CONTACT_CLASS)
    if SEARCH_SPAN in active:
        classes.append("hl-search")
    titles = [gloss(i) for i in indicators] + [f"Contact: {c}" for c in contacts]
    if SEARCH_SPAN in active:
        titles.append("Matches your search")
    return str(
        Markup('<mark class="{}" data-indicators="{}" title="{}">').format(
            " ".join(classes), " ".join(indicators), "\n".join(titles)  # one line each (glosses may hold ";")
        )
    )


def iter_highlight(
    text: str,
    spans: Sequence[Span],
    lo: int = 0,
    hi: int | None = None,
    *,
    chunk_chars: int = 0,
    cancel: threading.Event | None = None,
) -> Iterator[Markup]:
    """HTML for ``text[lo:hi]`` with every span that overlaps the window marked, in pieces of about
    ``chunk_chars`` characters of text (0: one piece). Raises :class:`HighlightCancelled` soon after ``cancel``
    is set."""
    hi = len(text) if hi is None else max(0, min(hi, len(text)))
    lo = max(0, min(lo, hi))
    opens = _clip(spans, lo, hi)
    closes = sorted(opens, key=lambda s: s.end)
    cuts_set = {lo, hi}
    for s in opens:
        cuts_set.add(s.start)
        cuts_set.add(s.end)
    if chunk_chars > 0:
        cuts_set.update(range(lo + chunk_chars, hi, chunk_chars))
    cuts = sorted(cuts_set)
    active: dict[str, int] = {}  # indicator -> spans of it covering the current piece, in activation order
    tag = ""
    i = j = 0
    parts: list[str] = []
    next_chunk = lo + chunk_chars
    for n, (start, end) in enumerate(pairwise(cuts)):
        if cancel is not None and n % CANCEL_CHECK_EVERY == 0 and cancel.is_set():
            raise HighlightCancelled
        changed = False
        while j < len(closes) and closes[j].end <= start:
            name = closes[j].indicator
            if active[name] == 1:
                del active[name]
                changed = True
            else:
                active[name] -= 1
            j += 1
        while i < len(opens) and opens[i].start <= start:
            name = opens[i].indicator
            if name in active:
                active[name] += 1
            else:
                active[name] = 1
                changed = True
            i += 1
        if changed:
            tag = _open_tag(tuple(active)) if active else ""
        piece = escape(text[start:end])
        parts.append(f"{tag}{piece}</mark>" if tag else piece)
        if chunk_chars > 0 and end >= next_chunk:
            yield Markup("".join(parts))
            parts = []
            next_chunk = end + chunk_chars
    if parts or chunk_chars <= 0:
        yield Markup("".join(parts))


def highlight(text: str, spans: Sequence[Span], lo: int = 0, hi: int | None = None,
              cancel: threading.Event | None = None) -> Markup:
    """HTML for ``text[lo:hi]`` with every span that overlaps the window marked (each piece escaped)."""
    return Markup("").join(iter_highlight(text, spans, lo, hi, cancel=cancel))


def first_spans(spans: Sequence[Span], lo: int, hi: int, limit: int) -> tuple[list[Span], int]:
    """The first ``limit`` spans (by position) that overlap ``text[lo:hi]``, and how many overlap it in all."""
    live = _clip(spans, lo, hi)
    return live[: max(limit, 0)], len(live)


def cut_point(text: str, limit: int, slack: int = 200) -> int:
    """Where to stop showing ``text`` on a page: its end if it has at most ``limit`` characters, else at the last
    whitespace within ``slack`` characters before ``limit`` (else at ``limit``)."""
    if len(text) <= limit:
        return len(text)
    space = max(text.rfind(" ", max(limit - slack, 0), limit), text.rfind("\n", max(limit - slack, 0), limit))
    return space + 1 if space > 0 else limit


def snippet(text: str, spans: Sequence[Span], width: int = 220, focus: str | None = None,
            anchor: int | None = None) -> Markup:
    """A window of about ``width`` characters around ``anchor`` (where a search matched), else around ``focus`` (a
    searched phrase) if the text contains it, else around the first lure span (or the start), highlighted."""
    if len(text) <= width:
        return highlight(text, spans)
    lure_starts = [
        max(s.start, 0) for s in spans
        if not s.indicator.startswith("contact:") and max(s.start, 0) < min(s.end, len(text))
    ]
    found = text.casefold().find(focus.casefold()) if focus else -1
    if anchor is None or not 0 <= anchor < len(text):
        anchor = found if found >= 0 else min(lure_starts, default=0)
    lo = max(0, anchor - width // 3)
    hi = min(len(text), lo + width)
    lo = max(0, hi - width)
    if lo > 0:  # start at a word boundary rather than mid-word
        space = text.find(" ", lo, min(lo + 25, anchor))
        lo = space + 1 if space != -1 else lo
    html = highlight(text, spans, lo, hi)
    before = escape(ELLIPSIS) if lo > 0 else Markup("")
    after = escape(ELLIPSIS) if hi < len(text) else Markup("")
    return Markup("").join([before, html, after])
