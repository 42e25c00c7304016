"""Evidence highlighting: ad text is escaped piece by piece between span boundaries, never inserted raw."""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from review_app.highlight import Span, highlight, snippet
from review_app.indicators import catalog

MARK = re.compile(r'<mark class="[a-z0-9 _-]+" data-indicators="[^"<>]*" title="[^"<>]*">|</mark>')


def _visible_text(markup: str) -> str:
    return html.unescape(MARK.sub("", markup))


def test_overlapping_spans_are_split_and_marked_with_every_indicator() -> None:
    """Two overlapping indicators: the shared piece carries both (hl-multi), each outer piece its own colour."""
    first, second = list(catalog())[:2]
    out = str(highlight("abcdef", [Span(0, 4, first), Span(2, 6, second)]))
    pieces = re.findall(r'<mark class="([^"]+)" data-indicators="([^"]*)"[^>]*>([^<]*)</mark>', out)
    assert [(text, indicators) for _, indicators, text in pieces] == [
        ("ab", first),
        ("cd", f"{first} {second}"),
        ("ef", second),
    ]
    assert "hl-multi" in pieces[1][0]
    assert catalog()[first].css_class in pieces[0][0] and catalog()[second].css_class in pieces[2][0]


def test_nested_contact_and_indicator_spans_and_bad_offsets() -> None:
    """A contact inside an evidence span is underlined in place; empty, inverted and out-of-range spans are ignored."""
    indicator = next(iter(catalog()))
    text = "call +371 2000 0000 now"
    out = str(highlight(text, [Span(0, 19, indicator), Span(5, 19, "contact:phone"), Span(7, 3, indicator),
                              Span(50, 60, indicator), Span(-5, 0, indicator)]))
    assert _visible_text(out) == text
    assert out.count("<mark") == 2
    assert "hl-contact" in out.split("<mark")[2]


def test_unknown_indicator_ids_cannot_inject_attributes() -> None:
    """Indicator ids come from stored JSON: quotes and brackets in them are escaped inside the attributes too."""
    out = str(highlight("xyz", [Span(0, 3, '"><script>alert(1)</script>')]))
    assert "<script" not in out
    assert MARK.sub("", out) == "xyz"
    assert 'class="hl ind-other"' in out


@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(st.sampled_from([*"ab <>&\"'=/\n", "<script>", "</mark>", "onerror=", "ž"]), max_size=30).map(
        "".join
    ),
    raw_spans=st.lists(
        st.tuples(st.integers(-5, 70), st.integers(-5, 70), st.sampled_from([*list(catalog())[:3], "contact:email"])),
        max_size=6,
    ),
)
def test_highlighting_any_text_yields_exactly_that_text_and_only_our_tags(
    text: str, raw_spans: list[tuple[int, int, str]]
) -> None:
    """For any text and any spans: removing our <mark> tags and unescaping gives the text back, and no other tag
    (or stray '<') survives, so attacker text can never become markup."""
    out = str(highlight(text, [Span(a, b, name) for a, b, name in raw_spans]))
    stripped = MARK.sub("", out)
    assert "<" not in stripped and ">" not in stripped
    assert html.unescape(stripped) == text


def test_snippet_is_a_highlighted_window_around_the_first_evidence() -> None:
    """The queue shows ~width characters around the first lure phrase, with ellipses where text was cut."""
    indicator = next(iter(catalog()))
    body = "word " * 100 + "EASY <b>MONEY</b> " + "tail " * 100
    start = body.index("EASY")
    out = str(snippet(body, [Span(start, start + len("EASY <b>MONEY</b>"), indicator)], width=120))
    assert out.startswith("…") and out.endswith("…")
    assert "EASY &lt;b&gt;MONEY&lt;/b&gt;</mark>" in out
    assert len(_visible_text(out)) <= 122
