"""The "teach the model" review mode: the ads whose label would teach the model most, not the riskiest ones.

Besides the queue's "riskiest first", analysts can spend a stated share of the weekly review budget
(``LUREWATCH_REVIEW_LEARNING_SHARE`` of ``LUREWATCH_REVIEW_BUDGET``; 20 % of 50 = 10 ads a week) on ads chosen for
what their label teaches:

* **uncertain**: the distance between an ad's score and the alert threshold on the log-odds scale,
  ``|logit(score) - logit(threshold)|``: an ad right at the threshold is the one whose label moves the alert line;
  0.5 and 0.95 are far apart on that scale, 0.001 and 0.01 too;
* **one per cluster**: the most uncertain undecided ad of each near-duplicate cluster (``ad_clusters``), and no
  cluster an analyst has already labelled (a second copy of a template teaches little);
* **diverse**: picked greedily, each pick minimising its distance plus :data:`DIVERSITY_PENALTY` log-odds for every
  ad of the same language and every ad of the same site already picked, so a batch spreads over languages and sites
  instead of taking ten near-identical Estonian ads from one board.

:func:`model_change` says, after a retraining, how much the model changed and on what: how many current ads changed
their alert decision between the newest model and the one before it, by language.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from pipeline.model_report import Flips, warehouse_flips
from review_app.decisions import NO_LABEL

DIVERSITY_PENALTY = 0.75  # log-odds added per already-picked ad of the same language, and of the same site
CANDIDATE_POOL = 2000  # the least uncertain clusters considered by the greedy pick
EPSILON = 1e-9


def logit(p: float) -> float:
    q = min(max(float(p), EPSILON), 1.0 - EPSILON)
    return math.log(q / (1.0 - q))


@dataclass(frozen=True, slots=True)
class Candidate:
    ad_id: int
    score: float
    distance: float  # |logit(score) - logit(threshold)|
    title: str
    site_id: str
    language: str
    cluster_id: int
    cluster_size: int


def quota(review_budget: int, share: float) -> int:
    """Ads a week for the learning mode: ``share`` of the weekly review budget, at least one."""
    return max(1, round(review_budget * share))


_CANDIDATES_SQL = f"""
WITH latest AS (
    SELECT ad_id, label FROM (
        SELECT ad_id, label, row_number() OVER (PARTITION BY ad_id ORDER BY decided_at DESC, label_id DESC) AS rn
        FROM labels
    ) WHERE rn = 1
),
labelled_clusters AS (
    SELECT DISTINCT coalesce(c.cluster_id, l.ad_id) AS cluster_id
    FROM latest l LEFT JOIN ad_clusters c ON c.ad_id = l.ad_id
    WHERE l.label IN ('lure', 'not_lure')
),
base AS (
    SELECT a.ad_id, s.score, a.title, a.site_id, coalesce(f.language, '?') AS language,
           coalesce(c.cluster_id, a.ad_id) AS cluster_id, coalesce(c.cluster_size, 1) AS cluster_size,
           abs(ln(least(greatest(s.score, {EPSILON}), 1 - {EPSILON}))
               - ln(1 - least(greatest(s.score, {EPSILON}), 1 - {EPSILON})) - ?) AS distance
    FROM ads a
    JOIN scores s ON s.ad_id = a.ad_id AND s.model_version = ?
    LEFT JOIN features f ON f.ad_id = a.ad_id
    LEFT JOIN ad_clusters c ON c.ad_id = a.ad_id
    LEFT JOIN latest l ON l.ad_id = a.ad_id
    WHERE (l.label IS NULL OR l.label = '{NO_LABEL}')
),
open_clusters AS (
    SELECT * FROM base WHERE cluster_id NOT IN (SELECT cluster_id FROM labelled_clusters)
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY cluster_id ORDER BY distance, ad_id) AS rank_in_cluster
    FROM open_clusters
)
SELECT ad_id, score, distance, title, site_id, language, cluster_id, cluster_size
FROM ranked WHERE rank_in_cluster = 1
ORDER BY distance, ad_id
LIMIT ?
"""


def candidates(con: duckdb.DuckDBPyConnection, model_version: str, threshold: float,
               pool: int = CANDIDATE_POOL) -> list[Candidate]:
    """The most uncertain undecided ad of each cluster no analyst has labelled, least uncertain first."""
    rows = con.execute(_CANDIDATES_SQL, [logit(threshold), model_version, pool]).fetchall()
    return [Candidate(int(r[0]), float(r[1]), float(r[2]), str(r[3]), str(r[4]), str(r[5]), int(r[6]), int(r[7]))
            for r in rows]


def pick_diverse(pool: Sequence[Candidate], k: int, penalty: float = DIVERSITY_PENALTY) -> list[Candidate]:
    """Greedy: each pick minimises distance + penalty x (picked ads of its language + picked ads of its site)."""
    remaining = list(pool)
    languages: Counter[str] = Counter()
    sites: Counter[str] = Counter()
    picked: list[Candidate] = []
    while remaining and len(picked) < k:
        best = min(range(len(remaining)), key=lambda i: (
            remaining[i].distance + penalty * (languages[remaining[i].language] + sites[remaining[i].site_id]),
            remaining[i].distance, remaining[i].ad_id))
        chosen = remaining.pop(best)
        picked.append(chosen)
        languages[chosen.language] += 1
        sites[chosen.site_id] += 1
    return picked


def learning_batch(con: duckdb.DuckDBPyConnection, model_version: str, threshold: float, k: int) -> list[Candidate]:
    return pick_diverse(candidates(con, model_version, threshold), k)


def decisions_this_week(con: duckdb.DuckDBPyConnection) -> int:
    """Analysts' lure / not-lure decisions since Monday 00:00."""
    return int(con.execute(
        "SELECT count(*) FROM labels WHERE source = 'analyst' AND label IN ('lure', 'not_lure') "
        "AND decided_at >= date_trunc('week', now())"
    ).fetchall()[0][0])


@dataclass(frozen=True, slots=True)
class ModelChange:
    old: str
    new: str
    new_status: str
    flips: Flips


def model_change(con: duckdb.DuckDBPyConnection) -> ModelChange | None:
    """The newest model with a parent against that parent, on the ads both scored (None: nothing to compare)."""
    rows = con.execute(
        """
        SELECT n.version, n.status, n.threshold, o.version, o.threshold
        FROM models n JOIN models o ON o.version = n.parent_version
        ORDER BY n.created_at DESC, n.version DESC LIMIT 1
        """
    ).fetchall()
    if not rows:
        return None
    new, status, new_threshold, old, old_threshold = rows[0]
    if new_threshold is None or old_threshold is None:
        return None
    found = warehouse_flips(con, str(old), float(old_threshold), str(new), float(new_threshold))
    return None if found is None else ModelChange(str(old), str(new), str(status), found)
