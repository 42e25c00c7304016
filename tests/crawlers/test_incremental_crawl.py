"""Incremental crawling over five runs of one small site: conditional requests (ETag / Last-Modified), unchanged
bodies not re-parsed, first/last seen, snapshots only for changed text, ads that disappear marked removed
(never deleted) and cleared when they come back - but nothing marked after a partial crawl, and a config
change forces a full re-parse."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from minisite_server import MINI_CONFIG, ad_page, listing_page, write_config
from misbehaving_server import Conditional, Handler, Site, text

import warehouse
from crawlers.run import CrawlSummary, crawl_site


@dataclass
class State:
    """What one run left in the warehouse."""

    summary: CrawlSummary
    ads: dict[str, dict[str, Any]]  # ref -> columns
    snapshots: dict[str, int]  # ref -> number of snapshots
    stats: dict[str, Any]
    headers: dict[str, dict[str, str]]  # path -> request headers of this run's request


@dataclass
class Scenario:
    site: Site
    pages: dict[str, Conditional]
    listed: dict[int, list[str]]  # listing page -> ad paths
    failing: set[str]


def _serve(scenario: Scenario) -> Callable[[Handler, Site], None]:
    def listing(handler: Handler, site: Site) -> None:
        page_no = 2 if handler.path.endswith("page=2") else 1
        if f"/list?page={page_no}" in scenario.failing:
            handler.send(503, b"down")
            return
        nxt = "/list?page=2" if page_no == 1 else None
        handler.send(200, listing_page(scenario.listed[page_no], nxt).encode())

    return listing


def _ad_route(scenario: Scenario, path: str) -> Callable[[Handler, Site], None]:
    def respond(handler: Handler, site: Site) -> None:
        if path in scenario.failing:
            handler.send(503, b"down")
        else:
            scenario.pages[path](handler, site)

    return respond


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[State]]:
    tmp = tmp_path_factory.mktemp("incremental")
    db, sites_dir = tmp / "w.duckdb", write_config(tmp / "sites")
    pages = {
        "/ad/1": Conditional(ad_page("1", "Cook", "Cooking in Riga.")),  # ETag and Last-Modified
        "/ad/2": Conditional(ad_page("2", "Driver", "Driving in Tartu."), etag=False),  # Last-Modified only
        "/ad/3": Conditional(ad_page("3", "Baker", "Baking in Vilnius."), etag=False, last_modified=False),
        "/ad/4": Conditional(ad_page("4", "Nanny", "Au pair in Oslo.")),
        "/ad/5": Conditional(ad_page("5", "Welder", "Welding in Gdansk.")),
    }
    with Site() as site:
        scenario = Scenario(site, pages, {1: ["/ad/1", "/ad/2", "/ad/3"], 2: ["/ad/4", "/ad/5"]}, set())
        site.routes = {"/robots.txt": text("User-agent: *\nAllow: /\n"), "/list": _serve(scenario)}
        site.routes |= {path: _ad_route(scenario, path) for path in pages}
        states: list[State] = []

        def crawl(config_dir: Path = sites_dir) -> None:
            first_hit = len(site.hits)
            summary = crawl_site("minisite", db, site.base_url, sites_dir=config_dir, timeout_s=60)
            headers = {hit.path: hit.headers for hit in site.hits[first_hit:]}
            states.append(_state(db, summary, headers))

        crawl()  # 1: everything new
        crawl()  # 2: nothing changed
        pages["/ad/1"].bump(ad_page("1", "Cook", "Cooking in Riga. Free flights to Dubai!"))
        scenario.listed[2] = ["/ad/5"]  # ad 4 is gone from the site
        scenario.failing = {"/ad/5"}  # and ad 5's page is down: its fate is unknown
        crawl()  # 3: one change, one removal
        scenario.failing = {"/list?page=2"}
        scenario.listed[1] = ["/ad/1", "/ad/3"]  # ad 2 disappears, but page 2 cannot be read
        crawl()  # 4: partial crawl: marks nothing
        scenario.failing = set()
        scenario.listed = {1: ["/ad/1", "/ad/2", "/ad/3"], 2: ["/ad/4", "/ad/5"]}
        fields = {**MINI_CONFIG["fields"], "company": {"css": "span.company"}}  # type: ignore[dict-item]
        changed = {**MINI_CONFIG, "fields": fields}
        crawl(write_config(tmp / "sites-v2", changed))  # 5: ad 4 is back; new selectors: everything re-parsed
        yield states


def _state(db: Path, summary: CrawlSummary, headers: dict[str, dict[str, str]]) -> State:
    con = warehouse.connect(db, read_only=True)
    try:
        cursor = con.execute(
            "SELECT external_id, body, first_seen, last_seen, removed_at, content_hash, last_run_id FROM ads"
        )
        names = [d[0] for d in cursor.description]
        ads = {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}
        snapshots = dict(
            con.execute(
                "SELECT a.external_id, count(*) FROM ad_snapshots s JOIN ads a USING (ad_id) GROUP BY ALL"
            ).fetchall()
        )
        raw = con.execute("SELECT stats FROM crawl_runs WHERE run_id = ?", [summary.run_id]).fetchall()[0][0]
    finally:
        con.close()
    return State(summary, ads, snapshots, json.loads(raw), headers)


def test_first_crawl_stores_ads_snapshots_and_validators(runs: list[State]) -> None:
    """Run 1 inserts every ad with first_seen = last_seen and one snapshot each; nothing was conditional."""
    first = runs[0]
    assert (first.summary.inserted, first.summary.items, first.summary.not_modified) == (5, 5, 0)
    assert first.snapshots == dict.fromkeys("12345", 1)
    assert all(ad["first_seen"] == ad["last_seen"] and ad["removed_at"] is None for ad in first.ads.values())
    assert not any("If-None-Match" in h or "If-Modified-Since" in h for h in first.headers.values())


def test_unchanged_pages_are_not_refetched_or_reparsed(runs: list[State]) -> None:
    """Run 2 asks "changed since?" with the remembered ETag / Last-Modified; the server answers 304 (or, for
    a page without validators, the same body): no re-parse, no rewrite, no new snapshot - only last_seen."""
    first, second = runs[0], runs[1]
    assert second.headers["/ad/1"]["If-None-Match"] == '"v1"'
    assert second.headers["/ad/2"]["If-Modified-Since"].endswith("GMT")
    assert "If-None-Match" not in second.headers["/ad/2"]
    assert "If-None-Match" not in second.headers["/ad/3"] and "If-Modified-Since" not in second.headers["/ad/3"]
    summary = second.summary
    assert (summary.items, summary.inserted, summary.updated, summary.unchanged) == (5, 0, 0, 5)
    assert summary.not_modified == 5
    assert (second.stats["not_modified_304"], second.stats["same_body"]) == (4, 1)
    assert second.snapshots == first.snapshots
    for ref, ad in second.ads.items():
        assert ad["first_seen"] == first.ads[ref]["first_seen"]
        assert ad["last_seen"] > first.ads[ref]["last_seen"]
        assert ad["last_run_id"] == summary.run_id


def test_changed_ad_gets_a_new_snapshot_and_history_is_kept(runs: list[State]) -> None:
    """Run 3: the changed page is re-fetched (new ETag), its ad updated in place and a second snapshot
    added; the first snapshot - the evidence of what the ad said before - stays."""
    third = runs[2]
    assert third.summary.updated == 1
    assert third.ads["1"]["body"] == "Cooking in Riga. Free flights to Dubai!"
    assert third.snapshots["1"] == 2
    assert third.snapshots["2"] == 1


def test_vanished_ad_is_marked_removed_but_not_deleted(runs: list[State]) -> None:
    """Run 3 is complete (both listing pages read): ad 4, no longer listed, gets removed_at and stays in
    the table; ad 5, listed but its page failed, is not marked (its fate is unknown)."""
    third = runs[2]
    assert third.summary.complete and third.summary.removed == 1
    assert third.ads["4"]["removed_at"] is not None
    assert third.ads["5"]["removed_at"] is None
    assert set(third.ads) == set("12345")


def test_partial_crawl_marks_nothing_removed(runs: list[State]) -> None:
    """Run 4 could not read listing page 2: ad 2 is gone from page 1 and ads 4-5 were not seen, yet nothing
    is marked removed; the run says why."""
    fourth = runs[3]
    assert not fourth.summary.complete and fourth.summary.removed == 0
    assert fourth.ads["2"]["removed_at"] is None and fourth.ads["5"]["removed_at"] is None
    assert "entry page" in fourth.stats["removal_skipped"]


def test_reappearing_ad_is_live_again(runs: list[State]) -> None:
    """Run 5: ad 4 is listed again: removed_at is cleared, first_seen kept, no new snapshot (same text)."""
    third, fifth = runs[2], runs[4]
    assert fifth.ads["4"]["removed_at"] is None
    assert fifth.ads["4"]["first_seen"] == third.ads["4"]["first_seen"]
    assert fifth.snapshots["4"] == 1
    assert fifth.stats["reappeared"] == 1
    assert fifth.summary.complete and fifth.summary.removed == 0


def test_config_change_forces_a_full_reparse(runs: list[State]) -> None:
    """Run 5 uses changed selectors: remembered validators belong to the old config, so every page is
    fetched unconditionally and parsed again (same text: no update, no new snapshot)."""
    fifth = runs[4]
    assert fifth.summary.not_modified == 0
    assert not any("If-None-Match" in h or "If-Modified-Since" in h for h in fifth.headers.values())
    assert (fifth.summary.items, fifth.summary.inserted, fifth.summary.updated) == (5, 0, 0)
    assert fifth.snapshots == runs[3].snapshots


def test_timestamps_are_ordered(runs: list[State]) -> None:
    """last_seen only moves forward across runs; first_seen never moves."""
    for earlier, later in itertools.pairwise(runs):
        for ref, ad in later.ads.items():
            assert ad["first_seen"] == earlier.ads[ref]["first_seen"]
            assert ad["last_seen"] >= earlier.ads[ref]["last_seen"]
            assert isinstance(ad["last_seen"], datetime)

