"""Turn the raw field strings a spider found into a :class:`warehouse.records.AdRow`; the items spiders yield."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from crawlers.text import contains_normalized, normalize_line, normalize_paragraphs
from warehouse.ads import PageState
from warehouse.records import AdRow

_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DOTTED_DATE = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b")


def parse_date(value: str | None) -> date | None:
    """``YYYY-MM-DD`` (optionally with a time) or ``DD.MM.YYYY``; anything else is ``None``."""
    if not value:
        return None
    match = _ISO_DATE.search(value)
    try:
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
        match = _DOTTED_DATE.search(value)
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        return None
    return None


def ref_from_url(url: str, pattern: str | None) -> str | None:
    """The ad's id from its URL: the config's ``(?P<ref>...)`` pattern, else the last path segment."""
    if pattern is not None:
        match = re.search(pattern, url)
        return match.group("ref") if match else None
    segment = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    return segment.split(".", 1)[0] or None


def merge_contact(body: str, contact: str | None) -> str:
    """The body plus the contact line unless it already holds it (feature extraction reads the body)."""
    if not contact or contact in body or contains_normalized(body, contact):
        return body
    return f"{body}\n\n{contact}" if body else contact


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    text = normalize_line(value)
    return text or None


def build_ad_row(site_id: str, url: str, fields: dict[str, str], id_pattern: str | None = None) -> AdRow:
    """An :class:`AdRow` from extracted fields; ``title`` and ``body`` must be present."""
    contact = _clean(fields.get("contact_text"))
    body = merge_contact(normalize_paragraphs(fields["body"]), contact)
    language = _clean(fields.get("page_language"))
    return AdRow(
        site_id=site_id,
        url=url,
        title=normalize_line(fields["title"]),
        body=body,
        external_id=_clean(fields.get("external_id")) or ref_from_url(url, id_pattern),
        company=_clean(fields.get("company")),
        location=_clean(fields.get("location")),
        country=_clean(fields.get("country")),
        salary_text=_clean(fields.get("salary_text")),
        contact_text=contact,
        page_language=language.split("-", 1)[0].lower() if language else None,
        posted=parse_date(fields.get("posted")),
    )


@dataclass(slots=True)
class CrawledAd:
    """A parsed ad with what the pipeline keeps besides it: the page text for the ad's snapshot, and the
    fetched page's validators (``None`` for inline listing items, which have no page of their own)."""

    row: AdRow
    page_text: str
    page: PageState | None = None


@dataclass(slots=True)
class SeenAd:
    """An ad confirmed unchanged without parsing (HTTP 304, or the very same body as last time): only its
    ``last_seen`` moves. ``page`` carries refreshed validators when the server sent new ones."""

    url: str
    page: PageState | None = None
