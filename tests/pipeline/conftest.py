"""Shared, deliberately small training data and models for the scorer tests (real LightGBM, real DuckDB)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from features import FeatureExtractor
from fixture_sites import load_ads
from lurewatch.settings import get_settings
from pipeline.cross_ad_features import compute_cross_ad_features
from pipeline.evaluation_set import EvaluationSet, fixture_examples, frozen_evaluation_set
from pipeline.feature_store import extract_pending
from pipeline.label_import import import_labels
from pipeline.reference_data import standalone_training_examples
from pipeline.scoring_model import ScoringModel
from pipeline.train import train
from pipeline.training_data import Example, emscad_examples
from warehouse import session
from warehouse.ads import upsert_ads
from warehouse.records import AdRow


@pytest.fixture(scope="session")
def extractor() -> FeatureExtractor:
    return FeatureExtractor()


@pytest.fixture(scope="session")
def emscad_sample() -> list[Example]:
    """A 240-ad sample of the real EMSCAD file (100 fraudulent), fixed seed."""
    examples = emscad_examples(get_settings().emscad_train_csv)
    rng = random.Random(7)
    return rng.sample([e for e in examples if e.label == 1], 100) + rng.sample(
        [e for e in examples if e.label == 0], 140
    )


def fixture_train_examples() -> list[Example]:
    """The fixture 'train' split as examples, with their template ids."""
    return fixture_examples("train")


@pytest.fixture(scope="session")
def small_model(emscad_sample: list[Example], extractor: FeatureExtractor) -> ScoringModel:
    """One model on EMSCAD sample + fixture train split, both CV schemes, 3 folds (~5 s)."""
    examples = [Example(e.text, e.label, e.source, e.language, e.site) for e in emscad_sample]
    return train(examples + fixture_train_examples(), extractor, seed=3, folds=3, review_budget=20)


@pytest.fixture(scope="session")
def frozen_set() -> EvaluationSet:
    return frozen_evaluation_set(get_settings().emscad_train_csv)


def build_fixture_warehouse(path: Path, extractor: FeatureExtractor) -> None:
    """All 371 fixture ads as crawled ads with features and cross-ad features; the train split labelled."""
    ads = load_ads()
    with session(path) as con:
        upsert_ads(
            con,
            [AdRow(a["site"], f"http://127.0.0.1/{a['site']}/{a['ref']}", a["title"], a["body"],
                   external_id=a["ref"]) for a in ads],
            run_id=None,
        )
        extract_pending(con, extractor)
        compute_cross_ad_features(con)
        import_labels(
            con, [(a["site"], a["ref"], bool(a["label"])) for a in ads if a["split"] == "train"],
            source="fixture", analyst="fixture-import",
        )


@pytest.fixture(scope="session")
def fixture_warehouse(tmp_path_factory: pytest.TempPathFactory, extractor: FeatureExtractor) -> Path:
    """A template warehouse file; tests copy it (``copy_warehouse``) before writing to it."""
    path = tmp_path_factory.mktemp("fixture-warehouse") / "lw.duckdb"
    build_fixture_warehouse(path, extractor)
    return path


def reference_training_examples() -> list[Example]:
    """What `lurewatch train` trains on besides analysts' labels: the fixture's train split, EMSCAD (minus the
    frozen fifth), the hand-written training corpus, pracuj.pl even ids and the even lines of the Telegram chat."""
    settings = get_settings()
    return standalone_training_examples(settings.emscad_train_csv, settings.training_corpus_dir,
                                        settings.shared_data_dir)


@pytest.fixture(scope="session")
def reference_model(extractor: FeatureExtractor) -> ScoringModel:
    """The production recipe on the full reference training data (grouped 3-fold CV only, ~30 s)."""
    return train(reference_training_examples(), extractor, seed=2026, folds=3, schemes=("grouped",))
