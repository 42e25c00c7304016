"""The model report per version (issue 13, item 3), `models compare`'s slices, and no identical challengers in the
registry: a real warehouse (the fixture ads, extracted), real LightGBM models, the real frozen evaluation set."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from features import FeatureExtractor
from fixture_sites import load_ads
from lurewatch.settings import get_settings
from pipeline.label_import import import_labels
from pipeline.model_registry import list_models, register
from pipeline.model_report import (
    ModelReport,
    build_report,
    compare_models,
    comparison_lines,
    render_html,
    report_evaluation_set,
)
from pipeline.retraining import register_and_decide, train_challenger
from pipeline.scoring_model import ScoringModel
from pipeline.training_set import TrainingSet, assemble
from warehouse import session

HOSTILE_USER = '<img src=x onerror="alert(1)">'


@pytest.fixture(scope="module")
def registry(fixture_warehouse: Path, small_model: ScoringModel, extractor: FeatureExtractor,
             tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str, TrainingSet, ScoringModel]:
    """A warehouse with a champion (EMSCAD sample + fixture train) and a challenger trained by the production path
    (`assemble` + `train_challenger`: fixture labels in the warehouse, so its metrics carry the label ledger)."""
    folder = tmp_path_factory.mktemp("model-report")
    db = folder / "lw.duckdb"
    shutil.copyfile(fixture_warehouse, db)
    with session(db) as con:
        champion = register(con, small_model, folder / "models", created_by="test", promote=True)
        data = assemble(con, None)
    challenger_model = train_challenger(data, extractor, seed=5, folds=2, review_budget=20)
    with session(db) as con:
        challenger = register(con, challenger_model, folder / "models", created_by=HOSTILE_USER, promote=False,
                              parent_version=champion)
    return db, champion, challenger, data, challenger_model


@pytest.fixture(scope="module")
def report(registry: tuple[Path, str, str, TrainingSet, ScoringModel], extractor: FeatureExtractor) -> ModelReport:
    db, _, challenger, _, _ = registry
    with session(db) as con:
        evaluation = report_evaluation_set(con, get_settings().emscad_train_csv)
        return build_report(con, challenger, evaluation, extractor, n_boot=200)


def test_report_has_every_section_with_plausible_numbers(report: ModelReport) -> None:
    page = render_html(report)
    for section in ("summary", "curves", "confusion", "languages", "sites", "sources", "cross-validation",
                    "features", "training-data", "champion"):
        assert f'<section id="{section}">' in page, section
    # held-out rows: the fixture eval split and the EMSCAD fifth, both classes; the confusion matrix adds up
    assert report.eval_rows > 300 and 0 < report.eval_lures < report.eval_rows
    c = report.confusion
    assert c["tp"] + c["fp"] + c["fn"] + c["tn"] == report.eval_rows
    assert c["tp"] + c["fn"] == report.eval_lures
    for cell in ("tp", "fp", "fn", "tn"):
        assert f'data-cell="{cell}">{c[cell]:,}<' in page
    overall = report.slices[0]
    assert overall.name == "overall" and overall.n == report.eval_rows
    assert overall.pr_auc.value is not None and overall.pr_auc.low is not None and overall.pr_auc.high is not None
    assert overall.pr_auc.low <= overall.pr_auc.value <= overall.pr_auc.high
    assert 0.5 < overall.pr_auc.value <= 1.0  # far above the lure share: the model ranks
    # per language: all seven fixture languages, counts that add up to the rows, intervals shown
    languages = [r for r in report.slices if r.name.startswith("lang=")]
    assert {r.name[5:] for r in languages} >= {"en", "et", "fi", "lt", "lv", "pl", "ru"}
    assert sum(r.n for r in languages) == report.eval_rows
    sites = [r for r in report.slices if r.name.startswith("site=")]
    assert {r.name[5:] for r in sites} >= {"balticjobs", "skelbimai", "darbas-forum", "emscad"}
    assert sum(r.n for r in sites) == report.eval_rows
    lang_table = page.split('<section id="languages">')[1].split("</section>")[0]
    assert re.search(r"<td>lv</td><td>\d+</td><td>\d+</td>", lang_table)
    assert re.search(r"\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]", lang_table)
    # curves: a real PR curve (many points) and a calibration curve, as inline SVG
    assert len(report.curves.recall) > 20 and report.curves.recall[0] == 1.0
    assert 3 <= len(report.curves.calibration) <= 10
    assert sum(n for _, _, n in report.curves.calibration) == report.eval_rows
    assert page.count("<svg") >= 3 and page.count('class="series"') >= 4


def test_report_shows_top_features_training_data_and_the_difference_to_the_champion(
    report: ModelReport, registry: tuple[Path, str, str, TrainingSet, ScoringModel]
) -> None:
    _, champion, _, data, _ = registry
    page = render_html(report)
    structured = [f for f in report.gain if f.kind == "structured"]
    assert structured and report.gain[0].value >= report.gain[-1].value > 0
    positive = [f for f in report.text_ngrams if f.value > 0]
    negative = [f for f in report.text_ngrams if f.value < 0]
    assert len(positive) >= 5 and len(negative) >= 5
    assert all(f.name and not f.name.startswith("#") for f in report.text_ngrams)
    # the label ledger of the training run: fixture seed labels used, with their count
    used = data.ledger.to_dict()["by_origin"]["fixture seed"]["used"]
    assert f"<tr><td>fixture seed</td><td>{used:,}</td>" in page
    # the champion on the same rows, and the alert decisions that flipped
    assert report.champion == champion and report.compared_rows > 300
    assert [r.name for r in report.champion_slices] == [r.name for r in report.compared_slices]
    assert report.eval_flips is not None and report.eval_flips.n == report.compared_rows
    assert sum(n for n, _, _ in report.eval_flips.by_language.values()) == report.compared_rows
    assert champion in page.split('<section id="champion">')[1]
    assert 'data-where="evaluation rows"' in page


def test_report_escapes_every_text(report: ModelReport) -> None:
    page = render_html(report)
    assert HOSTILE_USER not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert "<script" not in page


def test_models_compare_has_language_and_site_slices_with_counts_and_intervals(
    registry: tuple[Path, str, str, TrainingSet, ScoringModel], extractor: FeatureExtractor
) -> None:
    db, champion, challenger, _, _ = registry
    with session(db) as con:
        evaluation = report_evaluation_set(con, get_settings().emscad_train_csv)
        comparison = compare_models(con, champion, challenger, evaluation, extractor, n_boot=200)
    lines = comparison_lines(comparison)
    assert lines[0].startswith(f"A = {champion} ") and lines[1].startswith(f"B = {challenger} ")
    header = next(line for line in lines if line.startswith("slice"))
    for title in ("PR-AUC A [95% CI]", "PR-AUC B [95% CI]", "delta", "recall A [95% CI]", "recall B [95% CI]"):
        assert title in header  # whole, never cut
    rows = {line.split()[0]: line for line in lines if re.match(r"(overall|lang=|site=|source=)", line)}
    assert {"overall", "lang=lv", "lang=ru", "site=balticjobs", "site=emscad"} <= set(rows)
    assert re.search(r"\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]", rows["lang=lv"])
    counts = [int(rows[name].split()[1].replace(",", "")) for name in rows if name.startswith("lang=")]
    assert sum(counts) == comparison.rows
    widths = {len(line) for line in lines if re.match(r"(slice|overall|lang=|site=|source=)", line)}
    assert len(widths) == 1  # aligned columns


def test_identical_challenger_is_not_registered_again_and_a_changed_one_reports_alert_flips(
    registry: tuple[Path, str, str, TrainingSet, ScoringModel], extractor: FeatureExtractor,
    tmp_path: Path,
) -> None:
    db, _, challenger, data, model = registry
    copy = tmp_path / "lw.duckdb"
    shutil.copyfile(db, copy)
    with session(copy) as con:
        before = [r.version for r in list_models(con)]
    again = register_and_decide(copy, model, data, extractor, models_dir=tmp_path / "models", actor="test")
    assert again.identical_to == challenger and again.version == challenger and not again.promoted
    assert "not registered: identical to " + challenger in again.lines()[0]
    with session(copy) as con:
        assert [r.version for r in list_models(con)] == before
    # an analyst decision changes the training data: a new model is registered, and the report says what flipped
    eval_lures = [a for a in load_ads() if a["split"] == "eval" and a["label"] == 1][:3]
    with session(copy) as con:
        import_labels(con, [(a["site"], a["ref"], True) for a in eval_lures], source="analyst", analyst="alice")
        changed = assemble(con, None)
    assert changed.examples and len(changed.examples) != len(data.examples)
    new_model = train_challenger(changed, extractor, seed=5, folds=2, review_budget=20)
    report = register_and_decide(copy, new_model, changed, extractor, models_dir=tmp_path / "models", actor="test")
    assert report.identical_to is None and report.version not in before
    assert report.alert_flips, "shadow scoring compared the alert decisions of both models"
    assert sum(v[0] for v in report.alert_flips.values()) == 371
    assert any("alert decisions that changed among current ads" in line for line in report.lines())
    assert np.isfinite(report.eval_rows)
