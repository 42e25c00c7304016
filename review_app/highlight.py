"""Ad text as HTML with evidence spans marked, built so that ad text can never become markup.

The text is cut at every span boundary; each piece is escaped on its own and, if any span covers it, wrapped in
one ``<mark>`` whose classes and attributes come only from our indicator catalogue (escaped as well). Spans may
overlap or nest, lie partly outside the text or be empty: pieces covered by several spans carry all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from markupsafe import Markup, escape

from review_app.indicators import CONTACT_CLASS, info

ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    indicator: str  # a lure indicator id, or "contact:<kind>" for an extracted contact


def spans_from_evidence(evidence: Iterable[dict[str, object]]) -> list[Span]:
    spans: list[Span] = []
    for item in evidence:
        try:
            start, end = int(str(item["start"])), int(str(item["end"]))
        except (KeyError, TypeError, ValueError):
            continue
        spans.append(Span(start, end, str(item.get("indicator", ""))))
    return spans


def _clip(spans: Sequence[Span], lo: int, hi: int) -> list[Span]:
    clipped = [Span(max(s.start, lo), min(s.end, hi), s.indicator) for s in spans]
    return sorted((s for s in clipped if s.start < s.end), key=lambda s: (s.start, -s.end, s.indicator))


def _mark(piece: str, active: list[Span]) -> Markup:
    indicators = list(dict.fromkeys(s.indicator for s in active if not s.indicator.startswith("contact:")))
    contacts = list(
        dict.fromkeys(s.indicator.removeprefix("contact:") for s in active if s.indicator.startswith("contact:"))
    )
    classes = ["hl"]
    if indicators:
        classes.append(info(indicators[0]).css_class)
    if len(indicators) > 1:
        classes.append("hl-multi")
    if contacts:
        classes.append(CONTACT_CLASS)
    titles = [info(i).title for i in indicators] + [f"Contact: {c}" for c in contacts]
    return Markup('<mark class="{}" data-indicators="{}" title="{}">{}</mark>').format(
        " ".join(classes), " ".join(indicators), "; ".join(titles), piece
    )


def highlight(text: str, spans: Sequence[Span], lo: int = 0, hi: int | None = None) -> Markup:
    """HTML for ``text[lo:hi]`` with every span that overlaps the window marked (Markup.format escapes)."""
    hi = len(text) if hi is None else min(hi, len(text))
    lo = max(0, min(lo, hi))
    live = _clip(spans, lo, hi)
    cuts = sorted({lo, hi, *(s.start for s in live), *(s.end for s in live)})
    parts: list[Markup] = []
    for start, end in pairwise(cuts):
        piece = text[start:end]
        active = [s for s in live if s.start <= start and end <= s.end]
        parts.append(_mark(piece, active) if active else escape(piece))
    return Markup("").join(parts)


def snippet(text: str, spans: Sequence[Span], width: int = 220, focus: str | None = None) -> Markup:
    """A window of about ``width`` characters around ``focus`` (a searched phrase) if the text contains it, else
    around the first lure span (or the start), highlighted."""
    lure_spans = [s for s in _clip(spans, 0, len(text)) if not s.indicator.startswith("contact:")]
    if len(text) <= width:
        return highlight(text, spans)
    found = text.casefold().find(focus.casefold()) if focus else -1
    anchor = found if found >= 0 else (lure_spans[0].start if lure_spans else 0)
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
