"""Fitting the scorer's parts on one set of rows, and computing raw log-odds for other rows.

Raw log-odds = linear text model margin (ridge on all hashed TF-IDF columns) + LightGBM correction on the
structured features and a chi2-selected subset of TF-IDF columns; LightGBM starts from the text model's
out-of-fold margins (``init_score``), so it learns only what the wording does not already say.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import scipy.sparse as sp

from pipeline.design_matrix import combine, select_text_columns
from pipeline.folds import make_folds
from pipeline.text_model import LinearTextModel, fit_text_model
from pipeline.text_vectorizer import TextWeights

BASE_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 4,
    "min_data_in_leaf": 10,
    "feature_fraction": 0.7,
    "feature_pre_filter": False,
    "lambda_l2": 1.0,
    "verbosity": -1,
    "num_threads": 1,
    "deterministic": True,
    "force_col_wise": True,
}
NUM_ROUNDS = 200
INNER_FOLDS = 5
# OpenMP threads spin while waiting: on a busy 2-core machine two threads made small fits 15x slower than one.
PARALLEL_ROWS = 20_000


@dataclass
class FittedParts:
    weights: TextWeights
    text_model: LinearTextModel
    text_columns: np.ndarray
    booster: lgb.Booster
    params: dict[str, Any]


def inner_folds(rows: int) -> int:
    """Folds for the text model's out-of-fold margins: fewer on large data, where each fold is plenty."""
    return INNER_FOLDS if rows < PARALLEL_ROWS else 3


def booster_params(labels: np.ndarray, seed: int) -> dict[str, Any]:
    """Class imbalance: positives weighted by negatives/positives (the text model balances its classes too)."""
    positives = max(int(labels.sum()), 1)
    negatives = max(len(labels) - positives, 1)
    threads = 2 if len(labels) >= PARALLEL_ROWS else 1
    return {
        **BASE_PARAMS,
        "seed": seed,
        "num_threads": threads,
        "scale_pos_weight": negatives / positives,
        "num_rounds": NUM_ROUNDS,
    }


def fit_parts(
    counts: sp.csr_matrix,
    structured: sp.csr_matrix,
    labels: np.ndarray,
    groups: np.ndarray,
    seed: int,
    monotone: Sequence[int] = (),
) -> FittedParts:
    """``monotone``: one constraint per structured column (+1: more of it never lowers the score; 0: free)."""
    weights = TextWeights.fit(counts)
    tfidf = weights.transform(counts)
    inner = make_folds(labels, groups, "grouped", inner_folds(len(labels)), seed)
    text_model, text_oof = fit_text_model(tfidf, labels, iter(inner))
    columns = select_text_columns(tfidf, labels)
    params = booster_params(labels, seed)
    if any(monotone):
        params["monotone_constraints"] = [int(m) for m in monotone] + [0] * len(columns)
        params["monotone_constraints_method"] = "advanced"
    train_params = {k: v for k, v in params.items() if k != "num_rounds"}
    data = lgb.Dataset(
        combine(structured, tfidf, columns), label=labels, init_score=text_oof, params=train_params, free_raw_data=True
    )
    booster = lgb.train(train_params, data, num_boost_round=params["num_rounds"])
    return FittedParts(weights, text_model, columns, booster, params)


def raw_scores(parts: FittedParts, counts: sp.csr_matrix, structured: sp.csr_matrix) -> np.ndarray:
    tfidf = parts.weights.transform(counts)
    trees = parts.booster.predict(combine(structured, tfidf, parts.text_columns), raw_score=True)
    return parts.text_model.margin(tfidf) + np.asarray(trees, dtype=float)
