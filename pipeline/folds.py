"""Cross-validation splits: stratified, and template-grouped (near-duplicates never straddle a split).

Random splits put copies of one scam template into both the training and the test part, so the model is
graded on ads it has effectively seen: on EMSCAD that inflates fraud-class F1 by ~0.03. ``grouped`` splits
keep every near-duplicate cluster (MinHash/LSH, :mod:`features.near_duplicates`) — joined with any known
template id — on one side, with stratification on the label as far as the groups allow.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from features.near_duplicates import cluster_ids

SCHEMES = ("stratified", "grouped")
GROUPING_THRESHOLD = 0.5  # looser than de-duplication: a merged pair of templates costs nothing here


def template_groups(texts: Sequence[str], known: Sequence[str | None] | None = None) -> np.ndarray:
    """Group id per text: near-duplicate clusters, merged where texts share a known template id."""
    clusters = cluster_ids(texts, GROUPING_THRESHOLD)
    if known is None or not any(known):
        return clusters
    n = len(texts)
    first: dict[str, int] = {}
    rows, cols = [], []
    for i, template in enumerate(known):
        if template:
            j = first.setdefault(template, i)
            rows.append(i)
            cols.append(j)
    rows.extend(range(n))
    cols.extend(int(c) for c in clusters)
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    return component.astype(np.int64)


def n_splits(labels: np.ndarray, groups: np.ndarray | None, wanted: int) -> int:
    """As many folds as wanted, but no more than the rarer class (or the number of groups) allows."""
    minority = int(min(labels.sum(), len(labels) - labels.sum()))
    limit = minority if groups is None else min(minority, len(np.unique(groups[labels == 1])))
    return max(2, min(wanted, limit))


def make_folds(
    labels: np.ndarray, groups: np.ndarray, scheme: str, folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(train_idx, test_idx)`` pairs of one cross-validation scheme."""
    dummy = np.zeros(len(labels))
    if scheme == "stratified":
        splitter = StratifiedKFold(n_splits(labels, None, folds), shuffle=True, random_state=seed)
        return list(splitter.split(dummy, labels))
    if scheme == "grouped":
        grouped = StratifiedGroupKFold(n_splits(labels, groups, folds), shuffle=True, random_state=seed)
        return list(grouped.split(dummy, labels, groups))
    raise ValueError(f"unknown CV scheme {scheme!r}; expected one of {SCHEMES}")
