"""The alert threshold for a review budget: the NGO reviews about N ads a week (``settings.review_budget``).

A real board publishes ``weekly_volume`` new ads a week, ``prevalence`` of them lures. At a threshold ``t`` the
expected number of alerts a week is ``volume * (prevalence * recall(t) + (1 - prevalence) * false_alarm_rate(t))``,
with recall and false-alarm rate read off the template-grouped out-of-fold scores of the labelled ads (which include
hard negatives of every language). The threshold is the lowest score whose expected alerts fit the budget.

A crawled week at least as large as ``weekly_volume`` is real volume: then the threshold is the score of the N-th
riskiest ad first seen in the last 7 days (so N ads of that week cross it). A smaller crawled week (the bundled
fixture sites publish a few hundred ads, an eighth of them lures) says nothing about a real board's volume or base
rate, so it never sets the threshold.

Either way the expected recall and precision at the threshold are recorded with it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

DEFAULT_WEEKLY_VOLUME = 1000
DEFAULT_PREVALENCE = 0.01


def _nth_highest(scores: np.ndarray, n: int) -> float:
    ordered = np.sort(np.asarray(scores, dtype=float))[::-1]
    return float(ordered[min(n, len(ordered)) - 1]) if len(ordered) else 0.5


def expected_alerts(
    threshold: float, labels: np.ndarray, scores: np.ndarray, weekly_volume: int, prevalence: float
) -> tuple[float, float, float]:
    """(alerts a week, recall, false-alarm rate) expected at ``threshold`` on a board of that volume and base rate."""
    labels = np.asarray(labels, dtype=int)
    scores = np.asarray(scores, dtype=float)
    lures, legit = scores[labels == 1], scores[labels == 0]
    recall = float((lures >= threshold).mean()) if len(lures) else 0.0
    false_alarms = float((legit >= threshold).mean()) if len(legit) else 0.0
    alerts = weekly_volume * (prevalence * recall + (1 - prevalence) * false_alarms)
    return alerts, recall, false_alarms


def volume_threshold(
    budget: int, labels: np.ndarray, scores: np.ndarray, weekly_volume: int, prevalence: float
) -> float:
    """The lowest out-of-fold score at which the expected alerts a week stay within ``budget``."""
    candidates = np.unique(np.asarray(scores, dtype=float))  # ascending
    lo, hi = 0, len(candidates) - 1
    best = float(candidates[-1]) if len(candidates) else 0.5
    while lo <= hi:  # expected alerts fall as the threshold rises: binary search
        mid = (lo + hi) // 2
        alerts, _, _ = expected_alerts(float(candidates[mid]), labels, scores, weekly_volume, prevalence)
        if alerts <= budget:
            best, hi = float(candidates[mid]), mid - 1
        else:
            lo = mid + 1
    return best


def budget_threshold(
    budget: int,
    oof_labels: np.ndarray,
    oof_scores: np.ndarray,
    week_scores: np.ndarray | None = None,
    *,
    weekly_volume: int = DEFAULT_WEEKLY_VOLUME,
    prevalence: float = DEFAULT_PREVALENCE,
) -> dict[str, Any]:
    """The alert threshold and what to expect at it. ``oof_scores`` and ``week_scores`` are on the same scale."""
    if budget < 1:
        raise ValueError(f"review budget must be at least 1 ad a week, got {budget}")
    if weekly_volume < 1:
        raise ValueError(f"weekly volume must be at least 1 ad, got {weekly_volume}")
    week = np.asarray(week_scores if week_scores is not None else [], dtype=float)
    if len(week) >= weekly_volume and len(week) > budget:
        threshold = _nth_highest(week, budget)
        basis = f"the {budget}th highest score among {len(week)} ads first seen in the last 7 days"
    else:
        threshold = volume_threshold(budget, oof_labels, oof_scores, weekly_volume, prevalence)
        basis = (
            f"{budget} alerts a week expected on {weekly_volume} new ads a week with {prevalence:.1%} lures "
            f"(recall and false-alarm rate out of fold on {len(oof_scores)} labelled ads)"
        )
    alerts, recall, false_alarms = expected_alerts(threshold, oof_labels, oof_scores, weekly_volume, prevalence)
    true_alerts = weekly_volume * prevalence * recall
    precision = true_alerts / alerts if alerts else float("nan")
    return {
        "review_budget": budget,
        "weekly_volume": weekly_volume,
        "prevalence": prevalence,
        "threshold": threshold,
        "basis": basis,
        "expected_alerts": alerts,
        "expected_recall": recall,
        "expected_false_alarm_rate": false_alarms,
        "expected_precision": precision,
        "expected_precision_basis": (
            f"lures among the expected alerts at {prevalence:.1%} prevalence (out-of-fold recall {recall:.2f}, "
            f"false-alarm rate {false_alarms:.3f})"
        ),
        "week_ads_at_or_above": int((week >= threshold).sum()) if len(week) else None,
    }
