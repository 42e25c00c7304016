"""The tree model's input: named structured features (lure, contact, cross-ad) then selected TF-IDF columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_selection import chi2

TEXT_COLUMNS = 300


def structured_matrix(vectors: Sequence[Mapping[str, float]], names: Sequence[str]) -> sp.csr_matrix:
    dense = np.zeros((len(vectors), len(names)), dtype=np.float32)
    for row, vector in enumerate(vectors):
        for col, name in enumerate(names):
            dense[row, col] = float(vector.get(name, 0.0))
    return sp.csr_matrix(dense)


def select_text_columns(tfidf: sp.csr_matrix, labels: np.ndarray, k: int = TEXT_COLUMNS) -> np.ndarray:
    """The k TF-IDF columns most associated with the label (chi-squared), in column order.

    Fitted on training rows only. The linear text model already uses every column; these few give the trees
    n-grams to combine with the lure features.
    """
    if len(np.unique(labels)) < 2:
        return np.zeros(0, dtype=np.int64)
    scores, _ = chi2(tfidf, labels)
    scores = np.nan_to_num(scores, nan=0.0)
    return np.sort(np.argsort(-scores, kind="stable")[:k]).astype(np.int64)


def combine(structured: sp.csr_matrix, tfidf: sp.csr_matrix, text_columns: np.ndarray) -> sp.csr_matrix:
    return sp.hstack([structured, tfidf[:, text_columns]], format="csr", dtype=np.float32)
