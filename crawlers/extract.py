"""Apply a config :class:`~crawlers.site_config.Rule` to a page or a listing element."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TypeVar

from parsel import Selector, SelectorList

from crawlers.site_config import Rule
from crawlers.text import elements_text, normalize_line

_Name = TypeVar("_Name", bound=str)


def select(scope: Selector, rule: Rule) -> SelectorList[Selector]:
    return scope.css(rule.css) if rule.css is not None else scope.xpath(rule.xpath or "")


def _apply_regex(value: str, pattern: str | None) -> str | None:
    if pattern is None:
        return value
    match = re.search(pattern, value)
    if match is None:
        return None
    if "value" in match.re.groupindex:
        return match.group("value")
    return match.group(1) if match.re.groups else match.group(0)


def extract(scope: Selector, rule: Rule) -> str | None:
    """The rule's value in ``scope``, or ``None`` when the selector matches nothing (a *selector miss*)."""
    matches = select(scope, rule)
    if not matches:
        return None
    if rule.attr is not None:
        for match in matches:
            raw = None if isinstance(match.root, str) else match.attrib.get(rule.attr)
            if raw is not None and raw.strip():
                return _apply_regex(normalize_line(raw), rule.regex)
        return None
    strings = [m for m in matches if isinstance(m.root, str)]  # text()/@attr XPath results, ::text CSS
    if strings:
        joiner = "\n\n" if rule.mode == "paragraphs" else " "
        text = joiner.join(normalize_line(str(m.root)) for m in strings if str(m.root).strip())
    else:
        text = elements_text((m.root for m in matches), paragraphs=rule.mode == "paragraphs")
    if not text:
        return None
    return _apply_regex(text, rule.regex)


def extract_all(scope: Selector, rules: Mapping[_Name, Rule]) -> dict[str, str]:
    """Every field whose selector matched something non-empty."""
    found: dict[str, str] = {}
    for name, rule in rules.items():
        value = extract(scope, rule)
        if value:
            found[name] = value
    return found


def extract_urls(scope: Selector, rule: Rule) -> list[str]:
    """All URLs a link rule matches (``href`` unless the rule names another attribute), in page order."""
    urls: list[str] = []
    for match in select(scope, rule):
        if isinstance(match.root, str):
            raw: str | None = str(match.root)
        else:
            raw = match.attrib.get(rule.attr or "href")
        if raw and raw.strip():
            value = _apply_regex(raw.strip(), rule.regex)
            if value:
                urls.append(value)
    return urls
