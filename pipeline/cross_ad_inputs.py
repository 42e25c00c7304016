"""Cross-ad features as model inputs, for every population the scorer sees.

Crawled ads read what :mod:`pipeline.cross_ad_features` stored in ``ad_cross_features`` (the warehouse is the
population). Ads without a warehouse (EMSCAD rows, a CSV file to score) get the same feature names computed
within their own batch where the batch allows it — near-duplicate ``cluster_size`` and ``shared_contact_ads``
— and the "unique ad, no links" defaults for the rest (sites, cities, velocities, salary z-score).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from features import Contact
from features.near_duplicates import cluster_ids, cluster_sizes, clusters_from_signatures
from pipeline.cross_ad_features import CROSS_AD_DEFAULTS, CROSS_AD_FEATURE_NAMES, LINKING_KINDS

CROSS_AD_NAMES: tuple[str, ...] = CROSS_AD_FEATURE_NAMES
TEMPLATE_THRESHOLD = 0.6


def _shared_contact_ads(contacts: Sequence[Sequence[str]]) -> np.ndarray:
    """Other rows sharing at least one contact value with each row."""
    owners: dict[str, set[int]] = defaultdict(set)
    for row, values in enumerate(contacts):
        for value in values:
            owners[value].add(row)
    shared = np.zeros(len(contacts), dtype=np.float64)
    for row, values in enumerate(contacts):
        linked: set[int] = set()
        for value in values:
            linked |= owners[value]
        shared[row] = max(len(linked) - 1, 0)
    return shared


def batch_cross_ad(texts: Sequence[str], contacts: Sequence[Sequence[str]]) -> list[dict[str, float]]:
    """Cross-ad features of each text with the batch ``texts`` as its population."""
    if len(texts) != len(contacts):
        raise ValueError(f"{len(texts)} texts but {len(contacts)} contact lists")
    if not texts:
        return []
    sizes = cluster_sizes(cluster_ids(texts, TEMPLATE_THRESHOLD))
    shared = _shared_contact_ads(contacts)
    return [
        {**CROSS_AD_DEFAULTS, "cluster_size": float(size), "shared_contact_ads": float(links)}
        for size, links in zip(sizes, shared, strict=True)
    ]


def population_cross_ad(
    signatures: np.ndarray, empty: np.ndarray, contacts: Sequence[Sequence[str]]
) -> tuple[np.ndarray, np.ndarray]:
    """``(cluster_size, shared_contact_ads)`` per row of a population given by its MinHash signatures
    (:func:`features.near_duplicates.minhash_signatures`, computable chunk by chunk) and contact keys: what
    :func:`batch_cross_ad` computes from the texts, for a population too large to hold as texts."""
    if len(signatures) != len(contacts):
        raise ValueError(f"{len(signatures)} signatures but {len(contacts)} contact lists")
    sizes = cluster_sizes(clusters_from_signatures(signatures, empty, TEMPLATE_THRESHOLD))
    return sizes.astype(np.float64), _shared_contact_ads(contacts)


def cross_ad_row(cluster_size: float, shared_contact_ads: float) -> dict[str, float]:
    """One row's cross-ad features from :func:`population_cross_ad` (the rest: "unique ad, no links")."""
    return {**CROSS_AD_DEFAULTS, "cluster_size": float(cluster_size), "shared_contact_ads": float(shared_contact_ads)}


def contact_keys(contacts: Sequence[Contact]) -> tuple[str, ...]:
    """The linking values of one ad's contacts (a number given as WhatsApp and as a phone links both ads)."""
    return tuple(sorted({c.value for c in contacts if c.kind in LINKING_KINDS}))
