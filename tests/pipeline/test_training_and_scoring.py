"""The scorer: real LightGBM training on real EMSCAD + fixture ads, calibration, the review-budget threshold,
the registry round trip, warehouse scoring and the CSV scoring contract."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

from features import FeatureExtractor
from lurewatch.settings import get_settings
from pipeline.calibration import Calibrator, cross_fitted, reliability
from pipeline.model_registry import champion_version, load, load_champion, register
from pipeline.score import score_csv, score_pending
from pipeline.scoring_model import ScoringModel
from pipeline.text_vectorizer import N_TEXT_FEATURES, hashed_counts, ngram_columns
from pipeline.thresholds import budget_threshold
from pipeline.training_data import Example, emscad_examples, fingerprint, warehouse_examples
from warehouse import session

LURE = (
    "Darbs Norvēģijā meitenēm 18-25! Alga no 3000 EUR mēnesī, pieredze nav vajadzīga, ceļš un dzīvoklis "
    "bez maksas. Reģistrācijas maksa 150 EUR. Raksti tikai WhatsApp +371 29 000 111."
)
ORDINARY = (
    "SIA Latvijas Loģistika meklē noliktavas darbinieku Rīgā. Prasības: pieredze no 1 gada, B kategorijas "
    "tiesības. Alga 1200-1400 EUR bruto. CV sūtiet uz karjera@latlog.lv, tālr. 67 000 123."
)


def test_emscad_file_loads_with_both_classes() -> None:
    """The real-data CSV is read completely: 1,399 ads, 647 of them fraudulent."""
    examples = emscad_examples(get_settings().emscad_train_csv)
    assert len(examples) == 1399
    assert sum(e.label for e in examples) == 647


def test_missing_training_file_is_a_clear_error(tmp_path: Path) -> None:
    """A wrong path names the file and the setting to fix, instead of a bare traceback."""
    with pytest.raises(FileNotFoundError, match="LUREWATCH_EMSCAD_TRAIN_CSV"):
        emscad_examples(tmp_path / "missing.csv")


def test_fingerprint_identifies_training_data_regardless_of_order(emscad_sample: list[Example]) -> None:
    """The same examples in another order give the same fingerprint; a flipped label changes it."""
    assert fingerprint(list(reversed(emscad_sample))) == fingerprint(emscad_sample)
    flipped = [Example(emscad_sample[0].text, 1 - emscad_sample[0].label, "emscad"), *emscad_sample[1:]]
    assert fingerprint(flipped) != fingerprint(emscad_sample)


def test_both_cv_schemes_are_reported_per_source_language_and_site(small_model: ScoringModel) -> None:
    """Stratified and template-grouped out-of-fold metrics are stored per slice, and are good on real ads."""
    cv = small_model.metrics["cv"]
    assert set(cv) == {"stratified", "grouped"}
    for table in cv.values():
        assert {"overall", "source=emscad", "source=fixture", "lang=lv", "site=balticjobs"} <= set(table)
        assert table["overall"]["n"] == 240 + 257
        for key in ("pr_auc", "roc_auc", "f1", "precision_at_20"):
            assert 0.0 <= table["overall"][key] <= 1.0
    assert cv["grouped"]["source=emscad"]["pr_auc"] > 0.8
    assert cv["grouped"]["source=fixture"]["pr_auc"] > 0.8


def test_calibrated_scores_are_probabilities_and_monotone_in_the_raw_score(small_model: ScoringModel) -> None:
    """Calibration maps raw log-odds into [0, 1] without reordering ads, and the stored model applies it."""
    raw = np.linspace(-12, 12, 200)
    calibrated = small_model.calibrator(raw)
    assert np.all((calibrated >= 0.0) & (calibrated <= 1.0))
    assert np.all(np.diff(calibrated) >= 0.0)
    assert small_model.metrics["calibration"]["method"] == "platt"
    scores = small_model.predict([LURE, ORDINARY], [{}, {}])
    assert np.all((scores >= 0.0) & (scores <= 1.0))


def test_out_of_fold_reliability_is_close_to_the_diagonal(small_model: ScoringModel) -> None:
    """On out-of-fold predictions the calibrated scores match observed lure rates (small ECE)."""
    for scheme in ("stratified", "grouped"):
        calibrated = small_model.metrics["reliability"][scheme]["calibrated"]
        assert calibrated["ece"] < 0.08
        assert sum(b["n"] for b in calibrated["bins"]) == 497


def test_platt_fixes_a_miscalibrated_but_well_ranked_score() -> None:
    """Scores that rank well but are overconfident become calibrated (ECE drops), ranking is unchanged."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 4000)
    true_logit = np.where(labels == 1, 1.0, -1.0) + rng.normal(0, 1.2, 4000)
    raw = 4.0 * true_logit + 3.0  # overconfident and shifted
    folds = np.array_split(rng.permutation(4000), 5)
    calibrated = cross_fitted(raw, labels, folds)
    before = reliability(labels, 1 / (1 + np.exp(-raw)))["ece"]
    after = reliability(labels, calibrated)["ece"]
    assert after < 0.03 < before
    iso = Calibrator.fit(raw, labels, "isotonic")
    assert np.all(np.diff(iso(np.sort(raw))) >= 0)
    assert Calibrator.from_dict(iso.to_dict())(raw[:5]).tolist() == iso(raw[:5]).tolist()


def test_review_budget_threshold_and_expected_precision_are_recorded(small_model: ScoringModel) -> None:
    """The threshold lets about `budget` ads a week through and states the precision to expect there; a crawled
    week at least as large as the weekly volume sets it directly."""
    budget = small_model.metrics["threshold"]
    assert budget["review_budget"] == 20
    assert small_model.threshold == budget["threshold"]
    assert 0.0 < budget["expected_precision"] <= 1.0
    week = np.linspace(0.0, 1.0, 101)
    chosen = budget_threshold(10, np.array([1, 0, 1]), np.array([0.99, 0.5, 0.95]), week, weekly_volume=100)
    assert int((week >= chosen["threshold"]).sum()) == 10
    assert chosen["expected_precision"] == 1.0
    assert "last 7 days" in chosen["basis"]


def test_hashed_ngram_columns_match_the_vectorizer() -> None:
    """Explanations find an ad's n-gram columns by hashing: they are exactly the non-zero columns."""
    counts = hashed_counts([LURE])
    assert counts.shape[1] == N_TEXT_FEATURES
    assert set(ngram_columns(LURE)) == set(counts.indices.tolist())


def test_registered_model_loads_back_and_predicts_identically(
    small_model: ScoringModel, tmp_path: Path
) -> None:
    """A model written to the registry and read back gives exactly the same scores; the first is champion."""
    with session(tmp_path / "lw.duckdb") as con:
        version = register(con, small_model, tmp_path / "models", created_by="test", promote=True)
        assert champion_version(con) == version
        loaded = load(con, version)
        stored = con.execute("SELECT metrics, threshold, n_train FROM models").fetchall()[0]
    assert '"grouped"' in stored[0] and stored[1] == small_model.threshold and stored[2] == 497
    vectors = [{"messenger_only": 1.0}, {"n_company_email": 1.0}]
    texts = [LURE, ORDINARY]
    np.testing.assert_allclose(loaded.predict(texts, vectors), small_model.predict(texts, vectors))


def test_score_csv_appends_a_calibrated_score_column(
    small_model: ScoringModel, extractor: FeatureExtractor, tmp_path: Path
) -> None:
    """`lurewatch score --input` contract: every input row comes back with its columns and a score in [0, 1], and
    each score belongs to its own row: the same rows in another order (text with a comma, a quote and a newline
    among them) get the same score per id."""
    tricky = 'Packer, "night" shift\nin Riga'
    table = [["1", LURE], ["2", ORDINARY], ["3", ""], ["4", tricky]]

    def scored(order: list[int], name: str) -> dict[str, float]:
        source, target = tmp_path / f"{name}.csv", tmp_path / f"{name}.scored.csv"
        with source.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "text"])
            writer.writerows(table[i] for i in order)
        assert score_csv(small_model, extractor, source, target) == len(order)
        rows = list(csv.DictReader(target.open(encoding="utf-8", newline="")))
        assert [r["id"] for r in rows] == [table[i][0] for i in order]
        assert [r["text"] for r in rows] == [table[i][1] for i in order]
        return {r["id"]: float(r["score"]) for r in rows}

    forward = scored([0, 1, 2, 3], "forward")
    assert all(0.0 <= score <= 1.0 for score in forward.values())
    assert forward["1"] > forward["2"]
    backward = scored([3, 2, 1, 0], "backward")
    assert backward == pytest.approx(forward, abs=1e-9)


def test_csv_without_text_column_is_rejected(
    small_model: ScoringModel, extractor: FeatureExtractor, tmp_path: Path
) -> None:
    """A CSV lacking the 'text' column fails with a message naming the columns it has."""
    source = tmp_path / "bad.csv"
    source.write_text("id,body\n1,hello\n", encoding="utf-8")
    with pytest.raises(ValueError, match="needs a 'text' column"):
        score_csv(small_model, extractor, source, tmp_path / "out.csv")


def test_warehouse_labels_feed_training_and_scores_are_stored_per_version(
    small_model: ScoringModel, fixture_warehouse: Path, tmp_path: Path
) -> None:
    """Fixture labels become examples with cross-ad features; scoring stores one calibrated score per ad and
    version, and lures outrank ordinary ads."""
    db = tmp_path / "lw.duckdb"
    shutil.copy(fixture_warehouse, db)
    with session(db) as con:
        examples = warehouse_examples(con)
        assert len(examples) == 257 and {e.source for e in examples} == {"fixture"}
        assert all(e.vector is not None and "cluster_size" in e.vector for e in examples)
        version = register(con, small_model, tmp_path / "models", created_by="test", promote=True)
        model = load_champion(con)
        assert model is not None and score_pending(con, model) == 371
        assert score_pending(con, model) == 0
        rows = con.execute(
            "SELECT a.external_id, s.score FROM scores s JOIN ads a USING (ad_id) WHERE s.model_version = ?",
            [version],
        ).fetchall()
    from fixture_sites import load_ads

    truth = {a["ref"]: a["label"] for a in load_ads()}
    lure_scores = [s for ref, s in rows if truth[ref]]
    other_scores = [s for ref, s in rows if not truth[ref]]
    assert len(rows) == 371 and all(0.0 <= s <= 1.0 for _, s in rows)
    assert np.median(lure_scores) > np.percentile(other_scores, 90)
