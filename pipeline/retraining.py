"""Retraining from analyst labels: train a challenger, decide against the champion, report what changed.

Each step opens the warehouse for one short unit of work (DuckDB admits one process at a time), never while
the model trains. :mod:`flows.retrain` runs these steps as a Prefect flow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from features import FeatureExtractor
from pipeline.champion import Decision, decide
from pipeline.model_registry import json_safe, load, register
from pipeline.report import comparison_table, metrics_table, training_report
from pipeline.score import score_pending
from pipeline.scoring_model import ScoringModel
from pipeline.thresholds import DEFAULT_PREVALENCE, DEFAULT_WEEKLY_VOLUME
from pipeline.train import train
from pipeline.training_data import Example
from pipeline.training_set import TrainingSet, assemble
from warehouse import session


@dataclass
class Mover:
    ad_id: int
    site_id: str
    title: str
    before: float
    after: float


@dataclass
class RetrainReport:
    version: str
    previous_champion: str | None
    promoted: bool
    reason: str
    new_labels: dict[str, int]
    training_examples: int
    excluded_evaluation_rows: int
    eval_rows: int
    eval_fingerprint: str
    challenger_eval: dict[str, Any]
    champion_eval: dict[str, Any] | None
    cv_grouped: dict[str, Any]
    champion_cv_grouped: dict[str, Any] | None
    movers: list[Mover] = field(default_factory=list)
    training_lines: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return json_safe(asdict(self))

    def lines(self) -> list[str]:
        out = [
            f"challenger {self.version} vs champion {self.previous_champion or '(none)'}: "
            f"{'PROMOTED' if self.promoted else 'not promoted'} — {self.reason}",
            ("new labels since the champion was trained: " if self.previous_champion else "labels (no champion yet): ")
            + (", ".join(f"{k} {v}" for k, v in sorted(self.new_labels.items())) or "none"),
            f"trained on {self.training_examples} labelled ads "
            f"({self.excluded_evaluation_rows} left out as evaluation rows or their near-duplicates)",
            "",
            f"frozen evaluation set ({self.eval_rows} rows, fingerprint {self.eval_fingerprint}):",
        ]
        if self.champion_eval is not None:
            out += comparison_table("champion", self.champion_eval, "challenger", self.challenger_eval)
        else:
            out += metrics_table(self.challenger_eval)
        if self.champion_cv_grouped is not None:
            old, new = self.champion_cv_grouped.get("pr_auc"), self.cv_grouped.get("pr_auc")
            if old is not None and new is not None:
                out.append(f"template-grouped CV PR-AUC: champion {old:.4f} -> challenger {new:.4f} "
                           "(different training data: indicative only)")
        out += self.training_lines
        if self.movers:
            out += ["", "top score movers among current ads:"]
            out += [
                f"  {m.before:.3f} -> {m.after:.3f}  ({m.after - m.before:+.3f})  ad {m.ad_id} [{m.site_id}] "
                f"{m.title[:60]}"
                for m in self.movers
            ]
        return out


def new_labels_since(con: duckdb.DuckDBPyConnection, watermark: int) -> dict[str, int]:
    """Labels recorded after a model's data was read, counted per ``source/label``."""
    rows = con.execute(
        "SELECT source || '/' || label, count(*) FROM labels WHERE label_id > ? GROUP BY 1 ORDER BY 1", [watermark]
    ).fetchall()
    return {str(k): int(v) for k, v in rows}


def read_training_set(
    db: Path, emscad_csv: Path | None, emscad_limit: int | None = None, reference: Sequence[Example] = ()
) -> TrainingSet:
    with session(db) as con:
        return assemble(con, emscad_csv, emscad_limit=emscad_limit, reference=reference)


def train_challenger(
    data: TrainingSet,
    extractor: FeatureExtractor,
    *,
    seed: int,
    folds: int,
    review_budget: int,
    weekly_volume: int = DEFAULT_WEEKLY_VOLUME,
    prevalence: float = DEFAULT_PREVALENCE,
) -> ScoringModel:
    return train(
        data.examples,
        extractor,
        seed=seed,
        folds=folds,
        review_budget=review_budget,
        weekly_volume=weekly_volume,
        prevalence=prevalence,
        week_texts=data.week,
        label_watermark=data.label_watermark,
    )


def score_movers(con: duckdb.DuckDBPyConnection, before: str, after: str, limit: int) -> list[Mover]:
    rows = con.execute(
        """
        SELECT a.ad_id, a.site_id, a.title, o.score, n.score
        FROM scores o JOIN scores n USING (ad_id) JOIN ads a USING (ad_id)
        WHERE o.model_version = ? AND n.model_version = ?
        ORDER BY abs(n.score - o.score) DESC, a.ad_id LIMIT ?
        """,
        [before, after, limit],
    ).fetchall()
    return [Mover(int(r[0]), str(r[1]), str(r[2]), float(r[3]), float(r[4])) for r in rows]


def register_and_decide(
    db: Path,
    model: ScoringModel,
    data: TrainingSet,
    extractor: FeatureExtractor,
    *,
    models_dir: Path,
    actor: str,
    min_gain: float = 0.0,
    movers: int = 10,
) -> RetrainReport:
    """Register the challenger, decide on the frozen set, shadow-score current ads, and report."""
    with session(db) as con:
        version = register(con, model, models_dir, created_by=actor, promote=False, parent_version=data.champion)
        decision: Decision = decide(con, version, data.evaluation, extractor, actor=actor, min_gain=min_gain)
        champion_cv = None
        watermark = 0
        if decision.champion is not None:
            old = load(con, decision.champion)
            champion_cv = old.metrics.get("cv", {}).get("grouped", {}).get("overall")
            watermark = old.label_watermark
        challenger = load(con, version)
        score_pending(con, challenger)
        moved: list[Mover] = []
        if decision.champion is not None:
            score_pending(con, load(con, decision.champion))
            moved = score_movers(con, decision.champion, version, movers)
        labels = new_labels_since(con, watermark)
    return RetrainReport(
        version=version,
        previous_champion=decision.champion,
        promoted=decision.promoted,
        reason=decision.reason,
        new_labels=labels,
        training_examples=len(data.examples),
        excluded_evaluation_rows=data.excluded,
        eval_rows=decision.eval_rows,
        eval_fingerprint=data.evaluation.fingerprint,
        challenger_eval=decision.challenger_metrics,
        champion_eval=decision.champion_metrics,
        cv_grouped=model.metrics.get("cv", {}).get("grouped", {}).get("overall", {}),
        champion_cv_grouped=champion_cv,
        movers=moved,
        training_lines=training_report(model.metrics),
    )
