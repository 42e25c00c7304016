"""Data protection: keyed pseudonyms, the retention job (`lurewatch privacy retention`), pseudonymised case exports,
and digests free of identifiers."""

from __future__ import annotations

import json
import os
import re
import stat
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from rel_support import digest_warehouse, query, render_digest
from typer.testing import CliRunner

from lurewatch.cli_privacy import privacy_cli
from warehouse import session
from warehouse.parquet import PARTITIONED, WEEK_OF_AD, export_parquet, read_parquet_warehouse
from warehouse.pseudonymise import (
    MASK_CHAR,
    Pseudonymiser,
    PseudonymKeyError,
    generate_key_file,
    is_pseudonym,
    load_key,
    pseudonymise_case,
)
from warehouse.records import ad_text
from warehouse.retention import apply_retention

KEY = "k" * 40
runner = CliRunner()


def _snapshot(db: Path) -> dict[str, Any]:
    """Everything retention may touch, keyed for comparison."""
    with session(db) as con:
        ads = {r[0]: r[1:] for r in con.execute(
            "SELECT ad_id, title, body, contact_text, content_hash, last_seen FROM ads").fetchall()}
        entities = con.execute("SELECT entity_id, ad_id, kind, value, raw, start_pos, end_pos FROM entities").fetchall()
        snaps = con.execute("SELECT ad_id, content_hash, page_text FROM ad_snapshots").fetchall()
        evidence = dict(con.execute("SELECT ad_id, evidence FROM features").fetchall())
        cutoff_ids = {r[0] for r in con.execute(
            "SELECT ad_id FROM ads WHERE last_seen < now() - INTERVAL 30 DAY").fetchall()}
    return {"ads": ads, "entities": entities, "snapshots": snaps, "evidence": evidence, "old": cutoff_ids}


def _pairs(entities: list[tuple[Any, ...]]) -> set[tuple[int, int]]:
    """Ad pairs sharing a contact value (the linked-ads relation)."""
    by_value: dict[tuple[str, str], set[int]] = {}
    for _, ad_id, kind, value, *_ in entities:
        by_value.setdefault((kind, value), set()).add(ad_id)
    return {(a, b) for ids in by_value.values() for a in ids for b in ids if a < b}


def test_pseudonyms_are_keyed_deterministic_and_keep_equality() -> None:
    one, other = Pseudonymiser(KEY.encode()), Pseudonymiser(b"z" * 40)
    phone = one.pseudonym("+37129145678")
    assert is_pseudonym(phone) and phone == one.pseudonym("+371 2914 5678") == one.pseudonym(" +371-2914-5678 ")
    assert one.pseudonym("Jan.Berzins@Inbox.LV") == one.pseudonym("jan.berzins@inbox.lv")
    assert one.pseudonym(phone) == phone  # idempotent
    assert other.pseudonym("+37129145678") != phone  # keyed: another key, another pseudonym
    assert one.pseudonym("+37129145679") != phone
    assert KEY not in repr(one) and one.key_id in repr(one)


def test_keys_come_only_from_the_environment_or_a_private_file(tmp_path: Path) -> None:
    with pytest.raises(PseudonymKeyError, match="LUREWATCH_PSEUDONYM_KEY"):
        load_key({})
    with pytest.raises(PseudonymKeyError, match="shorter"):
        load_key({"LUREWATCH_PSEUDONYM_KEY": "short"})
    path = tmp_path / "keys" / "pseudonym.key"
    generate_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(load_key({"LUREWATCH_PSEUDONYM_KEY_FILE": str(path)})) == 64
    with pytest.raises(FileExistsError):
        generate_key_file(path)  # never overwrites: a new key would split every link
    os.chmod(path, 0o644)
    with pytest.raises(PseudonymKeyError, match="chmod 600"):
        load_key({"LUREWATCH_PSEUDONYM_KEY_FILE": str(path)})


def test_retention_pseudonymises_old_contacts_everywhere_and_keeps_links(
    quick_warehouse: Path, copy_db: Any, pseudonym_key: str
) -> None:
    """`lurewatch privacy retention --days 30`: for every ad not seen for 30 days, entity values become keyed
    pseudonyms, no contact string (raw or normalised) is left in the ad, its contact line, its snapshots or its
    evidence, every stored offset still points at the same span, shared-contact links are exactly as before (also
    between old and fresh ads through ``lw_pseudonym``); a phone number in an analyst's note on an old ad becomes its
    pseudonym, the rest of the note stays; fresh ads, hashes and features are untouched."""
    db = copy_db(quick_warehouse)
    with session(db) as con:
        con.execute("INSERT INTO labels (ad_id, label, source, analyst, note) SELECT min(ad_id), 'lure', 'analyst', "
                    "'ana', 'call +371 2914 5678' FROM ads").fetchall()
    before = _snapshot(db)
    assert len(before["old"]) > 100 and len(before["entities"]) > 300

    result = runner.invoke(privacy_cli, ["retention", "--days", "30", "--db", str(db)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ads"] >= 100 and report["entities"] >= 200 and report["snapshots"] >= 100
    assert pseudonym_key not in result.output

    after = _snapshot(db)
    old = before["old"]
    secrets = {s for e in before["entities"] if e[1] in old for s in (e[3], e[4]) if len(s) >= 5}
    for ad_id in old:
        title, body, contact, content_hash, last_seen = after["ads"][ad_id]
        old_title, old_body, _, old_hash, old_seen = before["ads"][ad_id]
        stored = "\n".join([title, body, contact or "", after["evidence"].get(ad_id, "")])
        assert not [s for s in secrets if s in stored], ad_id
        assert len(ad_text(title, body)) == len(ad_text(old_title, old_body))
        assert (content_hash, last_seen) == (old_hash, old_seen)
    for ad_id, _, page_text in after["snapshots"]:
        if ad_id in old:
            assert not [s for s in secrets if s in page_text], ad_id
    entities_after = {e[0]: e for e in after["entities"]}
    assert len(entities_after) == len(before["entities"])
    for entity in before["entities"]:
        now = entities_after[entity[0]]
        if entity[1] in old:
            assert is_pseudonym(now[3]) and now[3] == now[4] and now[5:] == entity[5:]
            title, body = after["ads"][entity[1]][:2]
            assert set(ad_text(title, body)[now[5] : now[6]]) == {MASK_CHAR}
        else:
            assert now == entity
    for ad_id in set(before["ads"]) - old:
        assert after["ads"][ad_id] == before["ads"][ad_id]
    for ad_id, evidence in after["evidence"].items():
        text = ad_text(*after["ads"][ad_id][:2])
        assert all(text[e["start"] : e["end"]] == e["text"] for e in json.loads(evidence))
    # Links: old-old pairs compare pseudonyms directly, old-fresh pairs through lw_pseudonym(value).
    assert _pairs(after["entities"]) == {p for p in _pairs(before["entities"]) if (p[0] in old and p[1] in old)
                                         or (p[0] not in old and p[1] not in old)}
    with session(db) as con:
        Pseudonymiser.from_env().register_sql(con)
        linked = con.execute(
            """SELECT DISTINCT least(e.ad_id, o.ad_id), greatest(e.ad_id, o.ad_id) FROM entities e JOIN entities o
               ON o.kind = e.kind AND o.ad_id <> e.ad_id AND o.value IN (e.value, lw_pseudonym(e.value))"""
        ).fetchall()
        note = con.execute("SELECT note FROM labels WHERE analyst = 'ana'").fetchall()
    assert set(linked) == _pairs(before["entities"])
    assert report["notes"] == 1
    # the append-only audit trail's one exception: contact values inside notes of processed ads
    assert note == [("call " + Pseudonymiser.from_env().pseudonym("+37129145678"),)]


def test_retention_dry_run_rerun_delete_mode_and_key_change(quick_warehouse: Path, copy_db: Any,
                                                            pseudonym_key: str) -> None:
    """A dry run reports the exact counts and changes nothing; a second run has nothing to do; another key is
    refused (pseudonyms would stop matching); delete mode removes the remaining old contacts."""
    db = copy_db(quick_warehouse)
    before = _snapshot(db)
    dry = runner.invoke(privacy_cli, ["retention", "--days", "30", "--dry-run", "--db", str(db)])
    assert dry.exit_code == 0, dry.output
    assert _snapshot(db) == before
    real = runner.invoke(privacy_cli, ["retention", "--days", "30", "--db", str(db)])
    counts = ("ads", "entities", "snapshots", "evidence")
    assert [json.loads(dry.output)[k] for k in counts] == [json.loads(real.output)[k] for k in counts]
    again = json.loads(runner.invoke(privacy_cli, ["retention", "--days", "30", "--db", str(db)]).output)
    assert [again[k] for k in counts] == [0, 0, 0, 0]
    other = runner.invoke(privacy_cli, ["retention", "--days", "30", "--db", str(db)],
                          env={"LUREWATCH_PSEUDONYM_KEY": "another-key-" + "x" * 40})
    assert other.exit_code == 2 and "would no longer match" in other.output
    assert runner.invoke(privacy_cli, ["retention", "--days", "0", "--db", str(db)]).exit_code != 0
    deleted = runner.invoke(privacy_cli, ["retention", "--days", "30", "--mode", "delete", "--db", str(db)])
    assert deleted.exit_code == 0 and json.loads(deleted.output)["entities"] > 100
    with session(db) as con:
        left = con.execute("SELECT count(*) FROM entities e JOIN ads a USING (ad_id) "
                           "WHERE a.last_seen < now() - INTERVAL 30 DAY").fetchall()[0][0]
        runs = con.execute("SELECT mode, key_id IS NOT NULL FROM retention_runs ORDER BY run_id").fetchall()
    assert left == 0 and runs == [("pseudonymise", True), ("pseudonymise", True), ("delete", False)]


def _files(root: Path) -> dict[str, tuple[date, int]]:
    """The per-ad tables' Parquet files of an export: relative path -> (week, mtime)."""
    return {
        str(path.relative_to(root)): (date.fromisoformat(path.parent.name.removeprefix("week=")),
                                      path.stat().st_mtime_ns)
        for table in PARTITIONED
        for path in (root / table).glob("site=*/week=*/*.parquet")
    }


def _clear_contacts_in_export(root: Path, ad_ids: set[int], secrets: set[str]) -> set[str]:
    """Which of ``secrets`` occur anywhere (any column, any per-ad table) in the rows of ``ad_ids`` in the export."""
    found: set[str] = set()
    con = duckdb.connect()
    try:
        for path in root.glob("*/site=*/week=*/*.parquet"):
            cursor = con.execute(f"SELECT * FROM read_parquet('{path}', hive_partitioning = false)")
            column = [d[0] for d in cursor.description].index("ad_id")
            for row in cursor.fetchall():
                if row[column] in ad_ids:
                    text = "\n".join(str(v) for v in row)
                    found |= {s for s in secrets if s in text}
    finally:
        con.close()
    return found


def test_retention_reexports_the_weeks_it_changed_to_a_parquet_export(
    quick_warehouse: Path, copy_db: Any, pseudonym_key: str, tmp_path: Path
) -> None:
    """A Parquet export made before retention keeps every clear contact (retention changes only the warehouse);
    ``lurewatch privacy retention --parquet-root`` re-exports exactly the weeks of the ads the run changed, after
    which that export holds no clear contact value of the processed ads (any table, any column), equals the
    warehouse, and the files of every other week are untouched."""
    db = copy_db(quick_warehouse)
    keep = date(2026, 11, 16)  # ads of these weeks are seen again today, so nothing of them is due
    with session(db) as con:
        con.execute(f"UPDATE ads SET last_seen = ? WHERE ad_id IN (SELECT a.ad_id FROM ads a WHERE {WEEK_OF_AD} >= ?)",
                    [datetime.now(), keep]).fetchall()
        due = {r[0] for r in con.execute("SELECT ad_id FROM ads WHERE last_seen < now() - INTERVAL 30 DAY").fetchall()}
        secrets = {s for r in con.execute("SELECT ad_id, value, raw FROM entities").fetchall() if r[0] in due
                   for s in r[1:] if len(s) >= 5}
        weeks_of = f"SELECT DISTINCT {WEEK_OF_AD} FROM ads a WHERE a.ad_id IN (SELECT unnest(?::BIGINT[]))"
        due_weeks = {r[0] for r in con.execute(weeks_of, [sorted(due)]).fetchall()}
        with_contacts = {r[0] for r in con.execute("SELECT DISTINCT ad_id FROM entities").fetchall()} & due
        contact_weeks = {r[0] for r in con.execute(weeks_of, [sorted(with_contacts)]).fetchall()}
        stale, lake = tmp_path / "stale", tmp_path / "lake"
        export_parquet(con, stale)
        export_parquet(con, lake)
    assert len(due) > 100 and len(secrets) > 100 and keep not in due_weeks
    files = _files(lake)
    assert _clear_contacts_in_export(lake, due, secrets) == secrets  # before: every contact is in the export

    result = runner.invoke(privacy_cli, ["retention", "--days", "30", "--db", str(db), "--parquet-root", str(lake)])
    assert result.exit_code == 0, result.output
    report, reexport = (json.loads(line) for line in result.output.splitlines())
    weeks = {date.fromisoformat(w) for w in report["weeks"]}
    assert report["ads"] >= len(with_contacts) and contact_weeks <= weeks <= due_weeks
    assert reexport["reexported"] is True and reexport["weeks"] == report["weeks"]
    assert reexport["parquet_root"] == str(lake) and reexport["rows"]["ads"] > len(due)  # fresh ads of those weeks

    assert _clear_contacts_in_export(lake, due, secrets) == set()
    assert _clear_contacts_in_export(stale, due, secrets) == secrets  # an export not re-exported keeps them all
    after = _files(lake)
    unchanged = {p: v for p, v in files.items() if v[0] not in weeks}
    assert {p: v for p, v in after.items() if v[0] not in weeks} == unchanged and unchanged  # other weeks untouched
    assert not {p for p, v in after.items() if v[0] in weeks} & set(files)  # the changed weeks' files were replaced
    exported = read_parquet_warehouse(lake)
    try:
        with session(db) as con:
            for table in PARTITIONED:
                sql = f"SELECT * FROM {table} ORDER BY ALL"
                assert exported.execute(sql).fetchall() == con.execute(sql).fetchall(), table
    finally:
        exported.close()


def test_retention_parquet_root_must_hold_an_export_and_dry_runs_export_nothing(
    quick_warehouse: Path, copy_db: Any, pseudonym_key: str, tmp_path: Path
) -> None:
    """--parquet-root naming a folder without an export is refused before the warehouse is touched (a partial copy
    would be misleading); a dry run names the weeks but writes nothing to the export."""
    db = copy_db(quick_warehouse)
    refused = runner.invoke(privacy_cli, ["retention", "--days", "30", "--db", str(db),
                                          "--parquet-root", str(tmp_path / "nothing")])
    assert refused.exit_code == 2 and "holds no Parquet export" in refused.output
    assert query(db, "SELECT count(*) FROM retention_runs") == [(0,)]
    lake = tmp_path / "lake"
    with session(db) as con:
        export_parquet(con, lake)
    files = _files(lake)
    dry = runner.invoke(privacy_cli, ["retention", "--days", "30", "--db", str(db), "--dry-run",
                                      "--parquet-root", str(lake)])
    assert dry.exit_code == 0, dry.output
    report, reexport = (json.loads(line) for line in dry.output.splitlines())
    assert report["weeks"] and reexport == {"parquet_root": str(lake), "reexported": False, "weeks": report["weeks"],
                                            "rows": {}, "why": "dry run"}
    assert _files(lake) == files


def test_retention_needs_a_key_and_never_prints_it(quick_warehouse: Path, copy_db: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LUREWATCH_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("LUREWATCH_PSEUDONYM_KEY_FILE", raising=False)
    db = copy_db(quick_warehouse)
    result = runner.invoke(privacy_cli, ["retention", "--days", "30", "--db", str(db)])
    assert result.exit_code == 2 and "LUREWATCH_PSEUDONYM_KEY" in result.output
    assert runner.invoke(privacy_cli, ["pseudonym", "+37129145678"]).exit_code == 2


def test_reextraction_keeps_pseudonymised_contacts(quick_warehouse: Path, copy_db: Any, pseudonym_key: str) -> None:
    """A new extractor version re-extracts every ad; for pseudonymised ads that would replace the pseudonymised
    entities with what the masked text still holds (nothing), silently cutting every shared-contact link of old ads.
    Fix (pipeline/feature_store.py, ``pending_rows``): re-extract an ad listed in ``retention_ads`` only when its text
    changed, not for a new extractor version: ``... OR (f.extractor_version <> ? AND a.ad_id NOT IN (SELECT ad_id FROM
    retention_ads))``."""
    from pipeline import feature_store

    db = copy_db(quick_warehouse)
    with session(db) as con:
        apply_retention(con, 30, pseudonymiser=Pseudonymiser.from_env())
        before = con.execute("SELECT count(*) FROM entities WHERE value LIKE 'pz1_%'").fetchall()[0][0]
        con.execute("UPDATE features SET extractor_version = 'older'").fetchall()  # as after a lexicon change
        feature_store.extract_pending(con)
        after = con.execute("SELECT count(*) FROM entities WHERE value LIKE 'pz1_%'").fetchall()[0][0]
    assert before > 100
    assert after == before


def test_case_exports_can_be_pseudonymised(quick_warehouse: Path, copy_db: Any, pseudonym_key: str) -> None:
    """``pseudonymise_case`` (for exports that are not an admin's police referral): no contact value or raw string
    survives anywhere in the case, contact spans are masked in place, linked-ads reasons carry the pseudonyms."""
    from review_app.ad_view import load_ad
    from review_app.export import build_case, to_csv, to_json

    db = copy_db(quick_warehouse)
    with session(db) as con:
        ad_id = con.execute(
            "SELECT e.ad_id FROM entities e JOIN entities o ON o.value = e.value AND o.ad_id <> e.ad_id "
            "GROUP BY e.ad_id ORDER BY count(*) DESC, e.ad_id LIMIT 1").fetchall()[0][0]
        detail = load_ad(con, ad_id, None)
    assert detail is not None and detail.contacts and detail.linked
    case = build_case(detail, "ana")
    clean = pseudonymise_case(case, Pseudonymiser.from_env())
    secrets = {s for c in case["contacts"] for s in (c["value"], c["raw"]) if len(s) >= 5}
    for rendered in (to_json(clean), to_csv(clean)):
        assert not [s for s in secrets if s in rendered]
    assert clean["case"]["pseudonymised"] is True
    assert all(is_pseudonym(c["value"]) for c in clean["contacts"])
    assert any("pz1_" in reason for a in clean["linked_ads"] for reason in a["linked_by"])
    text = ad_text(clean["ad"]["title"], clean["ad"]["body"])
    assert len(text) == len(ad_text(case["ad"]["title"], case["ad"]["body"]))
    assert all(text[e["start"] : e["end"]] == e["text"] or MASK_CHAR in text[e["start"] : e["end"]]
               for e in clean["evidence"])
    assert case["contacts"][0]["value"] in to_json(case)  # the input is not modified


PHONE_IN_COUNTRY = "+371 2914 5678"


def test_digests_carry_no_identifier_even_from_a_crawled_country_field(tmp_path: Path) -> None:
    """Digests show counts per country; the country comes from the crawled ``ads.country`` as written by the site.
    A phone number put there reaches every NGO's digest (HTML and CSV) verbatim. Fix (digest/queries.py,
    ``_build_scope``): count only ISO 3166 alpha-2 codes, e.g.
    ``CASE WHEN regexp_matches(upper(trim(a.country)), '^[A-Z]{2}$') THEN upper(trim(a.country)) ELSE '??' END``."""
    files = render_digest(digest_warehouse(tmp_path / "wh" / "lw.duckdb", PHONE_IN_COUNTRY))
    assert any(name.endswith(".csv") for name in files)
    digits = re.sub(r"\D", "", PHONE_IN_COUNTRY)
    leaks = [name for name, text in files.items()
             if digits in {re.sub(r"\D", "", m) for m in re.findall(r"\+?\d[\d\s().\-/]{5,}\d", text)}]
    assert leaks == []
