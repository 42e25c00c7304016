"""Retention and the analysts' decision notes: contact values typed into ``labels.note`` of the ads a retention run
processes become keyed pseudonyms (or are masked in delete mode), inside the run's one transaction, counted in the
report and in ``retention_runs``; the report names the ISO weeks of the ads it changed."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from features import extract_contacts
from lurewatch.cli_privacy import privacy_cli
from pipeline.feature_store import extract_pending
from warehouse import session
from warehouse.ads import write_crawl_batch
from warehouse.pseudonymise import MASK_CHAR, Pseudonymiser
from warehouse.records import AdRow
from warehouse.retention import RetentionReport, apply_retention

KEY = "notes-test-key-" + "0123456789abcdef" * 3
PSEUDONYMISER = Pseudonymiser(KEY.encode())
NOW = datetime.now()

PHONE_A, MAIL_A, PHONE_B = "+371 2914 5678", "jan.berzins@inbox.lv", "+48 512 345 678"
#: Contact values in a note of old ad A: its phone as written in the ad, its e-mail in other case, its phone in
#: E.164 (only the entity's normalised value matches that), and a number that is not in the ad at all.
NOTE_A = f"Called {PHONE_A} twice, no answer; mail Jan.Berzins@Inbox.LV; +37129145678 again. Boss: +44 7911 123456."
NOTE_A_PLAIN = "Classic debt-bondage wording, passport kept by the employer."
NOTE_B = f"same recruiter as {PHONE_B}?"
NOTE_C = f"phone {PHONE_A} matches an older ad"  # fresh ad C: not due, so left as it is


def _finder(text: str) -> list[tuple[int, int]]:
    return [(c.start, c.end) for c in extract_contacts(text)]


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """Two ads last seen 100 days ago (A with phone and e-mail, B with a WhatsApp number) and a fresh ad C sharing
    A's phone, with real extracted entities, and labels with and without contacts in their notes."""
    db = tmp_path / "wh" / "lw.duckdb"

    def ad(ref: str, body: str, contact: str, posted: date) -> AdRow:
        return AdRow(site_id="balticjobs", url=f"https://balticjobs.example/ad/{ref}", title=f"Warehouse work {ref}",
                     body=body, external_id=ref, contact_text=contact, page_language="en", posted=posted)

    old = [
        ad("a", f"Packing in Norway, 2500 EUR. Call {PHONE_A} or write to {MAIL_A}.", PHONE_A, date(2026, 10, 7)),
        ad("b", f"Farm work, housing provided. WhatsApp {PHONE_B} today.", f"WhatsApp {PHONE_B}", date(2026, 10, 21)),
    ]
    fresh = [ad("c", f"Cleaning job in Riga. Phone {PHONE_A}.", PHONE_A, date(2026, 11, 11))]
    with session(db) as con:
        write_crawl_batch(con, old, run_id=None, seen_at=NOW - timedelta(days=100))
        write_crawl_batch(con, fresh, run_id=None, seen_at=NOW)
        extract_pending(con)
        ids = dict(con.execute("SELECT external_id, ad_id FROM ads").fetchall())
        labels = [
            (ids["a"], "lure", "ana", NOTE_A, "e1"),
            (ids["a"], "unsure", "ben", NOTE_A_PLAIN, "e2"),
            (ids["a"], "lure", "ben", None, "e3"),
            (ids["b"], "lure", "ana", NOTE_B, "e4"),
            (ids["c"], "not_lure", "ana", NOTE_C, "e5"),
        ]
        for ad_id, label, analyst, note, event_id in labels:
            con.execute(
                "INSERT INTO labels (ad_id, label, source, analyst, decided_at, note, event_id) "
                "VALUES (?, ?, 'analyst', ?, ?, ?, ?)",
                [ad_id, label, analyst, NOW - timedelta(days=120), note, event_id],
            ).fetchall()
    return db


def _labels(db: Path) -> dict[str, tuple[Any, ...]]:
    """Every label row (all columns) by event id."""
    with session(db) as con:
        cursor = con.execute("SELECT * FROM labels ORDER BY label_id")
        names = [d[0] for d in cursor.description]
        return {row[names.index("event_id")]: row for row in cursor.fetchall()}


def _note_index(db: Path) -> int:
    with session(db) as con:
        cursor = con.execute("SELECT * FROM labels LIMIT 0")
        return [d[0] for d in cursor.description].index("note")


def _run(db: Path, **kwargs: Any) -> RetentionReport:
    with session(db) as con:
        return apply_retention(con, 30, find_contacts=_finder, now=NOW, **kwargs)


def test_notes_of_due_ads_get_keyed_pseudonyms_and_keep_everything_else(warehouse: Path) -> None:
    """Pseudonymise mode: every contact value in a note of a due ad becomes the pseudonym its entity got (so
    ``lurewatch privacy pseudonym VALUE`` finds it), numbers only ``find_contacts`` sees get the pseudonym of what
    was written, the rest of the note is verbatim; label, analyst, times and event id stay, notes without contacts
    and labels of fresh ads are untouched; the count is in the report and in retention_runs."""
    before = _labels(warehouse)
    note = _note_index(warehouse)
    report = _run(warehouse, pseudonymiser=PSEUDONYMISER)
    after = _labels(warehouse)

    p = PSEUDONYMISER.pseudonym
    assert after["e1"][note] == (f"Called {p('+37129145678')} twice, no answer; mail {p(MAIL_A)}; "
                                 f"{p('+37129145678')} again. Boss: {p('+447911123456')}.")
    assert after["e4"][note] == f"same recruiter as {p('+48512345678')}?"
    for event_id in before:
        unchanged = [v for i, v in enumerate(before[event_id]) if i != note]
        assert [v for i, v in enumerate(after[event_id]) if i != note] == unchanged, event_id
    assert {e: after[e] for e in ("e2", "e3", "e5")} == {e: before[e] for e in ("e2", "e3", "e5")}
    assert report.notes == 2 and report.run_id is not None
    with session(warehouse) as con:
        runs = con.execute("SELECT notes FROM retention_runs WHERE run_id = ?", [report.run_id]).fetchall()
        entity_values = {r[0] for r in con.execute(
            "SELECT e.value FROM entities e JOIN ads a USING (ad_id) WHERE a.external_id = 'a'").fetchall()}
    assert runs == [(2,)]
    assert {p("+37129145678"), p(MAIL_A)} <= entity_values  # the note's pseudonyms link to the ad's contacts
    lookup = CliRunner().invoke(privacy_cli, ["pseudonym", PHONE_A], env={"LUREWATCH_PSEUDONYM_KEY": KEY})
    assert lookup.exit_code == 0 and lookup.output.strip() in after["e1"][note]

    again = _run(warehouse, pseudonymiser=PSEUDONYMISER)
    assert (again.notes, again.weeks) == (0, ())
    assert _labels(warehouse) == after  # pseudonyms in notes are never rewritten again


def test_delete_mode_masks_contacts_in_notes_and_pseudonyms_left_by_earlier_runs(
    warehouse: Path, tmp_path: Path
) -> None:
    """Delete mode masks every contact in the notes of due ads with ``•`` (length kept, other text verbatim); after
    an earlier pseudonymising run it masks the pseudonyms that run wrote into the notes as well."""
    fresh_copy = tmp_path / "second.duckdb"
    fresh_copy.write_bytes(warehouse.read_bytes())
    note = _note_index(warehouse)

    report = _run(warehouse, mode="delete")
    after = _labels(warehouse)
    expected = NOTE_A
    for contact in (PHONE_A, "Jan.Berzins@Inbox.LV", "+37129145678", "+44 7911 123456"):
        expected = expected.replace(contact, MASK_CHAR * len(contact))
    assert after["e1"][note] == expected
    assert after["e4"][note] == NOTE_B.replace(PHONE_B, MASK_CHAR * len(PHONE_B))
    assert (after["e2"][note], after["e5"][note]) == (NOTE_A_PLAIN, NOTE_C)
    assert report.notes == 2

    _run(fresh_copy, pseudonymiser=PSEUDONYMISER)
    assert "pz1_" in _labels(fresh_copy)["e1"][note]
    deleted = _run(fresh_copy, mode="delete")
    notes = _labels(fresh_copy)
    assert deleted.notes == 2
    assert "pz1_" not in notes["e1"][note] + notes["e4"][note]
    assert notes["e1"][note].startswith("Called " + MASK_CHAR) and notes["e1"][note].endswith(" again. Boss: "
                                                                                             + MASK_CHAR * 28 + ".")


def test_dry_run_counts_notes_and_weeks_but_changes_nothing(warehouse: Path) -> None:
    """A dry run reports exactly what the real run then does (notes and weeks included) and leaves labels, ads and
    retention_runs as they were."""
    def dump() -> list[Any]:
        with session(warehouse) as con:
            return [con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
                    for table in ("labels", "ads", "entities", "retention_runs", "retention_ads")]

    before = dump()
    dry = _run(warehouse, pseudonymiser=PSEUDONYMISER, dry_run=True)
    assert dump() == before
    real = _run(warehouse, pseudonymiser=PSEUDONYMISER)
    fields = ("ads", "entities", "snapshots", "evidence", "notes", "weeks")
    assert [getattr(dry, f) for f in fields] == [getattr(real, f) for f in fields]
    assert dry.run_id is None and dry.notes == 2


def test_report_lists_the_iso_weeks_of_the_changed_ads(warehouse: Path) -> None:
    """The report names the Monday of each changed ad's week (``coalesce(posted, first_seen)``, as the Parquet
    export partitions), not the weeks of ads the run left alone; ``as_dict`` gives them as ISO dates."""
    report = _run(warehouse, pseudonymiser=PSEUDONYMISER)
    assert report.weeks == (date(2026, 10, 5), date(2026, 10, 19))  # A (posted Wed 7 Oct), B (Wed 21 Oct); not C
    assert report.as_dict()["weeks"] == ["2026-10-05", "2026-10-19"]
    assert report.as_dict()["notes"] == 2


def test_a_note_written_after_its_ad_was_processed_is_rewritten_by_the_next_run(warehouse: Path) -> None:
    """A decision made after retention processed its ad (or journaled while retention held the warehouse and
    replayed afterwards) may carry the number again: the next run pseudonymises it (the same pseudonym the ad's
    entity has, so the link holds); in an ad retention deleted, it is masked; a fresh ad's late note stays."""
    note = _note_index(warehouse)
    first = _run(warehouse, pseudonymiser=PSEUDONYMISER)
    assert first.notes == 2
    with session(warehouse) as con:
        ids = dict(con.execute("SELECT external_id, ad_id FROM ads").fetchall())
        late = ((ids["a"], f"late: {PHONE_A}", "late-a"), (ids["c"], f"late {PHONE_A}", "late-c"))
        for ad_id, text, event_id in late:
            con.execute(
                "INSERT INTO labels (ad_id, label, source, analyst, decided_at, note, event_id) "
                "VALUES (?, 'lure', 'analyst', 'ana', ?, ?, ?)",
                [ad_id, NOW - timedelta(days=1), text, event_id],
            ).fetchall()
    second = _run(warehouse, pseudonymiser=PSEUDONYMISER)
    labels = _labels(warehouse)
    assert labels["late-a"][note] == f"late: {PSEUDONYMISER.pseudonym('+37129145678')}"
    assert labels["late-c"][note] == f"late {PHONE_A}"
    assert second.notes == 1 and second.weeks == (date(2026, 10, 5),)
    assert _run(warehouse, pseudonymiser=PSEUDONYMISER).notes == 0

    deleted = _run(warehouse, mode="delete")
    assert deleted.notes >= 1
    with session(warehouse) as con:
        con.execute(
            "INSERT INTO labels (ad_id, label, source, analyst, decided_at, note, event_id) "
            "VALUES (?, 'lure', 'analyst', 'ben', ?, ?, 'later-a')",
            [ids["a"], NOW, f"again {PHONE_A}"],
        ).fetchall()
    assert _run(warehouse, mode="delete").notes == 1
    assert _labels(warehouse)["later-a"][note] == "again " + MASK_CHAR * len(PHONE_A)
