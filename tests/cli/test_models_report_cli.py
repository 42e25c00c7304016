"""`lurewatch models show --html` and `models compare` as users run them: the installed script, a real warehouse with
two real LightGBM models, the real frozen evaluation set."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from features import FeatureExtractor
from pipeline.evaluation_set import fixture_examples
from pipeline.model_registry import champion_version, register
from pipeline.train import train
from tests.cli.conftest import assert_one_error_line, run_cli
from warehouse import session


@pytest.fixture(scope="module")
def two_models(champion_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    folder = tmp_path_factory.mktemp("cli-models")
    db = folder / "lw.duckdb"
    shutil.copyfile(champion_warehouse, db)
    shutil.copytree(champion_warehouse.parent / "models", folder / "models")
    examples = fixture_examples("train")
    other = train(examples[: len(examples) * 3 // 4], FeatureExtractor(), seed=4, folds=2, schemes=("grouped",),
                  review_budget=20)
    with session(db) as con:
        # the copied registry row points at the original model folder, which stays in place for the session
        champion = champion_version(con)
        challenger = register(con, other, folder / "models", created_by="test", promote=False)
    assert champion is not None
    return db, champion, challenger


def test_models_show_html_writes_the_report(two_models: tuple[Path, str, str], tmp_path: Path) -> None:
    db, champion, challenger = two_models
    target = tmp_path / "report.html"
    result = run_cli("models", "show", challenger, "--html", target, "--db", db)
    assert result.returncode == 0, result.stderr
    assert f"model report written to {target}" in result.stdout
    page = target.read_text(encoding="utf-8")
    for section in ("summary", "curves", "confusion", "languages", "sites", "features", "training-data", "champion"):
        assert f'<section id="{section}">' in page
    assert challenger in page and champion in page.split('<section id="champion">')[1]
    assert not list(tmp_path.glob(".*.tmp")), "written through a temporary file, renamed when complete"


def test_models_show_html_into_a_missing_folder_is_one_error_line(two_models: tuple[Path, str, str],
                                                                  tmp_path: Path) -> None:
    db, _, _ = two_models
    result = run_cli("models", "show", "--html", tmp_path / "missing" / "report.html", "--db", db)
    assert_one_error_line(result, "--html")


def test_models_compare_prints_whole_headers_and_slices(two_models: tuple[Path, str, str]) -> None:
    db, champion, challenger = two_models
    result = run_cli("models", "compare", champion, challenger, "--db", db)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert f"A = {champion} (alert threshold" in result.stdout and f"B = {challenger} (alert threshold" in result.stdout
    header = next(line for line in lines if line.startswith("slice"))
    assert re.search(r"PR-AUC A \[95% CI\]\s+PR-AUC B \[95% CI\]\s+delta", header)
    for name in ("overall", "lang=lv", "lang=et", "site=balticjobs", "site=skelbimai"):
        row = next(line for line in lines if line.startswith(name + " "))
        assert re.search(r"\d\.\d{3}( \[\d\.\d{3}, \d\.\d{3}\])?", row)
    assert "alert decisions that differ:" in result.stdout


def test_models_compare_with_an_unknown_version_is_one_error_line(two_models: tuple[Path, str, str]) -> None:
    db, champion, _ = two_models
    assert_one_error_line(run_cli("models", "compare", champion, "m-none", "--db", db), "m-none")
