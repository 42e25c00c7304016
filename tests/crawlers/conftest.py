"""Shared fixtures: the bundled fixture sites served on 127.0.0.1 and one full crawl of each into DuckDB."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fixture_crawl_support import FIXTURE_SITES, FullCrawl

from crawlers.run import CrawlSummary, crawl_site


@pytest.fixture(scope="session")
def fixture_ads() -> dict[str, list[dict[str, Any]]]:
    """ads.jsonl grouped by site: the ground truth a complete crawl must reproduce."""
    from fixture_sites import load_ads

    grouped: dict[str, list[dict[str, Any]]] = {site: [] for site in FIXTURE_SITES}
    for ad in load_ads():
        grouped.setdefault(ad["site"], []).append(ad)
    return grouped


@pytest.fixture(scope="session")
def full_crawl(fixture_servers: Any, tmp_path_factory: pytest.TempPathFactory) -> FullCrawl:
    """Each fixture site crawled once, in turn, into one warehouse file (one writer at a time)."""
    db_path = tmp_path_factory.mktemp("full-crawl") / "lurewatch.duckdb"
    summaries: dict[str, CrawlSummary] = {}
    elapsed: dict[str, float] = {}
    for site in FIXTURE_SITES:
        started = time.perf_counter()
        summaries[site] = crawl_site(site, db_path, fixture_servers.base_urls[site], timeout_s=120)
        elapsed[site] = time.perf_counter() - started
    return FullCrawl(db_path, summaries, dict(fixture_servers.base_urls), elapsed)
