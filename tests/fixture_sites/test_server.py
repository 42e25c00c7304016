"""Tests for the fixture-site HTTP servers, over real HTTP on 127.0.0.1 (no mocks)."""

from __future__ import annotations

import html
import json
import re
import socket
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from email.message import Message
from email.utils import parsedate_to_datetime
from typing import Any

import pytest

from fixture_sites import FixtureSites

Ad = dict[str, Any]
RAW_ATTACKS = ("<script>alert(1)", "<img src=x onerror", "<svg onload", 'href="javascript:')


@pytest.fixture(scope="module")
def sites() -> Iterator[FixtureSites]:
    with FixtureSites() as running:
        yield running


def fetch(url: str) -> tuple[int, Message, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.headers, err.read()


def get_text(url: str) -> str:
    status, headers, body = fetch(url)
    assert status == 200, url
    return body.decode(headers.get_content_charset() or "utf-8")


def site_ads(sites: FixtureSites, site: str) -> list[Ad]:
    return sorted(
        (a for a in sites.ads if a["site"] == site), key=lambda a: (a["posted"], a["ref"]), reverse=True
    )


def text_of(fragment: str) -> str:
    """Paragraph HTML -> plain text with paragraphs joined by blank lines."""
    paragraphs = re.findall(r"<p>(.*?)</p>", fragment, re.DOTALL)
    return "\n\n".join(html.unescape(p) for p in paragraphs)


def test_base_urls_are_loopback_ephemeral_ports(sites: FixtureSites) -> None:
    """Each site gets its own server on 127.0.0.1 and base_urls are published after start()."""
    assert set(sites.base_urls) == {"balticjobs", "skelbimai", "darbas-forum"}
    ports = set()
    for url in sites.base_urls.values():
        match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)", url)
        assert match
        ports.add(int(match.group(1)))
    assert len(ports) == 3


def test_balticjobs_pagination_reaches_exactly_its_ads(sites: FixtureSites) -> None:
    """Following rel=next from the home page visits every balticjobs ad once, newest first, 20 per page."""
    base = sites.base_urls["balticjobs"]
    home = get_text(base + "/")
    assert '<a href="/jobs?page=1">' in home
    refs: list[str] = []
    url: str | None = base + "/jobs?page=1"
    while url:
        page = get_text(url)
        found = re.findall(r'<li class="job"><a class="job-link" href="/job/([^"]+)">', page)
        assert 0 < len(found) <= 20
        assert page.count('<ul class="jobs">') == 1
        refs += found
        nxt = re.search(r'<a class="next" rel="next" href="(/jobs\?page=\d+)">Next</a>', page)
        url = base + nxt.group(1) if nxt else None
    assert refs == [a["ref"] for a in site_ads(sites, "balticjobs")]


def test_skelbimai_pagination_reaches_exactly_its_ads(sites: FixtureSites) -> None:
    """Following the pagination "»" link visits every skelbimai ad once, newest first, 15 per page."""
    base = sites.base_urls["skelbimai"]
    refs: list[str] = []
    url: str | None = base + "/skelbimai/darbas?page=1"
    while url:
        page = get_text(url)
        assert '<div class="listing">' in page
        found = re.findall(r'<div class="ad-card"><a class="ad-title" href="/skelbimas/([^"]+)\.html">', page)
        assert 0 < len(found) <= 15
        refs += found
        nxt = re.search(r'<li class="next"><a href="(/skelbimai/darbas\?page=\d+)">»</a></li>', page)
        url = base + nxt.group(1) if nxt else None
    assert refs == [a["ref"] for a in site_ads(sites, "skelbimai")]


def test_forum_pagination_reaches_exactly_its_ads(sites: FixtureSites) -> None:
    """Following "Older" links from offset 0 shows every forum post inline once, 25 per page."""
    base = sites.base_urls["darbas-forum"]
    by_ref = {a["ref"]: a for a in sites.ads}
    refs: list[str] = []
    url: str | None = base + "/board?offset=0"
    while url:
        page = get_text(url)
        articles = re.findall(r'<article class="post" id="post-([^"]+)">(.*?)</article>', page, re.DOTALL)
        assert 0 < len(articles) <= 25
        for ref, inner in articles:
            ad = by_ref[ref]
            assert f'<h2 class="post-title">{html.escape(ad["title"])}</h2>' in inner
            body = re.search(r'<div class="post-body">(.*?)</div>', inner, re.DOTALL)
            assert body and text_of(body.group(1)) == ad["body"]
            assert f'<a class="permalink" href="/board/post/{ref}">#</a>' in inner
            assert f'<time datetime="{ad["posted"]}">' in inner
        refs += [ref for ref, _ in articles]
        nxt = re.search(r'<a class="older" href="(/board\?offset=\d+)">Older</a>', page)
        url = base + nxt.group(1) if nxt else None
    assert refs == [a["ref"] for a in site_ads(sites, "darbas-forum")]


def test_forum_permalink_page_has_same_article(sites: FixtureSites) -> None:
    """/board/post/<ref> renders the same article markup as the board listing."""
    ad = site_ads(sites, "darbas-forum")[0]
    page = get_text(f"{sites.base_urls['darbas-forum']}/board/post/{ad['ref']}")
    board = get_text(f"{sites.base_urls['darbas-forum']}/board?offset=0")
    article = re.search(rf'<article class="post" id="post-{ad["ref"]}">.*?</article>', page, re.DOTALL)
    assert article and article.group(0) in board


def test_jsonld_parses_and_matches_every_ad(sites: FixtureSites) -> None:
    """Each balticjobs ad page embeds a schema.org JobPosting whose fields equal the source record."""
    base = sites.base_urls["balticjobs"]
    for ad in site_ads(sites, "balticjobs"):
        page = get_text(f"{base}/job/{ad['ref']}")
        assert f'<html lang="{ad["lang"]}">' in page
        assert f'<h1 class="job-title">{html.escape(ad["title"])}</h1>' in page
        desc_div = re.search(r'<div class="job-description">(.*?)</div>', page, re.DOTALL)
        assert desc_div and text_of(desc_div.group(1)) == ad["body"]
        head = page.split("</head>", 1)[0]
        block = re.search(r'<script type="application/ld\+json">(.*?)</script>', head, re.DOTALL)
        assert block, ad["ref"]
        data = json.loads(block.group(1))
        assert data["@type"] == "JobPosting"
        assert data["title"] == ad["title"]
        assert data["datePosted"] == ad["posted"]
        assert data["inLanguage"] == ad["lang"]
        assert data["identifier"] == {"@type": "PropertyValue", "value": ad["ref"]}
        assert data["employmentType"]
        address = data["jobLocation"]["address"]
        assert (address["addressLocality"], address["addressCountry"]) == (ad["city"], ad["country"])
        if ad["company"] is None:
            assert "hiringOrganization" not in data
        else:
            assert data["hiringOrganization"] == {"@type": "Organization", "name": ad["company"]}
        if ad["salary"] is None:
            assert "baseSalary" not in data
        else:
            value = data["baseSalary"]["value"]
            assert data["baseSalary"]["currency"] == ad["salary"]["currency"]
            assert value["minValue"] == ad["salary"]["min"]
            assert value.get("maxValue") == ad["salary"]["max"]
            assert value["unitText"] == ad["salary"]["period"].upper()
        expected = ad["body"] + (f"\n\n{ad['contact']}" if ad["contact"] else "")
        assert text_of(data["description"]) == expected


def test_skelbimai_ru_page_is_windows_1251(sites: FixtureSites) -> None:
    """A Russian skelbimai ad is sent as windows-1251 (header and meta) and decodes to the original text."""
    ad = next(a for a in site_ads(sites, "skelbimai") if a["lang"] == "ru")
    status, headers, raw = fetch(f"{sites.base_urls['skelbimai']}/skelbimas/{ad['ref']}.html")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=windows-1251"
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    page = raw.decode("cp1251")
    assert '<meta charset="windows-1251">' in page
    assert f'<h1 class="ad-title">{html.escape(ad["title"])}</h1>' in page
    text = re.search(r'<div class="ad-text">(.*?)</div>', page, re.DOTALL)
    assert text and text_of(text.group(1)) == ad["body"]


@pytest.mark.parametrize(
    ("lang", "charset"),
    [("lv", "windows-1257"), ("lt", "windows-1257"), ("pl", "windows-1257"), ("en", "utf-8")],
)
def test_skelbimai_encoding_by_language(sites: FixtureSites, lang: str, charset: str) -> None:
    """Baltic and Polish ads use windows-1257, English/Finnish ones UTF-8, declared consistently."""
    ad = next(a for a in site_ads(sites, "skelbimai") if a["lang"] == lang)
    status, headers, raw = fetch(f"{sites.base_urls['skelbimai']}/skelbimas/{ad['ref']}.html")
    assert status == 200
    assert headers.get_content_charset() == charset
    page = raw.decode(charset)
    assert f'<meta charset="{charset}">' in page
    assert html.unescape(re.search(r'<h1 class="ad-title">(.*?)</h1>', page).group(1)) == ad["title"]


def test_every_skelbimai_page_round_trips_its_fields(sites: FixtureSites) -> None:
    """Decoding any skelbimai page with its declared charset restores every field, even unencodable ones."""
    base = sites.base_urls["skelbimai"]
    for ad in site_ads(sites, "skelbimai"):
        page = get_text(f"{base}/skelbimas/{ad['ref']}.html")

        def field(cls: str, tag: str = "span", page: str = page) -> str | None:
            match = re.search(rf'<{tag} class="{cls}"[^>]*>(.*?)</{tag}>', page, re.DOTALL)
            return None if match is None else match.group(1)

        assert html.unescape(field("ad-title", "h1") or "") == ad["title"]
        assert text_of(field("ad-text", "div") or "") == ad["body"]
        assert html.unescape(field("ad-city") or "") == ad["city"]
        assert html.unescape(field("ad-contact", "div") or "") == (ad["contact"] or "")
        company = field("ad-company")
        assert (None if company is None else html.unescape(company)) == ad["company"]
        price = html.unescape(field("ad-price") or "")
        if ad["salary"] is None:
            assert price == ""
        else:
            assert ad["salary"]["currency"] in price
        assert f'<time class="ad-date" datetime="{ad["posted"]}">' in page


def test_injection_strings_are_escaped_everywhere(sites: FixtureSites) -> None:
    """Attacker markup in ads is shown as text on listing, detail, JSON-LD and RSS – never as live HTML."""
    injected = [a for a in sites.ads if any(s in a["body"] for s in ("alert(", "HYPERLINK"))]
    assert len(injected) >= 3
    urls: set[str] = set()
    for ad in injected:
        base = sites.base_urls[ad["site"]]
        if ad["site"] == "balticjobs":
            urls.add(f"{base}/job/{ad['ref']}")
        elif ad["site"] == "skelbimai":
            urls.add(f"{base}/skelbimas/{ad['ref']}.html")
        else:
            urls.add(f"{base}/board/post/{ad['ref']}")
            urls.add(f"{base}/feed.rss")
            pos = site_ads(sites, "darbas-forum").index(ad)
            urls.add(f"{base}/board?offset={pos // 25 * 25}")
    for url in urls:
        page = get_text(url)
        for raw in RAW_ATTACKS:
            assert raw not in page, (url, raw)
    script_ad = next(a for a in injected if "<script>alert(1)</script>" in a["body"])
    page = get_text(
        f"{sites.base_urls[script_ad['site']]}"
        + {
            "balticjobs": f"/job/{script_ad['ref']}",
            "skelbimai": f"/skelbimas/{script_ad['ref']}.html",
            "darbas-forum": f"/board/post/{script_ad['ref']}",
        }[script_ad["site"]]
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_jsonld_never_contains_raw_angle_brackets(sites: FixtureSites) -> None:
    """JSON-LD escapes <, > and & as \\u003c etc., so ad text cannot close the <script> element."""
    base = sites.base_urls["balticjobs"]
    for ad in site_ads(sites, "balticjobs")[:40]:
        page = get_text(f"{base}/job/{ad['ref']}")
        block = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.DOTALL)
        assert block
        assert not re.search(r"[<>&]", block.group(1)), ad["ref"]


def test_sitemap_lists_every_balticjobs_ad(sites: FixtureSites) -> None:
    """robots.txt points to sitemap.xml, which lists each /job/<ref> with lastmod = posted."""
    base = sites.base_urls["balticjobs"]
    robots = get_text(base + "/robots.txt")
    assert robots.startswith("User-agent: *\nDisallow: /admin\n")
    assert f"Sitemap: {base}/sitemap.xml" in robots
    root = ET.fromstring(fetch(base + "/sitemap.xml")[2])
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    entries = {
        u.findtext("s:loc", namespaces=ns): u.findtext("s:lastmod", namespaces=ns)
        for u in root.findall("s:url", ns)
    }
    expected = {f"{base}/job/{a['ref']}": a["posted"] for a in site_ads(sites, "balticjobs")}
    assert entries == expected


def test_rss_lists_every_forum_post(sites: FixtureSites) -> None:
    """feed.rss is RSS 2.0 with one item per forum post: title, permalink, RFC-822 date and body text."""
    base = sites.base_urls["darbas-forum"]
    status, headers, raw = fetch(base + "/feed.rss")
    assert status == 200 and "xml" in headers["Content-Type"]
    root = ET.fromstring(raw)
    assert root.tag == "rss" and root.get("version") == "2.0"
    items = root.findall("./channel/item")
    ads = site_ads(sites, "darbas-forum")
    assert len(items) == len(ads)
    for item, ad in zip(items, ads, strict=True):
        assert item.findtext("title") == ad["title"]
        assert item.findtext("link") == f"{base}/board/post/{ad['ref']}"
        assert item.findtext("description") == ad["body"]
        assert parsedate_to_datetime(item.findtext("pubDate") or "").date().isoformat() == ad["posted"]


def test_robots_allow_all_on_skelbimai_and_forum(sites: FixtureSites) -> None:
    """The two classified sites allow crawling everything."""
    for site in ("skelbimai", "darbas-forum"):
        assert get_text(sites.base_urls[site] + "/robots.txt") == "User-agent: *\nAllow: /\n"


def test_not_found_responses(sites: FixtureSites) -> None:
    """Unknown refs, pages past the end, bad parameters and unknown paths answer 404."""
    bj, sk, df = (sites.base_urls[s] for s in ("balticjobs", "skelbimai", "darbas-forum"))
    n_bj = len(site_ads(sites, "balticjobs"))
    n_sk = len(site_ads(sites, "skelbimai"))
    n_df = len(site_ads(sites, "darbas-forum"))
    other_site_ref = site_ads(sites, "skelbimai")[0]["ref"]
    urls = [
        f"{bj}/job/bj-9999",
        f"{bj}/job/{other_site_ref}",
        f"{bj}/jobs?page={-(-n_bj // 20) + 1}",
        f"{bj}/jobs?page=0",
        f"{bj}/jobs?page=abc",
        f"{bj}/admin",
        f"{sk}/skelbimas/sk-9999.html",
        f"{sk}/skelbimai/darbas?page={-(-n_sk // 15) + 1}",
        f"{df}/board/post/df-9999",
        f"{df}/board?offset={n_df + 25}",
        f"{df}/board?offset=-25",
        f"{df}/nope",
    ]
    for url in urls:
        assert fetch(url)[0] == 404, url


def test_server_is_quiet(sites: FixtureSites, capfd: pytest.CaptureFixture[str]) -> None:
    """Requests, including 404s, do not write access-log lines to stderr."""
    fetch(sites.base_urls["balticjobs"] + "/jobs?page=1")
    fetch(sites.base_urls["balticjobs"] + "/missing")
    captured = capfd.readouterr()
    assert captured.err == ""


def test_stop_releases_ports() -> None:
    """A FixtureSites used as a context manager stops serving and frees its ports on exit."""
    with FixtureSites() as running:
        url = running.base_urls["darbas-forum"]
        assert fetch(url + "/robots.txt")[0] == 200
        port = int(url.rsplit(":", 1)[1])
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0
