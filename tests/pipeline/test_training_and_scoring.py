"""The scorer: real LightGBM training on real EMSCAD ads, registry round trip, CSV scoring, explanations."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import numpy as np
import pytest

from features import FeatureExtractor
from lurewatch.settings import get_settings
from pipeline.design_matrix import design_matrix
from pipeline.feature_store import extract_pending
from pipeline.label_import import import_labels
from pipeline.model_registry import champion_version, load, load_champion, register
from pipeline.score import predict, score_csv, score_pending
from pipeline.train import TrainedModel, train
from pipeline.training_data import Example, emscad_examples, fingerprint, warehouse_examples
from warehouse import connect
from warehouse.ads import upsert_ads
from warehouse.records import AdRow

LURE = (
    "Darbs Norvēģijā meitenēm 18-25! Alga no 3000 EUR mēnesī, pieredze nav vajadzīga, ceļš un dzīvoklis "
    "bez maksas. Reģistrācijas maksa 150 EUR. Raksti tikai WhatsApp +371 29 000 111."
)
ORDINARY = (
    "SIA Latvijas Loģistika meklē noliktavas darbinieku Rīgā. Prasības: pieredze no 1 gada, B kategorijas "
    "tiesības. Alga 1200-1400 EUR bruto. CV sūtiet uz karjera@latlog.lv, tālr. 67 000 123."
)


@pytest.fixture(scope="module")
def extractor() -> FeatureExtractor:
    return FeatureExtractor()


@pytest.fixture(scope="module")
def small_training_set() -> list[Example]:
    """A stratified 400-ad sample of the real EMSCAD training file (kept small so the test is quick)."""
    examples = emscad_examples(get_settings().emscad_train_csv)
    rng = random.Random(7)
    lures = rng.sample([e for e in examples if e.label == 1], 150)
    legit = rng.sample([e for e in examples if e.label == 0], 250)
    return lures + legit


@pytest.fixture(scope="module")
def trained(small_training_set: list[Example], extractor: FeatureExtractor) -> TrainedModel:
    return train(small_training_set, extractor, seed=1, folds=3)


def test_emscad_file_loads_with_both_classes() -> None:
    """The real-data CSV is read completely: 1,399 ads, 647 of them fraudulent."""
    examples = emscad_examples(get_settings().emscad_train_csv)
    assert len(examples) == 1399
    assert sum(e.label for e in examples) == 647


def test_missing_training_file_is_a_clear_error(tmp_path: Path) -> None:
    """A wrong path names the file and the setting to fix, instead of a bare traceback."""
    with pytest.raises(FileNotFoundError, match="LUREWATCH_EMSCAD_TRAIN_CSV"):
        emscad_examples(tmp_path / "missing.csv")


def test_cross_validated_metrics_are_reported_and_good_on_real_ads(trained: TrainedModel) -> None:
    """Out-of-fold metrics are stored with the model, and even a 400-ad model separates real scams well."""
    overall = trained.metrics["overall"]
    assert overall["n"] == 400 and overall["positives"] == 150
    assert overall["roc_auc"] > 0.85
    assert overall["pr_auc"] > 0.8
    assert 0.0 < trained.threshold < 1.0


def test_fingerprint_identifies_training_data_regardless_of_order(small_training_set: list[Example]) -> None:
    """The same examples in another order give the same fingerprint; a flipped label changes it."""
    shuffled = list(reversed(small_training_set))
    assert fingerprint(shuffled) == fingerprint(small_training_set)
    flipped = [
        Example(small_training_set[0].text, 1 - small_training_set[0].label, "emscad"),
        *small_training_set[1:],
    ]
    assert fingerprint(flipped) != fingerprint(small_training_set)


def test_registered_model_loads_back_and_predicts_identically(
    trained: TrainedModel, extractor: FeatureExtractor, tmp_path: Path
) -> None:
    """A model written to the registry and read back gives exactly the same scores; the first is champion."""
    con = connect(tmp_path / "lw.duckdb")
    version = register(con, trained, tmp_path / "models", created_by="test", promote=True)
    assert champion_version(con) == version
    loaded = load(con, version)
    texts = [LURE, ORDINARY]
    vectors = [f.vector() for f in extractor.extract_many(texts)]
    direct = trained.booster.predict(
        design_matrix(texts, vectors, trained.structured_names, trained.text_columns)
    )
    np.testing.assert_allclose(predict(loaded, texts, vectors), direct)


def test_promoting_a_second_model_retires_the_first(trained: TrainedModel, tmp_path: Path) -> None:
    """There is exactly one champion at a time."""
    con = connect(tmp_path / "lw.duckdb")
    first = register(con, trained, tmp_path / "models", created_by="test", promote=True)
    trained.fingerprint = "another-fingerprint"
    second = register(con, trained, tmp_path / "models", created_by="test", promote=True)
    statuses = dict(con.execute("SELECT version, status FROM models").fetchall())
    assert statuses == {first: "retired", second: "champion"}


def test_score_csv_appends_a_score_column(
    trained: TrainedModel, extractor: FeatureExtractor, tmp_path: Path
) -> None:
    """`lurewatch score --input` contract: every input row comes back with its columns and a score."""
    con = connect(tmp_path / "lw.duckdb")
    register(con, trained, tmp_path / "models", created_by="test", promote=True)
    model = load_champion(con)
    assert model is not None
    source = tmp_path / "in.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerows([["1", LURE], ["2", ORDINARY], ["3", ""]])
    target = tmp_path / "out.csv"
    assert score_csv(model, extractor, source, target) == 3
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert all(0.0 <= float(r["score"]) <= 1.0 for r in rows)


def test_csv_without_text_column_is_rejected(
    trained: TrainedModel, extractor: FeatureExtractor, tmp_path: Path
) -> None:
    """A CSV lacking the 'text' column fails with a message naming the columns it has."""
    con = connect(tmp_path / "lw.duckdb")
    register(con, trained, tmp_path / "models", created_by="test", promote=True)
    model = load_champion(con)
    assert model is not None
    source = tmp_path / "bad.csv"
    source.write_text("id,body\n1,hello\n", encoding="utf-8")
    with pytest.raises(ValueError, match="needs a 'text' column"):
        score_csv(model, extractor, source, tmp_path / "out.csv")


def test_warehouse_labels_feed_training_and_scores_are_stored_per_version(
    trained: TrainedModel, extractor: FeatureExtractor, tmp_path: Path
) -> None:
    """Imported labels become training examples; scoring writes one score per ad for the champion version."""
    con = connect(tmp_path / "lw.duckdb")
    upsert_ads(
        con,
        [
            AdRow("s", "http://127.0.0.1/1", "Darbs", LURE, external_id="1"),
            AdRow("s", "http://127.0.0.1/2", "Darbs", ORDINARY, external_id="2"),
        ],
        run_id=None,
    )
    assert extract_pending(con, extractor) == 2
    assert extract_pending(con, extractor) == 0
    assert (
        import_labels(
            con, [("s", "1", True), ("s", "2", False), ("s", "404", True)], source="fixture", analyst="t"
        )
        == 2
    )
    assert import_labels(con, [("s", "1", True)], source="fixture", analyst="t") == 0
    examples = warehouse_examples(con)
    assert sorted(e.label for e in examples) == [0, 1]
    assert all(e.vector is not None for e in examples)
    version = register(con, trained, tmp_path / "models", created_by="test", promote=True)
    model = load_champion(con)
    assert model is not None and score_pending(con, model) == 2
    assert score_pending(con, model) == 0
    assert con.execute("SELECT count(*) FROM scores WHERE model_version = ?", [version]).fetchall()[0][0] == 2
