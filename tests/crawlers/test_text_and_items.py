"""Pure extraction helpers: HTML -> text, JSON-LD JobPosting -> fields, fields -> AdRow."""

from __future__ import annotations

from datetime import date

import pytest
from parsel import Selector
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawlers.extract import extract, extract_urls
from crawlers.items import build_ad_row, merge_contact, parse_date, ref_from_url
from crawlers.jobposting import (
    JsonLdError,
    find_job_posting,
    format_salary,
    job_posting_fields,
    microdata_fields,
    structured_fields,
)
from crawlers.site_config import Rule, get_site_config
from crawlers.spiders import SPIDERS
from crawlers.text import html_fragment_text


def test_paragraphs_are_joined_by_blank_line_and_entities_decoded() -> None:
    """Body text keeps paragraph structure, decodes entities once and drops markup and scripts."""
    html = (
        "<div><p>First  line\n   wraps here &amp; there.</p><script>var x = 1;</script>"
        "<p>&lt;script&gt;alert(1)&lt;/script&gt; stays text</p><p>  </p><p>a<br>b</p></div>"
    )
    assert html_fragment_text(html) == (
        "First line wraps here & there.\n\n<script>alert(1)</script> stays text\n\na\nb"
    )


def test_rule_text_and_paragraph_modes() -> None:
    """A rule reads one normalised line in text mode and keeps paragraphs in paragraphs mode."""
    page = Selector(
        text='<h1 class="t"> Job\n title </h1><div class="d"><p>one</p><p>two</p></div><a href="/x">x</a>'
    )
    assert extract(page, Rule(css="h1.t")) == "Job title"
    assert extract(page, Rule(css="div.d", mode="paragraphs")) == "one\n\ntwo"
    assert extract(page, Rule(css="div.d")) == "one two"
    assert extract(page, Rule(css="span.missing")) is None
    assert extract_urls(page, Rule(css="a")) == ["/x"]
    assert extract(page, Rule(xpath="//h1/text()", regex=r"(Job)")) == "Job"


def test_job_posting_from_json_ld_graph_and_broken_block() -> None:
    """JobPosting is found inside @graph; a broken block without any posting is reported as an error."""
    page = Selector(
        text='<script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"Organization"},'
        '{"@type":"JobPosting","title":"Cook","description":"<p>Cook food.</p><p>Call 123</p>",'
        '"datePosted":"2026-11-01","hiringOrganization":{"@type":"Organization","name":"Acme"},'
        '"jobLocation":{"@type":"Place","address":{"addressLocality":"Rīga","addressCountry":"LV"}},'
        '"baseSalary":{"@type":"MonetaryAmount","currency":"EUR","value":{"minValue":1200,"maxValue":1500,'
        '"unitText":"MONTH"}},"inLanguage":"lv","identifier":{"@type":"PropertyValue","value":"bj-0001"}}]}'
        "</script>"
    )
    posting = find_job_posting(page)
    assert posting is not None
    fields = job_posting_fields(posting)
    assert fields == {
        "title": "Cook",
        "body": "Cook food.\n\nCall 123",
        "company": "Acme",
        "posted": "2026-11-01",
        "salary_text": "1200–1500 EUR / MONTH",
        "page_language": "lv",
        "external_id": "bj-0001",
        "location": "Rīga",
        "country": "LV",
    }
    broken = Selector(text='<script type="application/ld+json">{"@type": "JobPosting", </script>')
    with pytest.raises(JsonLdError):
        find_job_posting(broken)


def test_salary_formats() -> None:
    """Salary text covers ranges, single values and plain strings."""
    pln = {"currency": "PLN", "value": {"value": 6200.0, "unitText": "MONTH"}}
    assert format_salary(pln) == "6200 PLN / MONTH"
    assert format_salary({"currency": "EUR", "value": {"minValue": 10, "maxValue": 10}}) == "10 EUR"
    assert format_salary("from 900 EUR") == "from 900 EUR"
    assert format_salary(None) is None


def test_ad_row_merges_contact_and_parses_fields() -> None:
    """The contact is appended to the body once (features read the body); ids and dates parse."""
    row = build_ad_row(
        "s", "http://h/skelbimas/sk-0007.html",
        {"title": " A  job ", "body": "Text.\n\nMore.", "contact_text": "Tel. +370 600 00000",
         "posted": "2026-11-03T10:00", "page_language": "lt-LT"},
        r"/skelbimas/(?P<ref>[^/]+?)\.html",
    )
    assert row.title == "A job"
    assert row.body == "Text.\n\nMore.\n\nTel. +370 600 00000"
    assert row.external_id == "sk-0007"
    assert row.posted == date(2026, 11, 3)
    assert row.page_language == "lt"
    assert merge_contact("Call  +370 600 00000 now", "call +370 600 00000") == "Call  +370 600 00000 now"
    assert parse_date("03.11.2026") == date(2026, 11, 3)
    assert parse_date("2026-02-30") is None
    assert ref_from_url("http://h/board/post/df-0001?x=1", None) == "df-0001"


def test_microdata_job_posting_fallback() -> None:
    """Pages without JSON-LD still yield a JobPosting's fields from schema.org microdata."""
    page = Selector(
        text='<div itemscope itemtype="https://schema.org/JobPosting"><h1 itemprop="title">Nurse</h1>'
        '<meta itemprop="datePosted" content="2026-10-05"><div itemprop="description"><p>Care work.</p>'
        '<p>Call 555</p></div><span itemprop="hiringOrganization" itemscope><span itemprop="name">Care Oy'
        '</span></span><span itemprop="addressLocality">Turku</span></div>'
    )
    assert microdata_fields(page) == {
        "title": "Nurse",
        "body": "Care work.\n\nCall 555",
        "company": "Care Oy",
        "posted": "2026-10-05",
        "location": "Turku",
    }


_RDFA_PAGE = (
    '<html lang="et"><head><meta property="og:title" content="OG title"></head><body>'
    '<div vocab="https://schema.org/" typeof="JobPosting"><h1 property="title">Keevitaja</h1>'
    '<div property="description"><p>Keevitustööd Soomes.</p><p>Majutus tasuta.</p></div>'
    '<div property="hiringOrganization" typeof="Organization"><span property="name">Metall OÜ</span></div>'
    '<div property="jobLocation" typeof="Place"><div property="address" typeof="PostalAddress">'
    '<span property="addressLocality">Tallinn</span><span property="addressCountry">EE</span></div></div>'
    '<time property="datePosted" datetime="2026-01-05">5. jaanuar</time></div></body></html>'
)


def test_rdfa_job_posting_is_read_with_extruct() -> None:
    """A JobPosting in RDFa (no JSON-LD, no microdata) gives the same fields, with the description's paragraphs
    and the machine-readable date of a <time> element (not its displayed text)."""
    found = structured_fields(Selector(text=_RDFA_PAGE), "http://jobs.example/job/1")
    assert found.source == "rdfa"
    assert found.fields == {
        "title": "Keevitaja",
        "body": "Keevitustööd Soomes.\n\nMajutus tasuta.",
        "company": "Metall OÜ",
        "posted": "2026-01-05",
        "location": "Tallinn",
        "country": "EE",
    }


def test_structured_data_order_json_ld_then_microdata() -> None:
    """JSON-LD wins over microdata on the same page; a JSON-LD block with a leading HTML comment (common in the
    wild) is still read; a page without any JobPosting has no structured source."""
    microdata = ('<div itemscope itemtype="http://schema.org/JobPosting"><h1 itemprop="title">Micro</h1>'
                 '<div itemprop="description">From microdata.</div></div>')
    jsonld = ('<script type="application/ld+json"><!-- generated -->\n'
              '{"@type": "JobPosting", "title": "Structured", "description": "<p>From JSON-LD.</p>"}</script>')
    both = structured_fields(Selector(text=f"<html><head>{jsonld}</head><body>{microdata}</body></html>"))
    assert (both.source, both.fields) == ("json-ld", {"title": "Structured", "body": "From JSON-LD."})
    only_micro = structured_fields(Selector(text=f"<html><body>{microdata}</body></html>"))
    assert (only_micro.source, only_micro.fields) == ("microdata", {"title": "Micro", "body": "From microdata."})
    assert structured_fields(Selector(text="<html><body><p>Just a page</p></body></html>")).source is None


def test_microdata_text_description_is_not_parsed_as_html() -> None:
    """Microdata gives the description as text: an escaped ``<b>`` in the ad stays text, it is not markup."""
    page = Selector(text='<div itemscope itemtype="https://schema.org/JobPosting"><h1 itemprop="title">T</h1>'
                         '<div itemprop="description"><p>Use &lt;b&gt; tags</p></div></div>')
    assert microdata_fields(page)["body"] == "Use <b> tags"


def test_every_job_location_is_kept() -> None:
    """An ad for three towns names all three (cvbankas lists several addressLocality values)."""
    posting = {"@type": "JobPosting", "title": "T", "jobLocation": [
        {"address": {"addressLocality": ["Panevėžys", "Kupiškis"]}},
        {"address": {"addressLocality": "Pakruojis", "addressCountry": "LT"}},
        {"address": {"addressLocality": "Kupiškis"}},
    ]}
    fields = job_posting_fields(posting)
    assert (fields["location"], fields["country"]) == ("Panevėžys, Kupiškis, Pakruojis", "LT")


def test_opengraph_is_the_last_resort_of_the_jsonld_spider() -> None:
    """A page with no JobPosting and no matching selector still gives title and body from OpenGraph; selectors
    that match win over OpenGraph."""
    config = get_site_config("balticjobs", None, "http://127.0.0.1:9")
    spider = SPIDERS[config.spider].from_crawler(get_crawler(SPIDERS[config.spider]), config=config)
    head = ('<head><meta property="og:title" content="Work in Oslo">'
            '<meta property="og:description" content="Call us."></head>')
    url = "http://127.0.0.1:9/job/x1"
    bare = HtmlResponse(url, body=f"<html>{head}<body><p>?</p></body></html>".encode(), encoding="utf-8",
                        request=Request(url))
    assert spider.detail_fields(bare) == {"title": "Work in Oslo", "body": "Call us."}
    visible = HtmlResponse(url, encoding="utf-8", request=Request(url), body=(
        f'<html>{head}<body><h1 class="job-title">Visible</h1><div class="job-description">Text.</div></body></html>'
    ).encode())
    assert spider.detail_fields(visible) == {"title": "Visible", "body": "Text."}
