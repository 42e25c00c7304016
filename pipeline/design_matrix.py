"""The model's input: lure/contact features (named, explainable) followed by selected hashed-text columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_selection import chi2

from pipeline.text_vectorizer import text_matrix

TEXT_COLUMNS = 2000


def structured_matrix(vectors: Sequence[Mapping[str, float]], names: Sequence[str]) -> sp.csr_matrix:
    dense = np.zeros((len(vectors), len(names)), dtype=np.float32)
    for row, vector in enumerate(vectors):
        for col, name in enumerate(names):
            dense[row, col] = float(vector.get(name, 0.0))
    return sp.csr_matrix(dense)


def select_text_columns(text: sp.csr_matrix, labels: np.ndarray, k: int = TEXT_COLUMNS) -> np.ndarray:
    """The k hashed n-gram columns most associated with the label (chi-squared), in column order.

    Fitted on training rows only; LightGBM on all 131k hashed columns is ~10x slower for no gain.
    """
    scores, _ = chi2(text, labels)
    scores = np.nan_to_num(scores, nan=0.0)
    return np.sort(np.argsort(-scores, kind="stable")[:k])


def combine(structured: sp.csr_matrix, text: sp.csr_matrix, text_columns: np.ndarray) -> sp.csr_matrix:
    return sp.hstack([structured, text[:, text_columns]], format="csr", dtype=np.float32)


def design_matrix(
    texts: Sequence[str],
    vectors: Sequence[Mapping[str, float]],
    structured_names: Sequence[str],
    text_columns: np.ndarray,
) -> sp.csr_matrix:
    if len(texts) != len(vectors):
        raise ValueError(f"{len(texts)} texts but {len(vectors)} feature vectors")
    return combine(structured_matrix(vectors, structured_names), text_matrix(texts), text_columns)
