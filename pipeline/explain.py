"""Why did an ad score high? Exact per-feature contributions (LightGBM ``pred_contrib``) for the few ads
someone looks at, mapped back to the evidence spans in the ad text."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np
import scipy.sparse as sp

from pipeline.design_matrix import design_matrix
from pipeline.model_registry import LoadedModel
from warehouse.records import ad_text

TEXT_FEATURE = "wording (hashed word and character n-grams)"


@dataclass
class Reason:
    feature: str
    contribution: float  # log-odds added to this ad's score
    evidence: list[str] = field(default_factory=list)


def explain_ads(
    con: duckdb.DuckDBPyConnection, model: LoadedModel, ad_ids: Sequence[int], top: int = 5
) -> dict[int, list[Reason]]:
    if not ad_ids:
        return {}
    rows = con.execute(
        """
        SELECT a.ad_id, a.title, a.body, f.vector, f.evidence
        FROM ads a JOIN features f USING (ad_id) WHERE a.ad_id IN (SELECT unnest(?))
        """,
        [list(ad_ids)],
    ).fetchall()
    matrix = design_matrix(
        [ad_text(r[1], r[2]) for r in rows],
        [json.loads(r[3]) for r in rows],
        model.structured_names,
        model.text_columns,
    )
    raw = model.booster.predict(matrix, pred_contrib=True)  # sparse input gives sparse contributions
    contributions = raw.toarray() if sp.issparse(raw) else np.asarray(raw)
    n_structured = len(model.structured_names)
    explained: dict[int, list[Reason]] = {}
    for row, contrib in zip(rows, contributions, strict=True):
        evidence = json.loads(row[4])
        reasons = [
            Reason(name, float(value), _evidence_for(name, evidence))
            for name, value in zip(model.structured_names, contrib[:n_structured], strict=True)
            if value != 0.0
        ]
        reasons.append(Reason(TEXT_FEATURE, float(contrib[n_structured:-1].sum())))
        reasons.sort(key=lambda r: r.contribution, reverse=True)
        explained[int(row[0])] = reasons[:top]
    return explained


def _evidence_for(feature: str, evidence: list[dict[str, object]]) -> list[str]:
    if not feature.startswith("ind_"):
        return []
    indicator = feature.removeprefix("ind_")
    return [str(e["text"]) for e in evidence if e["indicator"] == indicator]
