"""The result of one site's crawl, as printed by ``python -m crawlers.run`` (no Scrapy import needed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class CrawlSummary:
    """The one-line result of a crawl, as printed by ``python -m crawlers.run``.

    ``items`` counts distinct ads seen (parsed, or confirmed unchanged by HTTP 304 / an identical body:
    ``not_modified``); ``unchanged`` counts ads seen again with the same text; ``removed`` ads got
    ``removed_at`` because this ``complete`` run did not see them.
    """

    site: str
    run_id: int | None
    pages: int
    items: int
    inserted: int
    updated: int
    unchanged: int
    errors: int
    selector_misses: int
    status: str
    elapsed_s: float = 0.0
    error: str | None = None
    not_modified: int = 0
    removed: int = 0
    complete: bool = False

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> CrawlSummary:
        return cls(
            site=str(data["site"]),
            run_id=None if data.get("run_id") is None else int(data["run_id"]),
            pages=int(data.get("pages", 0)),
            items=int(data.get("items", 0)),
            inserted=int(data.get("inserted", 0)),
            updated=int(data.get("updated", 0)),
            unchanged=int(data.get("unchanged", 0)),
            errors=int(data.get("errors", 0)),
            selector_misses=int(data.get("selector_misses", 0)),
            status=str(data.get("status", "failed")),
            elapsed_s=float(data.get("elapsed_s", 0.0)),
            error=None if data.get("error") is None else str(data["error"]),
            not_modified=int(data.get("not_modified", 0)),
            removed=int(data.get("removed", 0)),
            complete=bool(data.get("complete", False)),
        )
