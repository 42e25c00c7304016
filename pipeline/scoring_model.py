"""A trained scorer: everything needed to turn ad texts and feature vectors into calibrated lure probabilities."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import scipy.sparse as sp

from pipeline.calibration import Calibrator
from pipeline.design_matrix import combine, structured_matrix
from pipeline.fit import FittedParts
from pipeline.text_model import LinearTextModel
from pipeline.text_vectorizer import TextWeights, hashed_counts


@dataclass
class Design:
    """One batch of ads as the model sees them."""

    tfidf: sp.csr_matrix
    matrix: sp.csr_matrix  # structured features, then the selected TF-IDF columns
    text_margin: np.ndarray


@dataclass
class ScoringModel:
    booster: lgb.Booster
    text_model: LinearTextModel
    text_weights: TextWeights
    structured_names: list[str]
    text_columns: np.ndarray
    calibrator: Calibrator
    threshold: float
    params: dict[str, Any]
    fingerprint: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    training_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)
    label_watermark: int = 0
    version: str | None = None

    @classmethod
    def from_parts(cls, parts: FittedParts, structured_names: Sequence[str], calibrator: Calibrator,
                   threshold: float) -> ScoringModel:
        return cls(parts.booster, parts.text_model, parts.weights, list(structured_names), parts.text_columns,
                   calibrator, threshold, parts.params)

    def design(self, texts: Sequence[str], vectors: Sequence[Mapping[str, float]]) -> Design:
        if len(texts) != len(vectors):
            raise ValueError(f"{len(texts)} texts but {len(vectors)} feature vectors")
        tfidf = self.text_weights.transform(hashed_counts(texts))
        matrix = combine(structured_matrix(vectors, self.structured_names), tfidf, self.text_columns)
        return Design(tfidf, matrix, self.text_model.margin(tfidf))

    def raw_scores(self, design: Design) -> np.ndarray:
        """Log-odds before calibration: text margin plus the trees' correction."""
        trees = np.asarray(self.booster.predict(design.matrix, raw_score=True), dtype=float)
        return design.text_margin + trees

    def predict(self, texts: Sequence[str], vectors: Sequence[Mapping[str, float]]) -> np.ndarray:
        """Calibrated lure probabilities."""
        if not texts:
            return np.zeros(0, dtype=float)
        return self.calibrator(self.raw_scores(self.design(texts, vectors)))


# Older names: ``register`` takes what ``train`` returns, ``load`` gives back the same kind of object.
TrainedModel = ScoringModel
LoadedModel = ScoringModel
