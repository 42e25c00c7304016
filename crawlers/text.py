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


def normalize_line(text: str) -> str:
    """One line of text: NFC, no zero-width characters, runs of whitespace (incl. newlines) to one space."""
    text = unicodedata.normalize("NFC", text).translate(_ZERO_WIDTH).replace("\xa0", " ")
    return " ".join(text.split())


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
        local = etree.QName(node).localname.lower() if "}" in tag else tag.lower()
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
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    return "\n\n".join(element_paragraphs(root))


def contains_normalized(haystack: str, needle: str) -> bool:
    """Whether ``needle`` occurs in ``haystack`` ignoring case and whitespace differences."""
    return normalize_line(needle).casefold() in normalize_line(haystack).casefold()
