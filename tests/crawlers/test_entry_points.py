"""Sitemap and RSS/Atom entry points: the bundled example configs (balticjobs via its sitemap, darbas-forum
via its RSS feed) crawl the fixture sites completely, a sitemap index with gzipped children, robots.txt
discovery and URL filters works, and the feed/sitemap readers handle the formats found in the wild."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fixture_crawl_support import FullCrawl, expected_body
from minisite_server import MINI_CONFIG, ad_page, write_config
from misbehaving_server import Site, page, text

import warehouse
from crawlers.feeds import EntryError, inflate, parse_feed, parse_sitemap
from crawlers.run import crawl_site
from crawlers.site_config import ConfigError, get_site_config, load_site_config, load_site_configs
from crawlers.text import normalize_line


def _rows(db: Path, where: str = "", params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = warehouse.connect(db, read_only=True)
    try:
        return con.execute(
            f"SELECT site_id, external_id, title, body, last_seen, removed_at FROM ads {where}", params or []
        ).fetchall()
    finally:
        con.close()


def test_example_configs_are_disabled_alternatives() -> None:
    """The example entry-point configs validate, feed the ads of their base site, and are not crawled by
    default (`lurewatch crawl` / the flow pick only enabled configs)."""
    assert {"balticjobs-sitemap", "darbas-forum-rss"}.isdisjoint(load_site_configs())
    every = load_site_configs(include_disabled=True)
    sitemap, feed = every["balticjobs-sitemap"], every["darbas-forum-rss"]
    assert (sitemap.entry, sitemap.ad_site_id, sitemap.marks_removals) == ("sitemap", "balticjobs", True)
    assert (feed.entry, feed.ad_site_id, feed.marks_removals) == ("feed", "darbas-forum", False)


def test_balticjobs_via_sitemap_finds_every_ad(
    fixture_servers: Any, fixture_ads: dict[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    """balticjobs crawled from /sitemap.xml alone (no listing pages) yields every fixture ad exactly once,
    parsed by the same JSON-LD rules, under site_id balticjobs; the run is complete."""
    db = tmp_path / "w.duckdb"
    summary = crawl_site("balticjobs-sitemap", db, fixture_servers.base_urls["balticjobs"], timeout_s=120)
    expected = {ad["ref"]: ad for ad in fixture_ads["balticjobs"]}
    rows = _rows(db)
    assert (summary.status, summary.errors, summary.selector_misses, summary.complete) == ("finished", 0, 0, True)
    assert summary.items == summary.inserted == len(expected) == len(rows)
    assert {row[0] for row in rows} == {"balticjobs"}
    by_ref = {row[1]: row for row in rows}
    assert set(by_ref) == set(expected)
    for ref, ad in expected.items():
        assert by_ref[ref][2] == normalize_line(ad["title"])
        assert by_ref[ref][3] == expected_body(ad)


def test_darbas_forum_via_rss_meets_the_board_crawl_without_duplicates(full_crawl: FullCrawl, tmp_path: Path) -> None:
    """The RSS config reads each feed item's permalink page; crawled into a warehouse that already holds the
    board crawl, it finds the same ads with the same text: nothing inserted, nothing changed, every ad seen
    again, no duplicate rows - and, being a feed, it marks nothing removed."""
    db = tmp_path / "w.duckdb"
    shutil.copy(full_crawl.db_path, db)
    before = _rows(db, "WHERE site_id = 'darbas-forum'")
    summary = crawl_site("darbas-forum-rss", db, full_crawl.base_urls["darbas-forum"], timeout_s=120)
    after = {row[1]: row for row in _rows(db, "WHERE site_id = 'darbas-forum'")}
    assert (summary.status, summary.errors, summary.selector_misses) == ("finished", 0, 0)
    assert (summary.items, summary.inserted, summary.updated, summary.unchanged) == (len(before), 0, 0, len(before))
    assert summary.removed == 0
    assert len(after) == len(before)
    for _site_id, ref, *_text, last_seen, removed_at in before:
        assert after[ref][4] > last_seen and after[ref][5] is None and removed_at is None
    total, distinct = _count(db)
    assert total == distinct == sum(s.items for s in full_crawl.summaries.values())


def _count(db: Path) -> tuple[int, int]:
    con = warehouse.connect(db, read_only=True)
    try:
        total, distinct = con.execute("SELECT count(*), count(DISTINCT url) FROM ads").fetchall()[0]
    finally:
        con.close()
    return int(total), int(distinct)


def _urlset(base: str, paths: list[str]) -> str:
    urls = "".join(f"<url><loc>{base}{p}</loc><lastmod>2026-11-01</lastmod></url>" for p in paths)
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'


@pytest.fixture()
def sitemap_site() -> Iterator[Site]:
    with Site() as site, Site(host="localhost") as other:
        base = site.base_url
        index = (
            '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{base}/sitemap-ads-1.xml.gz</loc></sitemap>"
            f"<sitemap><loc>{base}/sitemap-ads-2.xml</loc></sitemap>"
            f"<sitemap><loc>{base}/sitemap-pages.xml</loc></sitemap>"
            "</sitemapindex>"
        )
        gz = gzip.compress(_urlset(base, ["/ad/1", "/ad/2", "/about"]).encode())
        site.routes = {
            "/robots.txt": text(f"User-agent: *\nAllow: /\nSitemap: {base}/sitemap_index.xml\n"),
            "/sitemap_index.xml": page(index, content_type="application/xml"),
            "/sitemap-ads-1.xml.gz": page(gz, content_type="application/x-gzip"),
            "/sitemap-ads-2.xml": page(
                _urlset(base, ["/ad/3"]).replace("</urlset>", f"<url><loc>http://localhost:{other.port}/ad/9</loc>"
                                                               "</url></urlset>"),
                content_type="text/xml",
            ),
            "/sitemap-pages.xml": page(_urlset(base, ["/ad/4"]), content_type="application/xml"),
            **{f"/ad/{i}": page(ad_page(str(i), f"Job {i}", f"Body {i}.")) for i in range(1, 5)},
            "/about": page("<html><body><h1 class='title'>About</h1></body></html>"),
        }
        other.routes = {"/ad/9": page(ad_page("9", "Offsite", "Never."))}
        site.offsite = other  # type: ignore[attr-defined]
        yield site


def test_sitemap_index_gzip_robots_discovery_and_filters(sitemap_site: Site, tmp_path: Path) -> None:
    """The sitemap is found through robots.txt; the index's children matching `sitemap.follow` are read
    (one of them gzipped), their URLs pass `url_filter` (/about is not an ad), offsite URLs are dropped."""
    config = {
        **{k: v for k, v in MINI_CONFIG.items() if k != "listing"},
        "entry": "sitemap",
        "start_paths": [],
        "sitemap": {"from_robots": True, "follow": ["sitemap-ads-"]},
        "url_filter": {"allow": ["/ad/\\d+$"]},
    }
    summary = crawl_site("minisite", tmp_path / "w.duckdb", sitemap_site.base_url,
                         sites_dir=write_config(tmp_path / "sites", config), timeout_s=60)
    refs = sorted(row[1] for row in _rows(tmp_path / "w.duckdb"))
    assert refs == ["1", "2", "3"]
    assert (summary.status, summary.errors, summary.selector_misses, summary.complete) == ("finished", 0, 0, True)
    paths = sitemap_site.paths()
    assert "/sitemap-pages.xml" not in paths and "/about" not in paths and "/ad/4" not in paths
    assert sitemap_site.offsite.hits == []  # type: ignore[attr-defined]


def test_feed_formats() -> None:
    """RSS 2.0 (<link>, or a permalink <guid>), RSS 1.0/RDF and Atom (alternate links) give entry URLs in
    order, relative links resolved; anything else is an EntryError."""
    rss2 = (
        b'<?xml version="1.0" encoding="windows-1257"?><rss version="2.0"><channel><title>x</title>'
        b"<item><title>Darbs \xe2rzem\xe7s</title><link>/post/1</link></item>"
        b'<item><guid isPermaLink="true">https://h.example/post/2</guid></item>'
        b'<item><guid isPermaLink="false">tag:h,2026:3</guid></item></channel></rss>'
    )
    assert parse_feed(rss2, "https://h.example/feed") == ["https://h.example/post/1", "https://h.example/post/2"]
    rdf = (
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">'
        b'<item rdf:about="https://h.example/a"><title>a</title></item>'
        b'<item rdf:about="https://h.example/b"><link>https://h.example/b2</link></item></rdf:RDF>'
    )
    assert parse_feed(rdf, "https://h.example/") == ["https://h.example/a", "https://h.example/b2"]
    atom = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><link rel="self" href="/api/1"/>'
        b'<link rel="alternate" href="/jobs/1"/></entry><entry><link href="https://h.example/jobs/2"/></entry>'
        b"<entry><title>no link</title></entry></feed>"
    )
    assert parse_feed(atom, "https://h.example/feed.atom") == ["https://h.example/jobs/1", "https://h.example/jobs/2"]
    with pytest.raises(EntryError):
        parse_feed(b"<html><body>not a feed</body></html>", "https://h.example/")
    with pytest.raises(EntryError):
        parse_feed(b"\x00\x01 binary", "https://h.example/")


def test_sitemap_reader_is_defensive() -> None:
    """Entities are not expanded (billion laughs), a gzip bomb is refused, non-sitemaps are errors."""
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://h.example/&b;</loc></url>'
        b"<url><loc>https://h.example/ok</loc></url></urlset>"
    )
    doc = parse_sitemap(laughs, "https://h.example/")
    assert doc.kind == "urlset" and "https://h.example/ok" in doc.urls
    assert not any("aaaaaaaaaa" in url for url in doc.urls)
    bomb = gzip.compress(b" " * 2_000_000)
    with pytest.raises(EntryError, match="inflates beyond"):
        inflate(bomb, 1_000_000)
    assert inflate(b"<urlset/>", 10) == b"<urlset/>"
    with pytest.raises(EntryError, match="not a sitemap"):
        parse_sitemap(b"<rss><channel/></rss>", "https://h.example/")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"entry": "sitemap"}, "drop the 'listing' section"),
        ({"listing": None}, "needs a 'listing' section"),
        ({"url_filter": {"allow": ["(unclosed"]}}, "invalid regex"),
        ({"entry": "feed", "listing": None, "start_paths": []}, "start_paths"),
        ({"site_id": "Not Valid"}, "site_id"),
        ({"removal": {"max_fraction": 2}}, "max_fraction"),
    ],
)
def test_entry_config_mistakes_are_config_errors(tmp_path: Path, change: dict[str, object], message: str) -> None:
    """Entry-point settings are validated like the rest: the file and the problem are named."""
    data = {k: v for k, v in {**MINI_CONFIG, **change}.items() if v is not None}
    path = tmp_path / "minisite.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_site_config(path)


def test_disabled_config_is_still_crawlable_by_name() -> None:
    """get_site_config reads a disabled (example) config when asked for it by name."""
    assert get_site_config("darbas-forum-rss", base_url="http://127.0.0.1:9").start_urls == [
        "http://127.0.0.1:9/feed.rss"
    ]
