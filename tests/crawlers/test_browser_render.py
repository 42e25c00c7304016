"""`render: browser`: a board whose ads exist only after JavaScript runs is crawled through headless Chromium
(scrapy-playwright, Debian's /usr/bin/chromium) into a real DuckDB warehouse, with the politeness, limits and
incremental logic of plain HTTP; a plain HTTP crawl of the same board finds nothing."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import warehouse
from crawlers.items import merge_contact
from crawlers.run import crawl_site, preview_site
from crawlers.site_config import SITES_DIR, ConfigError, load_site_config
from crawlers.text import normalize_line, normalize_paragraphs
from fixture_sites import load_ads
from fixture_sites.jsjobs import JsJobsServer
from lurewatch.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
N_ADS = 25  # two listing pages (20 + 5)


@pytest.fixture()
def board() -> Iterator[JsJobsServer]:
    with JsJobsServer(limit=N_ADS) as server:
        yield server


@pytest.fixture()
def tracker() -> Iterator[JsJobsServer]:
    """Another host ("localhost", not the board's 127.0.0.1) that the board's pages load a script from."""
    with JsJobsServer(limit=1, host="127.0.0.1") as server:
        yield server


def _sites_dir(tmp_path: Path, **changes: Any) -> Path:
    data = yaml.safe_load((SITES_DIR / "jsjobs.yaml").read_text(encoding="utf-8"))
    data.update(changes)
    sites = tmp_path / "sites"
    sites.mkdir(exist_ok=True)
    (sites / "jsjobs.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return sites


def _ads(db: Path) -> dict[str, tuple[Any, ...]]:
    con = warehouse.connect(db, read_only=True)
    try:
        rows = con.execute(
            "SELECT external_id, title, body, contact_text, location, posted, company, page_language "
            "FROM ads WHERE site_id = 'jsjobs'"
        ).fetchall()
    finally:
        con.close()
    return {row[0]: row for row in rows}


def _expected() -> dict[str, dict[str, Any]]:
    ads = sorted((a for a in load_ads() if a["site"] == "balticjobs"), key=lambda a: (a["posted"], a["ref"]),
                 reverse=True)
    return {a["ref"]: a for a in ads[:N_ADS]}


def test_js_only_board_is_crawled_through_chromium_into_the_warehouse(
    tmp_path: Path, board: JsJobsServer, tracker: JsJobsServer
) -> None:
    """Every ad the page's script renders is stored with its exact title, body, contact, city, date, company
    and language; the browser loads only the board's own scripts and API (no images, stylesheets, other
    hosts or robots.txt-disallowed URLs), sends our User-Agent everywhere and never a cookie; a re-crawl
    recognises every unchanged rendered page and parses none again."""
    board.site.offsite_script = f"http://localhost:{tracker.base_url.rsplit(':', 1)[1]}/static/app.js"
    db = tmp_path / "w.duckdb"
    summary = crawl_site("jsjobs", db, board.base_url, timeout_s=300, log_file=tmp_path / "crawl.log")
    assert summary.status == "finished", summary
    assert (summary.items, summary.inserted, summary.errors, summary.selector_misses) == (N_ADS, N_ADS, 0, 0)
    assert summary.complete

    expected = _expected()
    crawled = _ads(db)
    assert set(crawled) == set(expected)
    for ref, ad in expected.items():
        _, title, body, contact, city, posted, company, language = crawled[ref]
        assert title == normalize_line(ad["title"])
        assert body == merge_contact(normalize_paragraphs(ad["body"]), normalize_line(ad.get("contact") or "") or None)
        assert contact == (normalize_line(ad.get("contact") or "") or None)
        assert city == normalize_line(ad["city"])
        assert posted.isoformat() == ad["posted"]
        assert company == (normalize_line(ad.get("company") or "") or None)
        assert language == ad["lang"]

    paths = [r["path"] for r in board.site.requests]
    assert paths.count("/robots.txt") == 1
    assert not [p for p in paths if p.startswith(("/static/app.css", "/static/logo.png", "/api/private"))]
    assert sum(p.startswith("/api/job/") for p in paths) == N_ADS  # the script's own API calls went through
    assert tracker.site.requests == []  # the script on another host was never fetched
    assert {r["user_agent"] for r in board.site.requests} == {Settings().user_agent}
    assert [r for r in board.site.requests if r["cookie"]] == []  # the shell pages set one; it never came back

    again = crawl_site("jsjobs", db, board.base_url, timeout_s=300, log_file=tmp_path / "crawl.log")
    assert again.status == "finished" and again.complete
    assert (again.items, again.inserted, again.updated, again.not_modified, again.errors) == (N_ADS, 0, 0, N_ADS, 0)
    assert len(_ads(db)) == N_ADS


def test_plain_http_crawl_of_the_js_board_finds_no_ads(tmp_path: Path, board: JsJobsServer) -> None:
    """Without the browser the board is empty shells: no ad, a listing selector miss, an incomplete run."""
    sites = _sites_dir(tmp_path, render="http")
    db = tmp_path / "w.duckdb"
    summary = crawl_site("jsjobs", db, board.base_url, timeout_s=120, sites_dir=sites)
    assert (summary.items, summary.inserted) == (0, 0)
    assert summary.selector_misses >= 1 and not summary.complete
    assert _ads(db) == {}
    assert not [r for r in board.site.requests if r["path"].startswith(("/api/", "/static/"))]


def test_browser_crawl_keeps_the_configured_delay_and_concurrency(tmp_path: Path) -> None:
    """Page navigations go through Scrapy's downloader: with one request per domain at a time, each ad page is
    rendered completely (its API call served) before the next one is requested, and with a 0.3 s delay the ad
    pages reach the server at least 5 x 0.3 s apart in all (the first page, which waits for Chromium to start,
    is left out; the margin absorbs page start-up jitter, and load can only widen the gaps)."""
    with JsJobsServer(limit=6) as server:
        summary = crawl_site(
            "jsjobs", tmp_path / "w.duckdb", server.base_url, timeout_s=300,
            env={"LUREWATCH_CRAWL_DELAY_S": "0.3", "LUREWATCH_CRAWL_CONCURRENCY_PER_DOMAIN": "1"},
        )
        requests = list(server.site.requests)
    assert summary.status == "finished" and summary.inserted == 6
    ad_calls = [r["path"] for r in requests if r["path"].startswith(("/job/", "/api/job/"))]
    refs = [path.rsplit("/", 1)[1] for path in ad_calls[::2]]
    assert ad_calls == [p for ref in refs for p in (f"/job/{ref}", f"/api/job/{ref}")]  # never two at once
    pages = [float(r["at"]) for r in requests if r["path"].startswith("/job/")]
    assert len(pages) == 6
    assert pages[-1] - pages[0] >= 5 * 0.3 * 0.7, [b - a for a, b in itertools.pairwise(pages)]


def test_rendered_page_over_the_size_limit_is_an_error(tmp_path: Path, board: JsJobsServer) -> None:
    """Chromium ignores Scrapy's DOWNLOAD_MAXSIZE: a rendered page over LUREWATCH_CRAWL_MAX_PAGE_BYTES is
    still refused as one error (here the rendered listing page), and nothing is stored from it."""
    summary = crawl_site("jsjobs", tmp_path / "w.duckdb", board.base_url, timeout_s=300,
                         env={"LUREWATCH_CRAWL_MAX_PAGE_BYTES": "3000"})
    assert summary.errors >= 1 and summary.inserted == 0 and not summary.complete


def test_missing_chromium_is_one_error_line(tmp_path: Path) -> None:
    """A browser site on a machine without Chromium: one `error:` line naming what to install, exit 2."""
    env = {**os.environ, "LUREWATCH_CHROMIUM": str(tmp_path / "no-chromium"), "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "crawlers.run", "--site", "jsjobs", "--db", str(tmp_path / "w.duckdb")],
        capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=60, check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: render: browser needs Chromium at"), done.stderr
    assert not (tmp_path / "w.duckdb").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [({"render": "chrome"}, "render"), ({"browser": {"wait_for": "div[["}}, "invalid selector"),
     ({"browser": {"wait_until": "idle"}}, "wait_until")],
)
def test_browser_options_are_validated_at_load_time(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    sites = _sites_dir(tmp_path, **change)
    with pytest.raises(ConfigError, match=message):
        load_site_config(sites / "jsjobs.yaml")


def test_plain_configs_keep_their_hash() -> None:
    """Adding `render` did not change the hash of existing plain HTTP configs (no forced re-parse), while
    switching a config to the browser does change it (its pages are parsed again)."""
    config = load_site_config(SITES_DIR / "balticjobs.yaml")
    before = config.model_dump(mode="json", exclude={"base_url", "render", "browser"})
    assert config.config_hash() == hashlib.sha256(json.dumps(before, sort_keys=True).encode()).hexdigest()[:16]
    browser = config.model_copy(update={"render": "browser"})
    assert browser.config_hash() != config.config_hash()


def test_sites_check_fetch_previews_a_browser_site() -> None:
    """`lurewatch sites check jsjobs --fetch N` (preview_site) renders the pages too and shows real ads."""
    with JsJobsServer(limit=8) as server:
        preview = preview_site("jsjobs", server.base_url, limit=3, timeout_s=300)
    assert (preview["items"], preview["errors"], preview["selector_misses"]) == (3, 0, 0)
    titles = {normalize_line(ad["title"]) for ad in _expected().values()}
    assert {sample["title"] for sample in preview["samples"]} <= titles
