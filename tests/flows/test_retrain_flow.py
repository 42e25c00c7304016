"""The `retrain` Prefect flow end to end on a small real warehouse: analyst labels arrive, a challenger is trained,
compared with the champion on the frozen evaluation set, promoted only if better, and the report says what changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from features import FeatureExtractor
from fixture_sites import load_ads
from flows.retrain import retrain
from pipeline.cross_ad_features import compute_cross_ad_features
from pipeline.feature_store import extract_pending
from pipeline.label_import import import_labels
from pipeline.label_ledger import ANALYST_SAMPLE
from warehouse import session
from warehouse.ads import upsert_ads
from warehouse.records import AdRow

FIRST_LABELS = 24  # a weak first model: the first 24 train-split ads (with some lures) labelled by the fixture


def _train_split() -> list[dict[str, Any]]:
    ads = [a for a in load_ads() if a["split"] == "train"]
    return sorted(ads, key=lambda a: (-a["label"], a["ref"]))  # lures first, so the first few include some


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    """Two flow runs: the first model; then again after analyst labels arrived."""
    root = tmp_path_factory.mktemp("retrain")
    db, models = root / "lw.duckdb", root / "models"
    ads = load_ads()
    train_split = _train_split()
    first = train_split[:6] + train_split[-(FIRST_LABELS - 6):]
    with session(db) as con:
        upsert_ads(
            con,
            [AdRow(a["site"], f"http://127.0.0.1/{a['site']}/{a['ref']}", a["title"], a["body"], external_id=a["ref"])
             for a in ads],
            run_id=None,
        )
        extract_pending(con, FeatureExtractor())
        compute_cross_ad_features(con)
        import_labels(con, [(a["site"], a["ref"], bool(a["label"])) for a in first], source="fixture", analyst="fx")
    kwargs: dict[str, Any] = {"db_path": str(db), "models_dir": str(models), "include_emscad": False, "folds": 3,
                              "actor": "tester"}
    reports = [retrain(**kwargs)]
    analyst = [a for a in train_split if a not in first]
    with session(db) as con:  # the review app's decisions: source 'analyst'
        con.execute(
            """
            INSERT INTO labels (ad_id, label, source, analyst)
            SELECT ad_id, CASE WHEN lure THEN 'lure' ELSE 'not_lure' END, 'analyst', 'ana'
            FROM ads JOIN (SELECT unnest(?) AS ref, unnest(?) AS lure) l ON ads.external_id = l.ref
            """,
            [[a["ref"] for a in analyst], [bool(a["label"]) for a in analyst]],
        )
    reports.append(retrain(**kwargs))
    return db, reports


def test_first_run_promotes_the_first_model(runs: tuple[Path, list[dict[str, Any]]]) -> None:
    """With no champion the first challenger is promoted automatically and scores every crawled ad."""
    db, reports = runs
    first = reports[0]
    assert first["promoted"] and first["previous_champion"] is None
    assert first["training_examples"] == FIRST_LABELS
    with session(db) as con:
        assert con.execute("SELECT count(*) FROM scores WHERE model_version = ?",
                           [first["version"]]).fetchall()[0][0] == 371


def test_analyst_labels_produce_a_better_champion_and_a_report_of_what_changed(
    runs: tuple[Path, list[dict[str, Any]]],
) -> None:
    """New analyst labels are counted, the challenger beats the champion on the same frozen rows and is promoted,
    metric deltas and the ads whose scores moved most are reported."""
    db, reports = runs
    second = reports[1]
    analyst = len(_train_split()) - FIRST_LABELS
    assert sum(n for key, n in second["new_labels"].items() if key.startswith("analyst/")) == analyst
    # every new analyst label is trained on, except the analyst evaluation sample (1 in 5 near-duplicate clusters)
    fates = second["new_label_fates"]
    assert sum(fates.values()) == analyst and fates["used"] >= analyst // 2
    assert set(fates) <= {"used", ANALYST_SAMPLE}
    assert second["training_examples"] > FIRST_LABELS + analyst // 2
    assert second["previous_champion"] == reports[0]["version"]
    assert second["promoted"], second["reason"]
    old, new = second["champion_eval"]["overall"], second["challenger_eval"]["overall"]
    assert old["n"] == new["n"] == second["eval_rows"]
    assert new["pr_auc"] > old["pr_auc"]
    assert len(second["movers"]) == 10
    assert any("PROMOTED" in line for line in second["lines"])
    assert any("top score movers" in line for line in second["lines"])
    with session(db) as con:
        statuses = dict(con.execute("SELECT version, status FROM models").fetchall())
        decisions = con.execute("SELECT decision FROM model_comparisons ORDER BY comparison_id").fetchall()
    assert statuses[second["version"]] == "champion" and statuses[reports[0]["version"]] == "retired"
    assert [d[0] for d in decisions][:2] == ["promoted", "promoted"]
