"""Writing crawled ads: new ads inserted, re-crawls refresh last_seen, changes update text, no duplicates;
snapshots as history, page validators, and removal marking that never deletes."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from warehouse import connect
from warehouse.ads import (
    PageState,
    ad_snapshots,
    count_ads,
    load_page_states,
    mark_removed,
    text_hash,
    upsert_ads,
    write_crawl_batch,
)
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


def test_snapshots_keep_each_change_of_page_text(tmp_path: Path) -> None:
    """A snapshot row is added when an ad's page text differs from its latest snapshot - so re-crawls of an
    unchanged page add nothing, and a change and its revert are both on record (A, B, A)."""
    con = connect(tmp_path / "lw.duckdb")
    for run, text in enumerate(["Page A", "Page A", "Page B", "Page A"], start=1):
        write_crawl_batch(con, [_ad(1)], run_id=run, page_texts={_ad(1).url: text},
                          seen_at=datetime(2026, 11, run, 8))
    rows = con.execute("SELECT run_id, content_hash, page_text FROM ad_snapshots ORDER BY fetched_at").fetchall()
    assert [(run, text) for run, _, text in rows] == [(1, "Page A"), (3, "Page B"), (4, "Page A")]
    assert rows[0][1] == text_hash("Page A") == rows[2][1]
    history = ad_snapshots(con, _ad(1).url)
    assert [h["page_text"] for h in history] == ["Page A", "Page B", "Page A"]


def test_snapshot_defaults_to_title_and_body(tmp_path: Path) -> None:
    """Without a page text (e.g. upsert_ads from elsewhere) the snapshot is the ad text itself."""
    con = connect(tmp_path / "lw.duckdb")
    upsert_ads(con, [_ad(1)], run_id=1)
    assert con.execute("SELECT page_text FROM ad_snapshots").fetchall() == [("Ad 1\n\nDarbs noliktavā Rīgā.",)]


def test_metadata_change_is_written_without_counting_as_changed_text(tmp_path: Path) -> None:
    """A new city or salary with the same title and body updates those columns (features keyed on the text
    hash stay valid) and counts as unchanged."""
    con = connect(tmp_path / "lw.duckdb")
    upsert_ads(con, [_ad(1)], run_id=1)
    moved = _ad(1)
    moved.location, moved.salary_text = "Oslo", "3000 EUR"
    result = upsert_ads(con, [moved], run_id=2)
    assert (result.inserted, result.updated, result.unchanged) == (0, 0, 1)
    assert con.execute("SELECT location, salary_text FROM ads").fetchall() == [("Oslo", "3000 EUR")]


def test_seen_urls_touch_last_seen_and_clear_removed(tmp_path: Path) -> None:
    """Ads confirmed unchanged without parsing (HTTP 304) only get last_seen/last_run_id; a removed one is
    live again and counted as reappeared."""
    con = connect(tmp_path / "lw.duckdb")
    write_crawl_batch(con, [_ad(1), _ad(2)], run_id=1, seen_at=datetime(2026, 11, 1))
    con.execute("UPDATE ads SET removed_at = TIMESTAMP '2026-11-02' WHERE url = ?", [_ad(2).url])
    result = write_crawl_batch(con, [], run_id=2, seen_urls=[_ad(1).url, _ad(2).url, "http://127.0.0.1/none"],
                               seen_at=datetime(2026, 11, 3))
    assert (result.seen, result.reappeared, result.inserted) == (2, 1, 0)
    rows = con.execute("SELECT last_seen, last_run_id, removed_at FROM ads ORDER BY url").fetchall()
    assert rows == [(datetime(2026, 11, 3), 2, None)] * 2


def test_page_states_round_trip_per_config(tmp_path: Path) -> None:
    """crawl_pages rows come back for the same site config only, and only while their ad still exists."""
    con = connect(tmp_path / "lw.duckdb")
    state = PageState(_ad(1).url, "s", _ad(1).url, "bodyhash", "cfg1", '"v1"', "Sun, 01 Nov 2026 08:00:00 GMT")
    orphan = PageState("http://127.0.0.1/gone", "s", "http://127.0.0.1/gone", "h", "cfg1")
    write_crawl_batch(con, [_ad(1)], run_id=1, pages=[state, orphan])
    assert load_page_states(con, "s", "cfg1") == {state.url: state}
    assert load_page_states(con, "s", "cfg2") == {}
    newer = PageState(state.url, "s", state.url, "bodyhash2", "cfg1", '"v2"', None)
    write_crawl_batch(con, [], run_id=2, pages=[newer])
    assert load_page_states(con, "s", "cfg1")[state.url] == newer


def test_mark_removed_skips_unknown_ads_other_sites_and_mass_disappearance(tmp_path: Path) -> None:
    """Only live ads of the site not seen since the run started are marked; ads whose page failed are left
    alone; if more than half of a site's ads (at least 10) vanish at once, nothing is marked."""
    con = connect(tmp_path / "lw.duckdb")
    old = [_ad(n) for n in range(12)]
    write_crawl_batch(con, old, run_id=1, seen_at=datetime(2026, 11, 1))
    other = AdRow(site_id="other", url="http://127.0.0.1/other/1", title="x", body="y")
    write_crawl_batch(con, [other], run_id=1, seen_at=datetime(2026, 11, 1))
    started = datetime(2026, 11, 2)
    write_crawl_batch(con, old[:3], run_id=2, seen_at=datetime(2026, 11, 2, 1))
    guarded = mark_removed(con, "s", started)
    assert (guarded.removed, guarded.active) == (0, 12) and guarded.skipped and "9 of 12" in guarded.skipped
    write_crawl_batch(con, old[3:9], run_id=2, seen_at=datetime(2026, 11, 2, 1))
    result = mark_removed(con, "s", started, exclude_urls=[old[9].url], removed_at=datetime(2026, 11, 2, 2))
    assert (result.removed, result.skipped) == (2, None)
    removed = con.execute("SELECT url FROM ads WHERE removed_at IS NOT NULL ORDER BY url").fetchall()
    assert removed == [(old[10].url,), (old[11].url,)]
    assert count_ads(con) == 13  # never deleted
