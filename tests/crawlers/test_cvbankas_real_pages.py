"""The cvbankas.lt site config, proven on 5 untouched real ad pages (Feb 2026) crawled end to end into DuckDB.

The pages stay in the shared data folder (``settings.shared_data_dir``/real/cvbankas-lt-html/raw, ``../shared/data``
beside the repository on CI; never copied into the repository): the test serves them, byte for byte, at their real
paths from a local HTTP server on 127.0.0.1, behind a listing page made of cvbankas ad cards.

Expected values were read off the pages (the microdata JobPosting, the ad's header and its salary section) and are
cross-checked against ``cvbankas_jobs_extracted.jsonl``, an independent parse of the same pages: its sections
(heading + text of each ``.jobad_txt`` block) must be the body word for word. The bodies are also pinned exactly by
length, paragraph count and sha256, so that no contact in them (one ad gives the employer's phone numbers) has to be
written into this file.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from minisite_server import MiniSite
from parsel import Selector

import warehouse
from crawlers.run import crawl_site
from lurewatch.settings import get_settings

FOLDER = get_settings().shared_data_dir / "real" / "cvbankas-lt-html"

# file -> (title, company, city, salary text, posted, external id, language)
EXPECTED: dict[str, tuple[str, str, str, str, date, str, str]] = {
    "file0.html": (
        "TIEKIMO IR UŽSAKYMŲ VADYBININKAS (-Ė)", "UAB „Daltra“", "Kaunas",
        "1300-1700 €/mėn. į rankas", date(2026, 2, 18), "13242535", "lt",
    ),
    "file4.html": (
        "Product Specialist", "UAB „Agile Tech“", "Vilnius",
        "1100-1300 €/mon. net", date(2026, 2, 18), "13659737", "en",
    ),
    "file24.html": (
        "Prisijunk! Darbas gamyboje be patirties | Nemokamas transportas (Panevėžio mieste ir Rožyno mikrorajone) 🚌",
        "AQ Wiring Systems UAB", "Panevėžys, Kupiškis, Pakruojis",
        "1187-1900 €/mėn. neatskaičius mokesčių", date(2026, 2, 13), "13643641", "lt",
    ),
    "file31.html": (
        "🔎EKSPEDICIJOS VADYBININKAS (-Ė) SU PATIRTIMI | CENTRINĖ AZIJA | DARBAS SU VEŽĖJAIS 🚛🌍",
        "UAB „Caspian Logistics“", "Vilnius",
        "2000-3500 €/mėn. į rankas", date(2026, 2, 12), "8667396", "lt",
    ),
    "file41.html": (
        "Customer Support Specialist in Vilnius (RU, EN, LT languages required)", "MB „Talentų sprendimai“", "Vilnius",
        "From 1850 €/mon. gross", date(2026, 2, 9), "13619773", "en",
    ),
}

# file -> (characters, paragraphs, sha256) of the exact body
BODY_PINS: dict[str, tuple[int, int, str]] = {
    "file0.html": (2077, 8, "3d802169c64fde9f438c27d621ef57dd8c7eaa31fc5ccf3c693eea04ca9e0eb9"),
    "file4.html": (1678, 10, "9b4448f9f55f1c235b005056d91d87fccd5fd52e85fad0682d74fb6ed921cdfc"),
    "file24.html": (3332, 15, "4e07246fe1f369f01f919b4acf6d6583b62e068782fd0a818fd7a846c1bf1bce"),
    "file31.html": (2006, 21, "04cadf5afa935b6ba3ab29b7412e698074af8e1f31481c71759f8b9244f9e697"),
    "file41.html": (1741, 12, "b1a659e6e871d2dfb829533fc30a6494e62ee473c65c436dfa9b614cd7422327"),
}

# The one block of a description that is not a .jobad_txt section (so not in the jsonl): file31's benefit icons,
# shown before its salary section.
FILE31_BENEFITS = [
    "Siūlome tau", "Sveikatingumas", "Sveikatos draudimas", "Biuras", "Nemokami užkandžiai Dviračių saugykla Dušas",
    "Transportas", "Nemokamas automobilio parkingas", "Kiti privalumai",
    "Telefonas asmeniniam naudojimui Kompiuteris asmeniniam naudojimui",
]

# Page chrome every saved page has: sharing menu, login box, similar ads, view counter, expiry badge, footer.
CHROME = ["Dalintis", "Persiųsti", "Prisijungti", "Pamiršau slaptažodį", "Jus taip pat gali sudominti",
          "peržiūrėjo", "Liko ", "Grįžti į skelbimų sąrašą", "Privatumo politika", "Rodyti skelbimus", "VIP"]
SCRIPT_MARKS = ["function(", "function (", "window.", "document.", "googletag", "gtag(", "=>", "{", "}", "Consent",
                "dataLayer", "<", ">"]


@pytest.fixture(scope="module")
def pages() -> dict[str, dict[str, Any]]:
    """The 5 raw pages with what the independent extraction says about them; a clear failure if the shared
    folder is missing (the test must not pass or skip silently without the real pages)."""
    raw = FOLDER / "raw"
    jsonl = FOLDER / "cvbankas_jobs_extracted.jsonl"
    if not raw.is_dir() or not jsonl.is_file():
        pytest.fail(f"the real cvbankas.lt pages are missing: expected {raw} and {jsonl} "
                    "(LUREWATCH_SHARED_DATA_DIR, default ../shared/data beside the repository)")
    records = {}
    for line in jsonl.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["file"] in EXPECTED:
            record["html"] = (raw / record["file"]).read_bytes()
            records[record["file"]] = record
    assert sorted(records) == sorted(EXPECTED), f"pages missing from {raw}"
    return records


def _words(text: str) -> str:
    return " ".join(text.split())


def _jsonl_body(record: dict[str, Any]) -> str:
    """The independent extraction's view of the description: each section's heading and text, in order."""
    parts: list[str] = []
    for section in record["sections"]:
        if record["file"] == "file31.html" and section["heading"] == "Atlyginimas":
            parts.extend(FILE31_BENEFITS)
        parts.extend([section["heading"], section["text"]])
    return "\n\n".join(parts)


def _chrome_texts(html: bytes) -> list[str]:
    """Visible lines of the page's navigation, header, footer, login and similar-ads blocks (long enough to be
    specific), which must never reach an ad's fields."""
    page = Selector(text=html.decode("utf-8"))
    blocks = page.css("#main_header, #main_footer, #breadcrumbs, .jobad_navigation_container, #jobad_other_ads_c, "
                      "#jobad_actions_c, #job_ad_statistics, nav")
    lines = {_words(t) for b in blocks for t in b.xpath(".//text()[not(ancestor::script or ancestor::style)]").getall()}
    return sorted(line for line in lines if len(line) >= 12)


def test_cvbankas_config_reads_five_real_pages_end_to_end(pages: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    """Five real cvbankas.lt ad pages (400 KB each: trackers, consent scripts, navigation, JobPosting microdata),
    crawled with the shipped config into a real warehouse: title, company, city, salary text, posting date and
    body of each are exactly what the page says, and nothing of the scripts, banners or navigation leaks in."""
    paths = {name: urlsplit(record["url"]).path for name, record in pages.items()}
    cards = "".join(
        f'<article class="list_article list_article_rememberable"><a class="list_a can_visited" href="{path}">'
        f'<h3 class="list_h3">ad</h3></a></article>' for path in paths.values()
    )
    with MiniSite() as site:
        site.pages = {
            "/robots.txt": (200, "User-agent: *\nDisallow: /isimiti-pamirsti-skelbima.html\n"),
            "/?page=1": (200, f'<html lang="lt"><body><div id="js_id_id_job_ad_list">{cards}</div></body></html>'),
        }
        for name, path in paths.items():
            site.pages[path] = (200, pages[name]["html"].decode("utf-8"))  # valid UTF-8: served byte for byte
        summary = crawl_site("cvbankas", tmp_path / "w.duckdb", site.base_url, timeout_s=300)
        fetched = site.paths()
    assert (summary.status, summary.complete, summary.errors, summary.selector_misses) == ("finished", True, 0, 0)
    assert (summary.items, summary.inserted) == (5, 5)
    assert sorted(p for p in fetched if p not in {"/robots.txt", "/?page=1"}) == sorted(paths.values())

    con = warehouse.connect(tmp_path / "w.duckdb", read_only=True)
    try:
        rows = con.execute(
            "SELECT url, site_id, title, company, location, salary_text, posted, external_id, page_language, body, "
            "contact_text FROM ads"
        ).fetchall()
        snapshots = dict(con.execute(
            "SELECT a.url, s.page_text FROM ad_snapshots s JOIN ads a ON a.ad_id = s.ad_id").fetchall())
    finally:
        con.close()
    by_path = {urlsplit(row[0]).path: row for row in rows}
    assert sorted(by_path) == sorted(paths.values())

    for name, record in pages.items():
        url, site_id, title, company, city, salary, posted, ref, language, body, contact = by_path[paths[name]]
        assert (title, company, city, salary, posted, ref, language) == EXPECTED[name], name
        assert (site_id, contact) == ("cvbankas", None)
        # Cross-check: the independent extraction agrees with the page's title and, word for word, the body.
        assert title == _words(record["h1"]), name
        assert _words(body) == _words(_jsonl_body(record)), name
        assert _words(salary) in _words(record["sections"][-1]["text"]), name
        length, paragraphs, digest = BODY_PINS[name]
        assert (len(body), len(body.split("\n\n")), hashlib.sha256(body.encode()).hexdigest()) == (
            length, paragraphs, digest), name
        # Nothing of the page around the ad: navigation, login box, similar ads, footer, scripts, consent code.
        fields = "\n".join([title, company, city, salary, body])
        own = _words(_jsonl_body(record) + " " + record["h1"])  # a similar ad may share words with this one
        chrome = [text for text in _chrome_texts(record["html"]) if text not in own]
        leaked = [text for text in [*CHROME, *SCRIPT_MARKS, *chrome] if text in fields]
        assert leaked == [], (name, leaked)
        assert not re.search(r"\bvar\s+\w+\s*=", body), name
        # The snapshot kept as evidence is the ad itself, not 400 KB of chrome.
        snapshot = snapshots[url]
        assert title in snapshot and len(snapshot) < 3 * len(body), name
        assert [text for text in ["Prisijungti", "Jus taip pat gali sudominti", "googletag"] if text in snapshot] == []
