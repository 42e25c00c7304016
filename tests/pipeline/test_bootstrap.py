"""Metrics with stratified-bootstrap intervals: known answers on hand-made score arrays."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from pipeline.bootstrap import (
    Estimate,
    average_precision_rows,
    evaluate_scores,
    precision_at_k_rows,
    roc_auc_rows,
)

ESTIMATES = ("pr_auc", "roc_auc", "recall", "false_alarm_rate", "precision_at_threshold", "precision_at_budget")


def noisy_slice(n: int = 400, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """About 30 % lures whose scores overlap the legitimate ones (an imperfect but useful ranking)."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.3).astype(int)
    scores = (0.3 * labels + rng.random(n)) / 1.3
    return labels, scores


def test_perfect_ranking_gives_one_with_a_degenerate_interval() -> None:
    labels = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    scores = np.array([0.9, 0.8, 0.7, 0.4, 0.3, 0.2, 0.2, 0.1])
    result = evaluate_scores(labels, scores, threshold=0.5, review_budget=3)
    for name in ("pr_auc", "roc_auc", "recall", "precision_at_threshold", "precision_at_budget"):
        assert result[name] == Estimate(1.0, 1.0, 1.0), name
    assert result["false_alarm_rate"] == Estimate(0.0, 0.0, 0.0)
    assert (result["n"], result["lures"], result["legit"], result["flagged"], result["budget_k"]) == (8, 3, 5, 3, 3)
    assert result["pr_auc"].fmt() == "1.000 [1.000, 1.000]"


def test_point_estimates_match_sklearn_and_lie_inside_their_intervals() -> None:
    labels, scores = noisy_slice()
    result = evaluate_scores(labels, scores, threshold=0.6, review_budget=50)
    assert result["pr_auc"].value == pytest.approx(average_precision_score(labels, scores))
    assert result["roc_auc"].value == pytest.approx(roc_auc_score(labels, scores))
    flagged = scores >= 0.6
    assert result["recall"].value == pytest.approx(flagged[labels == 1].mean())
    assert result["false_alarm_rate"].value == pytest.approx(flagged[labels == 0].mean())
    assert result["precision_at_threshold"].value == pytest.approx(labels[flagged].mean())
    top = np.argsort(-scores, kind="stable")[:50]
    assert result["precision_at_budget"].value == pytest.approx(labels[top].mean())
    for name in ESTIMATES:
        est = result[name]
        assert est.low is not None and est.high is not None and est.value is not None, name
        assert est.low <= est.value <= est.high, name
        assert est.low < est.high, name  # an imperfect ranking on 400 rows has real uncertainty


def test_wider_level_gives_wider_intervals() -> None:
    labels, scores = noisy_slice()
    narrow = evaluate_scores(labels, scores, threshold=0.6, level=0.5)["pr_auc"]
    wide = evaluate_scores(labels, scores, threshold=0.6, level=0.99)["pr_auc"]
    assert wide.low is not None and wide.high is not None and narrow.low is not None and narrow.high is not None
    assert wide.low < narrow.low and narrow.high < wide.high


def test_slice_without_lures_has_no_lure_metrics() -> None:
    result = evaluate_scores(np.zeros(6, dtype=int), np.array([0.1, 0.2, 0.6, 0.7, 0.3, 0.4]), 0.5, review_budget=2)
    for name in ("pr_auc", "roc_auc", "recall", "precision_at_threshold", "precision_at_budget"):
        assert result[name] == Estimate(None, None, None), name
        assert result[name].fmt() == "n/a"
    assert result["false_alarm_rate"].value == pytest.approx(2 / 6)
    assert result["lures"] == 0 and result["legit"] == 6 and result["flagged"] == 2


def test_slice_without_legit_rows_has_no_false_alarm_rate() -> None:
    result = evaluate_scores(np.ones(4, dtype=int), np.array([0.9, 0.2, 0.6, 0.4]), 0.5)
    assert result["false_alarm_rate"] == Estimate(None, None, None)
    assert result["roc_auc"] == Estimate(None, None, None)
    assert result["recall"].value == pytest.approx(0.5)
    assert result["pr_auc"].value == pytest.approx(1.0)
    assert result["precision_at_threshold"].value == pytest.approx(1.0)
    assert result["precision_at_budget"] == Estimate(None, None, None)  # no budget asked for


def test_empty_slice_is_all_undefined() -> None:
    result = evaluate_scores(np.array([], dtype=int), np.array([]), 0.5, review_budget=10)
    assert result["n"] == 0 and result["flagged"] == 0 and result["budget_k"] is None
    assert all(result[name] == Estimate(None, None, None) for name in ESTIMATES)


def test_nothing_flagged_leaves_precision_at_threshold_undefined() -> None:
    labels, scores = noisy_slice(60)
    result = evaluate_scores(labels, scores, threshold=2.0)
    assert result["flagged"] == 0
    assert result["precision_at_threshold"] == Estimate(None, None, None)
    assert result["recall"] == Estimate(0.0, 0.0, 0.0)


def test_resampling_is_stratified_so_every_replicate_keeps_the_class_counts() -> None:
    """Two lures on top of 40 legitimate rows, budget 2: precision@2 is 1 in a replicate only if it has two lures.

    A plain (unstratified) bootstrap draws fewer than two lures in about 40 % of the replicates, which would pull
    the lower bound far below 1; every replicate also has at least one lure, so recall is always defined.
    """
    labels = np.array([1, 1] + [0] * 40)
    scores = np.concatenate([[0.95, 0.9], np.linspace(0.1, 0.6, 40)])
    result = evaluate_scores(labels, scores, threshold=0.8, review_budget=2, n_boot=2000)
    assert result["precision_at_budget"] == Estimate(1.0, 1.0, 1.0)
    assert result["precision_at_threshold"] == Estimate(1.0, 1.0, 1.0)
    assert result["recall"] == Estimate(1.0, 1.0, 1.0)
    assert result["pr_auc"] == Estimate(1.0, 1.0, 1.0)


def test_false_alarm_interval_moves_in_steps_of_one_legit_row() -> None:
    labels = np.array([1] * 5 + [0] * 50)
    scores = np.concatenate([np.full(5, 0.9), np.full(45, 0.1), np.full(5, 0.7)])
    far = evaluate_scores(labels, scores, threshold=0.5)["false_alarm_rate"]
    assert far.value == pytest.approx(0.1)
    assert far.low is not None and far.high is not None
    assert far.low < 0.1 < far.high
    assert far.low * 50 == pytest.approx(round(far.low * 50))  # replicates keep 50 legit rows
    assert far.high * 50 == pytest.approx(round(far.high * 50))


def test_same_seed_same_intervals_other_seed_other_intervals() -> None:
    labels, scores = noisy_slice()
    first = evaluate_scores(labels, scores, 0.6, review_budget=40, seed=7)
    again = evaluate_scores(labels, scores, 0.6, review_budget=40, seed=7)
    other = evaluate_scores(labels, scores, 0.6, review_budget=40, seed=8)
    assert first == again
    assert any(first[name] != other[name] for name in ESTIMATES)
    assert all(first[name].value == other[name].value for name in ESTIMATES)  # seeds move only the intervals


def test_a_score_equal_to_the_threshold_is_flagged() -> None:
    labels = np.array([1, 1, 0, 0])
    scores = np.array([0.9, 0.5, 0.5, 0.1])
    result = evaluate_scores(labels, scores, threshold=0.5)
    assert result["flagged"] == 3
    assert result["recall"].value == pytest.approx(1.0)
    assert result["false_alarm_rate"].value == pytest.approx(0.5)
    assert result["precision_at_threshold"].value == pytest.approx(2 / 3)
    just_above = evaluate_scores(labels, scores, threshold=np.nextafter(0.5, 1.0))
    assert just_above["flagged"] == 1
    assert just_above["recall"].value == pytest.approx(0.5)
    assert just_above["false_alarm_rate"].value == pytest.approx(0.0)


def test_budget_larger_than_the_slice_uses_every_row() -> None:
    labels = np.array([1, 0, 0, 1, 0])
    result = evaluate_scores(labels, np.array([0.9, 0.8, 0.1, 0.3, 0.2]), 0.5, review_budget=100)
    assert result["budget_k"] == 5
    assert result["precision_at_budget"] == Estimate(0.4, 0.4, 0.4)


def test_precision_at_budget_shares_ties_at_the_cut() -> None:
    """Top-2 of [lure 0.9, lure 0.5, legit 0.5, legit 0.5]: one sure lure plus a 1-in-3 share of the tied place."""
    row = np.array([[0.9, 0.5, 0.5, 0.5]])
    assert precision_at_k_rows(row, n_pos=2, k=2)[0] == pytest.approx((1 + 1 / 3) / 2)
    labels = np.array([0, 0, 1, 1])
    shuffled = evaluate_scores(labels, np.array([0.5, 0.5, 0.5, 0.9]), 0.5, review_budget=2, n_boot=0)
    assert shuffled["precision_at_budget"].value == pytest.approx((1 + 1 / 3) / 2)  # row order does not matter


@pytest.mark.parametrize("seed", range(5))
def test_vectorised_ranking_metrics_equal_sklearn_with_and_without_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(40):
        n = int(rng.integers(2, 80))
        n_pos = int(rng.integers(1, n))
        scores = rng.integers(0, 5, size=(3, n)).astype(float) if seed % 2 else rng.random((3, n))
        labels = np.r_[np.ones(n_pos), np.zeros(n - n_pos)]
        ap = average_precision_rows(scores, n_pos)
        auc = roc_auc_rows(scores, n_pos)
        for i in range(3):
            assert ap[i] == pytest.approx(average_precision_score(labels, scores[i]), abs=1e-12)
            assert auc[i] == pytest.approx(roc_auc_score(labels, scores[i]), abs=1e-12)


def test_replicates_are_chunked_without_changing_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    labels, scores = noisy_slice(200)
    whole = evaluate_scores(labels, scores, 0.6, review_budget=20, n_boot=300)
    monkeypatch.setattr("pipeline.bootstrap.CHUNK_CELLS", 1000)  # 5 replicates per chunk
    chunked = evaluate_scores(labels, scores, 0.6, review_budget=20, n_boot=300)
    assert whole == chunked


def test_no_bootstrap_gives_points_only() -> None:
    labels, scores = noisy_slice(50)
    result = evaluate_scores(labels, scores, 0.6, n_boot=0)
    assert result["pr_auc"].value is not None and result["pr_auc"].low is None
    assert result["pr_auc"].fmt(2) == f"{result['pr_auc'].value:.2f}"


def test_fmt() -> None:
    assert Estimate(0.91234, 0.871, 0.9444).fmt() == "0.912 [0.871, 0.944]"
    assert Estimate(0.91234, 0.871, 0.9444).fmt(1) == "0.9 [0.9, 0.9]"
    assert Estimate(None, None, None).fmt() == "n/a"


@pytest.mark.parametrize(
    ("labels", "scores", "kwargs"),
    [
        ([1, 0], [0.5], {}),
        ([1, 2], [0.5, 0.4], {}),
        ([1, 0], [0.5, float("nan")], {}),
        ([1, 0], [0.5, 0.4], {"review_budget": 0}),
        ([1, 0], [0.5, 0.4], {"level": 1.0}),
        ([1, 0], [0.5, 0.4], {"n_boot": -1}),
    ],
)
def test_bad_input_is_refused(labels: list[int], scores: list[float], kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        evaluate_scores(np.array(labels), np.array(scores), 0.5, **kwargs)
