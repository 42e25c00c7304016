"""`lurewatch labels import FILE` and `lurewatch labels export OUT` (issue 13, item 4), as users run them: the
installed script in subprocesses on real warehouses.

- An import names every bad row (line and what is wrong) and imports nothing from a file with bad rows unless
  --skip-bad; the file is recorded with its source; importing twice adds nothing; an analyst's own decision on an
  ad is never overridden by an imported one.
- An export refuses to run without a pseudonymisation key, and the file it writes holds no byte of any contact of
  the ads (phones in several formats, e-mails, handles, messenger links, URLs), in CSV and JSONL.
- The round trip: NGO A exports its analysts' decisions, NGO B imports them, and `lurewatch train` in B trains on
  them (its label lines show the origin "imported (ngo-a)" with the rows used).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from features import FeatureExtractor
from fixture_sites import load_ads
from pipeline.cross_ad_features import compute_cross_ad_features
from pipeline.feature_store import extract_pending
from pipeline.label_import import import_labels
from tests.cli.conftest import LUREWATCH, assert_one_error_line, run_cli
from warehouse import session
from warehouse.ads import upsert_ads
from warehouse.records import AdRow

KEY = "labels-export-test-key-0123456789abcdef0123456789"
KEY_ENV = {"LUREWATCH_PSEUDONYM_KEY": KEY}

# Every contact written into NGO A's ads, as written, and the identifying parts that must not survive either.
CONTACTS = {
    "+371 2914 0327": ("29140327", "2914 0327"),
    "2 6 5 5 8 8 1 2": ("26558812",),
    "anna.casting@gmail.com": ("anna.casting", "anna.casting@gmail"),
    "@model_casting_lv": ("model_casting_lv",),
    "WhatsApp +48 512 345 678": ("512 345 678", "512345678"),
    "t.me/easyjob_recruit": ("easyjob_recruit",),
    "https://jobs-abroad.example.com/apply": ("jobs-abroad.example",),
    "instagram: riga.models.agency": ("riga.models.agency",),
    "zvaniet 67 123 456": ("67123456", "67 123 456"),
}
LURES = [
    "Darbs ārzemēs jaunām meitenēm, alga 3000 EUR nedēļā, pieredze nav vajadzīga, ceļš un dzīvoklis bez maksas. "
    "Raksti WhatsApp {c}",
    "Hostess work in Dubai for girls 18-25, no experience, free flights and housing, pay 5000 per month. Contact {c}",
    "Modeļu kastings Milānā, tikai meitenes 18-24 ar foto, avanss par vīzu 200 EUR, sazinieties {c}",
    "Easy job abroad, cash every week, we pay your ticket, only send photo and passport copy to {c}",
    "Darbs Vācijā bez valodas zināšanām, dzīvesvieta nodrošināta, reģistrācijas maksa 150 EUR, raksti {c}",
]
ORDINARY = [
    "Grāmatvedis ar pieredzi, pilna slodze Rīgā, darba līgums, alga 1800-2200 EUR bruto. CV sūtiet {c}",
    "Warehouse operative, Riga, day shifts, employment contract, forklift licence an advantage. Apply {c}",
    "Pārdevējs konsultants veikalā, maiņu darbs, apmācība uz vietas, sociālās garantijas. Tālrunis {c}",
    "Junior software developer, Python, hybrid work in Riga, salary 2000-2800 EUR gross. Details {c}",
]


def _ngo_a_ads() -> list[tuple[str, str, str]]:
    """(title, body, label) of the ads NGO A's analysts decided: every contact form in a lure and an ordinary ad."""
    ads: list[tuple[str, str, str]] = []
    for i, contact in enumerate(CONTACTS):
        ads.append((f"Darbs {i}", LURES[i % len(LURES)].format(c=contact) + f" Nr. {i}", "lure"))
        ads.append((f"Vakance {i}", ORDINARY[i % len(ORDINARY)].format(c=contact) + f" Ref {i}", "not_lure"))
    ads.append(("=SUM(A1:A2)", "-2+3 formula title; " + LURES[0].format(c="+371 2914 0327"), "lure"))
    return ads


@pytest.fixture(scope="module")
def ngo_a(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """NGO A: its own ads crawled, features extracted, every ad decided by an analyst (one undecided too)."""
    db = tmp_path_factory.mktemp("ngo-a") / "lw.duckdb"
    ads = _ngo_a_ads()
    with session(db) as con:
        upsert_ads(con, [AdRow("board-a", f"http://127.0.0.1/a/{i}", title, body, external_id=str(i))
                         for i, (title, body, _) in enumerate(ads)], run_id=None)
        upsert_ads(con, [AdRow("board-a", "http://127.0.0.1/a/undecided", "Undecided", "Call +371 2000 1111",
                               external_id="undecided")], run_id=None)
        extract_pending(con, FeatureExtractor())
        for i, (_, _, label) in enumerate(ads):
            con.execute("INSERT INTO labels (ad_id, label, source, analyst, note) SELECT ad_id, ?, 'analyst', "
                        "'ana', 'rang +371 2914 0327 back' FROM ads WHERE external_id = ?", [label, str(i)])
    return db


@pytest.fixture(scope="module")
def ngo_b(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """NGO B: the 371 fixture ads crawled with the fixture's train split seeded (as `lurewatch demo` does)."""
    db = tmp_path_factory.mktemp("ngo-b") / "lw.duckdb"
    ads = load_ads()
    with session(db) as con:
        upsert_ads(con, [AdRow(a["site"], f"http://127.0.0.1/{a['site']}/{a['ref']}", a["title"], a["body"],
                               external_id=a["ref"]) for a in ads], run_id=None)
        extract_pending(con, FeatureExtractor())
        compute_cross_ad_features(con)
        import_labels(con, [(a["site"], a["ref"], bool(a["label"])) for a in ads if a["split"] == "train"],
                      source="fixture", analyst="fixture-import")
    return db


def _count(db: Path, sql: str) -> int:
    with session(db) as con:
        return int(con.execute(sql).fetchall()[0][0])


def _without_key() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LUREWATCH_PSEUDONYM", "LUREWATCH_REVIEW_PSEUDO"))}
    return {**env, "COLUMNS": "200"}


BAD_CSV = """text,ad_id,label,source,lang,note
"Modeļu darbs Dubaijā, alga 5000, raksti WhatsApp",,lure,ngo-x,lv,
"Ordinary bakery job in Tartu, contract",,not_lure,ngo-x,et,
"Some ad",,lur,ngo-x,,
"Another ad",,lure,,,
"Yet another",,lure,analyst,,
"Both given",1,lure,ngo-x,,
,,lure,ngo-x,,
,999999,not_lure,ngo-x,,
"Some text",,lure,ngo-x,xx,
"too few fields",lure
"Ordinary bakery job in Tartu, contract",,lure,ngo-x,et,
"""
BAD_LINES = {
    4: "label 'lur' is not lure or not_lure",
    5: "no source",
    6: "reserved",
    7: "has both text and ad_id",
    8: "has neither text nor ad_id",
    9: "ad_id 999999 is not an ad of this warehouse",
    10: "lang 'xx' is not one of",
    11: "2 fields, the header has 6",
    12: "the same text and source as line 3 with another label",
}


def test_import_names_every_bad_row_and_imports_nothing(ngo_a: Path, tmp_path: Path) -> None:
    """One `line N: ...` message per bad row (its line in the file and what is wrong), then one error line; the
    warehouse is unchanged: no label, no import record."""
    path = tmp_path / "partner.csv"
    path.write_text(BAD_CSV, encoding="utf-8")
    before = _count(ngo_a, "SELECT count(*) FROM labels")
    result = run_cli("labels", "import", path, "--db", ngo_a)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == len(BAD_LINES) + 1, result.stderr
    for line, (number, what) in zip(lines, sorted(BAD_LINES.items()), strict=False):
        assert line.startswith(f"partner.csv: line {number}: ") and what in line, (line, number, what)
    assert lines[-1].startswith(f"error: {len(BAD_LINES)} bad rows of 11 in ") and "nothing imported" in lines[-1]
    assert "Modeļu" not in result.stderr  # the file's texts are never echoed
    assert _count(ngo_a, "SELECT count(*) FROM labels") == before
    assert _count(ngo_a, "SELECT count(*) FROM label_imports") == 0
    assert _count(ngo_a, "SELECT count(*) FROM imported_labels") == 0


def test_skip_bad_imports_the_good_rows_with_their_source_once(ngo_a: Path, tmp_path: Path) -> None:
    """With --skip-bad the two good rows are stored with their source and the file's record (name, SHA-256,
    counts); the bad rows are named as skipped. A second import of the same file adds nothing."""
    path = tmp_path / "partner.csv"
    path.write_text(BAD_CSV, encoding="utf-8")
    first = run_cli("labels", "import", path, "--skip-bad", "--db", ngo_a)
    assert first.returncode == 0, first.stderr
    assert "2 new labels (2 texts, 0 ads)" in first.stdout and "9 bad rows skipped" in first.stdout
    assert len([line for line in first.stderr.splitlines() if line.startswith("skipped partner.csv: line ")]) == 9
    with session(ngo_a) as con:
        rows = con.execute("SELECT label, source, lang FROM imported_labels ORDER BY line").fetchall()
        record = con.execute("SELECT file_name, file_sha256, rows_read, rows_new FROM label_imports").fetchall()
    assert rows == [("lure", "ngo-x", "lv"), ("not_lure", "ngo-x", "et")]
    import hashlib

    assert record == [("partner.csv", hashlib.sha256(path.read_bytes()).hexdigest(), 11, 2)]
    again = run_cli("labels", "import", path, "--skip-bad", "--db", ngo_a)
    assert again.returncode == 0 and "0 new labels" in again.stdout
    assert _count(ngo_a, "SELECT count(*) FROM imported_labels") == 2


def test_ad_rows_join_the_decision_log_but_never_override_an_analyst(ngo_a: Path, tmp_path: Path) -> None:
    """JSONL rows naming crawled ads by `ad_id`: an undecided ad gets the imported label (source recorded, analyst
    `import:<id>`); an ad an analyst of this warehouse decided keeps the analyst's decision."""
    with session(ngo_a) as con:
        undecided = int(con.execute("SELECT ad_id FROM ads WHERE external_id = 'undecided'").fetchall()[0][0])
        decided = int(con.execute("SELECT min(ad_id) FROM labels WHERE source = 'analyst'").fetchall()[0][0])
    path = tmp_path / "ids.jsonl"
    path.write_text(json.dumps({"ad_id": undecided, "label": "not_lure", "note": "partner says ok"}) + "\n\n"
                    + json.dumps({"ad_id": str(decided), "label": "not_lure"}) + "\n", encoding="utf-8")
    result = run_cli("labels", "import", path, "--source", "ngo-y", "--db", ngo_a)
    assert result.returncode == 0, result.stderr
    assert "1 new labels (0 texts, 1 ads)" in result.stdout and "1 ads already decided by an analyst" in result.stdout
    with session(ngo_a) as con:
        rows = con.execute("SELECT ad_id, label, source, analyst FROM labels WHERE source = 'ngo-y'").fetchall()
    assert len(rows) == 1 and rows[0][:3] == (undecided, "not_lure", "ngo-y") and rows[0][3].startswith("import:")


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("latin1.csv", "text,label,source\nM\xe4dchen gesucht,lure,x\n".encode("latin-1"), "line 2 is not UTF-8"),
        ("columns.csv", b"text,labl,source\nx,lure,y\n", "unknown column 'labl'"),
        ("empty.jsonl", b"\n\n", "no label rows"),
        ("missing.csv", None, "no such file"),
    ],
)
def test_a_file_that_cannot_be_read_is_one_line(
    ngo_a: Path, tmp_path: Path, name: str, content: bytes | None, needle: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    assert_one_error_line(run_cli("labels", "import", path, "--db", ngo_a), needle)


def test_export_refuses_without_a_pseudonym_key(ngo_a: Path, tmp_path: Path) -> None:
    """No key, no export: one line, and no file is written."""
    out = tmp_path / "decisions.csv"
    result = subprocess.run([str(LUREWATCH), "labels", "export", str(out), "--source", "ngo-a", "--db", str(ngo_a)],
                            capture_output=True, text=True, env=_without_key(), timeout=300, check=False)
    assert_one_error_line(result, "no export without contacts pseudonymised", "lurewatch privacy keygen")
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_the_export_holds_no_byte_of_any_contact(ngo_a: Path, tmp_path: Path, suffix: str) -> None:
    """Every contact of every decided ad (and of the analysts' notes, with --notes) is replaced by its keyed
    pseudonym: the raw bytes of the file hold none of them in any spelling, and no ad id, URL or analyst name.
    CSV cells a spreadsheet would run are neutralised."""
    out = tmp_path / f"decisions{suffix}"
    result = run_cli("labels", "export", out, "--source", "ngo-a", "--notes", "--db", ngo_a, env=KEY_ENV)
    assert result.returncode == 0, result.stderr
    decided = len(_ngo_a_ads())
    assert f"exported {decided} decisions" in result.stdout
    data = out.read_bytes()
    for contact, parts in CONTACTS.items():
        for needle in (contact, *parts):
            assert needle.encode("utf-8") not in data, needle
            assert needle.lower().encode("utf-8") not in data.lower(), needle
    assert b"127.0.0.1" not in data and b"board-a" not in data
    assert len(re.findall(rb"pz1_[0-9a-f]{24}", data)) >= 2 * len(CONTACTS)
    assert b"pz1_" in data and b"rang pz1_" in data  # the note went out, scrubbed
    if suffix == ".csv":
        assert b"\n\"'=SUM(A1:A2)" in data
    else:
        rows = [json.loads(line) for line in data.decode("utf-8").splitlines()]
        assert len(rows) == decided and {r["source"] for r in rows} == {"ngo-a"}
        assert set(rows[0]) == {"text", "label", "source", "lang", "note"}


def test_round_trip_export_import_train_uses_the_partners_decisions(
    ngo_a: Path, ngo_b: Path, tmp_path: Path
) -> None:
    """NGO A exports (CSV), NGO B imports: every row arrives (formula-neutralised cells restored, contacts stay
    pseudonyms), and `lurewatch train` in B trains on them: its label lines show "imported (ngo-a)" with all of
    them used, and the model's training data says so."""
    out = tmp_path / "from-a.csv"
    exported = run_cli("labels", "export", out, "--source", "ngo-a", "--db", ngo_a, env=KEY_ENV)
    assert exported.returncode == 0, exported.stderr
    decided = len(_ngo_a_ads())
    imported = run_cli("labels", "import", out, "--db", ngo_b)
    assert imported.returncode == 0, imported.stderr
    assert f"{decided} new labels ({decided} texts, 0 ads)" in imported.stdout
    with session(ngo_b) as con:
        texts = [r[0] for r in con.execute("SELECT text FROM imported_labels").fetchall()]
    assert any(t.startswith("=SUM(A1:A2)") for t in texts)  # the export's quote prefix is undone
    trained = run_cli("train", "--db", ngo_b, "--no-emscad", "--folds", "2", "--quiet")
    assert trained.returncode == 0, trained.stderr
    line = next(line for line in trained.stdout.splitlines() if line.strip().startswith("imported (ngo-a)"))
    used, lures, held = (int(x.replace(",", "")) for x in line.split()[-3:])
    assert (used, held) == (decided, 0) and lures == sum(1 for *_, label in _ngo_a_ads() if label == "lure")
    with session(ngo_b) as con:
        metrics = json.loads(con.execute("SELECT metrics FROM models ORDER BY created_at DESC LIMIT 1")
                             .fetchall()[0][0])
    assert metrics["training"]["by_source"]["ngo-a"] == decided
