"""Plain records that cross the warehouse boundary."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date


def ad_text(title: str, body: str) -> str:
    """The text every feature offset refers to: title, blank line, body."""
    return f"{title}\n\n{body}" if title else body


def content_hash(title: str, body: str) -> str:
    return hashlib.sha256(ad_text(title, body).encode("utf-8")).hexdigest()


@dataclass(slots=True)
class AdRow:
    """One ad as a crawler saw it."""

    site_id: str
    url: str
    title: str
    body: str
    external_id: str | None = None
    company: str | None = None
    location: str | None = None
    country: str | None = None
    salary_text: str | None = None
    contact_text: str | None = None
    page_language: str | None = None
    posted: date | None = None

    @property
    def content_hash(self) -> str:
        return content_hash(self.title, self.body)


@dataclass(frozen=True, slots=True)
class UpsertResult:
    inserted: int
    updated: int
    unchanged: int
