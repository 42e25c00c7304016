"""Issue 14, digest: "where the jobs are said to be" comes from the destination the ad itself names (extracted by
the real pipeline into ``ad_facts``), not from the board's country field, on the warehouse and on its Parquet
export; the ``countries:`` filter finds those ads; and a week the crawl has not finished, or covered on fewer
days than usual, is said to be so in the digest."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from digest.charts import render_charts
from digest.config import Filters, parse_config
from digest.model import DigestData
from digest.queries import DigestQuery, load_digest_data
from digest.render import render_html
from digest.view import build_view
from warehouse import session

W = date(2026, 11, 9)  # the digest week (a Monday)
#: (language, text, the board's own country field): the week of the issue, DE, NO, LV, DE, AE, NO, PL, plus an
#: ad that names Germany first and Norway second.
ADS: tuple[tuple[str, str, str | None], ...] = (
    ("lv", "Darbs Vācijā, noliktavā Berlīnē. Alga 3000 EUR mēnesī, dzīvoklis bez maksas.", None),
    ("en", "Work in Norway, fish factory in Bergen. No experience needed, free flights.", None),
    ("lv", "Darbs Rīgā, birojā. Alga 900 EUR.", None),
    ("ru", "Работа в Германии, Мюнхен. Жильё бесплатно, зарплата 2500 евро.", None),
    ("en", "Hostess job in Dubai, UAE, free flights, girls 18-25.", "LV"),  # the board says LV: the ad says AE
    ("en", "Work in Norway, hotel in Oslo, housing paid.", None),
    ("pl", "Praca w Polsce, Warszawa, magazyn, od zaraz.", None),
    ("en", "Work in Germany and then Norway, good pay.", None),
)


def _add(con: duckdb.DuckDBPyConnection, ad_id: int, day: date, lang: str, text: str, country: str | None,
         score: float) -> None:
    at = datetime.combine(day, datetime.min.time()) + timedelta(hours=9)
    con.execute(
        "INSERT INTO ads (ad_id, site_id, url, title, body, country, page_language, posted, first_seen, last_seen, "
        "content_hash) VALUES (?, 'board', ?, 'Job', ?, ?, ?, ?, ?, ?, ?)",
        [ad_id, f"https://board.example/{ad_id}", text, country, lang, day, at, at, f"h{ad_id}"],
    )
    con.execute("INSERT INTO scores (ad_id, model_version, score, content_hash) VALUES (?, 'm1', ?, ?)",
                [ad_id, score, f"h{ad_id}"])


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two earlier weeks crawled every day (low-scored ordinary ads); the digest week crawled Monday to Wednesday
    only, with the eight high-risk ads above. Features, ad_facts and clusters by the real pipeline."""
    from pipeline.cross_ad_features import compute_cross_ad_features
    from pipeline.feature_store import extract_pending

    path = tmp_path_factory.mktemp("destinations") / "wh.duckdb"
    with session(path) as con:
        con.execute(
            "INSERT INTO models (version, created_by, path, status, training_fingerprint, feature_names, metrics, "
            "params) VALUES ('m1', 't', '/x', 'champion', 'f', '[]', '{}', ?)",
            [json.dumps({"threshold": 0.5})],
        )
        ad_id = 1
        for weeks_back in (2, 1):
            for day in range(7):
                _add(con, ad_id, W - timedelta(days=7 * weeks_back - day), "en",
                     f"Accountant in our office, ad {ad_id}.", None, 0.05)
                ad_id += 1
        for n, (lang, text, country) in enumerate(ADS):
            _add(con, ad_id, W + timedelta(days=n % 3), lang, text, country, 0.9)
            ad_id += 1
        extract_pending(con)
        compute_cross_ad_features(con)
    return path


@pytest.fixture
def con(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with session(warehouse) as connection:
        yield connection


def _countries(data: DigestData) -> dict[str, int]:
    return {c.key: c.current for c in data.breakdowns["country"]}


def test_destinations_come_from_the_ad_text_not_the_boards_country_field(con: duckdb.DuckDBPyConnection) -> None:
    data = load_digest_data(con, DigestQuery(W))
    assert data.high_risk_current == len(ADS)
    assert _countries(data) == {"DE": 3, "NO": 2, "LV": 1, "AE": 1, "PL": 1}  # nothing "Not stated" (??)


def test_the_countries_filter_finds_ads_by_every_destination_they_name(con: duckdb.DuckDBPyConnection) -> None:
    norway = load_digest_data(con, DigestQuery(W, filters=Filters(countries=("no",))))
    assert norway.high_risk_current == 3  # the two Norway ads and "Germany and then Norway"
    emirates = load_digest_data(con, DigestQuery(W, filters=Filters(countries=("AE",))))
    assert emirates.high_risk_current == 1  # the board's "LV" does not hide it
    latvia = load_digest_data(con, DigestQuery(W, filters=Filters(countries=("LV",))))
    assert latvia.high_risk_current == 1 and _countries(latvia) == {"LV": 1}  # Riga, not the Dubai ad


def test_the_parquet_export_gives_the_same_destinations(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    from warehouse.parquet import export_parquet, read_parquet_warehouse

    export_parquet(con, tmp_path / "lake")
    lake = read_parquet_warehouse(tmp_path / "lake")
    try:
        from_lake = load_digest_data(lake, DigestQuery(W))
    finally:
        lake.close()
    assert _countries(from_lake) == _countries(load_digest_data(con, DigestQuery(W)))
    assert from_lake.data_hash() == load_digest_data(con, DigestQuery(W)).data_hash()


def test_an_unfinished_or_thinly_crawled_week_is_flagged_in_the_digest(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    data = load_digest_data(con, DigestQuery(W))
    assert (data.days_collected, data.days_collected_usual, data.last_collected) == (3, 7.0, W + timedelta(days=2))
    assert data.week_incomplete and data.short_coverage
    recipient = parse_config({"recipients": [{"id": "x", "name": "X"}]}, tmp_path).recipients[0]
    view = build_view(data, recipient)
    assert len(view.warnings) == 2
    view.charts = render_charts(view)
    html = render_html(view, recipient.template)
    assert "This week is not complete: ads had been collected only up to November 11, 2026" in html
    assert "The crawl collected ads on 3 of the 7 days of this week (usually 7)" in html
    complete = load_digest_data(con, DigestQuery(W - timedelta(days=7)))
    assert not complete.week_incomplete and not complete.short_coverage
    assert build_view(complete, recipient).warnings == ()
