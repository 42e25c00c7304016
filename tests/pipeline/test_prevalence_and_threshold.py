"""Scores calibrated to a stated prevalence, and the alert threshold set from the review budget on a weekly volume."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.calibration import Calibrator
from pipeline.text_vectorizer import is_word_column, model_words, ngram_columns, stop_words
from pipeline.thresholds import budget_threshold, expected_alerts, volume_threshold


def test_prevalence_moves_the_odds_by_bayes_rule_and_keeps_the_ranking() -> None:
    raw = np.linspace(-4, 4, 41)
    labels = (raw + np.random.default_rng(0).normal(0, 1.5, raw.size) > 0).astype(int)
    base = Calibrator.fit(raw, labels)
    moved = base.for_prevalence(0.01, 0.5)
    p, q = base(raw), moved(raw)
    assert np.all(np.diff(q) > 0) and np.array_equal(np.argsort(p), np.argsort(q))
    # odds scale by (0.01/0.99) / (0.5/0.5)
    np.testing.assert_allclose(q / (1 - q), p / (1 - p) * (0.01 / 0.99), rtol=1e-9)
    assert moved.prevalence == 0.01 and base.prevalence is None
    again = Calibrator.from_dict(moved.to_dict())
    np.testing.assert_allclose(again(raw), q)
    with pytest.raises(ValueError):
        base.for_prevalence(0.0, 0.5)


def test_volume_threshold_fits_the_budget_and_is_the_lowest_that_does() -> None:
    rng = np.random.default_rng(1)
    labels = np.r_[np.ones(200, int), np.zeros(800, int)]
    scores = np.r_[rng.beta(5, 2, 200), rng.beta(2, 5, 800)]
    threshold = volume_threshold(50, labels, scores, 1000, 0.01)
    alerts, recall, false_alarms = expected_alerts(threshold, labels, scores, 1000, 0.01)
    assert alerts <= 50
    lower = np.max(scores[scores < threshold])
    assert expected_alerts(lower, labels, scores, 1000, 0.01)[0] > 50
    assert 0 < false_alarms < 0.05 and recall > false_alarms


def test_a_small_crawled_week_never_sets_the_threshold_a_real_week_does() -> None:
    labels = np.r_[np.ones(50, int), np.zeros(450, int)]
    scores = np.r_[np.linspace(0.5, 1, 50), np.linspace(0, 0.6, 450)]
    fixture_week = np.linspace(0, 1, 371)
    small = budget_threshold(50, labels, scores, fixture_week, weekly_volume=1000, prevalence=0.01)
    assert "new ads a week" in small["basis"] and small["threshold"] == volume_threshold(50, labels, scores, 1000,
                                                                                         0.01)
    real_week = np.linspace(0, 1, 2000)
    big = budget_threshold(50, labels, scores, real_week, weekly_volume=1000, prevalence=0.01)
    assert "last 7 days" in big["basis"] and int((real_week >= big["threshold"]).sum()) == 50
    for result in (small, big):
        assert result["prevalence"] == 0.01 and 0 <= result["expected_precision"] <= 1


def test_model_words_drop_stop_words_and_digits_but_keep_negation() -> None:
    words = model_words("Darbs jau nav vajadzīga pieredze, bez maksas! Zvaniet +371 2912 3456 vai anna@gmail.com")
    assert "jau" not in words.split() and "vai" not in words.split()
    assert "nav" in words.split() and "bez" in words.split()
    assert "2912" not in words and "0" in words.split() and "email" in words.split() and "gmail" not in words
    assert model_words("Только WhatsApp, без опыта") == "только whatsapp без опыта"


def test_no_stop_word_is_a_text_feature() -> None:
    text = "We are looking for a driver, and it is per hour with the ei per nav jau team"
    unigrams = {g for column, names in ngram_columns(text).items() if is_word_column(column) for g in names
                if " " not in g}
    assert "driver" in unigrams
    assert not unigrams & (stop_words() | {"per", "jau"})
