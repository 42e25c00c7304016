"""Evaluation metrics for a ranked list of risk scores, overall and per slice (source, language, site)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

TOP_K = 20


def precision_at_k(labels: Sequence[int], scores: Sequence[float], k: int) -> float:
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")[:k]
    if len(order) == 0:
        return 0.0
    return float(np.asarray(labels)[order].mean())


def summarize(labels: Sequence[int], scores: Sequence[float], threshold: float = 0.5) -> dict[str, Any]:
    """PR-AUC, ROC-AUC, fraud-class F1 at ``threshold`` and precision of the top 20 (NaN where undefined)."""
    y = np.asarray(labels, dtype=int)
    s = np.asarray(scores, dtype=float)
    both_classes = 0 < y.sum() < len(y)
    return {
        "n": len(y),
        "positives": int(y.sum()),
        "pr_auc": float(average_precision_score(y, s)) if both_classes else float("nan"),
        "roc_auc": float(roc_auc_score(y, s)) if both_classes else float("nan"),
        "f1": float(f1_score(y, (s >= threshold).astype(int), zero_division=0)) if len(y) else float("nan"),
        "precision_at_20": precision_at_k(y, s, TOP_K),
    }


def sliced(
    labels: np.ndarray, scores: np.ndarray, slices: dict[str, Sequence[str | None]], threshold: float = 0.5
) -> dict[str, dict[str, Any]]:
    """``{"overall": ..., "source=emscad": ..., "lang=lv": ..., "site=balticjobs": ...}``."""
    table = {"overall": summarize(labels, scores, threshold)}
    for dimension, values in slices.items():
        column = np.array([v or "?" for v in values], dtype=object)
        for value in sorted(set(column)):
            mask = column == value
            table[f"{dimension}={value}"] = summarize(labels[mask], scores[mask], threshold)
    return table
