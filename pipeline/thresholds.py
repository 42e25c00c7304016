"""The alert threshold for a review budget: the NGO reviews the top N ads a week (``settings.review_budget``).

With a week of crawled ads, the threshold is the score of the N-th riskiest ad first seen in the last 7 days
(so about N ads a week cross it). Without one (e.g. training on EMSCAD only) it is the score of the N-th
riskiest labelled ad out of fold. Either way the expected precision at that budget is recorded: the share
of lures among labelled ads scoring at or above the threshold (out of fold), and, for a crawled week, the
mean calibrated probability of the ads that would be reviewed.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _nth_highest(scores: np.ndarray, n: int) -> float:
    ordered = np.sort(np.asarray(scores, dtype=float))[::-1]
    return float(ordered[min(n, len(ordered)) - 1]) if len(ordered) else 0.5


def budget_threshold(
    budget: int, oof_labels: np.ndarray, oof_scores: np.ndarray, week_scores: np.ndarray | None = None
) -> dict[str, Any]:
    if budget < 1:
        raise ValueError(f"review budget must be at least 1 ad a week, got {budget}")
    week = np.asarray(week_scores if week_scores is not None else [], dtype=float)
    if len(week) > budget:
        threshold = _nth_highest(week, budget)
        basis = f"the {budget}th highest score among {len(week)} ads first seen in the last 7 days"
        model_estimate: float | None = float(np.sort(week)[::-1][:budget].mean())
    else:
        threshold = _nth_highest(oof_scores, budget)
        basis = f"the {budget}th highest out-of-fold score among {len(oof_scores)} labelled ads (no crawled week)"
        model_estimate = None
    above = np.asarray(oof_scores) >= threshold
    precision = float(np.asarray(oof_labels)[above].mean()) if above.any() else float("nan")
    return {
        "review_budget": budget,
        "threshold": threshold,
        "basis": basis,
        "expected_precision": precision,
        "expected_precision_basis": f"lure share of the {int(above.sum())} labelled ads at or above it (out of fold)",
        "mean_probability_of_reviewed": model_estimate,
    }
