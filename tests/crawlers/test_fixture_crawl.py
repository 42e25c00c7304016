"""Complete crawls of the three bundled fixture sites: every ad arrives exactly once with the right text and
encoding, the run is recorded, and a re-crawl refreshes ads instead of duplicating them."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from fixture_crawl_support import FIXTURE_SITES, FullCrawl, expected_body

import warehouse
from crawlers.run import crawl_site
from crawlers.text import normalize_line


def _ads(db_path: Path, site: str) -> dict[str, tuple[Any, ...]]:
    con = warehouse.connect(db_path, read_only=True)
    try:
        rows = con.execute(
            "SELECT external_id, url, title, body, contact_text, page_language, posted, last_seen, "
            "first_seen FROM ads WHERE site_id = ?",
            [site],
        ).fetchall()
    finally:
        con.close()
    return {row[0]: row for row in rows}


@pytest.mark.parametrize("site", FIXTURE_SITES)
def test_every_fixture_ad_is_crawled_exactly_once(
    site: str, full_crawl: FullCrawl, fixture_ads: dict[str, list[dict[str, Any]]]
) -> None:
    """Each ad of the site in ads.jsonl is in `ads` exactly once (by ref and by URL), nothing extra, with
    title and body equal to the source after whitespace normalisation, and the run finished cleanly."""
    expected = {ad["ref"]: ad for ad in fixture_ads[site]}
    assert expected, f"ads.jsonl has no ads for {site}"
    crawled = _ads(full_crawl.db_path, site)
    con = warehouse.connect(full_crawl.db_path, read_only=True)
    try:
        (count,) = con.execute("SELECT count(*) FROM ads WHERE site_id = ?", [site]).fetchall()[0]
    finally:
        con.close()
    assert count == len(crawled) == len(expected)
    assert set(crawled) == set(expected)
    wrong_title = [ref for ref, ad in expected.items() if crawled[ref][2] != normalize_line(ad["title"])]
    wrong_body = [ref for ref, ad in expected.items() if crawled[ref][3] != expected_body(ad)]
    assert wrong_title == []
    assert wrong_body == [], (crawled[wrong_body[0]][3], expected_body(expected[wrong_body[0]]))
    summary = full_crawl.summaries[site]
    assert summary.status == "finished"
    counters = (summary.items, summary.inserted, summary.errors, summary.selector_misses)
    assert counters == (len(expected), len(expected), 0, 0)


@pytest.mark.parametrize("site", FIXTURE_SITES)
def test_ad_metadata_is_extracted(
    site: str, full_crawl: FullCrawl, fixture_ads: dict[str, list[dict[str, Any]]]
) -> None:
    """City, posting date, contact line, company and language land in their own columns (not just the body),
    so later stages can use them; the board's UI language is not mistaken for each post's language."""
    con = warehouse.connect(full_crawl.db_path, read_only=True)
    try:
        rows = con.execute(
            "SELECT external_id, location, posted, contact_text, company, page_language, url FROM ads "
            "WHERE site_id = ?",
            [site],
        ).fetchall()
    finally:
        con.close()
    crawled = {row[0]: row for row in rows}
    for ad in fixture_ads[site]:
        ref, location, posted, contact, company, language, url = crawled[ad["ref"]]
        assert location == normalize_line(ad["city"])
        assert posted.isoformat() == ad["posted"]
        assert contact == (normalize_line(ad["contact"] or "") or None)
        assert url.startswith(full_crawl.base_urls[site]) and url.rstrip("/").split("/")[-1].startswith(ref)
        if site == "darbas-forum":
            assert company is None and language is None
        else:
            assert company == (ad["company"] or None)
            assert language == ad["lang"]


@pytest.mark.parametrize(("lang", "marker"), [("ru", "ж"), ("lv", "ā"), ("lt", "ė"), ("et", "õ"), ("pl", "ł")])
def test_skelbimai_legacy_encodings_are_decoded(
    lang: str, marker: str, full_crawl: FullCrawl, fixture_ads: dict[str, list[dict[str, Any]]]
) -> None:
    """skelbimai serves ru pages as windows-1251 and Baltic ones as windows-1257: the stored text is the
    original Unicode (no mojibake), byte for byte after normalisation."""
    ads = [ad for ad in fixture_ads["skelbimai"] if ad["lang"] == lang]
    assert ads, f"the fixture has no {lang} ads on skelbimai: this test would check nothing"
    crawled = _ads(full_crawl.db_path, "skelbimai")
    texts = [crawled[ad["ref"]][2] + crawled[ad["ref"]][3] for ad in ads]
    assert any(marker in text for text in texts)
    for ad in ads:
        assert crawled[ad["ref"]][2] == normalize_line(ad["title"])
        assert crawled[ad["ref"]][3] == expected_body(ad)
    assert not any("Ã" in t or "Ð" in t or "\ufffd" in t for t in texts)


def test_crawl_health_rows_are_written(full_crawl: FullCrawl) -> None:
    """One finished crawl_runs row per site with pages, items and inserts matching the printed summary."""
    con = warehouse.connect(full_crawl.db_path, read_only=True)
    try:
        rows = con.execute(
            "SELECT site_id, run_id, status, pages, items, ads_inserted, ads_updated, errors, "
            "selector_misses, finished_at IS NOT NULL FROM crawl_runs ORDER BY run_id"
        ).fetchall()
        sites = con.execute("SELECT site_id, spider, base_url FROM sites ORDER BY site_id").fetchall()
    finally:
        con.close()
    assert [row[0] for row in rows] == list(FIXTURE_SITES)
    for row in rows:
        summary = full_crawl.summaries[row[0]]
        expected = (summary.run_id, "finished", summary.pages, summary.items, summary.inserted, 0, 0, 0, True)
        assert row[1:] == expected
        assert summary.pages > summary.items / 30  # listings were paginated and (non-inline) details fetched
    assert sorted(s[0] for s in sites) == sorted(FIXTURE_SITES)
    assert {s[0]: s[2] for s in sites} == full_crawl.base_urls


def test_recrawl_updates_last_seen_without_duplicates(full_crawl: FullCrawl, tmp_path: Path) -> None:
    """Crawling a site again inserts nothing, counts every ad as seen (unchanged), advances last_seen and
    keeps first_seen, so repeated runs never duplicate ads."""
    db_path = tmp_path / "recrawl.duckdb"
    shutil.copy(full_crawl.db_path, db_path)
    before = _ads(db_path, "darbas-forum")
    summary = crawl_site("darbas-forum", db_path, full_crawl.base_urls["darbas-forum"], timeout_s=120)
    after = _ads(db_path, "darbas-forum")
    assert summary.status == "finished"
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 0, len(before))
    assert set(after) == set(before)
    for ref, row in after.items():
        assert row[8] == before[ref][8]  # first_seen kept
        assert row[7] > before[ref][7]  # last_seen advanced
    con = warehouse.connect(db_path, read_only=True)
    try:
        total, urls = con.execute("SELECT count(*), count(DISTINCT url) FROM ads").fetchall()[0]
    finally:
        con.close()
    assert total == urls == sum(s.items for s in full_crawl.summaries.values())
