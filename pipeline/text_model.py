"""The linear text model: ridge regression on the full hashed TF-IDF, mapped to log-odds.

On the 1.4k real EMSCAD ads a ridge classifier on all 262k hashed columns beats LightGBM on a chi2-selected
subset (cross-validated fraud-class F1 ~0.94 vs ~0.91), and it fits in ~0.1 s. Its log-odds are the
starting point (``init_score``) that LightGBM then corrects with the lure, contact and cross-ad features.

``margin = a * (w . x + c) + b``: ``w, c`` from the ridge fit (classes balanced), ``a, b`` a Platt fit on
out-of-fold ridge outputs, so the margin is on the log-odds scale. Each n-gram adds ``a * w_j * x_j``, which
is how explanations attribute the text part of a score to the n-grams of an ad.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import RidgeClassifier

from pipeline.calibration import Calibrator

ALPHA = 0.5
RIDGE_TOL = 1e-3  # lsqr: same EMSCAD CV metrics as sparse_cg at 1e-4, 2.4x faster on 30k ads


@dataclass
class LinearTextModel:
    coef: np.ndarray  # one weight per hashed TF-IDF column
    intercept: float
    scale: float  # Platt a
    shift: float  # Platt b

    def margin(self, tfidf: sp.csr_matrix) -> np.ndarray:
        """Log-odds contribution of the wording of each row."""
        return self.scale * (np.asarray(tfidf @ self.coef, dtype=float) + self.intercept) + self.shift

    def column_contributions(self, tfidf_row: sp.csr_matrix) -> dict[int, float]:
        """Log-odds added by each non-zero column of one row (the rest of the margin is the constant part)."""
        row = tfidf_row.tocsr()
        return {int(j): float(self.scale * self.coef[j] * v) for j, v in zip(row.indices, row.data, strict=True)}

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path, coef=self.coef.astype(np.float32), params=np.array([self.intercept, self.scale, self.shift])
        )

    @classmethod
    def load(cls, path: Path) -> LinearTextModel:
        with np.load(path) as data:
            intercept, scale, shift = (float(v) for v in data["params"])
            return cls(data["coef"].astype(np.float32), intercept, scale, shift)


def _ridge(tfidf: sp.csr_matrix, labels: np.ndarray) -> tuple[np.ndarray, float]:
    if len(np.unique(labels)) < 2:
        return np.zeros(tfidf.shape[1], dtype=np.float32), 0.0
    model = RidgeClassifier(alpha=ALPHA, solver="lsqr", tol=RIDGE_TOL, class_weight="balanced").fit(tfidf, labels)
    return model.coef_.ravel().astype(np.float32), float(model.intercept_[0])


def fit_text_model(
    tfidf: sp.csr_matrix, labels: np.ndarray, inner_folds: Iterator[tuple[np.ndarray, np.ndarray]]
) -> tuple[LinearTextModel, np.ndarray]:
    """Fit on all rows; also return out-of-fold log-odds for these rows (LightGBM's honest ``init_score``)."""
    decision = np.zeros(len(labels), dtype=float)
    for train, test in inner_folds:
        coef, intercept = _ridge(tfidf[train], labels[train])
        decision[test] = tfidf[test] @ coef + intercept
    platt = Calibrator.fit(decision, labels)
    coef, intercept = _ridge(tfidf, labels)
    model = LinearTextModel(coef, intercept, platt.params["a"], platt.params["b"])
    return model, platt.params["a"] * decision + platt.params["b"]
