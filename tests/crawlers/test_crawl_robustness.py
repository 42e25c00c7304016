"""One crawl of a misbehaving site: timeouts, flaky and dead 5xx pages, redirect loops, 10 MB pages and a gzip
bomb, a dropped connection, malformed HTML with garbage bytes, wrong or missing charsets and a BOM, and the
same ad reached twice. Each failure stays local: it is counted, and every good ad is still stored correctly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from minisite_server import MINI_CONFIG, listing_page, write_config
from misbehaving_server import (
    Site,
    endless_redirect,
    flaky,
    gzip_bomb,
    hang_up,
    huge,
    page,
    redirect,
    slow,
    text,
)

import warehouse
from crawlers.run import CrawlSummary, crawl_site

TEN_MB = 10 * 1024 * 1024
LV_TITLE, LV_BODY = "Darbs ārzemēs", "Ceļš un dzīvesvieta apmaksāta, zvaniet Žanim."
LT_TITLE, LT_BODY = "Darbas užsienyje", "Kelionė apmokama, skambinkite Šarūnui."
RU_TITLE, RU_BODY = "Работа в Норвегии", "Жильё бесплатно, звоните Ёжику."
BOM_TITLE, BOM_BODY = "Töö Soomes", "Õhtune vahetus, Łódź ja Rīga."


def ad_html(title: str, body: str, charset_meta: str | None = None) -> str:
    meta = f'<meta charset="{charset_meta}">' if charset_meta else ""
    return (
        f'<html lang="xx"><head>{meta}<title>{title}</title></head><body><h1 class="title">{title}</h1>'
        f'<div class="text"><p>{body}</p></div><span class="city">Riga</span></body></html>'
    )


MALFORMED = (
    b'<html><body><h1 class="title">Broken <b>markup</h1><div class="text"><p>First paragraph'
    b"<p>Second <i><b>nested</i></b> text\x00 with a NUL and \x1b[31man escape\x07"
    b"<table><tr><td>cell <div>unclosed \xff\xfe\x81 garbage bytes</span></p></div>"
    b"<p>After the garbage: Darbs \xc4\x81rzem\xc4\x93s</p><script>var x = '<div class=text>';"
)

ROUTES = [
    "/ad/ok1", "/ad/timeout", "/ad/recovering", "/ad/down", "/ad/loop-a", "/ad/endless", "/ad/huge",
    "/ad/huge-stream", "/ad/bomb", "/ad/hangup", "/ad/malformed", "/ad/cp1257-plain", "/ad/cp1251-plain",
    "/ad/cp1251-sent-as-utf8", "/ad/cp1251-sent-as-1257", "/ad/cp1257-wrong-meta", "/ad/utf8-bom", "/ad/dup",
    "/ad/dup?utm_source=newsletter&utm_medium=email",
]
FAILING = {"/ad/timeout", "/ad/down", "/ad/loop-a", "/ad/endless", "/ad/huge", "/ad/huge-stream", "/ad/bomb",
           "/ad/hangup"}


@pytest.fixture(scope="module")
def bad_site() -> Iterator[Site]:
    with Site() as site:
        site.routes = {
            "/robots.txt": text("User-agent: *\nAllow: /\n"),
            "/list": _listing,
            "/ad/ok1": page(ad_html("Packer", "Packing boxes in Riga.")),
            "/ad/ok2": page(ad_html("Driver", "Driving vans in Kaunas.")),
            "/ad/timeout": slow(30, page(ad_html("Too slow", "Never arrives in time."))),
            "/ad/recovering": flaky(2, page(ad_html("Recovered", "Third time lucky."))),
            "/ad/down": flaky(-1, page("")),
            "/ad/loop-a": redirect("/ad/loop-b"),
            "/ad/loop-b": redirect("/ad/loop-a"),
            "/ad/endless": endless_redirect("/ad/endless"),
            "/ad/huge": huge(TEN_MB),
            "/ad/huge-stream": huge(TEN_MB, declare_length=False),
            "/ad/bomb": gzip_bomb(TEN_MB),
            "/ad/hangup": hang_up,
            "/ad/malformed": page(MALFORMED, content_type="text/html; charset=utf-8"),
            "/ad/cp1257-plain": page(ad_html(LV_TITLE, LV_BODY).encode("cp1257"), content_type="text/html"),
            "/ad/cp1251-plain": page(ad_html(RU_TITLE, RU_BODY).encode("cp1251"), content_type="text/html"),
            "/ad/cp1251-sent-as-utf8": page(ad_html(RU_TITLE + " 2", RU_BODY).encode("cp1251"),
                                            content_type="text/html; charset=utf-8"),
            "/ad/cp1251-sent-as-1257": page(ad_html(RU_TITLE + " 3", RU_BODY).encode("cp1251"),
                                            content_type="text/html; charset=windows-1257"),
            "/ad/cp1257-wrong-meta": page(ad_html(LT_TITLE, LT_BODY, charset_meta="windows-1251").encode("cp1257"),
                                          content_type="text/html"),
            "/ad/utf8-bom": page(b"\xef\xbb\xbf" + ad_html(BOM_TITLE, BOM_BODY).encode("utf-8"),
                                 content_type="text/html; charset=windows-1257"),
            "/ad/dup": page(ad_html("Listed twice", "Same ad on two listing pages.")),
        }
        yield site


def _listing(handler: Any, site: Site) -> None:
    if handler.path.endswith("page=2"):
        body = listing_page(["/ad/dup", "/ad/ok2"], None)
    else:
        body = listing_page(ROUTES, "/list?page=2")
    handler.send(200, body.encode("utf-8"))


@pytest.fixture(scope="module")
def bad_crawl(bad_site: Site, tmp_path_factory: pytest.TempPathFactory) -> tuple[CrawlSummary, Path]:
    tmp = tmp_path_factory.mktemp("robust")
    db = tmp / "w.duckdb"
    summary = crawl_site(
        "minisite", db, bad_site.base_url, sites_dir=write_config(tmp / "sites", MINI_CONFIG), timeout_s=120,
        env={"LUREWATCH_CRAWL_TIMEOUT_S": "1", "LUREWATCH_CRAWL_MAX_PAGE_BYTES": str(5_000_000)},
    )
    return summary, db


def _ads(db: Path) -> dict[str, tuple[str, str]]:
    con = warehouse.connect(db, read_only=True)
    try:
        rows = con.execute("SELECT url, title, body FROM ads").fetchall()
    finally:
        con.close()
    return {url.split("/", 3)[-1]: (title, body) for url, title, body in rows}


def _stats(db: Path, run_id: int | None) -> dict[str, Any]:
    con = warehouse.connect(db, read_only=True)
    try:
        raw = con.execute("SELECT stats FROM crawl_runs WHERE run_id = ?", [run_id]).fetchall()[0][0]
    finally:
        con.close()
    result: dict[str, Any] = json.loads(raw)
    return result


def test_every_good_ad_survives_the_bad_ones(bad_crawl: tuple[CrawlSummary, Path]) -> None:
    """The run finishes; exactly the well-behaved (and recovered) ads are stored, once each, and every
    failure is one counted error - the crawl went on past each of them."""
    summary, db = bad_crawl
    ads = _ads(db)
    assert set(ads) == {
        "ad/ok1", "ad/ok2", "ad/recovering", "ad/malformed", "ad/cp1257-plain", "ad/cp1251-plain",
        "ad/cp1251-sent-as-utf8", "ad/cp1251-sent-as-1257", "ad/cp1257-wrong-meta", "ad/utf8-bom", "ad/dup",
    }
    assert summary.status == "finished"
    assert summary.items == len(ads) == summary.inserted
    assert summary.errors == len(FAILING)
    assert summary.selector_misses == 0
    assert summary.complete  # every listing page was read: detail failures only make those ads "unknown"
    stats = _stats(db, summary.run_id)
    assert stats["unknown_urls"] >= len(FAILING)
    assert stats["entry_errors"] == 0


def test_timeouts_and_5xx_are_retried(bad_site: Site, bad_crawl: tuple[CrawlSummary, Path]) -> None:
    """A timeout and a permanent 503 are tried 1 + RETRY_TIMES (2) times, then given up; a page that fails
    twice and then answers is saved with no error (its retries are in the run's stats)."""
    summary, db = bad_crawl
    assert len(bad_site.hits_for("/ad/timeout")) == 3
    assert len(bad_site.hits_for("/ad/down")) == 3
    assert len(bad_site.hits_for("/ad/recovering")) == 3
    assert _ads(db)["ad/recovering"] == ("Recovered", "Third time lucky.")
    assert _stats(db, summary.run_id)["retries"] >= 2 + 2 + 2


def test_redirect_loops_are_errors_not_silent_drops(bad_site: Site, bad_crawl: tuple[CrawlSummary, Path]) -> None:
    """A two-page redirect cycle (caught when it returns to a URL already requested) and an endless chain
    (stopped at REDIRECT_MAX_TIMES) are each counted as a redirect loop and an error."""
    summary, db = bad_crawl
    assert _stats(db, summary.run_id)["redirect_loops"] == 2
    endless = [p for p in bad_site.paths() if p.startswith("/ad/endless")]
    assert 2 <= len(endless) <= 6  # the first request plus at most REDIRECT_MAX_TIMES (5) hops


def test_oversized_pages_and_gzip_bombs_are_cut_off(bad_site: Site, bad_crawl: tuple[CrawlSummary, Path]) -> None:
    """10 MB pages (with and without Content-Length) and a gzip bomb inflating to 10 MB exceed the 5 MB page
    limit: each is dropped as an error, the crawl goes on, and nothing of them is stored."""
    summary, _ = bad_crawl
    assert summary.status == "finished"
    for path in ("/ad/huge", "/ad/huge-stream", "/ad/bomb"):
        assert bad_site.hits_for(path), f"{path} was never requested"


def test_malformed_html_and_garbage_bytes_still_give_clean_text(bad_crawl: tuple[CrawlSummary, Path]) -> None:
    """Unclosed tags, broken nesting, NUL/escape/control bytes and invalid UTF-8 in a UTF-8 page: lxml
    recovers, control characters are dropped, and the valid UTF-8 around the garbage decodes correctly."""
    _, db = bad_crawl
    title, body = _ads(db)["ad/malformed"]
    assert title == "Broken markup"
    assert body.startswith("First paragraph\n\nSecond nested text with a NUL and [31man escape")
    assert "Darbs ārzemēs" in body
    assert not any(ch in body for ch in "\x00\x1b\x07")
    assert "var x" not in body


@pytest.mark.parametrize(
    ("path", "title", "body"),
    [
        ("ad/cp1257-plain", LV_TITLE, LV_BODY),  # windows-1257, no charset anywhere
        ("ad/cp1251-plain", RU_TITLE, RU_BODY),  # windows-1251, no charset anywhere
        ("ad/cp1251-sent-as-utf8", RU_TITLE + " 2", RU_BODY),  # header lies: utf-8
        ("ad/cp1251-sent-as-1257", RU_TITLE + " 3", RU_BODY),  # header lies: windows-1257
        ("ad/cp1257-wrong-meta", LT_TITLE, LT_BODY),  # <meta> lies: windows-1251
        ("ad/utf8-bom", BOM_TITLE, BOM_BODY),  # BOM beats a contradicting header
    ],
)
def test_missing_or_wrong_charsets_are_decoded_correctly(
    bad_crawl: tuple[CrawlSummary, Path], path: str, title: str, body: str
) -> None:
    """Legacy Baltic and Cyrillic pages without a charset, or with a wrong one, and UTF-8 with a BOM are all
    stored as the original text - no mojibake, no U+FFFD."""
    _, db = bad_crawl
    assert _ads(db)[path] == (title, body)


def test_encoding_decisions_are_recorded(bad_crawl: tuple[CrawlSummary, Path]) -> None:
    """The run's stats say how many pages were decoded as declared, detected, corrected or by BOM."""
    summary, db = bad_crawl
    decisions = _stats(db, summary.run_id)["encoding"]
    assert decisions["corrected"] == 3
    assert decisions["bom"] == 1
    assert decisions["detected"] >= 2


def test_the_same_ad_twice_is_one_ad(bad_site: Site, bad_crawl: tuple[CrawlSummary, Path]) -> None:
    """An ad listed on two listing pages is requested once; a tracking-parameter variant of its URL is
    fetched but stored as the same ad (the duplicate is counted, not inserted)."""
    summary, db = bad_crawl
    assert len(bad_site.hits_for("/ad/dup")) == 1
    assert "ad/dup?utm_source=newsletter&utm_medium=email" not in _ads(db)
    assert _stats(db, summary.run_id)["duplicates"] == 1
