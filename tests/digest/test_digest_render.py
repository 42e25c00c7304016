"""Rendering: self-contained autoescaped HTML with embedded PNG charts, a real PDF, CSV tables, per-recipient
templates and thresholds, and an inputs fingerprint that follows the data, the templates and the thresholds."""

from __future__ import annotations

import base64
import csv
import io
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError
from pypdf import PdfReader

from digest import service
from digest.charts import render_charts
from digest.config import DigestConfig, parse_config
from digest.model import DigestData
from digest.render import fingerprint, render_all, render_csv, render_html
from digest.view import build_view

WEEK = date(2026, 11, 9)


@pytest.fixture(scope="module")
def data(synthetic_warehouse: Path) -> DigestData:
    config = parse_config({"recipients": [{"id": "x", "name": "X"}]}, synthetic_warehouse.parent)
    return service.compute(synthetic_warehouse, config.recipients[0], WEEK)


def test_html_is_self_contained_with_embedded_charts_and_escaped_text(
    data: DigestData, make_config: Callable[..., DigestConfig]
) -> None:
    config = make_config()
    recipient = config.recipient("ngo-full").model_copy(update={"name": '<script>alert("x")</script> & Partners'})
    view = build_view(data, recipient)
    view.charts = render_charts(view)
    html = render_html(view, recipient.template)
    assert "<script>" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Partners" in html
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?!data:|cid:|#)""", html)  # nothing to fetch from anywhere
    assert "<link" not in html and "@import" not in html and "url(" not in html
    images = re.findall(r'<img[^>]+src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 3  # trend, indicators, countries
    assert all(base64.b64decode(image).startswith(b"\x89PNG\r\n\x1a\n") for image in images)
    for heading in ("High-risk ads per week", "Lure indicators", "New and growing clusters", "Emerging lure phrases"):
        assert heading in html
    assert "signal chat only" in html and "Week 2026-W46" in html


def test_pdf_and_csv_per_recipient_profile(data: DigestData, make_config: Callable[..., DigestConfig]) -> None:
    config = make_config()
    full, summary = config.recipient("ngo-full"), config.recipient("ngo-summary")
    files = {f.name: f for f in render_all(build_view(data, full), full)}
    pdf = files["lurewatch-digest-2026-W46-ngo-full.pdf"].content
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 2 and "Weekly recruitment-lure digest" in text and "page 1 of" in text
    assert f"{data.high_risk_current}" in text
    tables = {name for name in files if name.endswith(".csv")}
    assert {f"lurewatch-digest-2026-W46-ngo-full-{t}.csv" for t in ("weekly_trend", "high_risk_by_indicator",
            "high_risk_by_country", "high_risk_by_site", "high_risk_by_language", "clusters",
            "emerging_phrases")} == tables
    summary_files = {f.name for f in render_all(build_view(data, summary), summary)}
    assert summary_files == {"lurewatch-digest-2026-W46-ngo-summary.html", "lurewatch-digest-2026-W46-ngo-summary.pdf"}


def test_csv_tables_show_what_the_html_shows(data: DigestData, make_config: Callable[..., DigestConfig]) -> None:
    recipient = make_config(thresholds={"suppress_below": 40}).recipient("ngo-full")
    view = build_view(data, recipient)
    by_site = next(f for f in render_csv(view) if f.name == "high_risk_by_site.csv")
    rows = list(csv.DictReader(io.StringIO(by_site.content.decode("utf-8-sig"))))
    assert rows and [r["site"] for r in rows] == [r.key for r in view.breakdowns["site"].rows]
    assert [r["this_week"] for r in rows] == [c.current.csv for c in view.breakdowns["site"].rows]
    trend = next(f for f in render_csv(view) if f.name == "weekly_trend.csv")
    assert trend.content.decode("utf-8-sig").splitlines()[0] == "week_start,iso_week,ads,high_risk_ads"


def test_custom_templates_per_recipient_are_sandboxed(
    tmp_path: Path, data: DigestData
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "ngo-x.html.j2").write_text(
        '{% extends "base.html.j2" %}{% block body %}<p id="custom">High-risk: {{ view.kpis[0].value.text }}'
        " for {{ view.recipient_name }}</p>{% endblock %}",
        encoding="utf-8",
    )
    (templates / "evil.html.j2").write_text("{{ view.__class__.__mro__ }}", encoding="utf-8")
    config = parse_config(
        {
            "template_dirs": ["templates"],
            "defaults": {"thresholds": {"suppress_below": 1000}},
            "recipients": [
                {"id": "ngo-x", "name": "NGO <X>", "template": "ngo-x.html.j2"},
                {"id": "evil", "name": "E", "template": "evil.html.j2"},
            ],
        },
        tmp_path,
    )
    recipient = config.recipient("ngo-x")
    html = render_html(build_view(data, recipient), recipient.template, config.template_dirs)
    assert '<p id="custom">High-risk: &lt;1000 for NGO &lt;X&gt;</p>' in html  # per-recipient k, escaped
    with pytest.raises(SecurityError):
        render_html(build_view(data, config.recipient("evil")), "evil.html.j2", config.template_dirs)


def test_fingerprint_follows_data_templates_and_thresholds(
    tmp_path: Path, data: DigestData, make_config: Callable[..., DigestConfig]
) -> None:
    config = make_config()
    recipient = config.recipient("ngo-full")
    base, parts = fingerprint(data, recipient)
    assert fingerprint(data, recipient) == (base, parts)
    assert set(parts) == {"format_version", "data", "templates", "settings"}
    stricter_thresholds = recipient.thresholds.model_copy(update={"suppress_below": 9})
    stricter = recipient.model_copy(update={"thresholds": stricter_thresholds})
    assert fingerprint(data, stricter)[0] != base
    renamed = recipient.model_copy(update={"emails": ("other@ngo.test",), "name": "Renamed"})
    assert fingerprint(data, renamed)[0] == base  # addresses and display name do not change the content hash
    (tmp_path / "base.html.j2").write_text("{% block body %}{% endblock %}", encoding="utf-8")
    assert fingerprint(data, recipient, [tmp_path])[0] != base
    assert fingerprint(replace(data, high_risk_current=data.high_risk_current - 1), recipient)[0] != base
