"""schema.org ``JobPosting`` from JSON-LD (or microdata) mapped onto ad fields."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from parsel import Selector

from crawlers.text import html_fragment_text, normalize_line

logger = logging.getLogger(__name__)


class JsonLdError(ValueError):
    """A ``application/ld+json`` block that is not valid JSON."""


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, list):
        for child in node:
            yield from _walk(child)
    elif isinstance(node, dict):
        yield node
        if "@graph" in node:
            yield from _walk(node["@graph"])


def _is_job_posting(node: dict[str, Any]) -> bool:
    kind = node.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return any(isinstance(k, str) and k.rsplit("/", 1)[-1] == "JobPosting" for k in kinds)


def find_job_posting(page: Selector) -> dict[str, Any] | None:
    """The first JobPosting in the page's JSON-LD blocks; raises :class:`JsonLdError` if a block is broken
    and no other block has one."""
    broken: list[str] = []
    for raw in page.xpath('//script[@type="application/ld+json"]/text()').getall():
        try:
            data = json.loads(raw, strict=False)
        except json.JSONDecodeError as exc:
            broken.append(str(exc))
            continue
        for node in _walk(data):
            if _is_job_posting(node):
                return node
    if broken:
        raise JsonLdError("; ".join(broken))
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("name") or value.get("value") or value.get("@value")
    if isinstance(value, list):
        value = next((v for v in value if v), None)
        return _text(value)
    if value is None:
        return None
    text = normalize_line(str(value))
    return text or None


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _number(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def format_salary(base_salary: Any) -> str | None:
    """``MonetaryAmount`` as readable text, e.g. ``"1200–1500 EUR / MONTH"``."""
    salary = _first(base_salary)
    if not isinstance(salary, dict):
        return _text(salary)
    currency = _text(salary.get("currency")) or ""
    value = salary.get("value")
    unit = ""
    if isinstance(value, dict):
        unit = _text(value.get("unitText")) or ""
        low, high = _number(value.get("minValue")), _number(value.get("maxValue"))
        exact = _number(value.get("value"))
        amount = f"{low}–{high}" if low and high and low != high else low or high or exact or ""
    else:
        amount = _number(value) or ""
    text = " ".join(part for part in (amount, currency) if part)
    if unit and text:
        text = f"{text} / {unit}"
    return text or None


def job_posting_fields(posting: dict[str, Any]) -> dict[str, str]:
    """Map a JobPosting onto ad field names; only non-empty values are returned."""
    location = _first(posting.get("jobLocation"))
    address = location.get("address") if isinstance(location, dict) else None
    address = _first(address)
    fields: dict[str, str | None] = {
        "title": _text(posting.get("title")),
        "body": html_fragment_text(str(posting.get("description") or "")) or None,
        "company": _text(posting.get("hiringOrganization")),
        "posted": _text(posting.get("datePosted")),
        "salary_text": format_salary(posting.get("baseSalary")),
        "page_language": _text(posting.get("inLanguage")),
        "external_id": _text(posting.get("identifier")),
    }
    if isinstance(address, dict):
        fields["location"] = _text(address.get("addressLocality"))
        fields["country"] = _text(address.get("addressCountry"))
    elif address is not None:
        fields["location"] = _text(address)
    return {key: value for key, value in fields.items() if value}


_MICRODATA_PROPS = {
    "title": "title",
    "body": "description",
    "company": "hiringOrganization",
    "posted": "datePosted",
    "location": "addressLocality",
    "country": "addressCountry",
    "external_id": "identifier",
}


def microdata_fields(page: Selector) -> dict[str, str]:
    """The same fields from ``itemtype=".../JobPosting"`` microdata, for pages without JSON-LD."""
    scope = page.xpath('//*[@itemscope][contains(@itemtype, "JobPosting")]')
    if not scope:
        return {}
    fields: dict[str, str] = {}
    for name, prop in _MICRODATA_PROPS.items():
        node = scope[0].xpath(f'.//*[@itemprop="{prop}"]')
        if not node:
            continue
        first = node[0]
        raw = first.attrib.get("content") or first.attrib.get("datetime")
        if name == "body":
            value = normalize_line(raw) if raw is not None else html_fragment_text(first.get())
        else:
            value = normalize_line(raw if raw is not None else " ".join(first.xpath(".//text()").getall()))
        if value:
            fields[name] = value
    return fields
