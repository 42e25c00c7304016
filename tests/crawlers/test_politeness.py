"""Politeness and identity: robots.txt Crawl-delay / Request-rate and the configured delay are honoured as
minimum gaps between requests, per-domain concurrency is capped, AutoThrottle adapts on top, redirects do not
lead off the allowed domains, and every request says who we are and how to reach us."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from minisite_server import ad_page, listing_page, write_config
from misbehaving_server import Behaviour, Site, page, redirect, slow, text

from crawlers.politeness import MAX_ROBOTS_DELAY_S, ROBOTS_DELAY_STAT, PoliteThrottle, robots_delay
from crawlers.run import crawl_site
from crawlers.scrapy_settings import build_scrapy_settings
from lurewatch.settings import Settings


def _site(robots: str, n_ads: int, extra: dict[str, Behaviour] | None = None) -> Site:
    site = Site()
    links = [f"/ad/{i}" for i in range(n_ads)]
    site.routes = {
        "/robots.txt": text(robots),
        "/list": page(listing_page(links + [str(k) for k in (extra or {})], None)),
        **{f"/ad/{i}": page(ad_page(str(i), f"Job {i}", f"Body {i}.")) for i in range(n_ads)},
        **(extra or {}),
    }
    return site


def _gaps(site: Site) -> list[float]:
    times = [hit.at for hit in site.hits if hit.path != "/robots.txt"]
    return [b - a for a, b in itertools.pairwise(times)]


def test_robots_crawl_delay_is_honoured(tmp_path: Path) -> None:
    """robots.txt asks for 0.4 s between requests: consecutive requests arrive at least that far apart
    (allowing 20% for clock and scheduling noise), although AutoThrottle would go faster on loopback."""
    with _site("User-agent: *\nCrawl-delay: 0.4\nAllow: /\n", 3) as site:
        summary = crawl_site("minisite", tmp_path / "w.duckdb", site.base_url,
                             sites_dir=write_config(tmp_path / "sites"), timeout_s=60)
    assert summary.status == "finished" and summary.items == 3
    gaps = _gaps(site)
    assert len(gaps) == 3
    assert min(gaps) >= 0.4 * 0.8, gaps


def test_configured_delay_is_a_minimum(tmp_path: Path) -> None:
    """LUREWATCH_CRAWL_DELAY_S is a floor: no jitter below it, AutoThrottle never undercuts it."""
    with _site("User-agent: *\nAllow: /\n", 3) as site:
        crawl_site("minisite", tmp_path / "w.duckdb", site.base_url, sites_dir=write_config(tmp_path / "sites"),
                   timeout_s=60, env={"LUREWATCH_CRAWL_DELAY_S": "0.3"})
    gaps = _gaps(site)
    assert len(gaps) == 3
    assert min(gaps) >= 0.3 * 0.8, gaps


@pytest.fixture()
def offsite() -> Iterator[Site]:
    with Site(host="localhost") as other:
        other.routes = {"/ad/9": page(ad_page("9", "Elsewhere", "Should never be fetched."))}
        yield other


def test_concurrency_per_domain_is_capped_and_redirects_stay_on_site(tmp_path: Path, offsite: Site) -> None:
    """With 2 requests per domain allowed, a slow server never sees more than 2 at once; a detail link that
    redirects to another host is dropped by the offsite filter (that host sees nothing)."""
    extra = {"/ad/away": redirect(f"http://localhost:{offsite.port}/ad/9")}
    with _site("User-agent: *\nAllow: /\n", 8, extra) as site:
        for i in range(8):
            site.routes[f"/ad/{i}"] = slow(0.2, page(ad_page(str(i), f"Job {i}", f"Body {i}.")))
        summary = crawl_site("minisite", tmp_path / "w.duckdb", site.base_url,
                             sites_dir=write_config(tmp_path / "sites"), timeout_s=60,
                             env={"LUREWATCH_CRAWL_CONCURRENCY_PER_DOMAIN": "2"})
    assert summary.items == 8
    assert 1 <= site.max_in_flight <= 2
    assert site.hits_for("/ad/away") and offsite.hits == []


def test_robots_delay_sources_and_cap() -> None:
    """Crawl-delay and Request-rate (n requests per T seconds -> T/n) both count; the larger wins."""
    from protego import Protego

    ua = Settings().user_agent
    assert robots_delay(_Parser("User-agent: *\nCrawl-delay: 2\n"), ua) == 2.0
    assert robots_delay(_Parser("User-agent: *\nRequest-rate: 1/10s\nCrawl-delay: 3\n"), ua) == 10.0
    assert robots_delay(_Parser("User-agent: lurewatch\nCrawl-delay: 5\n\nUser-agent: *\nCrawl-delay: 1\n"), ua) == 5
    assert robots_delay(_Parser("User-agent: *\nAllow: /\n"), ua) is None
    assert isinstance(_Parser("").rp, Protego)


def _throttle() -> tuple[PoliteThrottle, Any]:
    """PoliteThrottle inside a real (not started) Scrapy crawler with our settings; no downloads."""
    from scrapy import Spider
    from scrapy.utils.test import get_crawler

    class Probe(Spider):
        name = "probe"

    built = dict(build_scrapy_settings(Settings()))
    built["DOWNLOAD_HANDLERS"] = {"http": None, "https": None}  # nothing is fetched: no reactor needed
    crawler = get_crawler(Probe, built)
    crawler._apply_settings()
    crawler.spider = crawler._create_spider()
    crawler.engine = crawler._create_engine()
    throttle = next(e for e in crawler.extensions.middlewares if isinstance(e, PoliteThrottle))
    return throttle, crawler


@pytest.mark.parametrize(
    ("robots", "floor", "capped"),
    [("Crawl-delay: 2", 2.0, False), ("Crawl-delay: 60", MAX_ROBOTS_DELAY_S, False),
     ("Crawl-delay: 60.5", MAX_ROBOTS_DELAY_S, True), ("Crawl-delay: 3600", MAX_ROBOTS_DELAY_S, True),
     ("Request-rate: 1/86400s", MAX_ROBOTS_DELAY_S, True)],
)
def test_robots_delay_is_capped_where_it_is_applied(
    robots: str, floor: float, capped: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """A hostile robots.txt (an hour, a day between requests) cannot stall a crawl: the delay the throttle actually
    applies to the site's download slot is at most MAX_ROBOTS_DELAY_S (60 s), and capping is logged; a delay
    below the cap is applied as asked."""
    from scrapy import Request, signals
    from scrapy.robotstxt import ProtegoRobotParser

    assert MAX_ROBOTS_DELAY_S == 60.0  # the documented cap (README, crawlers/README.md)
    throttle, crawler = _throttle()
    parser = ProtegoRobotParser(f"User-agent: *\n{robots}\n".encode(), crawler.spider)
    request = Request("http://127.0.0.1:9/robots.txt")
    with caplog.at_level(logging.WARNING, logger="crawlers.politeness"):
        crawler.signals.send_catch_log(signals.robots_parsed, robotparser=parser, request=request)
    key = crawler.engine.downloader.get_slot_key(request)
    assert throttle.floor(key) == floor
    assert crawler.stats.get_value(ROBOTS_DELAY_STAT) == floor
    warnings = [r for r in caplog.records if "between requests; using 60 s" in r.getMessage()]
    assert len(warnings) == int(capped)


class _Parser:
    """Scrapy's Protego wrapper, minus the crawler."""

    def __init__(self, body: str) -> None:
        from protego import Protego

        self.rp = Protego.parse(body)

    def crawl_delay(self, user_agent: str) -> float | None:
        value = self.rp.crawl_delay(user_agent)
        return None if value is None else float(value)


def test_identity_and_politeness_settings() -> None:
    """The User-Agent names lurewatch with a contact URL and no browser disguise; robots.txt is obeyed,
    AutoThrottle is on (as PoliteThrottle, which adds robots delays), cookies off, limits from settings."""
    settings = Settings()
    built = build_scrapy_settings(settings)
    ua = built["USER_AGENT"]
    assert ua.startswith("lurewatch/") and "+http" in ua and "Mozilla" not in ua
    assert built["ROBOTSTXT_OBEY"] is True and built["ROBOTSTXT_USER_AGENT"] == ua
    assert built["AUTOTHROTTLE_ENABLED"] is True
    assert built["EXTENSIONS"] == {
        "scrapy.extensions.throttle.AutoThrottle": None, "crawlers.politeness.PoliteThrottle": 0,
    }
    assert built["CONCURRENT_REQUESTS_PER_DOMAIN"] == settings.crawl_concurrency_per_domain
    assert built["DOWNLOAD_DELAY_JITTER"] == 0.0
    assert built["DOWNLOAD_MAXSIZE"] == settings.crawl_max_page_bytes
    assert built["COOKIES_ENABLED"] is False
    assert built["WARN_ON_GENERATOR_RETURN_VALUE"] is False  # ~1 ms of source re-parsing per page otherwise
