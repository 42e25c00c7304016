"""Training the LightGBM scorer and estimating its quality with out-of-fold predictions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import scipy.sparse as sp
from sklearn.metrics import precision_recall_curve
from sklearn.model_selection import StratifiedKFold

from features import FEATURE_NAMES, FeatureExtractor
from pipeline.design_matrix import combine, select_text_columns, structured_matrix
from pipeline.metrics import summarize
from pipeline.text_vectorizer import text_matrix
from pipeline.training_data import Example, fingerprint

BASE_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 5,
    "feature_fraction": 0.5,
    "feature_pre_filter": False,
    "lambda_l2": 1.0,
    "verbosity": -1,
    "num_threads": 2,
    "deterministic": True,
    "force_col_wise": True,
}
NUM_ROUNDS = 300


@dataclass
class TrainedModel:
    booster: lgb.Booster
    structured_names: list[str]
    text_columns: np.ndarray
    params: dict[str, Any]
    threshold: float
    fingerprint: str
    metrics: dict[str, Any] = field(default_factory=dict)


def ensure_vectors(examples: Sequence[Example], extractor: FeatureExtractor) -> None:
    """Fill in lure feature vectors for examples that came without them (e.g. EMSCAD rows)."""
    todo = [e for e in examples if e.vector is None]
    if not todo:
        return
    found = extractor.extract_many([e.text for e in todo], langs=[e.language for e in todo])
    for example, feats in zip(todo, found, strict=True):
        example.vector = feats.vector()


def _params(labels: np.ndarray, seed: int) -> dict[str, Any]:
    positives = max(int(labels.sum()), 1)
    negatives = max(len(labels) - positives, 1)
    return {**BASE_PARAMS, "seed": seed, "scale_pos_weight": negatives / positives}


def _fit(
    structured: sp.csr_matrix, text: sp.csr_matrix, y: np.ndarray, params: dict[str, Any]
) -> tuple[lgb.Booster, np.ndarray]:
    columns = select_text_columns(text, y)
    data = lgb.Dataset(combine(structured, text, columns), label=y, params=params, free_raw_data=True)
    return lgb.train(params, data, num_boost_round=NUM_ROUNDS), columns


def best_f1_threshold(labels: np.ndarray, scores: np.ndarray) -> float:
    precision, recall, thresholds = precision_recall_curve(labels, scores)
    f1 = 2 * precision * recall / np.clip(precision + recall, 1e-12, None)
    return float(thresholds[int(np.argmax(f1[:-1]))]) if len(thresholds) else 0.5


def out_of_fold_scores(
    structured: sp.csr_matrix, text: sp.csr_matrix, y: np.ndarray, seed: int, folds: int = 5
) -> np.ndarray:
    """Each row scored by a model that never saw it (text columns selected inside the fold too)."""
    scores = np.zeros(len(y), dtype=float)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_idx, test_idx in splitter.split(np.zeros(len(y)), y):
        booster, columns = _fit(
            structured[train_idx], text[train_idx], y[train_idx], _params(y[train_idx], seed)
        )
        scores[test_idx] = booster.predict(combine(structured[test_idx], text[test_idx], columns))
    return scores


def train(
    examples: Sequence[Example], extractor: FeatureExtractor, *, seed: int = 2026, folds: int = 5
) -> TrainedModel:
    """Fit on all examples; metrics come from stratified out-of-fold predictions, per source too."""
    if len({e.label for e in examples}) < 2:
        raise ValueError("training needs both lure and not-lure examples")
    ensure_vectors(examples, extractor)
    names = list(FEATURE_NAMES)
    structured = structured_matrix([e.vector or {} for e in examples], names)
    text = text_matrix([e.text for e in examples])
    y = np.array([e.label for e in examples], dtype=int)
    oof = out_of_fold_scores(structured, text, y, seed, folds)
    threshold = best_f1_threshold(y, oof)
    metrics: dict[str, Any] = {"cv_folds": folds, "overall": summarize(y, oof, threshold)}
    for source in sorted({e.source for e in examples}):
        mask = np.array([e.source == source for e in examples])
        metrics[f"source={source}"] = summarize(y[mask], oof[mask], threshold)
    params = _params(y, seed)
    booster, columns = _fit(structured, text, y, params)
    return TrainedModel(booster, names, columns, params, threshold, fingerprint(examples), metrics)
