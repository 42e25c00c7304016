"""Writing crawled ads: new ads inserted, re-crawls refresh last_seen, changes update text, no duplicates."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from warehouse import connect
from warehouse.ads import count_ads, upsert_ads
from warehouse.crawl_runs import finish_run, health, start_run
from warehouse.records import AdRow, content_hash


def _ad(n: int, body: str = "Darbs noliktavā Rīgā.") -> AdRow:
    return AdRow(
        site_id="s",
        url=f"http://127.0.0.1/ad/{n}",
        title=f"Ad {n}",
        body=body,
        external_id=str(n),
        posted=date(2026, 11, 1),
    )


def test_recrawl_updates_last_seen_and_never_duplicates(tmp_path: Path) -> None:
    """Seeing the same URL again keeps one row, keeps first_seen and moves last_seen forward."""
    con = connect(tmp_path / "lw.duckdb")
    first = upsert_ads(con, [_ad(1), _ad(2)], run_id=1, seen_at=datetime(2026, 11, 1, 8))
    again = upsert_ads(con, [_ad(1), _ad(2)], run_id=2, seen_at=datetime(2026, 11, 2, 8))
    assert (first.inserted, again.inserted, again.unchanged) == (2, 0, 2)
    assert count_ads(con) == 2
    rows = con.execute("SELECT first_seen, last_seen, last_run_id FROM ads ORDER BY url").fetchall()
    assert rows == [(datetime(2026, 11, 1, 8), datetime(2026, 11, 2, 8), 2)] * 2


def test_changed_text_is_updated_and_counted(tmp_path: Path) -> None:
    """An ad whose text changed is updated in place with its new content hash."""
    con = connect(tmp_path / "lw.duckdb")
    upsert_ads(con, [_ad(1)], run_id=1)
    result = upsert_ads(con, [_ad(1, body="Darbs Norvēģijā, ceļš apmaksāts.")], run_id=2)
    assert (result.inserted, result.updated) == (0, 1)
    body, digest = con.execute("SELECT body, content_hash FROM ads").fetchall()[0]
    assert body == "Darbs Norvēģijā, ceļš apmaksāts."
    assert digest == content_hash("Ad 1", body)


def test_same_url_twice_in_one_batch_is_one_ad(tmp_path: Path) -> None:
    """Duplicates inside one batch (an ad listed on two pages) collapse to one row, last sighting wins."""
    con = connect(tmp_path / "lw.duckdb")
    result = upsert_ads(con, [_ad(1), _ad(1, body="edited")], run_id=1)
    assert result.inserted == 1
    assert con.execute("SELECT body FROM ads").fetchall() == [("edited",)]


def test_unicode_survives_the_round_trip(tmp_path: Path) -> None:
    """Baltic, Polish and Cyrillic text is stored and read back unchanged."""
    con = connect(tmp_path / "lw.duckdb")
    text = "Darbs ārzemēs — Žemės ūkis — Łódź — Работа в Норвегии — Työ Suomessa"
    upsert_ads(con, [_ad(1, body=text)], run_id=None)
    assert con.execute("SELECT body FROM ads").fetchall() == [(text,)]


def test_crawl_run_health_is_recorded(tmp_path: Path) -> None:
    """A finished crawl run keeps its counters so a broken site is visible in `lurewatch health`."""
    con = connect(tmp_path / "lw.duckdb")
    run = start_run(con, "skelbimai")
    finish_run(
        con,
        run,
        status="finished",
        pages=12,
        items=10,
        ads_inserted=9,
        ads_updated=1,
        errors=2,
        selector_misses=1,
    )
    [row] = health(con)
    assert (row["site_id"], row["status"], row["pages"], row["errors"], row["selector_misses"]) == (
        "skelbimai",
        "finished",
        12,
        2,
        1,
    )
