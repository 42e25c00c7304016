"""schema.org ``JobPosting`` read with `extruct` from JSON-LD, microdata or RDFa (OpenGraph as a last resort),
mapped onto ad fields.

The syntaxes are tried in that order and the first page-level JobPosting wins; each is read by extruct's own
extractor on the page's lxml tree (no second parse), except RDFa, which needs extruct's XML-DOM parse and is
only attempted when the page has a ``typeof`` attribute at all. The site config's YAML selectors fill what the
markup lacks (see :mod:`crawlers.spiders.jsonld`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import lxml.html
from extruct.jsonld import JsonLdExtractor
from extruct.opengraph import OpenGraphExtractor
from extruct.rdfa import RDFaExtractor
from extruct.w3cmicrodata import MicrodataExtractor
from parsel import Selector

from crawlers.text import elements_text, html_fragment_text, normalize_line, normalize_paragraphs

logger = logging.getLogger(__name__)

Source = Literal["json-ld", "microdata", "rdfa", "opengraph"]

_JSONLD = JsonLdExtractor()
_MICRODATA = MicrodataExtractor(nested=True)
_OPENGRAPH = OpenGraphExtractor()
_JSONLD_SCRIPTS = '//script[@type="application/ld+json"]'
_SCHEMA_PREFIXES = ("http://schema.org/", "https://schema.org/")


class JsonLdError(ValueError):
    """A ``application/ld+json`` block that is not valid JSON."""


# ---- JSON-LD --------------------------------------------------------------------------------------------------
def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, list):
        for child in node:
            yield from _walk(child)
    elif isinstance(node, dict):
        yield node
        if "@graph" in node:
            yield from _walk(node["@graph"])


def _local_name(kind: Any) -> str | None:
    return kind.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1] if isinstance(kind, str) else None


def _is_job_posting(node: dict[str, Any]) -> bool:
    kind = node.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return any(_local_name(k) == "JobPosting" for k in kinds)


def find_job_posting(page: Selector) -> dict[str, Any] | None:
    """The first JobPosting in the page's JSON-LD blocks (``@graph`` included), each block read by extruct;
    raises :class:`JsonLdError` if a block is broken and no other block has one."""
    broken: list[str] = []
    for script in page.xpath(_JSONLD_SCRIPTS):
        if isinstance(script.root, str):
            continue
        try:  # one block at a time, so one broken block does not hide a good one
            items = _JSONLD.extract_items(script.root)
        except (ValueError, RecursionError) as exc:  # json / jstyleson decoding errors
            broken.append(str(exc) or type(exc).__name__)
            continue
        for node in _walk(items):
            if _is_job_posting(node):
                return node
    if broken:
        raise JsonLdError("; ".join(broken))
    return None


# ---- microdata -------------------------------------------------------------------------------------------------
def _flatten_microdata(item: Any, depth: int = 0) -> Any:
    """extruct's ``{"type", "properties"}`` items as JSON-LD-like dicts (``@type`` + properties)."""
    if isinstance(item, list):
        return [_flatten_microdata(v, depth + 1) for v in item]
    if not isinstance(item, dict) or depth > 20:
        return item
    if "properties" not in item and "type" not in item:
        return item.get("value", item)
    flat: dict[str, Any] = {"@type": item.get("type")}
    for name, value in (item.get("properties") or {}).items():
        flat[name] = _flatten_microdata(value, depth + 1)
    return flat


def find_microdata_job_posting(page: Selector, base_url: str | None = None) -> dict[str, Any] | None:
    """The first top-level microdata ``itemtype=".../JobPosting"`` item, as extruct reads it."""
    root = page.root
    if isinstance(root, str) or not page.xpath("//*[@itemscope]"):
        return None
    for item in _MICRODATA.extract_items(root, base_url):
        flat = _flatten_microdata(item)
        if isinstance(flat, dict) and _is_job_posting(flat):
            return flat
    return None


# ---- RDFa ------------------------------------------------------------------------------------------------------
def _rdfa_value(value: Any, nodes: dict[str, dict[str, Any]], depth: int) -> Any:
    if isinstance(value, list):
        values = [_rdfa_value(v, nodes, depth) for v in value]
        return values[0] if len(values) == 1 else values
    if isinstance(value, dict):
        if "@value" in value:
            return value["@value"]
        ref = value.get("@id")
        if isinstance(ref, str) and ref in nodes and depth < 5:
            return _rdfa_node(nodes[ref], nodes, depth + 1)
        return ref
    return value


def _rdfa_node(node: dict[str, Any], nodes: dict[str, dict[str, Any]], depth: int = 0) -> dict[str, Any]:
    """An expanded RDFa node with schema.org property IRIs as a JSON-LD-like dict of local names."""
    out: dict[str, Any] = {"@type": [_local_name(t) for t in node.get("@type", [])]}
    for key, value in node.items():
        if key.startswith(_SCHEMA_PREFIXES):
            out[key.split("/", 3)[-1]] = _rdfa_value(value, nodes, depth)
    return out


def find_rdfa_job_posting(page: Selector, base_url: str | None = None) -> dict[str, Any] | None:
    """A schema.org JobPosting in RDFa (``typeof="JobPosting"``), read by extruct (pyRdfa)."""
    root = page.root
    if isinstance(root, str) or not page.xpath("//*[@typeof]"):
        return None  # no typed RDFa node: nothing to find, and pyRdfa is the slowest extractor by far
    from extruct.utils import parse_xmldom_html

    try:
        html = lxml.html.tostring(root.getroottree(), encoding="unicode")
        nodes_list = RDFaExtractor().extract_items(parse_xmldom_html(html, "UTF-8"), base_url=base_url)
    except Exception as exc:  # pyRdfa/rdflib raise many types on odd markup: no RDFa then, never a lost page
        logger.info("RDFa unreadable on %s: %s", base_url, exc)
        return None
    nodes = {n["@id"]: n for n in nodes_list if isinstance(n, dict) and isinstance(n.get("@id"), str)}
    for node in nodes_list:
        if isinstance(node, dict) and any(_local_name(t) == "JobPosting" for t in node.get("@type", [])):
            return _rdfa_dom_details(page, _rdfa_node(node, nodes))
    return None


def _rdfa_dom_details(page: Selector, posting: dict[str, Any]) -> dict[str, Any]:
    """Two things an RDFa literal loses, taken from the posting's element: the description's paragraphs (the
    literal runs them together) and a ``<time datetime>`` (the literal is the displayed text)."""
    scope = page.xpath('//*[@typeof][contains(concat(" ", normalize-space(@typeof), " "), "JobPosting ")]')
    if not scope:
        return posting
    description = scope[0].xpath('.//*[contains(concat(" ", normalize-space(@property), " "), "description ")]')
    if description and not isinstance(description[0].root, str):
        text = elements_text([description[0].root], paragraphs=True)
        if text:
            posting["description"] = text
    posted = scope[0].xpath('.//time[contains(concat(" ", normalize-space(@property), " "), "datePosted ")]'
                            "/@datetime").get()
    if posted:
        posting["datePosted"] = posted
    return posting


# ---- OpenGraph -------------------------------------------------------------------------------------------------
def opengraph_fields(page: Selector) -> dict[str, str]:
    """``og:title`` / ``og:description`` as title and body: the last resort for pages with no JobPosting and
    no matching selector."""
    root = page.root
    if isinstance(root, str) or root.tag != "html" or not page.xpath("/html/head/meta[@property]"):
        return {}
    fields: dict[str, str] = {}
    for obj in _OPENGRAPH.extract_items(root):
        for prop, value in obj.get("properties", []):
            name = {"og:title": "title", "og:description": "body"}.get(prop)
            if name and name not in fields:
                text = normalize_paragraphs(value) if name == "body" else normalize_line(value)
                if text:
                    fields[name] = text
    return fields


# ---- mapping ---------------------------------------------------------------------------------------------------
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


def _all_texts(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    texts = [_text(v) for v in values]
    return [t for t in texts if t]


def _places(posting: dict[str, Any]) -> tuple[str | None, str | None]:
    """Every ``addressLocality`` of every ``jobLocation`` (an ad for three towns names all three), and the
    first country."""
    localities: list[str] = []
    countries: list[str] = []
    places = posting.get("jobLocation")
    holders: list[Any] = [posting]  # some sites put the address parts on the posting itself
    for place in places if isinstance(places, list) else [places]:
        if isinstance(place, dict):
            address = place.get("address")
            holders.extend(address if isinstance(address, list) else [address])
        elif place is not None:
            localities.extend(_all_texts(place))
    for address in holders:
        if isinstance(address, dict):
            localities.extend(_all_texts(address.get("addressLocality")))
            countries.extend(_all_texts(address.get("addressCountry")))
        elif address is not None and address is not posting:
            localities.extend(_all_texts(address))
    unique = list(dict.fromkeys(localities))
    return (", ".join(unique) or None), (countries[0] if countries else None)


def job_posting_fields(posting: dict[str, Any], *, html_description: bool = True) -> dict[str, str]:
    """Map a JobPosting onto ad field names; only non-empty values are returned. ``html_description``: the
    description is an HTML fragment (JSON-LD); microdata and RDFa give it as text already."""
    description = posting.get("description")
    if isinstance(description, list):
        description = "\n\n".join(str(d) for d in description if d)
    raw_body = str(description or "")
    fields: dict[str, str | None] = {
        "title": _text(posting.get("title")),
        "body": (html_fragment_text(raw_body) if html_description else normalize_paragraphs(raw_body)) or None,
        "company": _text(posting.get("hiringOrganization")),
        "posted": _text(posting.get("datePosted")),
        "salary_text": format_salary(posting.get("baseSalary")),
        "page_language": _text(posting.get("inLanguage")),
        "external_id": _text(posting.get("identifier")),
    }
    fields["location"], fields["country"] = _places(posting)
    return {key: value for key, value in fields.items() if value}


def microdata_fields(page: Selector, base_url: str | None = None) -> dict[str, str]:
    """The fields of the page's microdata JobPosting (empty if it has none)."""
    posting = find_microdata_job_posting(page, base_url)
    return job_posting_fields(posting, html_description=False) if posting is not None else {}


@dataclass(slots=True)
class Structured:
    """What the page's structured data says: the syntax it came from (``None``: no JobPosting), the fields,
    and the text of a broken JSON-LD block if there was one."""

    source: Source | None = None
    fields: dict[str, str] = field(default_factory=dict)
    jsonld_error: str | None = None


def structured_fields(page: Selector, base_url: str | None = None) -> Structured:
    """The page's JobPosting: JSON-LD, else microdata, else RDFa. OpenGraph is not tried here (it describes any
    page, not a job): the spider uses :func:`opengraph_fields` only when selectors found nothing either."""
    result = Structured()
    try:
        posting = find_job_posting(page)
    except JsonLdError as exc:
        result.jsonld_error = str(exc)
        posting = None
    if posting is not None:
        result.source, result.fields = "json-ld", job_posting_fields(posting)
        return result
    for source, finder in (("microdata", find_microdata_job_posting), ("rdfa", find_rdfa_job_posting)):
        posting = finder(page, base_url)
        if posting is not None:
            result.source = source  # type: ignore[assignment]
            result.fields = job_posting_fields(posting, html_description=False)
            return result
    return result
