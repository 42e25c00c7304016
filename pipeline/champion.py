"""Champion / challenger: a new model replaces the champion only if it ranks the frozen evaluation set better.

Both models score the same rows — the frozen evaluation set minus any row either model was trained on — and
the challenger is promoted when its PR-AUC beats the champion's by more than ``min_gain``. Every decision is
recorded in ``model_comparisons`` with both models' metrics. The very first model is promoted automatically.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np

from features import FeatureExtractor
from pipeline.evaluation_set import EvaluationSet
from pipeline.metrics import sliced
from pipeline.model_registry import champion_version, json_safe, load, reject, set_champion
from pipeline.scoring_model import ScoringModel
from pipeline.train import ensure_cross_ad, ensure_vectors
from pipeline.training_data import Example


@dataclass
class Decision:
    challenger: str
    champion: str | None
    promoted: bool
    reason: str
    eval_rows: int
    challenger_metrics: dict[str, Any]
    champion_metrics: dict[str, Any] | None

    def delta(self, metric: str = "pr_auc", slice_name: str = "overall") -> float | None:
        if self.champion_metrics is None:
            return None
        new = self.challenger_metrics.get(slice_name, {}).get(metric)
        old = self.champion_metrics.get(slice_name, {}).get(metric)
        return None if new is None or old is None else float(new - old)


def evaluate(model: ScoringModel, examples: Sequence[Example]) -> dict[str, Any]:
    """Metrics of one model on labelled examples (vectors must be filled), overall and per slice."""
    labels = np.array([e.label for e in examples], dtype=int)
    scores = model.predict([e.text for e in examples], [e.vector or {} for e in examples])
    slices = {"source": [e.source for e in examples], "lang": [e.language for e in examples]}
    return sliced(labels, scores, slices, threshold=0.5)


def _fair_rows(evaluation: EvaluationSet, *models: ScoringModel) -> list[Example]:
    keys = evaluation.keys
    seen = np.zeros(len(keys), dtype=bool)
    for model in models:
        seen |= np.isin(keys, model.training_keys)
    return [e for e, s in zip(evaluation.examples, seen, strict=True) if not s]


def decide(
    con: duckdb.DuckDBPyConnection,
    version: str,
    evaluation: EvaluationSet,
    extractor: FeatureExtractor,
    *,
    actor: str,
    min_gain: float = 0.0,
) -> Decision:
    """Compare challenger ``version`` with the champion on ``evaluation``; promote or reject it; record it."""
    challenger = load(con, version)
    current = champion_version(con)
    champion = load(con, current) if current and current != version else None
    ensure_vectors(evaluation.examples, extractor)
    ensure_cross_ad(evaluation.examples)
    rows = _fair_rows(evaluation, challenger, *([champion] if champion else []))
    if not rows or len({e.label for e in rows}) < 2:
        raise ValueError(f"the evaluation set has {len(rows)} rows neither model trained on: cannot compare")
    new_metrics = evaluate(challenger, rows)
    old_metrics = evaluate(champion, rows) if champion else None
    if champion is None:
        promoted, reason = True, "first model: promoted automatically"
    else:
        new, old = new_metrics["overall"]["pr_auc"], old_metrics["overall"]["pr_auc"]  # type: ignore[index]
        promoted = new > old + min_gain
        verb = "beats" if promoted else "does not beat"
        reason = f"PR-AUC {new:.4f} {verb} champion {current} {old:.4f}" + (f" by > {min_gain}" if min_gain else "")
    if promoted:
        set_champion(con, version, actor, reason)
    else:
        reject(con, version, actor, reason)
    con.execute(
        """
        INSERT INTO model_comparisons (challenger, champion, eval_fingerprint, eval_rows, challenger_metrics,
                                       champion_metrics, decision, reason, compared_by)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            version,
            champion.version if champion else None,
            evaluation.fingerprint,
            len(rows),
            json.dumps(json_safe(new_metrics)),
            json.dumps(json_safe(old_metrics)) if old_metrics is not None else None,
            "promoted" if promoted else "rejected",
            reason,
            actor,
        ],
    )
    return Decision(version, champion.version if champion else None, promoted, reason, len(rows), new_metrics,
                    old_metrics)


def compare_versions(
    con: duckdb.DuckDBPyConnection, a: str, b: str, evaluation: EvaluationSet, extractor: FeatureExtractor
) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """Score two registered models on the same fair rows; nothing is recorded or changed."""
    first, second = load(con, a), load(con, b)
    ensure_vectors(evaluation.examples, extractor)
    ensure_cross_ad(evaluation.examples)
    rows = _fair_rows(evaluation, first, second)
    if not rows or len({e.label for e in rows}) < 2:
        raise ValueError(f"the evaluation set has {len(rows)} rows neither model trained on: cannot compare")
    return len(rows), evaluate(first, rows), evaluate(second, rows)
