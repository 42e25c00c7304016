"""Crawler manners and bookkeeping on a small controlled site: robots.txt, offsite links, error and
selector-miss counters, the honest User-Agent, and surviving a crash mid-crawl without loss or duplicates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from minisite_server import MINI_CONFIG, MiniSite, ad_page, listing_page, write_config

import warehouse
from crawlers.run import CrawlError, CrawlSummary, crawl_site
from lurewatch.settings import Settings
from warehouse.crawl_runs import health

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONTACT = "WhatsApp +371 2000 0001"
Crawled = tuple[CrawlSummary, Path]


@pytest.fixture(scope="module")
def offsite() -> Iterator[MiniSite]:
    """Another server, reached as ``localhost`` (a different host name than the crawled 127.0.0.1)."""
    with MiniSite(host="localhost") as site:
        site.pages = {"/ad/9": (200, ad_page("9", "Offsite ad", "Should never be fetched."))}
        yield site


@pytest.fixture(scope="module")
def small_site(offsite: MiniSite) -> Iterator[MiniSite]:
    with MiniSite() as site:
        site.pages = {
            "/robots.txt": (200, "User-agent: *\nDisallow: /private/\n"),
            "/list?page=1": (200, listing_page(
                ["/ad/1", "/ad/2", "/private/ad/3", f"http://localhost:{offsite.port}/ad/9"], "/list?page=2"
            )),
            "/list?page=2": (200, listing_page(["/ad/4", "/ad/5"], None)),
            "/ad/1": (200, ad_page("1", "Packer &amp; picker", "Packing boxes.<br>Shifts.", CONTACT)),
            "/ad/2": (200, ad_page("2", "Driver", "Drive vans.")),
            "/private/ad/3": (200, ad_page("3", "Private", "Must not be fetched.")),
            "/ad/4": (200, ad_page("4", "No body here", None)),  # selector miss
            # /ad/5 is not served: a 404 counts as an error
        }
        yield site


@pytest.fixture(scope="module")
def crawled(small_site: MiniSite, tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    """One crawl of the small site, shared by the tests that inspect its outcome."""
    tmp_path = tmp_path_factory.mktemp("small")
    summary = crawl_site("minisite", tmp_path / "w.duckdb", small_site.base_url,
                         sites_dir=write_config(tmp_path / "sites"), timeout_s=60)
    return summary, tmp_path / "w.duckdb"


def test_robots_disallowed_paths_are_not_fetched(small_site: MiniSite, crawled: Crawled) -> None:
    """ROBOTSTXT_OBEY: robots.txt is read first and a Disallow'ed detail page is never requested."""
    paths = small_site.paths()
    assert paths[0] == "/robots.txt"
    assert "/private/ad/3" not in paths
    assert {"/list?page=1", "/list?page=2", "/ad/1", "/ad/2", "/ad/4", "/ad/5"} <= set(paths)


def test_offsite_links_are_not_followed(offsite: MiniSite, crawled: Crawled) -> None:
    """A detail link to another host is dropped by the offsite filter: that server sees no request at all."""
    assert offsite.hits == []


def test_requests_carry_the_honest_user_agent(small_site: MiniSite, crawled: Crawled) -> None:
    """Every request identifies lurewatch with the configured User-Agent (no browser impersonation)."""
    assert {hit.user_agent for hit in small_site.hits} == {Settings().user_agent}


def test_health_row_counts_pages_items_errors_and_selector_misses(crawled: Crawled) -> None:
    """The crawl_runs row and the printed summary agree: pages, items, inserts, the 404 as an error and the
    body-less page as a selector miss (with the field named in the run's stats)."""
    summary, db = crawled
    assert (summary.status, summary.items, summary.inserted, summary.errors, summary.selector_misses) == (
        "finished", 2, 2, 1, 1,
    )
    con = warehouse.connect(db, read_only=True)
    try:
        row = health(con)[0]
        stats = con.execute("SELECT stats FROM crawl_runs WHERE run_id = ?", [summary.run_id]).fetchall()
        ads = con.execute(
            "SELECT external_id, title, body, contact_text FROM ads ORDER BY external_id"
        ).fetchall()
    finally:
        con.close()
    assert row["run_id"] == summary.run_id
    assert row["status"] == "finished" and row["finished_at"] is not None
    assert (row["pages"], row["items"], row["ads_inserted"], row["errors"], row["selector_misses"]) == (
        summary.pages, 2, 2, 1, 1,
    )
    assert summary.pages == 7  # robots.txt, 2 listings, /ad/1, /ad/2, /ad/4 and the 404 for /ad/5
    assert '"body": 1' in stats[0][0] and "/ad/4" in stats[0][0]
    assert ads == [
        ("1", "Packer & picker", f"Packing boxes.\nShifts.\n\n{CONTACT}", CONTACT),
        ("2", "Driver", "Drive vans.", None),
    ]


def test_unreachable_site_is_a_failed_run(tmp_path: Path) -> None:
    """Nothing listens on the port: the run is recorded as failed with errors; crawl_site still returns."""
    with MiniSite() as gone:
        base_url = gone.base_url
    summary = crawl_site("minisite", tmp_path / "w.duckdb", base_url, sites_dir=write_config(tmp_path / "s"),
                         timeout_s=60, env={"LUREWATCH_CRAWL_TIMEOUT_S": "2"})
    assert summary.status == "failed"
    assert summary.items == 0 and summary.errors >= 1


def _hold_warehouse(db: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process that opens the warehouse file and keeps it for ``seconds`` (or until it reads a line)."""
    hold = (f"import duckdb, select, sys; c = duckdb.connect({str(db)!r}); print('ok', flush=True); "
            f"select.select([sys.stdin], [], [], {seconds})")
    holder = subprocess.Popen([sys.executable, "-c", hold], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
    return holder


def test_crawler_waits_its_turn_for_a_busy_warehouse(small_site: MiniSite, tmp_path: Path) -> None:
    """The warehouse is shared by turns: a crawl started while another process holds the file says in its log
    that it waits, fetches nothing meanwhile, and once the holder lets go it completes normally. The holder lets
    go only after the crawl logged that it is waiting, so the waiting path is always taken."""
    db, log = tmp_path / "w.duckdb", tmp_path / "crawl.log"
    warehouse.connect(db).close()
    holder = _hold_warehouse(db, 600)
    outcome: list[Any] = []
    crawl = threading.Thread(target=lambda: outcome.append(crawl_site(
        "minisite", db, small_site.base_url, sites_dir=write_config(tmp_path / "s"), log_file=log, timeout_s=300)))
    hits_before = len(small_site.hits)
    try:
        crawl.start()
        assert _wait_for(lambda: log.exists() and "is held by another process: waiting" in log.read_text(), 240)
        assert len(small_site.hits) == hits_before and not outcome  # waiting, not crawling
    finally:
        assert holder.stdin is not None
        holder.stdin.write("go\n")
        holder.stdin.close()
        holder.wait(30)
        crawl.join(timeout=300)
    assert not crawl.is_alive()
    assert outcome and outcome[0].status == "finished" and outcome[0].inserted == 2


def test_warehouse_locked_too_long_raises_crawl_error_without_fetching(
    small_site: MiniSite, tmp_path: Path
) -> None:
    """If the file stays locked beyond the lock timeout, crawl_site raises a CrawlError that says so, and the
    site is not crawled for nothing (the run row is written before the first request)."""
    db = tmp_path / "w.duckdb"
    warehouse.connect(db).close()
    holder = _hold_warehouse(db, 60)
    try:
        hits_before = len(small_site.hits)
        with pytest.raises(CrawlError, match="cannot open warehouse"):
            crawl_site("minisite", db, small_site.base_url, sites_dir=write_config(tmp_path / "s"),
                       lock_timeout_s=0.5)
        assert len(small_site.hits) == hits_before
    finally:
        holder.kill()
        holder.wait(10)


def _wait_for(predicate: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_crash_mid_crawl_keeps_flushed_ads_and_rerun_does_not_duplicate(tmp_path: Path) -> None:
    """SIGKILL after the first batch is flushed: those ads survive (and were readable mid-crawl by another
    process), the dead run is later marked failed, and the next crawl completes the site without duplicates."""
    n_ads = 30
    with MiniSite(delay_s=0.03) as site:
        site.pages = {"/robots.txt": (200, "User-agent: *\nAllow: /\n")}
        links = [f"/ad/{i}" for i in range(n_ads)]
        site.pages["/list?page=1"] = (200, listing_page(links, None))
        for i in range(n_ads):
            site.pages[f"/ad/{i}"] = (200, ad_page(str(i), f"Job {i}", f"Body of job {i}."))
        sites_dir = write_config(tmp_path / "sites")
        db, log = tmp_path / "w.duckdb", tmp_path / "crawl.log"
        env = {**os.environ, "LUREWATCH_CRAWL_CONCURRENCY_PER_DOMAIN": "1", "LUREWATCH_CRAWL_DELAY_S": "0.02"}
        child = subprocess.Popen(
            [sys.executable, "-m", "crawlers.run", "--site", "minisite", "--db", str(db), "--base-url",
             site.base_url, "--sites-dir", str(sites_dir), "--log-file", str(log), "--batch-size", "5"],
            cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        try:
            flushed = _wait_for(lambda: log.exists() and "flushed 5 ads" in log.read_text(), 30)
            # The crawler only holds the file while writing: others can read mid-crawl.
            reader = warehouse.connect(db, read_only=True, lock_timeout_s=10)
            seen_mid_crawl = reader.execute("SELECT count(*) FROM ads").fetchall()[0][0]
            reader.close()
            child.send_signal(signal.SIGKILL)
        finally:
            child.wait(10)
        assert flushed, "the crawl never flushed a batch"
        assert child.returncode == -signal.SIGKILL, "the crawl finished before it could be killed"
        assert seen_mid_crawl >= 5
        con = warehouse.connect(db)
        try:
            kept = con.execute("SELECT count(*) FROM ads").fetchall()[0][0]
            dead_run = con.execute("SELECT run_id, status FROM crawl_runs").fetchall()
        finally:
            con.close()
        assert 5 <= kept < n_ads
        assert [status for _, status in dead_run] == ["running"]

        summary = crawl_site("minisite", db, site.base_url, sites_dir=sites_dir, timeout_s=60)
    assert summary.status == "finished"
    assert summary.inserted == n_ads - kept and summary.unchanged == kept
    # "Resumed" means the second crawl completes the site: every ad was seen by it (the ones the dead run
    # stored are confirmed without re-parsing), the run counts as complete, nothing is marked removed.
    assert summary.complete and summary.items == n_ads and summary.removed == 0
    con = warehouse.connect(db, read_only=True)
    try:
        total, distinct = con.execute("SELECT count(*), count(DISTINCT external_id) FROM ads").fetchall()[0]
        runs = con.execute("SELECT run_id, status, complete FROM crawl_runs ORDER BY run_id").fetchall()
        seen_by_resume = con.execute(
            "SELECT count(*) FILTER (WHERE last_run_id = ?), count(removed_at) FROM ads", [summary.run_id]
        ).fetchall()[0]
        snapshots = con.execute("SELECT count(*), count(DISTINCT ad_id) FROM ad_snapshots").fetchall()[0]
    finally:
        con.close()
    assert total == distinct == n_ads
    assert runs == [(dead_run[0][0], "failed", False), (summary.run_id, "finished", True)]
    assert seen_by_resume == (n_ads, 0)
    assert snapshots == (n_ads, n_ads)  # one snapshot per ad: the resumed run stored no second copy


def _jsonld_page(ref: str, script: str, body_html: str) -> str:
    return (
        f'<html lang="lv"><head><script type="application/ld+json">{script}</script></head><body>'
        f'<h1 class="title">Visible {ref}</h1><div class="text">{body_html}</div></body></html>'
    )


def test_jsonld_spider_falls_back_and_counts_broken_and_oversized_pages(tmp_path: Path) -> None:
    """The jsonld spider prefers JSON-LD, falls back to microdata and then to the visible selectors; a broken
    JSON-LD block is a parse error (the ad is still saved) and a page above crawl_max_page_bytes is dropped
    and counted as an error."""
    posting = (
        '{"@context": "https://schema.org", "@type": "JobPosting", "title": "Structured 1", '
        '"description": "<p>From JSON-LD.</p>", "identifier": {"@type": "PropertyValue", "value": "J-1"}}'
    )
    microdata = (
        '<div itemscope itemtype="https://schema.org/JobPosting"><h2 itemprop="title">Micro 3</h2>'
        '<div itemprop="description"><p>From microdata.</p></div></div>'
    )
    with MiniSite() as site:
        site.pages = {
            "/list?page=1": (200, listing_page(["/ad/1", "/ad/2", "/ad/3", "/ad/4"], None)),
            "/ad/1": (200, _jsonld_page("1", posting, "<p>Visible body 1.</p>")),
            "/ad/2": (200, _jsonld_page("2", '{"@type": "JobPosting", "title": ', "<p>Visible body 2.</p>")),
            "/ad/3": (200, f'<html lang="fi"><body>{microdata}</body></html>'),
            "/ad/4": (200, _jsonld_page("4", posting.replace("J-1", "J-4"), "<p>" + "x" * 20_000 + "</p>")),
        }
        config = {**MINI_CONFIG, "spider": "jsonld"}
        summary = crawl_site("minisite", tmp_path / "w.duckdb", site.base_url,
                             sites_dir=write_config(tmp_path / "sites", config),
                             env={"LUREWATCH_CRAWL_MAX_PAGE_BYTES": "10000"})
    con = warehouse.connect(tmp_path / "w.duckdb", read_only=True)
    try:
        rows = con.execute("SELECT url, external_id, title, body, page_language FROM ads ORDER BY url").fetchall()
    finally:
        con.close()
    assert [row[1:] for row in rows] == [
        ("J-1", "Structured 1", "From JSON-LD.", "lv"),
        ("2", "Visible 2", "Visible body 2.", "lv"),
        ("3", "Micro 3", "From microdata.", "fi"),
    ]
    assert (summary.items, summary.errors, summary.selector_misses, summary.status) == (3, 2, 0, "finished")
