"""`lurewatch sites new URL` proposes a site config from a few polite requests: for each bundled fixture site a config
that `sites check` accepts and that crawls every ad into a warehouse; for the saved cvbankas.lt pages the JobPosting
microdata and the fields it gives; and it never requests what robots.txt forbids, nor faster than its Crawl-delay."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from fixture_crawl_support import FIXTURE_SITES, FullCrawl
from minisite_server import MiniSite, ad_page, listing_page
from test_cvbankas_real_pages import EXPECTED as CVBANKAS_EXPECTED
from test_cvbankas_real_pages import FOLDER as CVBANKAS_FOLDER
from typer.testing import CliRunner

import warehouse
from crawlers.run import crawl_site
from crawlers.site_config import load_site_config
from crawlers.text import normalize_line
from lurewatch.cli_crawl import app
from lurewatch.settings import get_settings

runner = CliRunner()


def _new(url: str, out: Path, *extra: str) -> Any:
    return runner.invoke(app, ["sites", "new", url, "--out", str(out), "--delay", "0", *extra])


def _stored_ads(db: Path, site_id: str) -> list[tuple[str, str, str | None, str | None, Any, str | None]]:
    con = warehouse.connect(db, read_only=True)
    try:
        return con.execute(
            "SELECT url, title, company, location, posted, external_id FROM ads WHERE site_id = ? ORDER BY url",
            [site_id],
        ).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("site", FIXTURE_SITES)
def test_sites_new_proposes_a_config_that_crawls_every_ad_of_each_fixture_site(
    site: str, full_crawl: FullCrawl, fixture_ads: dict[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    """From the site's home page alone, `sites new` writes a disabled config that `sites check` accepts and that
    crawls the site end to end into a DuckDB warehouse with the same ads as the bundled config, no misses."""
    base = full_crawl.base_urls[site]
    sites = tmp_path / "sites"
    sites.mkdir()
    name = f"{site}-proposed"
    result = _new(base + "/", sites, "--name", name)
    assert result.exit_code == 0, result.output
    config = load_site_config(sites / f"{name}.yaml")
    assert config.enabled is False
    assert runner.invoke(app, ["sites", "check", name, "--sites-dir", str(sites)]).exit_code == 0

    # what it detected, per site
    if site == "balticjobs":  # JSON-LD on every ad page; robots.txt names a sitemap that lists every ad
        assert (config.spider, config.entry, config.start_paths) == ("jsonld", "sitemap", ["/sitemap.xml"])
        assert "JobPosting as json-ld on 3 of 3" in result.output
        assert "alternative            entry: listing from /jobs?page=1 (paginated: yes)" in result.output
    elif site == "skelbimai":  # no markup: selectors; ?page=N pagination without rel=next
        assert (config.spider, config.entry, config.start_paths) == ("listing", "listing", ["/skelbimai/darbas?page=1"])
        assert config.listing is not None and config.listing.next_page is not None
        assert (config.fields["title"].css, config.fields["body"].css) == ("h1.ad-title", "div.ad-text")
        assert "verified: 15 new ad links" in result.output
    else:  # a board of inline posts with permalinks, offset=N pagination, and an RSS feed
        assert (config.spider, config.entry, config.start_paths) == ("listing", "listing", ["/board?offset=0"])
        assert "/feed.rss: 82 entries" in result.output
        assert "alternative            entry: feed from /feed.rss" in result.output

    db = tmp_path / "w.duckdb"
    summary = crawl_site(name, db, base, sites_dir=sites, timeout_s=180)
    bundled = full_crawl.summaries[site]
    assert (summary.status, summary.complete, summary.errors, summary.selector_misses) == ("finished", True, 0, 0)
    assert summary.items == bundled.items == len(fixture_ads[site])
    stored = _stored_ads(db, name)
    assert len(stored) == len(fixture_ads[site])
    refs = {ad["ref"] for ad in fixture_ads[site]}
    assert {urlsplit(url).path.rsplit("/", 1)[-1].removesuffix(".html") for url, *_ in stored} == refs
    titles = sorted(title for _, title, *_ in stored)
    assert titles == sorted(normalize_line(ad["title"]) for ad in fixture_ads[site])


def test_sites_new_finds_the_jobposting_microdata_of_the_real_cvbankas_pages(tmp_path: Path) -> None:
    """On the 5 saved cvbankas.lt pages (400 KB each, JobPosting as microdata, not JSON-LD) served locally behind a
    listing page, `sites new` finds the microdata, takes title, body, company, location and posted from it, the ad
    id from the URL, reports what it could not fill, and its config crawls the 5 ads with the right fields."""
    raw = CVBANKAS_FOLDER / "raw"
    jsonl = CVBANKAS_FOLDER / "cvbankas_jobs_extracted.jsonl"
    if not raw.is_dir() or not jsonl.is_file():
        pytest.fail(f"the real cvbankas.lt pages are missing: expected {raw} and {jsonl}")
    records = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    paths = {r["file"]: urlsplit(r["url"]).path for r in records if r["file"] in CVBANKAS_EXPECTED}
    assert sorted(paths) == sorted(CVBANKAS_EXPECTED)
    cards = "".join(
        f'<article class="list_article"><a class="list_a" href="{path}"><h3 class="list_h3">ad</h3></a></article>'
        for path in paths.values()
    )
    sites = tmp_path / "sites"
    sites.mkdir()
    with MiniSite() as site:
        site.pages = {
            "/robots.txt": (200, "User-agent: *\nDisallow: /isimiti-pamirsti-skelbima.html\n"),
            "/darbo-skelbimai": (200, f'<html lang="lt"><body><div id="list">{cards}</div></body></html>'),
        }
        for name, path in paths.items():
            site.pages[path] = (200, (raw / name).read_bytes().decode("utf-8"))
        result = _new(site.base_url + "/darbo-skelbimai", sites / "cvbankas-proposed.yaml")
        assert result.exit_code == 0, result.output
        config = load_site_config(sites / "cvbankas-proposed.yaml")
        summary = crawl_site("cvbankas-proposed", tmp_path / "w.duckdb", site.base_url, sites_dir=sites,
                             timeout_s=300)

    assert "JobPosting as microdata on 3 of 3" in result.output
    assert "from the markup        title, body, company, location, posted" in result.output
    assert "could not fill" in result.output and "salary_text" in result.output.split("could not fill")[1]
    assert (config.spider, config.entry, config.enabled) == ("jsonld", "listing", False)
    assert config.listing is not None and config.listing.detail_link is not None
    assert config.listing.detail_link.css == "a.list_a"
    assert config.url_filter.allow == [r"^https?://[^/]+/[^/?#]+/1-\d+(?:[?#]|$)"]
    assert config.fields == {}  # the markup gives every field the page has; nothing was guessed

    assert (summary.status, summary.complete, summary.errors, summary.selector_misses) == ("finished", True, 0, 0)
    stored = {urlsplit(url).path: row for url, *row in _stored_ads(tmp_path / "w.duckdb", "cvbankas-proposed")}
    assert sorted(stored) == sorted(paths.values())
    for name, path in paths.items():
        title, company, city, _salary, posted, ref, _lang = CVBANKAS_EXPECTED[name]
        assert tuple(stored[path]) == (title, company, city, posted, ref), name


def _robots_site() -> MiniSite:
    links = [f"/ad/a{i}" for i in range(1, 6)]
    site = MiniSite()
    site.pages = {
        "/robots.txt": (200, "User-agent: *\nDisallow: /ad/a2\nDisallow: /list?page=2\nDisallow: /private\n"
                             "Crawl-delay: 0.5\n"),
        "/list?page=1": (200, listing_page(links, "/list?page=2")),
        "/list?page=2": (200, listing_page([f"/ad/b{i}" for i in range(1, 6)], None)),
    }
    for i, href in enumerate(links, 1):
        site.pages[href] = (200, ad_page(f"a{i}", f"Job number {i}", f"Text of the job number {i}, in full."))
    return site


def test_sites_new_never_requests_what_robots_txt_forbids_and_keeps_its_crawl_delay(tmp_path: Path) -> None:
    """robots.txt is read first; a disallowed ad page and a disallowed next listing page are never requested (the
    report says so and leaves next_page unset); every request carries our User-Agent; Crawl-delay spaces them."""
    with _robots_site() as site:
        started = time.monotonic()
        result = _new(site.base_url + "/list?page=1", tmp_path / "mini.yaml")
        elapsed = time.monotonic() - started
        hits = list(site.hits)
    assert result.exit_code == 0, result.output
    paths = [hit.path for hit in hits]
    assert paths[0] == "/robots.txt" and paths.count("/robots.txt") == 1
    assert "/ad/a2" not in paths and "/list?page=2" not in paths
    assert {hit.user_agent for hit in hits} == {get_settings().user_agent}
    assert paths[1:] == ["/list?page=1", "/sitemap.xml", "/ad/a1", "/ad/a3", "/ad/a4"]
    assert elapsed >= 0.5 * (len(paths) - 1)  # Crawl-delay: 0.5 between every two requests (a lower bound)
    assert "/list?page=2: robots.txt" in result.output and "/ad/a2: robots.txt" in result.output
    config = load_site_config(tmp_path / "mini.yaml")
    assert config.listing is not None and config.listing.next_page is None
    assert (config.fields["title"].css, config.fields["body"].css) == ("h1.title", "div.text")
    assert config.fields["location"].css == "span.city"
    assert config.external_id_pattern == r"/(?P<ref>[^/?#]+)(?:[?#]|$)"


def test_sites_new_stops_at_a_disallowed_start_url_and_refuses_to_overwrite(tmp_path: Path) -> None:
    """A start URL robots.txt forbids: one error line, non-zero exit, nothing but robots.txt fetched, no file.
    An existing config is kept unless --force; a URL that is not http(s) is a one-line usage error."""
    with _robots_site() as site:
        result = _new(site.base_url + "/private/jobs", tmp_path)
        assert site.paths() == ["/robots.txt"]
        assert result.exit_code == 1
        assert result.output.strip().splitlines() == [
            f"error: robots.txt of 127.0.0.1:{site.port} disallows {site.base_url}/private/jobs for our User-Agent: "
            "nothing fetched"]
        assert list(tmp_path.iterdir()) == []

        target = tmp_path / "mini.yaml"
        target.write_text("# an operator's config\n", encoding="utf-8")
        refused = _new(site.base_url + "/list?page=1", target)
        assert refused.exit_code == 2 and "already exists: pass --force" in refused.output
        assert target.read_text(encoding="utf-8") == "# an operator's config\n"
        assert _new(site.base_url + "/list?page=1", target, "--force").exit_code == 0
        assert yaml.safe_load(target.read_text(encoding="utf-8"))["name"] == "mini"

    bad = _new("ftp://example.org/", tmp_path)
    assert bad.exit_code == 2
    assert bad.output.strip().splitlines() == ["error: not an http(s) URL: 'ftp://example.org/'"]
