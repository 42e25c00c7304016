"""Types shared by the conftest fixtures and the fixture-site crawl tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawlers.items import merge_contact
from crawlers.run import CrawlSummary
from crawlers.text import normalize_line, normalize_paragraphs

FIXTURE_SITES = ("balticjobs", "skelbimai", "darbas-forum")


@dataclass(frozen=True)
class FullCrawl:
    """One complete crawl of every fixture site into ``db_path``."""

    db_path: Path
    summaries: dict[str, CrawlSummary]
    base_urls: dict[str, str]
    elapsed_s: dict[str, float]


def expected_body(ad: dict[str, Any]) -> str:
    """The body the crawler should store: the ad's paragraphs plus its contact line unless already there.

    balticjobs' JSON-LD description always ends with the contact paragraph (even when the body already
    mentions it); the crawler keeps the page's text as published, so there it is always the last paragraph.
    """
    body = normalize_paragraphs(ad["body"])
    contact = normalize_line(ad.get("contact") or "") or None
    if ad["site"] == "balticjobs" and contact:
        return f"{body}\n\n{contact}"
    return merge_contact(body, contact)
