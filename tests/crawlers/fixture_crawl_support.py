"""Types shared by the conftest fixtures and the fixture-site crawl tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from crawlers.run import CrawlSummary

FIXTURE_SITES = ("balticjobs", "skelbimai", "darbas-forum")


@dataclass(frozen=True)
class FullCrawl:
    """One complete crawl of every fixture site into ``db_path``."""

    db_path: Path
    summaries: dict[str, CrawlSummary]
    base_urls: dict[str, str]
    elapsed_s: dict[str, float]
