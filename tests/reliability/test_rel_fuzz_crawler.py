"""The crawler's parsing against hostile pages: broken HTML, broken or absurd JSON-LD, arbitrary bytes and charsets,
broken sitemaps and feeds, malformed links. Parsing never crashes (a callback exception loses a whole page and, on a
listing page, every page after it), text comes out clean, and one bad link never costs the good ones."""

from __future__ import annotations

import codecs
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from parsel import Selector
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawlers.encoding import choose_encoding
from crawlers.feeds import EntryError, parse_feed, parse_sitemap
from crawlers.items import build_ad_row, merge_contact, parse_date
from crawlers.jobposting import JsonLdError, find_job_posting, job_posting_fields, microdata_fields
from crawlers.site_config import get_site_config
from crawlers.spiders import SPIDERS
from crawlers.text import elements_text, html_fragment_text, normalize_line, normalize_paragraphs
from crawlers.urls import canonical_ad_url

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)
TAGS = ["<p>", "</p>", "<div>", "</div>", "<br>", "<script>", "</script>", "<style>", "<b>", "<!--", "-->", "<",
        ">", "&amp;", "&#0;", "&#x1b;", "&nbsp;", "<![CDATA[", "]]>", "<li>", "<table><tr><td>", "</td>", "<?xml?>",
        "\x00", "\x1b[2J", "\u202e", "\r", "<a href='javascript:alert(1)'>", "<svg onload=alert(1)>", "&bogus;"]
HTML = st.lists(st.one_of(st.sampled_from(TAGS), TEXT), max_size=25).map("".join)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | TEXT,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["@type", "title", "description", "name", "value", "@graph", "baseSalary",
                                       "jobLocation", "address", "addressLocality", "addressCountry", "minValue",
                                       "maxValue", "unitText", "currency", "hiringOrganization", "identifier",
                                       "datePosted", "inLanguage", "@value", "x"]), children, max_size=6),
    max_leaves=20,
)
# Code points a crawled text field may never contain (normalize_* drop them): C0/C1 controls except \n.
FORBIDDEN = {chr(c) for c in [*range(0x00, 0x0A), *range(0x0B, 0x20), *range(0x7F, 0xA0)]} | {"\u200b", "\ufeff"}


def _clean(text: str, *, newlines: bool) -> None:
    bad = {ch for ch in text if ch in FORBIDDEN}
    assert not bad, (bad, text[:200])
    if not newlines:
        assert "\n" not in text
    assert text == text.strip() or not text.strip()


@given(text=TEXT)
def test_normalisers_are_clean_and_idempotent(text: str) -> None:
    line, paragraphs = normalize_line(text), normalize_paragraphs(text)
    _clean(line, newlines=False)
    _clean(paragraphs, newlines=True)
    assert normalize_line(line) == line
    assert normalize_paragraphs(paragraphs) == paragraphs


@given(fragment=HTML)
def test_html_fragments_never_crash_and_give_clean_text(fragment: str) -> None:
    """Broken HTML in a JSON-LD description (control characters, unclosed and malformed tags): clean paragraph text,
    no exception."""
    _clean(html_fragment_text(fragment), newlines=True)


@given(value=JSON_VALUE)
def test_any_json_ld_maps_to_string_fields_or_nothing(value: Any) -> None:
    """Whatever a site puts into its JSON-LD (wrong types, nesting, NaN): only non-empty, clean string fields."""
    posting = value if isinstance(value, dict) else {"@type": "JobPosting", "title": value, "description": value}
    fields = job_posting_fields(posting)
    for name, field in fields.items():
        assert isinstance(field, str) and field, name
        _clean(field, newlines=name == "body")


@given(blocks=st.lists(st.one_of(JSON_VALUE.map(lambda v: json.dumps(v)), TEXT, st.just('{"@type": "JobPosting"')),
                       max_size=3), body=HTML)
def test_broken_json_ld_is_a_clear_error_never_a_crash(blocks: list[str], body: str) -> None:
    """Broken JSON-LD blocks raise JsonLdError (counted as a parse error); good ones are found; microdata and the
    rest of the page are still read."""
    scripts = "".join(f'<script type="application/ld+json">{b}</script>' for b in blocks)
    page = Selector(text=f"<html><head>{scripts}</head><body>{body}</body></html>")
    try:
        posting = find_job_posting(page)
    except JsonLdError as error:
        assert str(error)
    else:
        assert posting is None or isinstance(posting, dict)
    for name, field in microdata_fields(page).items():
        assert field, name


CONTENT_TYPES = [None, "text/html", "text/html; charset=utf-8", "text/html; charset=windows-1257", "text/html; cp1251",
                 "text/html; charset=bogus-8", "text/html; charset=utf-16", "text/html; charset=\x00"]


@given(body=st.binary(max_size=3000), declared=st.sampled_from(CONTENT_TYPES),
       fallback=st.sampled_from([None, "windows-1257", "utf-8"]))
def test_any_bytes_get_an_encoding_that_decodes_them(body: bytes, declared: str | None, fallback: str | None) -> None:
    choice = choose_encoding(body, declared, fallback=fallback)
    assert choice.reason in {"bom", "forced", "declared", "detected", "corrected", "fallback"}
    codecs.lookup(choice.encoding)
    body.decode(choice.encoding, errors="replace")


@given(title=TEXT, body=TEXT, contact=st.none() | TEXT, posted=st.none() | TEXT, lang=st.none() | TEXT)
def test_any_fields_build_a_clean_ad_row(title: str, body: str, contact: str | None, posted: str | None,
                                         lang: str | None) -> None:
    fields = {"title": title, "body": body}
    fields |= {k: v for k, v in {"contact_text": contact, "posted": posted, "page_language": lang}.items() if v}
    row = build_ad_row("site", "https://site.example/ad/1", fields)
    _clean(row.title, newlines=False)
    _clean(row.body, newlines=True)
    if row.contact_text:
        assert normalize_line(row.contact_text).casefold() in normalize_line(row.body).casefold()
    parse_date(posted)
    assert merge_contact(row.body, row.contact_text) == row.body  # idempotent: nothing appended twice


@settings(max_examples=80)
@given(body=st.one_of(st.binary(max_size=2000), HTML.map(lambda s: s.encode("utf-8", "replace"))),
       locs=st.lists(st.one_of(TEXT, st.sampled_from(["http://[x", "//", "javascript:x", "http://a:99999/"])),
                     max_size=5))
def test_sitemaps_and_feeds_fail_only_with_entry_errors(body: bytes, locs: list[str]) -> None:
    """Arbitrary bytes, and well-formed documents with arbitrary URLs: EntryError or a list of URLs, nothing else."""
    urlset = "<urlset>" + "".join(f"<url><loc>{_xml(loc)}</loc></url>" for loc in locs) + "</urlset>"
    rss = "<rss><channel>" + "".join(f"<item><link>{_xml(loc)}</link></item>" for loc in locs) + "</channel></rss>"
    for document in (body, urlset.encode(), rss.encode()):
        for parse in (parse_sitemap, parse_feed):
            try:
                result = parse(document, "https://site.example/")
            except EntryError:
                continue
            urls = result if isinstance(result, list) else result.urls
            assert all(isinstance(u, str) for u in urls)


def _xml(text: str) -> str:
    return "".join(ch for ch in text if ch in "\t\n\r" or (ch >= " " and ch not in "<>&")) or "x"


@given(url=TEXT.map(lambda s: "https://site.example/" + s))
def test_canonical_urls_are_stable(url: str) -> None:
    try:
        canonical = canonical_ad_url(url)
    except ValueError:
        return  # urlsplit refuses it: the spider never builds such a URL itself (see the listing test below)
    assert canonical_ad_url(canonical) == canonical and "#" not in canonical


def test_an_empty_fragment_is_the_same_ad() -> None:
    """``/ad/1#`` and ``/ad/1`` are one ad. (Fixed: canonical_ad_url used to keep the bare ``#`` - its early return
    only looked at ``parts.fragment``, which is empty - so the same ad was stored twice.)"""
    assert canonical_ad_url("https://site.example/ad/1#") == "https://site.example/ad/1"


def test_a_control_character_in_a_json_ld_description_does_not_lose_the_ad() -> None:
    """A JobPosting whose HTML description holds an escape character in its leading text (JSON ``\\u001b``) still
    gives its body. (Fixed: html_fragment_text used to pass it to lxml, which raised ValueError: the detail callback
    crashed and the ad was lost.)"""
    posting = json.loads('{"@type": "JobPosting", "title": "Work", "description": "High pay\\u001b<p>Call now</p>"}')
    assert job_posting_fields(posting)["body"] == "High pay\n\nCall now"


def test_a_malformed_tag_name_does_not_lose_the_ad_text() -> None:
    """lxml keeps a tag like ``<a}>`` as an element named ``a}``: its text is kept like any other element's.
    (Fixed: element_paragraphs took every name containing ``}`` for a namespaced one and etree.QName raised
    ValueError, so the field - and with it the detail page or the JSON-LD description - was lost.)"""
    page = Selector(text='<html><body><div class="ad-text"><p>Good pay</p><a}>x</a}><p>Call now</p></div></body>')
    assert elements_text([m.root for m in page.css("div.ad-text")], paragraphs=True) == "Good pay\n\nx\n\nCall now"
    assert html_fragment_text("<p>Good pay</p><b}>Call now</b}>") == "Good pay\n\nCall now"


def test_one_malformed_link_does_not_cost_the_other_ads_of_a_listing_page() -> None:
    """A listing page with one unparseable link (``http://[oops``, e.g. a typo in one ad) still yields the requests
    for every other ad and the next page. (Fixed: ``ConfigSpider.links`` used to let urljoin's ValueError escape: the
    callback crashed and the page's good ads and every following listing page were lost.)"""
    config = get_site_config("skelbimai", None, "http://127.0.0.1:9")
    spider_cls = SPIDERS[config.spider]
    spider = spider_cls.from_crawler(get_crawler(spider_cls), config=config)
    html = """<html><body><div class="listing">
      <div class="ad-card"><a class="ad-title" href="/skelbimas/a1.html">A</a></div>
      <div class="ad-card"><a class="ad-title" href="http://[oops/skelbimas/x.html">broken</a></div>
      <div class="ad-card"><a class="ad-title" href="/skelbimas/a2.html">B</a></div>
    </div><ul class="pagination"><li class="next"><a href="/skelbimai/darbas?page=2">next</a></li></ul></body></html>"""
    url = "http://127.0.0.1:9/skelbimai/darbas?page=1"
    response = HtmlResponse(url, body=html.encode(), encoding="utf-8", request=Request(url))
    requested = [r.url for r in spider.parse_listing(response, 1)]
    assert requested == [
        "http://127.0.0.1:9/skelbimas/a1.html",
        "http://127.0.0.1:9/skelbimas/a2.html",
        "http://127.0.0.1:9/skelbimai/darbas?page=2",
    ]


def test_one_malformed_loc_does_not_cost_the_rest_of_a_sitemap_or_feed() -> None:
    """``<loc>http://[oops</loc>`` in a sitemap (or a feed ``<link>``): the other URLs are still returned. (Fixed:
    urljoin's ValueError used to escape parse_sitemap/parse_feed - not an EntryError - and the whole sitemap was
    lost.)"""
    sitemap = b"<urlset><url><loc>http://[oops/x</loc></url><url><loc>/ad/2.html</loc></url></urlset>"
    assert parse_sitemap(sitemap, "https://site.example/").urls == ["https://site.example/ad/2.html"]
    feed = b"<rss><channel><item><link>http://[oops</link></item><item><link>/ad/3</link></item></channel></rss>"
    assert parse_feed(feed, "https://site.example/") == ["https://site.example/ad/3"]
