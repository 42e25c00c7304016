"""Issue 14, digest: per-recipient locale (en, lv fully translated; lt, et, fi, pl partly, falling back to English),
in the HTML, the PDF, the e-mail sent to a real local SMTP server and the words drawn into the chart images, with
numbers and dates in the locale's format; and a week-over-week change within noise is said to be one."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from matplotlib.figure import Figure

from digest import charts, service
from digest.config import DigestConfig, parse_config
from digest.i18n import SUPPORTED_LOCALES, catalogue_path
from digest.mailsink import MailSink
from digest.model import DigestData, WeekCount
from digest.render import render_all, render_csv
from digest.stats import change_p_value, is_clear_change
from digest.view import build_view

WEEK = date(2026, 11, 9)
DIGEST_DIR = Path(__file__).resolve().parents[2] / "digest"
PLACEHOLDER = re.compile(r"%\([a-z]+\)s")


@pytest.fixture(scope="module")
def data(synthetic_warehouse: Path) -> DigestData:
    config = parse_config({"recipients": [{"id": "x", "name": "X"}]}, synthetic_warehouse.parent)
    return service.compute(synthetic_warehouse, config.recipients[0], WEEK)


def _recipient(tmp_path: Path, locale: str, **extra: object) -> object:
    return parse_config({"recipients": [{"id": f"ngo-{locale}", "name": "NGO", "locale": locale, **extra}]},
                        tmp_path).recipients[0]


def _source_messages() -> set[str]:
    method_map = [("**.py", "python"), ("templates/**.j2", "jinja2")]
    options = {"templates/**.j2": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "gettext": None, "t": None}
    return {m[2] for m in extract_from_dir(str(DIGEST_DIR), method_map, options, keywords=keywords) if m[2]}


def test_latvian_catalogue_translates_every_string_of_the_digest_and_keeps_placeholders() -> None:
    messages = _source_messages()
    assert len(messages) > 90
    with catalogue_path("lv").open("rb") as handle:
        lv = {m.id: m.string for m in read_po(handle) if m.id}
    assert sorted(messages - {k for k, v in lv.items() if v}) == []  # nothing left in English
    for locale in SUPPORTED_LOCALES[1:]:
        with catalogue_path(locale).open("rb") as handle:
            for message in read_po(handle):
                if message.id and message.string:
                    assert sorted(PLACEHOLDER.findall(message.id)) == sorted(PLACEHOLDER.findall(message.string)), (
                        locale, message.id)


def test_a_latvian_recipient_gets_latvian_html_pdf_numbers_and_dates(data: DigestData, tmp_path: Path) -> None:
    from pypdf import PdfReader

    recipient = _recipient(tmp_path, "lv", thresholds={"suppress_below": 0})
    big = replace(data, ads_current=12_345)
    view = build_view(big, recipient)
    files = {f.name.rsplit(".", 1)[-1]: f for f in render_all(view, recipient)}
    html = files["html"].content.decode()
    assert '<html lang="lv">' in html
    for text in ("Iknedēļas pārskats par vervēšanas slazdiem", "Kur darbs it kā atrodas",
                 "Augsta riska sludinājumi nedēļā", "Kā lasīt šo pārskatu", "2026. gada 9.–15. nov.",
                 "12\u00a0345", "Vācija"):
        assert text in html, text
    for english in ("Where the jobs are said to be", "How to read this digest", "Germany", "12,345"):
        assert english not in html, english
    pdf = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(files["pdf"].content)).pages)
    assert "Kur darbs it kā atrodas" in pdf and "Iknedēļas pārskats" in pdf


def test_chart_labels_are_drawn_in_the_recipients_language(
    data: DigestData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    figures: list[Figure] = []
    monkeypatch.setattr(charts, "_to_data_uri", lambda fig: figures.append(fig) or "data:image/png;base64,")
    view = build_view(data, _recipient(tmp_path, "lv"))
    charts.render_charts(view)
    trend, *breakdowns = figures
    assert trend.axes[0].get_ylabel() == "augsta riska sludinājumi"
    assert [t.get_text() for t in trend.axes[0].get_xticklabels()][-1] == "46. ned."
    country = breakdowns[-1].axes[0]
    assert country.get_xlabel() == "augsta riska sludinājumi"
    assert {t.get_text() for t in country.get_legend().get_texts()} == {"iepriekšējā nedēļa", "šī nedēļa"}
    assert "Vācija" in {t.get_text() for t in country.get_yticklabels()}


@pytest.mark.parametrize(("locale", "heading", "country"), [
    ("lt", "Kur esą siūlomas darbas", "Vokietija"), ("et", "Kus töö väidetavalt asub", "Saksamaa"),
    ("fi", "Missä työn väitetään olevan", "Saksa"), ("pl", "Gdzie rzekomo jest praca", "Niemcy"),
])
def test_other_locales_translate_headings_and_names_and_fall_back_to_english(
    data: DigestData, tmp_path: Path, locale: str, heading: str, country: str
) -> None:
    recipient = _recipient(tmp_path, locale, formats=["html"])
    html = next(f for f in render_all(build_view(data, recipient), recipient) if f.name.endswith(".html"))
    text = html.content.decode()
    assert heading in text and country in text and f'lang="{locale}"' in text
    assert "This digest contains no personal data" in text  # an untranslated string: English, not blank


def test_the_email_to_a_latvian_recipient_is_in_latvian(
    synthetic_warehouse: Path, warehouse_copy: Callable[[Path], Path], tmp_path: Path, mail_sink: MailSink
) -> None:
    db = warehouse_copy(synthetic_warehouse)
    config: DigestConfig = parse_config({
        "archive_dir": "archive", "smtp": {"port": mail_sink.port},
        "recipients": [{"id": "lv-ngo", "name": "Biedrība", "emails": ["lv@ngo.test"], "locale": "lv",
                        "formats": ["html"]}],
    }, tmp_path)
    service.run_digest(db, config, WEEK)
    message = mail_sink.wait_for(1)[0].message()
    assert "Iknedēļas pārskats par vervēšanas slazdiem" in str(message["Subject"])
    text = next(p.get_content() for p in message.walk() if p.get_content_type() == "text/plain")
    assert "Augsta riska sludinājumi:" in text and "Pārskatā nav personas datu" in text


def test_a_change_within_noise_says_no_clear_change(data: DigestData, tmp_path: Path) -> None:
    assert change_p_value(7, 5) == pytest.approx(0.7744, abs=1e-4) and not is_clear_change(7, 5)
    assert change_p_value(45, 20) < 0.01 and is_clear_change(45, 20) and not is_clear_change(5, 0)
    small = replace(data, high_risk_current=7, high_risk_previous=5,
                    breakdowns={**data.breakdowns, "site": (WeekCount("a", 7, 5), WeekCount("b", 45, 20))})
    recipient = _recipient(tmp_path, "en", thresholds={"suppress_below": 0})
    view = build_view(small, recipient)
    assert (view.kpis[0].change, view.kpis[0].clear) == ("+2 (+40%)", False)
    rows = {r.key: r for r in view.breakdowns["site"].rows}
    assert (rows["a"].clear, rows["b"].clear) == (False, True)
    files = {f.name: f for f in render_all(view, recipient)}
    html = next(f for n, f in files.items() if n.endswith(".html")).content.decode()
    assert re.search(r"\+2 \(\+40%\)\s*<span class=\"noise\">· no clear change</span>", html)
    assert re.search(r">\+2 \(\+40%\)<span class=\"noise\">no clear change</span></td>", html)
    assert re.search(r">\+25 \(\+125%\)</td>", html)  # 20 -> 45 is a real change: no caveat
    by_site = next(f for f in render_csv(view) if f.name == "high_risk_by_site.csv").content.decode("utf-8-sig")
    assert "a,a,7,5,'+2 (+40%),no" in by_site and "b,b,45,20,'+25 (+125%),yes" in by_site  # '+: csv_safety
    lv = build_view(small, _recipient(tmp_path, "lv", thresholds={"suppress_below": 0}))
    assert lv.kpis[0].clear is False and "nav skaidras izmaiņas" in service.text_summary(lv)


def test_the_high_risk_rule_is_explained_in_plain_words(data: DigestData, tmp_path: Path) -> None:
    low = replace(data, threshold=0.054, model_version="m20261109-abcdef")
    view = build_view(low, _recipient(tmp_path, "en"))
    assert "score from 0 (an ordinary job ad) to 1 (almost certainly a recruitment lure)" in view.rule_explained
    assert "Ads scoring 0.054 or more count as high-risk: roughly a 5.4% or higher chance" in view.rule_explained
    assert "not proof" in view.rule_explained and "m2026" not in view.rule_explained
    top = build_view(replace(low, mode="top_n", top_n=50), _recipient(tmp_path, "lv"))
    assert "Katru nedēļu 50 sludinājumi ar augstāko novērtējumu" in top.rule_explained
    assert "0,054" in top.rule_explained
