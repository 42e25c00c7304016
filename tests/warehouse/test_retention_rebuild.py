"""Retention leaves no byte of a retired contact in any file lurewatch owns (issue 12, items 1 and 5).

DuckDB keeps updated and deleted values in the file's freed blocks, even after FORCE CHECKPOINT, so a retention run
that only UPDATEs leaves every old contact readable with ``strings``. These tests scan the raw bytes of every file
under the data directory (the warehouse, its WAL, the Parquet export, the review journal and its rejected entries,
markers) for every retired contact in every form (as written, E.164, digits only; UTF-8 and UTF-16) and must find
none, while a contact of a fresh ad (not retired) planted the same way must still be found: the scan works.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lurewatch.cli_privacy import privacy_cli
from pipeline.feature_store import extract_pending
from review_app.journal import DecisionJournal
from warehouse import session
from warehouse.ads import write_crawl_batch
from warehouse.compact import FAULT_POINTS, pending_path, rebuild_path
from warehouse.integrity import damaged_blocks
from warehouse.parquet import export_parquet
from warehouse.records import AdRow

KEY = "rebuild-test-key-" + "0123456789abcdef" * 3
NOW = datetime.now()

#: Retired contacts: each appears only in ads last seen 100 days ago (or in notes on them), in many columns.
PHONE_TITLE = "+48 600 111 222"  # in a title
PHONE_BODY = "+371 2914 5678"  # in the body and the contact line
NATIONAL = "2633 4455"  # national format, only in an analyst's note
MAIL = "katrina.recruit@inbox.lv"
COUNTRY_PHONE = "+370 612 34567"  # crawled into ads.country
COMPANY_URL = "www.dream-jobs-abroad.lv"  # crawled into ads.company
HANDLE = "@velvet_casting_lv"  # an Instagram handle in a note
JOURNAL_PHONE = "+371 2777 1234"  # only in journaled (pending and rejected) notes on the old ad
RETIRED: dict[str, tuple[str, ...]] = {
    PHONE_TITLE: ("+48600111222", "48600111222", "600 111 222"),
    PHONE_BODY: ("+37129145678", "37129145678", "2914 5678"),
    NATIONAL: ("26334455",),
    MAIL: ("katrina.recruit",),
    COUNTRY_PHONE: ("+37061234567", "37061234567"),
    COMPANY_URL: ("dream-jobs-abroad",),
    HANDLE: ("velvet_casting_lv",),
    JOURNAL_PHONE: ("+37127771234", "27771234"),
}
CONTROL = "+371 2688 9911"  # a fresh ad's phone: must survive retention, and the scan must find it


def _forms(contact: str) -> set[bytes]:
    texts = {contact, *RETIRED.get(contact, ())}
    return {t.encode(enc) for t in texts for enc in ("utf-8", "utf-16-le", "utf-16-be")}


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _found(root: Path, contact: str) -> list[str]:
    """The files under ``root`` whose raw bytes hold ``contact`` in any of its forms."""
    forms = _forms(contact)
    return [str(p.relative_to(root)) for p in _files(root) if any(f in p.read_bytes() for f in forms)]


def _build(data: Path) -> Path:
    """A warehouse with an old ad (contacts in title, body, contact line, company, country), a fresh ad with the
    control phone, extracted features, labels with contacts in their notes, a Parquet export, and a review journal
    with a pending and a rejected entry on the old ad."""
    db = data / "lurewatch.duckdb"
    old = AdRow(
        site_id="balticjobs", url="https://balticjobs.example/ad/old", external_id="old",
        title=f"Hostess work in Oslo, call {PHONE_TITLE}",
        body=f"Free flights and housing, 3000 EUR a month. WhatsApp {PHONE_BODY} or write to {MAIL}.",
        company=f"Dream Jobs ({COMPANY_URL})", country=COUNTRY_PHONE, contact_text=f"WhatsApp {PHONE_BODY}",
        page_language="en", posted=date(2026, 8, 3),
    )
    fresh = AdRow(
        site_id="balticjobs", url="https://balticjobs.example/ad/fresh", external_id="fresh",
        title="Warehouse packer in Riga", body=f"Day shifts, 1200 EUR. Phone {CONTROL}.", contact_text=CONTROL,
        page_language="en", posted=date(2026, 11, 9),
    )
    with session(db) as con:
        write_crawl_batch(con, [old], run_id=None, seen_at=NOW - timedelta(days=100),
                          page_texts={old.url: f"{old.title}\n{old.body}\nCompany {old.company}"})
        write_crawl_batch(con, [fresh], run_id=None, seen_at=NOW)
        extract_pending(con)
        ids = dict(con.execute("SELECT external_id, ad_id FROM ads").fetchall())
        for event, note in (("e1", f"Called {PHONE_BODY}; mobile {NATIONAL}; insta {HANDLE}"), ("e2", f"see {MAIL}")):
            con.execute(
                "INSERT INTO labels (ad_id, label, source, analyst, decided_at, note, event_id) "
                "VALUES (?, 'lure', 'analyst', 'ana', ?, ?, ?)", [ids["old"], NOW - timedelta(days=90), note, event],
            ).fetchall()
        export_parquet(con, data / "export")
    journal = DecisionJournal(db.with_name(db.name + ".review-journal.jsonl"))
    entry = {"event_id": "j1", "action": "decide", "ad_id": ids["old"], "analyst": "ana",
             "decided_at": NOW.isoformat(), "label": "lure", "note": f"new number {JOURNAL_PHONE}",
             "target_event_id": None}
    journal.append(entry)
    journal._append_lines(journal.rejected_path, [{**entry, "event_id": "j0", "rejected_reason": "test"}])
    journal.append({**entry, "event_id": "j2", "ad_id": ids["fresh"], "note": f"fresh ad, phone {CONTROL}"})
    return db


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("built") / "data"
    data.mkdir()
    _build(data)
    return data


@pytest.fixture
def data(built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(built, copy)
    return copy


def _retention_cli(data: Path, *, parquet: bool = True, env: dict[str, str] | None = None) -> list[dict[str, object]]:
    """`privacy retention --days 30` with ``data`` as the data directory (its shards are ``data/shards``)."""
    result = CliRunner().invoke(
        privacy_cli,
        ["retention", "--days", "30", "--db", str(data / "lurewatch.duckdb")]
        + (["--parquet-root", str(data / "export")] if parquet else []),
        env={"LUREWATCH_PSEUDONYM_KEY": KEY, "LUREWATCH_DATA_DIR": str(data), **(env or {})},
    )
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_retention_leaves_no_byte_of_a_retired_contact_in_any_file(data: Path) -> None:
    """Before: every retired contact is readable in some file (so the scan can see them). After `privacy retention`
    (pseudonymise, with a Parquet export and a review journal): none in any form in any file under the data
    directory; the fresh ad's phone is still found (control); the warehouse keeps its rows and passes the block
    check; no rebuild is left pending and no partial copy or WAL is left behind."""
    for contact in RETIRED:
        assert _found(data, contact), f"{contact} should be readable before retention"
    with session(data / "lurewatch.duckdb") as con:
        counts_before = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
                         for t in ("ads", "entities", "labels", "ad_snapshots", "features")}

    lines = _retention_cli(data)

    assert lines[0]["ads"] == 1 and lines[0]["notes"] == 2
    assert lines[0]["journal_entries_rewritten"] == 2  # the pending and the rejected entry on the old ad
    assert lines[0]["rebuilt"] == str(data / "lurewatch.duckdb")
    assert lines[1]["reexported"] is True
    leaks = {contact: _found(data, contact) for contact in RETIRED}
    assert leaks == {contact: [] for contact in RETIRED}
    assert "lurewatch.duckdb" in _found(data, CONTROL)  # the scan does see a contact that was not retired
    assert any("journal" in name for name in _found(data, CONTROL))
    assert damaged_blocks(data / "lurewatch.duckdb") == []
    assert not pending_path(data / "lurewatch.duckdb").exists()
    assert not rebuild_path(data / "lurewatch.duckdb").exists()
    assert not (data / "lurewatch.duckdb.wal").exists()
    with session(data / "lurewatch.duckdb") as con:
        counts_after = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in counts_before}
        country, company = con.execute("SELECT country, company FROM ads WHERE external_id = 'old'").fetchall()[0]
        next_id = con.execute("SELECT nextval('seq_ads')").fetchall()[0][0]
    assert counts_after == counts_before
    assert set(country) == {"•"} and company.startswith("Dream Jobs (") and COMPANY_URL not in company
    assert next_id == 3  # the sequences came along with their values


def test_retention_without_the_rebuild_would_leave_the_contacts_in_the_file(data: Path) -> None:
    """What the rebuild fixes: the same run with only the UPDATEs (and FORCE CHECKPOINT) leaves retired contacts
    readable in the warehouse file although no table holds them any more."""
    from features.contact_spans import contact_spans
    from warehouse.pseudonymise import Pseudonymiser
    from warehouse.retention import apply_retention

    db = data / "lurewatch.duckdb"
    with session(db) as con:
        apply_retention(con, 30, pseudonymiser=Pseudonymiser(KEY.encode()), find_contacts=contact_spans)
        con.execute("FORCE CHECKPOINT")
        in_tables = con.execute("SELECT count(*) FROM ads WHERE body LIKE ?", [f"%{PHONE_BODY}%"]).fetchall()[0][0]
    assert in_tables == 0
    assert "lurewatch.duckdb" in _found(db.parent, PHONE_BODY)


RUN_CLI = "from lurewatch.cli_privacy import app; app()"


@pytest.mark.parametrize("point", FAULT_POINTS)
def test_a_crash_at_any_step_leaves_a_whole_warehouse_and_the_next_run_finishes(data: Path, point: str) -> None:
    """SIGKILL at each step of retention + rebuild (fault points enabled through LUREWATCH_FAULT_RETENTION_POINT):
    the warehouse then opens, every block checks, it holds either the old or the new contents (never a mix), and
    the next run (no fault) completes the job: no retired contact in any file."""
    db = data / "lurewatch.duckdb"
    env = {**os.environ, "LUREWATCH_PSEUDONYM_KEY": KEY, "LUREWATCH_FAULT_RETENTION_POINT": f"{point}:kill",
           "LUREWATCH_DATA_DIR": str(data)}
    crashed = subprocess.run(
        [sys.executable, "-c", RUN_CLI, "privacy", "retention", "--days", "30", "--db", str(db),
         "--parquet-root", str(data / "export")],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert crashed.returncode == -9, crashed.stderr

    assert damaged_blocks(db) == []
    with session(db) as con:
        body = con.execute("SELECT body FROM ads WHERE external_id = 'old'").fetchall()[0][0]
        runs = con.execute("SELECT count(*) FROM retention_runs").fetchall()[0][0]
        rows = con.execute("SELECT count(*) FROM ads").fetchall()[0][0]
    assert rows == 2
    if point == "retention.before_commit":
        assert PHONE_BODY in body and runs == 0  # the old contents
    else:
        assert PHONE_BODY not in body and runs == 1  # the new contents
    assert pending_path(db).exists()  # the interrupted job is remembered

    lines = _retention_cli(data)
    assert lines[0]["rebuilt"] == str(db)
    assert {c: _found(data, c) for c in RETIRED} == {c: [] for c in RETIRED}
    assert not rebuild_path(db).exists() and not pending_path(db).exists()


# ---------------------------------------------------------------------------------------------- crawl shards

SHARD_SITE = "darbas-forum"
SHARD_CONTROL = "+371 2655 0077"  # a fresh ad planted in the shard: must survive retention


def _age(db: Path, days: int) -> None:
    """Shift every crawl time in ``db`` ``days`` back (as if the crawl had run then)."""
    shift = f"INTERVAL {days} DAY"
    with session(db) as con:
        con.execute(f"UPDATE ads SET first_seen = first_seen - {shift}, last_seen = last_seen - {shift}")
        con.execute(f"UPDATE ad_snapshots SET fetched_at = fetched_at - {shift}")
        con.execute(f"UPDATE crawl_runs SET started_at = started_at - {shift}, finished_at = finished_at - {shift}")


def test_retention_rebuilds_crawl_shards_and_a_later_merge_brings_no_contact_back(
    fixture_servers: Any, tmp_path: Path
) -> None:
    """A scaled-out crawl keeps one DuckDB shard per site under <data_dir>/shards with every crawled ad and its
    contacts. A real crawl of a fixture site into its shard path (crawl_site, as flows.scale_out does), aged 100
    days, plus a fresh planted ad: after `privacy retention` no file under the data directory holds any of the
    crawled contacts (the shard was masked and rebuilt, reported per shard), the fresh contact is still in the shard,
    and merging that shard's crawl run into the warehouse afterwards (merge_shard) brings no clear contact back."""
    from crawlers.run import crawl_site
    from features.contact_spans import contact_spans
    from fixture_sites import load_ads
    from flows.scale_out import merge_shard

    data = tmp_path / "data"
    shard = data / "shards" / f"{SHARD_SITE}.duckdb"
    shard.parent.mkdir(parents=True)
    with session(data / "lurewatch.duckdb"):
        pass  # an empty warehouse: this shard's run was never merged
    summary = crawl_site(SHARD_SITE, shard, fixture_servers.base_urls[SHARD_SITE], timeout_s=300)
    assert summary.status == "finished" and summary.run_id is not None
    _age(shard, 100)
    planted = AdRow(site_id=SHARD_SITE, url="https://darbas-forum.example/fresh", external_id="fresh",
                    title="Sandėlio darbuotojas", body=f"Skambinkite {SHARD_CONTROL}.", contact_text=SHARD_CONTROL,
                    page_language="lt")
    with session(shard) as con:
        write_crawl_batch(con, [planted], run_id=None, seen_at=NOW)
    contacts = sorted({ad["contact"][start:end] for ad in load_ads() if ad["site"] == SHARD_SITE
                       for start, end in contact_spans(ad["contact"]) if end - start >= 7})
    readable = [c for c in contacts if _found(data, c)]
    assert len(readable) >= 10, "the crawled contacts should be readable in the shard before retention"

    lines = _retention_cli(data, parquet=False)

    (entry,) = lines[0]["shards"]  # type: ignore[misc]
    assert entry["shard"] == str(shard) and entry["rebuilt"] == str(shard) and entry["ads"] >= 10
    assert {c: _found(data, c) for c in readable} == {c: [] for c in readable}
    assert _found(data, SHARD_CONTROL) == [f"shards/{SHARD_SITE}.duckdb"]  # the scan sees a fresh contact
    assert damaged_blocks(shard) == [] and not pending_path(shard).exists() and not rebuild_path(shard).exists()

    merged = merge_shard(data / "lurewatch.duckdb", shard, int(summary.run_id))
    assert merged["inserted"] == summary.inserted > 0
    assert {c: _found(data, c) for c in readable} == {c: [] for c in readable}
    again = _retention_cli(data, parquet=False)[0]["shards"]  # the next run: nothing left to do in the shard
    assert [(e["ads"], e["rebuilt"]) for e in again] == [(0, None)]  # type: ignore[index]


def test_a_shard_a_crawl_holds_is_skipped_with_a_warning_and_processed_next_run(tmp_path: Path) -> None:
    """Retention takes the same writer lock (DuckDB's file lock, through warehouse.connect) a crawl takes: while
    another process holds a shard, the run skips it (a "skipped" entry and a warning line, exit 0, the shard
    untouched) instead of waiting or failing; the next run processes it."""
    data = tmp_path / "data"
    shard = data / "shards" / "balticjobs.duckdb"
    shard.parent.mkdir(parents=True)
    old = AdRow(site_id="balticjobs", url="https://balticjobs.example/ad/old", external_id="old",
                title="Hostess work", body=f"WhatsApp {PHONE_BODY}", contact_text=PHONE_BODY, page_language="en")
    with session(shard) as con:
        write_crawl_batch(con, [old], run_id=None, seen_at=NOW - timedelta(days=100))
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
         "time.sleep(600)", str(shard)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        runner = CliRunner()
        busy = runner.invoke(privacy_cli, ["retention", "--days", "30", "--db", str(data / "lurewatch.duckdb")],
                             env={"LUREWATCH_PSEUDONYM_KEY": KEY, "LUREWATCH_DATA_DIR": str(data),
                                  "LUREWATCH_LOCK_TIMEOUT_S": "0.5"})
    finally:
        holder.kill()
        holder.wait()
    assert busy.exit_code == 0, busy.output
    (entry,) = json.loads(busy.stdout.splitlines()[0])["shards"]
    assert entry == {"shard": str(shard), "skipped": entry["skipped"]} and "busy" in entry["skipped"]
    assert "balticjobs.duckdb is busy" in busy.stderr and "Traceback" not in busy.output
    assert _found(data, PHONE_BODY)

    (entry,) = _retention_cli(data, parquet=False)[0]["shards"]  # type: ignore[misc]
    assert entry["ads"] == 1 and entry["rebuilt"] == str(shard)
    assert _found(data, PHONE_BODY) == []


def test_contact_spans_cover_every_occurrence_of_a_contact() -> None:
    """extract_contacts reports a contact once; a shard has no extracted entities to mask the other occurrences
    with, so the scrubbing finder itself must cover a contact written twice (as a crawled page text repeats the
    e-mail under the ad), in any case."""
    from features.contact_spans import contact_spans

    text = f"Write to {MAIL} today.\nKATRINA.RECRUIT@INBOX.LV\nor {MAIL}"
    spans = contact_spans(text)
    assert [text[s:e].lower() for s, e in spans] == [MAIL] * 3


def test_retention_masks_contacts_in_labelled_texts_imported_before_the_cutoff(tmp_path: Path) -> None:
    """`labels import` stores a partner's texts as given: once older than the retention period, their contacts go
    like every other contact; a text imported within the period is left as it is."""
    from features.contact_spans import contact_spans
    from pipeline.label_import import import_label_file, read_label_file
    from warehouse import session as open_session
    from warehouse.retention import apply_retention as retire

    rows = [{"text": f"Darbs Norvēģijā, zvani +371 2914 00{i:02d} vai raksti job{i}@example.lv", "label": "lure",
             "source": "ngo-a"} for i in range(2)]
    db = tmp_path / "w.duckdb"
    for row in rows:
        path = tmp_path / f"{row['text'][-20:].replace('@', '_')}.jsonl"
        path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
        with open_session(db) as con:
            import_label_file(con, read_label_file(path), imported_by="test")
    with open_session(db) as con:
        con.execute("UPDATE label_imports SET imported_at = imported_at - INTERVAL 100 DAY WHERE import_id = 1")
        report = retire(con, 30, mode="delete", find_contacts=contact_spans)
        texts = dict(con.execute("SELECT import_id, text FROM imported_labels").fetchall())
    assert report.imported == 1
    assert "2914" not in texts[1] and "job0@" not in texts[1] and texts[1].startswith("Darbs Norvēģijā")
    assert texts[2] == rows[1]["text"]
