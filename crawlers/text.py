"""Visible text from HTML: paragraphs joined by a blank line, entities decoded, whitespace normalised."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable

import lxml.html
from lxml import etree

_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "fieldset", "figcaption",
        "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav",
        "ol", "p", "pre", "section", "table", "tbody", "thead", "tfoot", "tr", "td", "th", "ul",
    }
)
_INVISIBLE_TAGS = frozenset(
    {"script", "style", "noscript", "template", "head", "title", "iframe", "object", "svg"}
)
_WHITESPACE = re.compile(r"\s+")
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
# Control characters (NUL, escape sequences, C1 controls from garbage bytes) never belong in ad text.
_ZERO_WIDTH.update(dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)], None))


_INVISIBLE_CHARS = re.compile("[" + re.escape("".join(map(chr, _ZERO_WIDTH))) + "]")


def _clean(text: str) -> str:
    """NFC, without zero-width and control characters, no-break spaces as spaces (newlines kept)."""
    if text.isascii():
        return text if text.isprintable() else _INVISIBLE_CHARS.sub("", text)
    return _INVISIBLE_CHARS.sub("", unicodedata.normalize("NFC", text)).replace("\xa0", " ")


def normalize_line(text: str) -> str:
    """One line of text: NFC, no zero-width or control characters, runs of whitespace (incl. newlines) to one
    space."""
    return " ".join(_clean(text).split())


def normalize_paragraphs(text: str) -> str:
    """Keep paragraph breaks (blank lines) and single line breaks, normalise whitespace inside each line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    parts = (normalize_paragraph_text(part) for part in re.split(r"\n[^\S\n]*\n\s*", text))
    return "\n\n".join(part for part in parts if part)


def element_paragraphs(element: etree._Element) -> list[str]:
    """Visible text of ``element`` split at block tags; ``<br>`` is a line break inside a paragraph."""
    paragraphs: list[str] = []
    buffer: list[str] = []

    def flush() -> None:
        text = normalize_paragraph_text("".join(buffer))  # only <br> put newlines into the buffer
        if text:
            paragraphs.append(text)
        buffer.clear()

    def add(text: str | None) -> None:
        if text:
            buffer.append(_WHITESPACE.sub(" ", text))

    def walk(node: etree._Element) -> None:
        tag = node.tag if isinstance(node.tag, str) else None
        if tag is None:  # comment or processing instruction: skip it, keep its tail
            add(node.tail)
            return
        local = tag.rsplit("}", 1)[-1].lower()  # "{ns}p" -> "p"; a malformed name like "a}" must not raise
        if local in _INVISIBLE_TAGS:
            add(node.tail)
            return
        is_block = local in _BLOCK_TAGS
        if is_block:
            flush()
        if local == "br":
            buffer.append("\n")
        add(node.text)
        for child in node:
            walk(child)
        if is_block:
            flush()
        add(node.tail)

    tail = element.tail
    element.tail = None  # the element's own tail is not part of it
    try:
        walk(element)
    finally:
        element.tail = tail
    flush()
    return paragraphs


def normalize_paragraph_text(text: str) -> str:
    """One paragraph: each line normalised, empty lines dropped, single line breaks kept."""
    lines = (normalize_line(line) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def elements_text(elements: Iterable[etree._Element], *, paragraphs: bool) -> str:
    """Text of several matched elements: paragraphs joined by a blank line, or one normalised line."""
    parts: list[str] = []
    for element in elements:
        parts.extend(element_paragraphs(element))
    if paragraphs:
        return "\n\n".join(parts)
    return normalize_line(" ".join(parts))


def html_fragment_text(fragment: str) -> str:
    """Paragraph text of an HTML fragment (e.g. a JSON-LD ``description``); plain text passes through."""
    if not fragment or not fragment.strip():
        return ""
    if "<" not in fragment:
        return normalize_paragraphs(html.unescape(fragment))
    # lxml refuses NUL and control characters ("All strings must be XML compatible"): drop them first.
    cleaned = _INVISIBLE_CHARS.sub("", fragment)
    try:
        root = lxml.html.fragment_fromstring(cleaned, create_parent="div")
    except (ValueError, etree.ParserError):  # nothing parseable left (e.g. only a comment)
        return normalize_paragraphs(html.unescape(re.sub(r"<[^>]*>", " ", cleaned)))
    return "\n\n".join(element_paragraphs(root))


def contains_normalized(haystack: str, needle: str) -> bool:
    """Whether ``needle`` occurs in ``haystack`` ignoring case and whitespace differences."""
    return normalize_line(needle).casefold() in normalize_line(haystack).casefold()


_VISIBLE_TEXT = etree.XPath(
    ".//text()[not(ancestor::script or ancestor::style or ancestor::noscript or ancestor::template"
    " or ancestor::head or ancestor::svg or ancestor::iframe)]"
)


def visible_text_lines(element: etree._Element) -> str:
    """The visible text under ``element`` as normalised lines (one per text run, empty ones dropped): a cheap,
    stable rendering of a whole page for snapshots (XPath in C instead of a Python tree walk)."""
    raw = _clean("\n".join(_VISIBLE_TEXT(element)))
    return "\n".join(filter(None, (" ".join(line.split()) for line in raw.splitlines())))
