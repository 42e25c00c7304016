"""The ``lurewatch`` command as users run it: the installed script in a subprocess, on a real warehouse with a real
(small) champion model trained with LightGBM on the fixture's train split."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from features import FeatureExtractor
from pipeline.evaluation_set import fixture_examples
from pipeline.model_registry import load_champion, register
from pipeline.scoring_model import ScoringModel
from pipeline.train import train
from warehouse import session

LUREWATCH = Path(sys.executable).parent / "lurewatch"


@pytest.fixture(scope="session")
def champion_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse whose only content is a champion model (fixture train split, 2 folds: ~15 s)."""
    db = tmp_path_factory.mktemp("cli-warehouse") / "lw.duckdb"
    model = train(fixture_examples("train"), FeatureExtractor(), seed=3, folds=2, schemes=("grouped",),
                  review_budget=20)
    with session(db) as con:
        register(con, model, db.parent / "models", created_by="test", promote=True)
    return db


@pytest.fixture(scope="session")
def champion(champion_warehouse: Path) -> ScoringModel:
    with session(champion_warehouse) as con:
        model = load_champion(con)
    assert model is not None
    return model


def run_cli(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``lurewatch ARGS`` as a user types it (stdout and stderr captured: not a terminal)."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run([str(LUREWATCH), *map(str, args)], capture_output=True, text=True, cwd=cwd, env=full_env,
                          timeout=timeout, check=False)


def assert_one_error_line(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    """A non-zero exit with exactly one ``error: ...`` line on stderr, no traceback; the line is returned."""
    assert result.returncode != 0, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]
