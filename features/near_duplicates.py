"""Near-duplicate grouping of ad texts with MinHash signatures and LSH banding (numpy only).

Job-ad scams are posted as templates: the same text with another phone number, city or salary. A random
train/test split puts copies of one template on both sides and makes every metric look better than it is;
the review queue fills with copies of one ad. :func:`cluster_ids` maps texts to template clusters:

>>> cluster_ids(["Work in Norway, 3000 EUR, call +371 2000 0000", "Work in Norway, 3100 EUR, call +371 2999 9999",
...              "Warehouse worker wanted in Riga"]).tolist()
[0, 0, 2]

How: each text becomes the set of its word ``SHINGLE``-grams (lower-cased, digits folded to ``0`` so phone
numbers and amounts do not matter); ``NUM_PERM`` multiply-shift hash functions give a MinHash signature whose
agreement rate estimates the Jaccard similarity of two shingle sets; signatures are cut into bands and texts
sharing any band become candidate pairs; candidate pairs whose estimated Jaccard similarity reaches
``threshold`` are joined, and clusters are the connected components (so similarity is transitive). Texts too
short for one shingle use their words instead; empty texts are singletons.

Cost is linear in the number of texts (100k synthetic ads of ~950 characters: ~11 s, mostly tokenising; verbatim
re-posts are collapsed before LSH, so a template posted 10,000 times costs no more than once).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sklearn.feature_extraction.text import HashingVectorizer

SHINGLE = 3
NUM_PERM = 64
DEFAULT_THRESHOLD = 0.6
SEED = 20260401
_SHINGLE_SPACE = 2**30  # shingle ids: collisions (~1e-6 per pair of distinct shingles) do not matter here
_TOKEN = re.compile(r"\w+", re.UNICODE)
_DIGIT = re.compile(r"\d")
_MAX_BUCKET = 64  # members per LSH bucket compared with each other (larger buckets: compared with neighbours)


def method_name(threshold: float = DEFAULT_THRESHOLD) -> str:
    """What the ``ad_clusters.method`` column should say for clusters made with these settings."""
    return f"minhash-lsh:{threshold:g}:w{SHINGLE}:p{NUM_PERM}"


def shingles(text: str, size: int = SHINGLE) -> list[str]:
    """Word ``size``-grams of the normalised text (its words when it is shorter than one shingle)."""
    words = _TOKEN.findall(_DIGIT.sub("0", text.lower()))
    if len(words) < size:
        return words
    return [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]


_hasher = HashingVectorizer(
    analyzer=shingles, n_features=_SHINGLE_SPACE, alternate_sign=False, norm=None, binary=True, dtype=np.float32
)


def shingle_sets(texts: Sequence[str]) -> sp.csr_matrix:
    """One row per text whose column indices are its distinct shingle ids."""
    matrix = _hasher.transform([t or "" for t in texts]).tocsr()
    matrix.sum_duplicates()
    return matrix


def _hash_params(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) | np.uint64(1)  # odd multipliers
    b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
    return a, b


def minhash_signatures(
    texts: Sequence[str], num_perm: int = NUM_PERM, seed: int = SEED, chunk: int = 4096
) -> tuple[np.ndarray, np.ndarray]:
    """``(signatures, empty)``: a ``(len(texts), num_perm)`` uint32 MinHash matrix and a mask of empty texts."""
    sets = shingle_sets(texts)
    a, b = _hash_params(num_perm, seed)
    lengths = np.diff(sets.indptr)
    empty = lengths == 0
    signatures = np.full((len(texts), num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    for start in range(0, len(texts), chunk):
        stop = min(start + chunk, len(texts))
        lo, hi = sets.indptr[start], sets.indptr[stop]
        if hi == lo:
            continue
        ids = sets.indices[lo:hi].astype(np.uint64)
        offsets = sets.indptr[start:stop] - lo
        rows = ~empty[start:stop]
        with np.errstate(over="ignore"):
            for perm in range(num_perm):
                hashed = ((ids * a[perm] + b[perm]) >> np.uint64(32)).astype(np.uint32)
                # reduceat on an empty row would return its neighbour's value: only non-empty rows are kept
                signatures[start:stop, perm][rows] = np.minimum.reduceat(hashed, offsets[rows])
    return signatures, empty


def _band_rows(num_perm: int, threshold: float) -> int:
    """Rows per band whose LSH S-curve threshold ``(1/bands)^(1/rows)`` is closest below ``threshold``."""
    best_rows, best_gap = 1, float("inf")
    for rows in range(1, num_perm + 1):
        if num_perm % rows:
            continue
        curve = (1.0 / (num_perm // rows)) ** (1.0 / rows)
        gap = threshold - curve
        if 0.0 <= gap < best_gap:  # curve just below the threshold: few similar pairs are missed
            best_rows, best_gap = rows, gap
    return best_rows


def _candidate_pairs(signatures: np.ndarray, live: np.ndarray, rows_per_band: int) -> np.ndarray:
    """Pairs ``(i, j)`` of texts that share at least one LSH band (each bucket: members vs. nearby members)."""
    index = np.flatnonzero(live)
    pairs: list[np.ndarray] = []
    mixer = np.random.default_rng(SEED + 1).integers(1, 2**63, size=rows_per_band, dtype=np.uint64) | np.uint64(1)
    for start in range(0, signatures.shape[1], rows_per_band):
        band = signatures[index, start : start + rows_per_band].astype(np.uint64)
        with np.errstate(over="ignore"):
            keys = (band * mixer).sum(axis=1, dtype=np.uint64)
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        # within a run of equal keys, join each member to the next few members of the run
        for step in range(1, _MAX_BUCKET):
            same = sorted_keys[step:] == sorted_keys[:-step]
            if not same.any():
                break
            pairs.append(np.stack([index[order[:-step][same]], index[order[step:][same]]], axis=1))
    if not pairs:
        return np.empty((0, 2), dtype=np.int64)
    found = np.concatenate(pairs)
    found.sort(axis=1)
    return np.unique(found, axis=0)


def similar_pairs(
    signatures: np.ndarray, empty: np.ndarray, threshold: float = DEFAULT_THRESHOLD
) -> tuple[np.ndarray, np.ndarray]:
    """``(pairs, similarity)`` for candidate pairs whose estimated Jaccard similarity is at least ``threshold``."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    pairs = _candidate_pairs(signatures, ~empty, _band_rows(signatures.shape[1], threshold))
    similarity = np.empty(len(pairs), dtype=np.float64)
    for start in range(0, len(pairs), 100_000):
        chunk = pairs[start : start + 100_000]
        similarity[start : start + len(chunk)] = (signatures[chunk[:, 0]] == signatures[chunk[:, 1]]).mean(axis=1)
    keep = similarity >= threshold
    return pairs[keep], similarity[keep]


def cluster_ids(
    texts: Sequence[str],
    threshold: float = DEFAULT_THRESHOLD,
    *,
    keys: Sequence[int] | None = None,
    num_perm: int = NUM_PERM,
    seed: int = SEED,
) -> np.ndarray:
    """Cluster id per text: the smallest key (default: position) among the text's near-duplicates.

    With ``keys=ad_ids`` the result is what the ``ad_clusters.cluster_id`` column holds.
    """
    n = len(texts)
    key_array = np.arange(n, dtype=np.int64) if keys is None else np.asarray(keys, dtype=np.int64)
    if len(key_array) != n:
        raise ValueError(f"{n} texts but {len(key_array)} keys")
    if n == 0:
        return key_array
    signatures, empty = minhash_signatures(texts, num_perm, seed)
    return clusters_from_signatures(signatures, empty, threshold, keys=key_array)


def clusters_from_signatures(
    signatures: np.ndarray, empty: np.ndarray, threshold: float = DEFAULT_THRESHOLD, *, keys: np.ndarray | None = None
) -> np.ndarray:
    """:func:`cluster_ids` from signatures made by :func:`minhash_signatures` (which may be computed chunk by
    chunk: each row depends on its own text only), so a stream of texts never has to be held in memory."""
    n = len(signatures)
    key_array = np.arange(n, dtype=np.int64) if keys is None else np.asarray(keys, dtype=np.int64)
    if n == 0:
        return key_array
    # identical signatures (verbatim re-posts) are joined directly; LSH runs on one representative of each
    live = np.flatnonzero(~empty)
    unique, first, inverse = np.unique(signatures[live], axis=0, return_index=True, return_inverse=True)
    representatives = live[first]
    pairs, _ = similar_pairs(unique, np.zeros(len(unique), dtype=bool), threshold)
    rows = np.concatenate([representatives[pairs[:, 0]], live])
    cols = np.concatenate([representatives[pairs[:, 1]], representatives[inverse.ravel()]])
    graph = sp.coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    smallest = np.full(component.max() + 1, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(smallest, component, key_array)
    return smallest[component]


def cluster_sizes(clusters: np.ndarray) -> np.ndarray:
    """Size of each text's cluster (the ``ad_clusters.cluster_size`` column)."""
    _, inverse, counts = np.unique(clusters, return_inverse=True, return_counts=True)
    return counts[inverse]
