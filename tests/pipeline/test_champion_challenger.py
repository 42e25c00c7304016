"""Model registry: the first model is promoted automatically, a challenger only if it beats the champion on the
frozen evaluation set, every decision is recorded, and rollback restores the previous champion."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from features import FeatureExtractor
from lurewatch.cli import app
from pipeline.champion import compare_versions, decide
from pipeline.evaluation_set import EvaluationSet, exclude_evaluation_rows
from pipeline.model_registry import champion_version, list_models, register, rollback
from pipeline.scoring_model import ScoringModel
from pipeline.train import train
from pipeline.training_data import Example
from warehouse import session


@pytest.fixture(scope="module")
def weak_model(emscad_sample: list[Example], extractor: FeatureExtractor) -> ScoringModel:
    """Trained on shuffled labels: it ranks no better than chance."""
    rng = random.Random(5)
    labels = [e.label for e in emscad_sample]
    rng.shuffle(labels)
    examples = [Example(e.text, y, "emscad", "en", "emscad") for e, y in zip(emscad_sample, labels, strict=True)]
    return train(examples, extractor, seed=5, folds=3, schemes=("grouped",))


@pytest.fixture(scope="module")
def registry(
    tmp_path_factory: pytest.TempPathFactory,
    weak_model: ScoringModel,
    small_model: ScoringModel,
    frozen_set: EvaluationSet,
    extractor: FeatureExtractor,
) -> tuple[Path, dict[str, str]]:
    """weak (first, auto-promoted) -> good (beats it, promoted) -> weak again (refused)."""
    db = tmp_path_factory.mktemp("registry") / "lw.duckdb"
    models = db.parent / "models"
    versions: dict[str, str] = {}
    with session(db) as con:
        for name, model in (("first", weak_model), ("good", small_model), ("worse", weak_model)):
            versions[name] = register(con, model, models, created_by="tester", promote=False)
            decide(con, versions[name], frozen_set, extractor, actor="tester")
    return db, versions


def test_first_model_is_promoted_automatically(registry: tuple[Path, dict[str, str]]) -> None:
    """With no champion, the first registered model becomes champion and the comparison says why."""
    db, versions = registry
    with session(db) as con:
        row = con.execute(
            "SELECT champion, decision, reason FROM model_comparisons WHERE challenger = ?", [versions["first"]]
        ).fetchall()[0]
    assert row[0] is None and row[1] == "promoted" and "first model" in row[2]


def test_better_challenger_is_promoted_and_the_old_champion_retired(registry: tuple[Path, dict[str, str]]) -> None:
    """A challenger with higher PR-AUC on the same frozen rows replaces the champion; both metrics are stored."""
    db, versions = registry
    with session(db) as con:
        row = con.execute(
            "SELECT champion, decision, eval_rows, challenger_metrics, champion_metrics FROM model_comparisons "
            "WHERE challenger = ?",
            [versions["good"]],
        ).fetchall()[0]
        statuses = {r.version: r.status for r in list_models(con)}
    assert row[0] == versions["first"] and row[1] == "promoted"
    new, old = json.loads(row[3]), json.loads(row[4])
    assert new["overall"]["n"] == old["overall"]["n"] == row[2]
    assert new["overall"]["pr_auc"] > old["overall"]["pr_auc"]
    assert statuses[versions["first"]] == "retired"


def test_worse_challenger_is_refused_and_the_champion_stays(registry: tuple[Path, dict[str, str]]) -> None:
    """A challenger that does not beat the champion is rejected and never scores new ads."""
    db, versions = registry
    with session(db) as con:
        decision = con.execute(
            "SELECT decision, reason FROM model_comparisons WHERE challenger = ?", [versions["worse"]]
        ).fetchall()[0]
        assert champion_version(con) == versions["good"]
        statuses = {r.version: r.status for r in list_models(con)}
    assert decision[0] == "rejected" and "does not beat" in decision[1]
    assert statuses[versions["worse"]] == "rejected"


def test_rows_a_model_trained_on_are_left_out_of_its_comparison(
    registry: tuple[Path, dict[str, str]], frozen_set: EvaluationSet, small_model: ScoringModel,
    extractor: FeatureExtractor,
) -> None:
    """The good model saw some held-out EMSCAD rows (it was trained on a random sample): they are not scored."""
    db, versions = registry
    with session(db) as con:
        rows, first, second = compare_versions(con, versions["first"], versions["good"], frozen_set, extractor)
    assert rows < len(frozen_set.examples)
    assert first["overall"]["n"] == second["overall"]["n"] == rows
    kept, dropped = exclude_evaluation_rows(frozen_set.examples[:5], frozen_set)
    assert kept == [] and dropped == 5


def test_rollback_restores_the_previous_champion_then_refuses_to_go_further(
    registry: tuple[Path, dict[str, str]],
) -> None:
    """`lurewatch models rollback` puts the previous champion back in one command; with no earlier one it says so."""
    db, versions = registry
    runner = CliRunner()
    listed = runner.invoke(app, ["models", "list", "--db", str(db)])
    assert listed.exit_code == 0 and versions["good"] in listed.output and "champion" in listed.output
    result = runner.invoke(app, ["models", "rollback", "--db", str(db)])
    assert result.exit_code == 0, result.output
    with session(db) as con:
        assert champion_version(con) == versions["first"]
        statuses = {r.version: r.status for r in list_models(con)}
        assert statuses[versions["good"]] == "rolled_back"
        events = con.execute("SELECT event FROM model_events WHERE version = ? ORDER BY event_id",
                             [versions["first"]]).fetchall()
        with pytest.raises(LookupError, match="nothing to roll back"):
            rollback(con, "tester")
    assert [e[0] for e in events] == ["registered", "promoted", "retired", "promoted"]
