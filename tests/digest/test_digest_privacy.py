"""No personal data in any digest output, and no exact small count.

The leak scan takes every entity value (phones, e-mails, handles, URLs as normalised and as written in the ad)
and every ad URL in the warehouse, and looks for them in the HTML, the PDF's text, every CSV and the whole
e-mail message (decoded parts and headers), for both built-in templates, with suppression on and off.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from pypdf import PdfReader

from digest import charts, service
from digest.archive import ArchivedDigest
from digest.config import DigestConfig
from digest.delivery import build_message
from digest.privacy import HIDDEN, Cell, cell, change_text, looks_personal, scrub, suppress_column
from digest.synthetic import LEAKY_PHRASES
from digest.view import Breakdown, Kpi, Row, build_view
from warehouse import session

FIXTURE_WEEKS = (date(2026, 11, 9), date(2026, 11, 16))
DATA_URI = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")
PHONE_LIKE = re.compile(r"\+?\d[\d\s().\-/]{5,}\d")
COUNT_COLUMNS = re.compile(r"^(this_week|previous_week|ads|high_risk_ads|new_.*|growing_.*|ads_added.*|.*_added_.*|"
                           r"ads_this_week)$")


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def _message_text(config: DigestConfig, recipient_id: str, digest: ArchivedDigest) -> str:
    message = build_message(config.smtp, config.recipient(recipient_id), digest)
    parts = [str(value) for _, value in message.items()]
    for part in message.walk():
        if part.is_multipart():
            continue
        if part.get_content_maintype() == "text":
            parts.append(part.get_content())
        elif part.get_content_type() == "application/pdf":
            parts.append(_pdf_text(part.get_content()))
        parts.append(str(part.get_filename() or ""))
    return "\n".join(parts)


def _outputs(config: DigestConfig, db: Path, weeks: Iterable[date]) -> dict[str, str]:
    """Every text a recipient could read, per (week, recipient, file)."""
    texts: dict[str, str] = {}
    for week in weeks:
        for recipient in config.recipients:
            data = service.compute(db, recipient, week)
            digest = service.build(db, config, recipient, data)
            for item in digest.files:
                raw = item.read()
                key = f"{week}/{recipient.id}/{item.name}"
                texts[key] = _pdf_text(raw) if item.mime == "application/pdf" else raw.decode("utf-8-sig")
            texts[f"{week}/{recipient.id}/email"] = _message_text(config, recipient.id, digest)
            texts[f"{week}/{recipient.id}/summary"] = digest.text_summary + digest.subject
    return texts


def _secrets(db: Path) -> tuple[set[str], set[str]]:
    """(strings that must not appear, phone numbers as digits that must not appear in a phone-like sequence)."""
    with session(db) as con:
        entities = con.execute("SELECT DISTINCT kind, value, raw FROM entities").fetchall()
        urls = [row[0] for row in con.execute("SELECT url FROM ads").fetchall()]
    strings: set[str] = set(urls)
    digits: set[str] = set()
    for kind, value, raw in entities:
        for text in (value, raw):
            if len(text.strip()) >= 5:
                strings.add(text.strip())
        if kind in {"phone", "whatsapp", "viber"} or value.startswith("+"):
            for text in (value, raw):  # the full number, and the number as the ad wrote it
                number = re.sub(r"\D", "", text)
                if len(number) >= 8:
                    digits.add(number)
        if value.startswith("@") and len(value) >= 6:
            strings.add(value[1:])
    return strings, digits


def _leaks(texts: dict[str, str], strings: set[str], digits: set[str]) -> list[str]:
    found = []
    for name, text in texts.items():
        text = DATA_URI.sub("data:", text)  # chart images: drawn from suppressed aggregates only
        lowered = text.lower()
        found += [f"{name}: {s!r}" for s in strings if s.lower() in lowered]
        numbers = {re.sub(r"\D", "", m) for m in PHONE_LIKE.findall(text)}
        found += [f"{name}: phone …{d}" for d in digits if any(d in n for n in numbers)]
    return found


def test_no_personal_data_in_html_pdf_csv_or_email(
    fixture_warehouse: Path, warehouse_copy: Callable[[Path], Path], make_config: Callable[..., DigestConfig]
) -> None:
    """Suppression off (k=0): the most numbers and phrases a digest can show, two weeks, both templates."""
    db = warehouse_copy(fixture_warehouse)
    config = make_config(thresholds={"suppress_below": 0, "emerging": {"min_growth": 1.0}})
    texts = _outputs(config, db, FIXTURE_WEEKS)
    strings, digits = _secrets(db)
    assert len(strings) > 600 and len(digits) > 250  # the fixture's real contacts were extracted
    assert any(name.endswith(".pdf") for name in texts) and any(name.endswith(".csv") for name in texts)
    assert "High-risk ads" in texts[f"{FIXTURE_WEEKS[1]}/ngo-full/email"]
    assert _leaks(texts, strings, digits) == []
    # the scan itself would notice a leak (positive control)
    planted = sorted(digits)[0]
    assert _leaks({"planted": f"call {planted[:3]} {planted[3:6]}-{planted[6:]}"}, strings, digits)
    assert _leaks({"planted": sorted(strings)[0].upper()}, strings, digits)


def test_contact_details_inside_evidence_phrases_are_scrubbed(
    synthetic_warehouse: Path, warehouse_copy: Callable[[Path], Path], make_config: Callable[..., DigestConfig]
) -> None:
    db = warehouse_copy(synthetic_warehouse)
    config = make_config()
    texts = _outputs(config, db, [date(2026, 11, 9)])
    html = texts["2026-11-09/ngo-full/lurewatch-digest-2026-W46-ngo-full.html"]
    assert "write on telegram [removed]" in html and "whatsapp [removed]" in html  # emerging, scrubbed
    strings, digits = _secrets(db)
    strings |= {"@fastjobs_recruiter", "fastjobs_recruiter", "jobs.abroad@mail.example", "fastjobs.example",
                "2000 1234"}
    assert _leaks(texts, strings, digits) == []
    assert all(looks_personal(text) for _, text in LEAKY_PHRASES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write on telegram @fast_jobs", "write on telegram [removed]"),
        ("call +371 2914 5678 today", "call [removed] today"),
        ("zvani 8 (029) 123-45-67", "zvani [removed]"),
        ("cv: anna.k@gmail.com", "cv: [removed]"),
        ("cv: anna [at] gmail [dot] com", "cv: [removed]"),
        ("apply at https://bit.ly/x1y2 now", "apply at [removed] now"),
        ("see t.me/jobsabroad", "see [removed]"),
        ("visit www.jobs-abroad.eu", "visit [removed]"),
        ("rekrutacja.pl/oferta", "[removed]"),
        ("darba piedāvājums Norvēģijā", "darba piedāvājums Norvēģijā"),
        ("earn up to 4000 eur per week", "earn up to 4000 eur per week"),
        ("girls 18-25", "girls 18-25"),
    ],
)
def test_scrub(text: str, expected: str) -> None:
    assert scrub(text) == expected


def test_small_counts_are_suppressed_with_secondary_suppression() -> None:
    assert cell(4, 5) == Cell("<5", None) and cell(0, 5).text == "<5" and cell(5, 5) == Cell("5", 5)
    assert cell(3, 0) == Cell("3", 3) and cell(12_345, 5).text == "12 345"
    # one small cell in a column that adds up to a shown total: the next smallest is hidden too
    assert [c.text for c in suppress_column([12, 3, 7], 5, additive=True)] == ["12", "<5", HIDDEN]
    assert [c.text for c in suppress_column([12, 3, 2], 5, additive=True)] == ["12", "<5", "<5"]
    assert [c.text for c in suppress_column([12, 3, 7], 5, additive=False)] == ["12", "<5", "7"]
    # a zero reveals nothing: no secondary suppression for it
    assert [c.text for c in suppress_column([12, 0, 7], 5, additive=True)] == ["12", "<5", "7"]
    assert change_text(cell(12, 5), cell(3, 5)) == "–"  # a change would give the small count away
    assert change_text(cell(12, 5), cell(8, 5)) == "+4 (+50%)" and change_text(cell(8, 5), cell(8, 5)) == "±0"


def _count_cells(value: object) -> Iterable[Cell]:
    if isinstance(value, Cell):
        yield value
    elif isinstance(value, Kpi) and not value.counts_people:
        return
    elif isinstance(value, dict):
        for item in value.values():
            yield from _count_cells(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _count_cells(item)
    elif hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:  # type: ignore[attr-defined]
            yield from _count_cells(getattr(value, name))


def test_no_count_below_k_in_view_or_csv(
    fixture_warehouse: Path, warehouse_copy: Callable[[Path], Path], make_config: Callable[..., DigestConfig]
) -> None:
    db = warehouse_copy(fixture_warehouse)
    config = make_config(thresholds={"suppress_below": 5, "emerging": {"min_growth": 1.0}})
    recipient = config.recipient("ngo-full")
    data = service.compute(db, recipient, FIXTURE_WEEKS[1])
    assert any(0 < c.current < 5 for rows in data.breakdowns.values() for c in rows)  # there are small counts
    view = build_view(data, recipient)
    cells = list(_count_cells(view))
    assert cells and any(c.suppressed for c in cells)
    assert all(c.value >= 5 for c in cells if c.value is not None)
    assert {c.text for c in cells if c.suppressed} <= {"<5", HIDDEN}
    digest = service.build(db, config, recipient, data)
    assert _leaks(_outputs(config, db, FIXTURE_WEEKS[1:]), *_secrets(db)) == []  # k=5: no leak either
    for item in digest.by_mime("text/csv"):
        rows = list(csv.DictReader(io.StringIO(item.read().decode("utf-8-sig"))))
        for row in rows:
            for column, text in row.items():
                if COUNT_COLUMNS.match(column):
                    assert text in {"<5", HIDDEN} or int(text.replace(" ", "")) >= 5, (item.name, column, text)
                hidden = {"<5", HIDDEN}
                if column == "change" and (row["this_week"] in hidden or row["previous_week"] in hidden):
                    assert text == "–"


def test_charts_draw_no_bar_for_a_suppressed_count(monkeypatch: pytest.MonkeyPatch) -> None:
    figures: list[Figure] = []
    monkeypatch.setattr(charts, "_to_data_uri", lambda fig: figures.append(fig) or "data:image/png;base64,")
    rows = (
        Row("a", "Alpha", cell(40, 5), cell(30, 5), "+10"),
        Row("b", "Beta", cell(3, 5), cell(9, 5), "–"),
    )
    charts.breakdown_chart(Breakdown("site", "Site", rows, 0, True))
    widths = sorted(round(bar.get_width(), 6) for bar in figures[0].axes[0].patches)
    assert widths == [0.0, 9.0, 30.0, 40.0]  # Beta's 3 is not drawn
    labels = [t.get_text() for t in figures[0].axes[0].texts]
    assert "<5" in labels

