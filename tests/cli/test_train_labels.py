"""`lurewatch train` after analysts decided ads of the review queue (issue 13): the decisions reach training even
when the ads are fixture evaluation ads, the output says which labels were used and which were held out and why,
the model's metrics keep that ledger for `models show`, and progress stages go to stderr."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from features import FeatureExtractor
from fixture_sites import load_ads
from pipeline.cross_ad_features import compute_cross_ad_features
from pipeline.feature_store import extract_pending
from pipeline.label_import import import_labels
from pipeline.label_ledger import ANALYST_SAMPLE
from tests.cli.conftest import run_cli
from warehouse import session
from warehouse.ads import upsert_ads
from warehouse.records import AdRow

DECIDED = 20  # fixture evaluation ads an analyst decides between the two training runs


def _models(db: Path) -> list[tuple[str, str, int]]:
    with session(db) as con:
        rows = con.execute("SELECT version, training_fingerprint, n_train FROM models ORDER BY created_at").fetchall()
    return [(str(v), str(f), int(n)) for v, f, n in rows]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[subprocess.CompletedProcess[str]]]:
    """The 371 fixture ads crawled with the train split seeded; `train --quiet` once; an analyst decides 20
    fixture evaluation ads (the review queue of the demo); `train` again; `models show` the new model."""
    db = tmp_path_factory.mktemp("train-labels") / "lw.duckdb"
    ads = load_ads()
    with session(db) as con:
        upsert_ads(con, [AdRow(a["site"], f"http://127.0.0.1/{a['site']}/{a['ref']}", a["title"], a["body"],
                               external_id=a["ref"]) for a in ads], run_id=None)
        extract_pending(con, FeatureExtractor())
        compute_cross_ad_features(con)
        import_labels(con, [(a["site"], a["ref"], bool(a["label"])) for a in ads if a["split"] == "train"],
                      source="fixture", analyst="fixture-import")
    args = ("train", "--db", db, "--no-emscad", "--folds", "2")
    results = [run_cli(*args, "--quiet")]
    queue = sorted((a for a in ads if a["split"] == "eval"), key=lambda a: (-a["label"], a["ref"]))
    decided = queue[:8] + queue[-(DECIDED - 8):]  # lures and ordinary ads, as an analyst's morning would go
    with session(db) as con:
        for ad in decided:
            con.execute("INSERT INTO labels (ad_id, label, source, analyst) SELECT ad_id, ?, 'analyst', 'ana' "
                        "FROM ads WHERE site_id = ? AND external_id = ?",
                        ["lure" if ad["label"] else "not_lure", ad["site"], ad["ref"]])
    results.append(run_cli(*args))
    results.append(run_cli("models", "show", _models(db)[-1][0], "--db", db))
    return db, results


def test_analyst_decisions_on_fixture_evaluation_ads_change_the_training_data(
    runs: tuple[Path, list[subprocess.CompletedProcess[str]]],
) -> None:
    """The second model trains on more ads with another fingerprint: before the fix it trained on exactly the same
    ads as the first one (every analyst label was dropped as an evaluation row) and nothing said so."""
    db, results = runs
    for result in results:
        assert result.returncode == 0, result.stderr
    first, second = _models(db)[:2]
    assert second[1] != first[1]
    out = results[1].stdout
    analyst = next(line for line in out.splitlines() if line.split()[:1] == ["analyst"])
    used, _, held = (int(x.replace(",", "")) for x in analyst.split()[1:4])
    assert used + held == DECIDED and used > 0
    total = next(line for line in out.splitlines() if line.startswith("labels: "))
    assert second[2] == int(total.split()[1].replace(",", "")) > first[2]
    assert f"of these, {used} used in training" in out


def test_the_output_names_every_held_out_label_with_its_reason(
    runs: tuple[Path, list[subprocess.CompletedProcess[str]]],
) -> None:
    """One line per origin (used / lures / held out) and one per reason; the reason lines add up to the held-out
    total; `models show` prints the same ledger from the model's metrics."""
    _, results = runs
    out = results[1].stdout.splitlines()
    total = next(line for line in out if line.startswith("labels: "))
    held_total = int(total.split(", ")[1].split()[0].replace(",", ""))
    start = out.index("held out, by reason:") if held_total else len(out)
    reason_lines = []
    for line in out[start + 1:]:
        if not line.startswith("  ") or ":" not in line:
            break
        reason_lines.append(line)
    assert sum(int(line.split()[0].replace(",", "")) for line in reason_lines) == held_total
    origin_rows = out[out.index(total) + 2: start]
    assert sum(int(row.split()[-1].replace(",", "")) for row in origin_rows) == held_total
    if held_total:
        assert any(ANALYST_SAMPLE in line for line in reason_lines) or "analyst" not in " ".join(reason_lines)
    shown = results[2].stdout
    assert total in shown and all(line in shown for line in reason_lines)


def test_progress_stages_go_to_stderr_and_quiet_silences_them(
    runs: tuple[Path, list[subprocess.CompletedProcess[str]]],
) -> None:
    """Reading, features, every cross-validation fold, the final fit and the comparison are announced on stderr
    (stdout keeps the results only); `--quiet` prints none of them."""
    _, results = runs
    err = results[1].stderr
    for stage in ("reading:", "features:", "cross-validation (stratified) fold 1/2",
                  "cross-validation (grouped) fold 2/2", "final fit", "comparison:"):
        assert stage in err, err
    assert "fold 1/2" not in results[1].stdout
    assert results[0].stderr.strip() == ""
