"""Ranking and alert metrics with stratified bootstrap confidence intervals.

:func:`evaluate_scores` reports, for one slice of scored rows, PR-AUC (average precision, as sklearn's
``average_precision_score``), ROC-AUC, recall and false-alarm rate at an alert threshold (a row is flagged when
``score >= threshold``), precision among the flagged rows and precision among the ``review_budget`` riskiest
rows, each as an :class:`Estimate` with a percentile interval.

The bootstrap is stratified: every replicate resamples the lures and the legitimate rows separately, with
replacement, so it keeps the slice's class counts (a small slice never produces a replicate without lures).
Replicates are computed as matrices in chunks; average precision and ROC-AUC are vectorised re-implementations
that handle tied scores exactly as sklearn does (``tests/pipeline/test_bootstrap.py`` checks them against
sklearn).

Undefined metrics come back as ``Estimate(None, None, None)``: without lures there is no PR-AUC, ROC-AUC,
recall or precision; without legitimate rows no false-alarm rate or ROC-AUC; with nothing flagged no precision
at the threshold. A replicate in which a metric is undefined (nothing flagged in that replicate) is left out
of that metric's interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import average_precision_score, roc_auc_score

CHUNK_CELLS = 2_000_000  # replicate-matrix cells computed at a time (bounds memory for large slices)


@dataclass(frozen=True)
class Estimate:
    value: float | None  # None when undefined (e.g. PR-AUC of a slice with one class)
    low: float | None
    high: float | None

    def fmt(self, digits: int = 3) -> str:
        """``"0.912 [0.871, 0.944]"``, ``"0.912"`` without an interval, ``"n/a"`` when undefined."""
        if self.value is None:
            return "n/a"
        point = f"{self.value:.{digits}f}"
        if self.low is None or self.high is None:
            return point
        return f"{point} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


UNDEFINED = Estimate(None, None, None)


def _interval(value: float | None, replicates: np.ndarray | None, level: float) -> Estimate:
    if value is None:
        return UNDEFINED
    if replicates is None or replicates.size == 0:
        return Estimate(value, None, None)
    defined = replicates[~np.isnan(replicates)]
    if defined.size == 0:
        return Estimate(value, None, None)
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(defined, [tail, 100.0 - tail])
    return Estimate(value, float(low), float(high))


def average_precision_rows(scores: np.ndarray, n_pos: int) -> np.ndarray:
    """Average precision of each row of ``scores`` whose first ``n_pos`` columns are the positives.

    Tied scores form one step of the precision-recall curve (sklearn's definition): every positive contributes
    the precision measured at the end of its group of tied scores, divided by the number of positives.
    """
    n_rows, n = scores.shape
    labels = np.zeros(n, dtype=bool)
    labels[:n_pos] = True
    order = np.argsort(-scores, axis=1, kind="stable")
    ordered = np.take_along_axis(scores, order, axis=1)
    is_pos = labels[order]
    precision = np.cumsum(is_pos, axis=1) / np.arange(1, n + 1)
    group_end = np.ones((n_rows, n), dtype=bool)
    group_end[:, :-1] = ordered[:, :-1] != ordered[:, 1:]
    end_index = np.where(group_end, np.arange(n), n)
    end_of_group = np.minimum.accumulate(end_index[:, ::-1], axis=1)[:, ::-1]
    at_group_end = np.take_along_axis(precision, end_of_group, axis=1)
    return np.asarray((at_group_end * is_pos).sum(axis=1) / n_pos, dtype=float)


def roc_auc_rows(scores: np.ndarray, n_pos: int) -> np.ndarray:
    """ROC-AUC of each row (first ``n_pos`` columns positive): Mann-Whitney U with average ranks for ties."""
    n_neg = scores.shape[1] - n_pos
    ranks = rankdata(scores, axis=1, method="average")
    u = ranks[:, :n_pos].sum(axis=1) - n_pos * (n_pos + 1) / 2.0
    return np.asarray(u / (n_pos * n_neg), dtype=float)


def precision_at_k_rows(scores: np.ndarray, n_pos: int, k: int) -> np.ndarray:
    """Share of positives among the ``k`` highest scores of each row (first ``n_pos`` columns positive).

    Rows tied with the k-th score share the remaining places: they count with the share of positives among
    them (the expected precision when ties are broken at random), so the result does not depend on row order.
    """
    kth = -np.partition(-scores, k - 1, axis=1)[:, k - 1 : k]
    above = scores > kth
    tied = scores == kth
    n_above = above.sum(axis=1)
    pos_above = above[:, :n_pos].sum(axis=1)
    n_tied = tied.sum(axis=1)
    pos_tied = tied[:, :n_pos].sum(axis=1)
    return np.asarray((pos_above + (k - n_above) * pos_tied / n_tied) / k, dtype=float)


def _validate(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels)
    s = np.asarray(scores, dtype=float)
    if y.ndim != 1 or s.ndim != 1 or y.shape != s.shape:
        raise ValueError(f"labels and scores must be 1-D arrays of the same length, got {y.shape} and {s.shape}")
    if y.size and not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 (legitimate) or 1 (lure)")
    if not np.isfinite(s).all():
        raise ValueError("scores must be finite")
    return y.astype(bool), s


def evaluate_scores(
    labels: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    review_budget: int | None = None,
    n_boot: int = 1000,
    seed: int = 2026,
    level: float = 0.95,
) -> dict[str, Any]:
    """Metrics of one slice with stratified-bootstrap percentile intervals (see the module docstring).

    Keys: ``n``, ``lures``, ``legit``, ``flagged`` (rows with ``score >= threshold``), ``budget_k``
    (``min(review_budget, n)`` or None), ``pr_auc``, ``roc_auc``, ``recall``, ``false_alarm_rate``,
    ``precision_at_threshold``, ``precision_at_budget`` (:class:`Estimate`), and the arguments ``threshold``,
    ``review_budget``, ``n_boot``, ``level``, ``seed``. ``n_boot=0`` gives point estimates without intervals.
    """
    if n_boot < 0:
        raise ValueError("n_boot must be >= 0")
    if not 0.0 < level < 1.0:
        raise ValueError("level must be in (0, 1)")
    if review_budget is not None and review_budget < 1:
        raise ValueError("review_budget must be >= 1 (or None)")
    y, s = _validate(labels, scores)
    pos, neg = s[y], s[~y]
    n_pos, n_neg, n = pos.size, neg.size, s.size
    flagged_pos, flagged_neg = pos >= threshold, neg >= threshold
    flagged = int(flagged_pos.sum() + flagged_neg.sum())
    k = min(review_budget, n) if review_budget is not None and n else None

    # point estimates
    pr_auc = float(average_precision_score(y, s)) if n_pos else None
    roc_auc = float(roc_auc_score(y, s)) if n_pos and n_neg else None
    recall = float(flagged_pos.mean()) if n_pos else None
    far = float(flagged_neg.mean()) if n_neg else None
    prec_thr = float(flagged_pos.sum() / flagged) if n_pos and flagged else None
    prec_budget = None
    if n_pos and k is not None:
        prec_budget = float(precision_at_k_rows(np.concatenate([pos, neg])[None, :], n_pos, k)[0])

    # replicates: the first n_pos columns are resampled lures, the rest resampled legitimate rows
    reps: dict[str, np.ndarray] = {}
    if n_boot and n:
        rng = np.random.default_rng(seed)
        pos_idx = rng.integers(0, n_pos, size=(n_boot, n_pos)) if n_pos else np.empty((n_boot, 0), dtype=int)
        neg_idx = rng.integers(0, n_neg, size=(n_boot, n_neg)) if n_neg else np.empty((n_boot, 0), dtype=int)
        if n_pos:
            reps["recall"] = flagged_pos[pos_idx].mean(axis=1)
        if n_neg:
            reps["far"] = flagged_neg[neg_idx].mean(axis=1)
        if n_pos:
            tp = flagged_pos[pos_idx].sum(axis=1)
            fl = tp + (flagged_neg[neg_idx].sum(axis=1) if n_neg else 0)
            with np.errstate(invalid="ignore", divide="ignore"):
                reps["prec_thr"] = np.where(fl > 0, tp / np.maximum(fl, 1), np.nan)
            chunk = max(1, CHUNK_CELLS // n)
            parts: dict[str, list[np.ndarray]] = {"pr_auc": [], "roc_auc": [], "prec_budget": []}
            for start in range(0, n_boot, chunk):
                rows = slice(start, start + chunk)
                matrix = np.concatenate([pos[pos_idx[rows]], neg[neg_idx[rows]]], axis=1)
                parts["pr_auc"].append(average_precision_rows(matrix, n_pos))
                if n_neg:
                    parts["roc_auc"].append(roc_auc_rows(matrix, n_pos))
                if k is not None:
                    parts["prec_budget"].append(precision_at_k_rows(matrix, n_pos, k))
            reps.update({name: np.concatenate(chunks) for name, chunks in parts.items() if chunks})

    return {
        "n": int(n),
        "lures": int(n_pos),
        "legit": int(n_neg),
        "flagged": flagged,
        "budget_k": k,
        "pr_auc": _interval(pr_auc, reps.get("pr_auc"), level),
        "roc_auc": _interval(roc_auc, reps.get("roc_auc"), level),
        "recall": _interval(recall, reps.get("recall"), level),
        "false_alarm_rate": _interval(far, reps.get("far"), level),
        "precision_at_threshold": _interval(prec_thr, reps.get("prec_thr"), level),
        "precision_at_budget": _interval(prec_budget, reps.get("prec_budget"), level),
        "threshold": float(threshold),
        "review_budget": review_budget,
        "n_boot": n_boot,
        "level": level,
        "seed": seed,
    }
