"""Retrain from analyst labels: train a challenger, compare it with the champion on the frozen evaluation set,
promote it only if it is better, and report what changed.

Labels are the latest lure / not-lure decision per ad in the warehouse (``source='analyst'`` from the review
app, ``'fixture'`` from fixture imports), plus the EMSCAD real-ads CSV unless ``include_emscad=False``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from features import FeatureExtractor
from lurewatch.settings import get_settings
from pipeline.model_registry import current_user
from pipeline.reference_data import reference_examples
from pipeline.retraining import (
    RetrainReport,
    read_training_set,
    register_and_decide,
    train_challenger,
)
from pipeline.scoring_model import ScoringModel
from pipeline.training_set import TrainingSet


@task(name="read-training-data", cache_policy=NO_CACHE)
def read_task(
    db: str, emscad_csv: str | None, emscad_limit: int | None, corpus_dir: str | None = None,
    shared_dir: str | None = None,
) -> TrainingSet:
    reference = reference_examples(Path(corpus_dir), Path(shared_dir) if shared_dir else None) if corpus_dir else []
    data = read_training_set(Path(db), Path(emscad_csv) if emscad_csv else None, emscad_limit, reference)
    get_run_logger().info(
        "%d labelled ads (%d left out for evaluation), label watermark %d, champion %s",
        len(data.examples), data.excluded, data.label_watermark, data.champion,
    )
    return data


@task(name="train-challenger", cache_policy=NO_CACHE)
def train_task(
    data: TrainingSet, seed: int, folds: int, review_budget: int, weekly_volume: int, prevalence: float
) -> ScoringModel:
    return train_challenger(data, FeatureExtractor(), seed=seed, folds=folds, review_budget=review_budget,
                            weekly_volume=weekly_volume, prevalence=prevalence)


@task(name="decide-and-report", cache_policy=NO_CACHE)
def decide_task(
    db: str, model: ScoringModel, data: TrainingSet, models_dir: str, actor: str, min_gain: float, movers: int
) -> RetrainReport:
    return register_and_decide(
        Path(db), model, data, FeatureExtractor(), models_dir=Path(models_dir), actor=actor, min_gain=min_gain,
        movers=movers,
    )


@flow(name="retrain", log_prints=True)
def retrain(
    db_path: str | None = None,
    include_emscad: bool = True,
    emscad_limit: int | None = None,
    folds: int = 5,
    min_gain: float = 0.0,
    movers: int = 10,
    actor: str | None = None,
    models_dir: str | None = None,
) -> dict[str, Any]:
    """Returns the report as a dict (``report["lines"]`` is the printable version)."""
    settings = get_settings(db_path=db_path, models_dir=models_dir)
    database = str(settings.database)
    emscad = str(settings.emscad_train_csv) if include_emscad else None
    corpus = str(settings.training_corpus_dir) if include_emscad else None
    data = read_task(database, emscad, emscad_limit, corpus, str(settings.shared_data_dir))
    model = train_task(data, settings.random_seed, folds, settings.review_budget, settings.weekly_volume,
                       settings.prevalence)
    report = decide_task(
        database, model, data, str(settings.models), actor or current_user(settings), min_gain, movers
    )
    lines = report.lines()
    for line in lines:
        print(line)
    return {**report.to_dict(), "lines": lines}
