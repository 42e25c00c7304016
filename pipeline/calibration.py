"""Turning the model's raw log-odds into calibrated probabilities, and checking that they are.

Platt scaling (default) is a logistic fit ``p = 1 / (1 + exp(-(a * raw + b)))`` on out-of-fold raw scores:
two parameters, strictly monotone, so the ranking (and PR-AUC / ROC-AUC) is untouched. Isotonic regression
is available too (``method="isotonic"``): more flexible, but it makes ties among the top-ranked ads.

The fit sees the training mix (about a third of the training ads are lures), far above the share of lures on a
real board. :meth:`Calibrator.for_prevalence` moves the odds from the training mix to a stated prevalence (Bayes'
rule: ``logit p' = logit p + logit(pi) - logit(pi_train)``), so a score is the probability that an ad of a board
with that share of lures is a lure: an ordinary ad scores near 0, not 0.5.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

METHODS = ("platt", "isotonic")


@dataclass
class Calibrator:
    method: str = "platt"
    params: dict[str, Any] = field(default_factory=lambda: {"a": 1.0, "b": 0.0})

    @classmethod
    def fit(cls, raw: np.ndarray, labels: np.ndarray, method: str = "platt") -> Calibrator:
        raw = np.asarray(raw, dtype=float)
        labels = np.asarray(labels, dtype=int)
        if method not in METHODS:
            raise ValueError(f"unknown calibration method {method!r}; expected one of {METHODS}")
        if len(np.unique(labels)) < 2:
            return cls()
        if method == "isotonic":
            iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, labels)
            return cls("isotonic", {"x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()})
        model = LogisticRegression(C=1e6, max_iter=1000).fit(raw.reshape(-1, 1), labels)
        return cls("platt", {"a": float(model.coef_[0, 0]), "b": float(model.intercept_[0])})

    def for_prevalence(self, prevalence: float, training_prevalence: float) -> Calibrator:
        """The same calibration moved from the training mix to a board where ``prevalence`` of ads are lures."""
        if not (0.0 < prevalence < 1.0 and 0.0 < training_prevalence < 1.0):
            raise ValueError(f"prevalences must be in (0, 1), got {prevalence} and {training_prevalence}")
        shift = float(np.log(prevalence / (1 - prevalence)) - np.log(training_prevalence / (1 - training_prevalence)))
        return Calibrator(self.method, {**self.params, "prevalence": prevalence,
                                        "training_prevalence": training_prevalence, "prior_shift": shift})

    @property
    def prevalence(self) -> float | None:
        """The share of lures the scores are calibrated to (None: the training mix)."""
        value = self.params.get("prevalence")
        return None if value is None else float(value)

    def __call__(self, raw: np.ndarray | Sequence[float]) -> np.ndarray:
        raw = np.asarray(raw, dtype=float)
        shift = float(self.params.get("prior_shift", 0.0))
        if self.method == "isotonic":
            p = np.interp(raw, self.params["x"], self.params["y"])
            if not shift:
                return p
            p = np.clip(p, 1e-12, 1 - 1e-12)
            z = np.log(p / (1 - p)) + shift
        else:
            z = self.params["a"] * raw + self.params["b"] + shift
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "params": self.params}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        return cls(str(data["method"]), dict(data["params"]))


def cross_fitted(raw: np.ndarray, labels: np.ndarray, folds: Sequence[np.ndarray], method: str = "platt") -> np.ndarray:
    """Calibrate each fold's out-of-fold scores with a calibrator fitted on the other folds (honest metrics)."""
    calibrated = np.zeros(len(raw), dtype=float)
    for test in folds:
        train = np.setdiff1d(np.arange(len(raw)), test)
        calibrated[test] = Calibrator.fit(raw[train], labels[train], method)(raw[test])
    return calibrated


def reliability(labels: np.ndarray, probabilities: np.ndarray, bins: int = 10) -> dict[str, Any]:
    """Reliability table (equal-width bins), expected calibration error and Brier score."""
    y = np.asarray(labels, dtype=float)
    p = np.asarray(probabilities, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    table = []
    ece = 0.0
    for b in range(bins):
        mask = which == b
        if not mask.any():
            continue
        mean_p, rate = float(p[mask].mean()), float(y[mask].mean())
        table.append({"bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}", "n": int(mask.sum()), "mean_score": mean_p,
                      "lure_rate": rate})
        ece += mask.mean() * abs(mean_p - rate)
    return {"ece": float(ece), "brier": float(np.mean((p - y) ** 2)) if len(y) else float("nan"), "bins": table}
