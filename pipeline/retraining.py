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
from pipeline.model_registry import identical_version, json_safe, load, register
from pipeline.model_report import warehouse_flips
from pipeline.report import comparison_table, metrics_table, training_report
from pipeline.score import score_pending
from pipeline.scoring_model import ScoringModel
from pipeline.thresholds import DEFAULT_PREVALENCE, DEFAULT_WEEKLY_VOLUME
from pipeline.train import ensure_cross_ad, ensure_vectors, train
from pipeline.training_data import Example
from pipeline.training_progress import Reporter
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
    new_label_fates: dict[str, int] = field(default_factory=dict)  # new labels: "used" or why held out
    identical_to: str | None = None  # an existing version with the same training fingerprint and parameters
    alert_flips: dict[str, list[int]] = field(default_factory=dict)  # lang -> [ads, newly alerted, no longer]

    def to_dict(self) -> dict[str, Any]:
        return json_safe(asdict(self))

    def lines(self) -> list[str]:
        if self.identical_to is not None:
            return [
                f"challenger not registered: identical to {self.identical_to} (same training fingerprint and "
                "parameters; nothing changed in the training data since that model)",
                ("new labels since the champion was trained: " if self.previous_champion else "labels: ")
                + (", ".join(f"{k} {v}" for k, v in sorted(self.new_labels.items())) or "none"),
                *self._fate_lines(),
                *self.training_lines,
            ]
        out = [
            f"challenger {self.version} vs champion {self.previous_champion or '(none)'}: "
            f"{'PROMOTED' if self.promoted else 'not promoted'} — {self.reason}",
            ("new labels since the champion was trained: " if self.previous_champion else "labels (no champion yet): ")
            + (", ".join(f"{k} {v}" for k, v in sorted(self.new_labels.items())) or "none"),
            *self._fate_lines(),
            f"trained on {self.training_examples} labelled ads "
            f"({self.excluded_evaluation_rows} left out as evaluation rows or their near-duplicates; "
            "every label's fate below)",
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
        if self.alert_flips:
            total = [sum(v[i] for v in self.alert_flips.values()) for i in range(3)]
            out += ["", f"alert decisions that changed among current ads (each model at its own threshold): "
                        f"{total[1] + total[2]} of {total[0]} ({total[1]} newly alerted, {total[2]} no longer)"]
            out += [f"  {lang}: {n} ads, {to} newly alerted, {fr} no longer" for lang, (n, to, fr)
                    in self.alert_flips.items() if to or fr]
        if self.movers:
            out += ["", "top score movers among current ads:"]
            out += [
                f"  {m.before:.3f} -> {m.after:.3f}  ({m.after - m.before:+.3f})  ad {m.ad_id} [{m.site_id}] "
                f"{m.title[:60]}"
                for m in self.movers
            ]
        return out

    def _fate_lines(self) -> list[str]:
        if not self.new_label_fates:
            return []
        used = self.new_label_fates.get("used", 0)
        held = ", ".join(f"{n} {reason}" for reason, n in sorted(self.new_label_fates.items()) if reason != "used")
        return [f"  of these, {used} used in training" + (f"; held out: {held}" if held else "")]


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
    progress: Reporter | None = None,
) -> ScoringModel:
    """Train on ``data``; the model's metrics get the label ledger (``metrics["labels"]``). ``progress``: where
    stage lines go (features, each cross-validation fold, the final fit), None for silence."""
    todo = sum(e.vector is None for e in data.examples)
    if progress is not None:
        progress(f"features: {todo:,} of {len(data.examples):,} training ads need lure features extracted")
    ensure_vectors(data.examples, extractor)
    ensure_cross_ad(data.examples)
    model = train(
        data.examples,
        extractor,
        seed=seed,
        folds=folds,
        review_budget=review_budget,
        weekly_volume=weekly_volume,
        prevalence=prevalence,
        week_texts=data.week,
        label_watermark=data.label_watermark,
        progress=progress,
    )
    model.metrics["labels"] = data.ledger.to_dict()
    return model


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
    progress: Reporter | None = None,
) -> RetrainReport:
    """Register the challenger, decide on the frozen set, shadow-score current ads, and report. A challenger
    identical to a registered version (same training fingerprint and parameters) is not registered again."""
    with session(db) as con:
        existing = identical_version(con, model)
        if existing is not None:
            since = load(con, data.champion).label_watermark if data.champion is not None else 0
            return RetrainReport(
                version=existing, previous_champion=data.champion, promoted=False,
                reason=f"identical to {existing}: not registered again", new_labels=new_labels_since(con, since),
                new_label_fates=dict(data.ledger.fates_since(since)),
                training_examples=len(data.examples), excluded_evaluation_rows=data.excluded, eval_rows=0,
                eval_fingerprint=data.evaluation.fingerprint, challenger_eval={}, champion_eval=None,
                cv_grouped=model.metrics.get("cv", {}).get("grouped", {}).get("overall", {}),
                champion_cv_grouped=None, training_lines=training_report(model.metrics), identical_to=existing,
            )
        version = register(con, model, models_dir, created_by=actor, promote=False, parent_version=data.champion)
        if progress is not None:
            progress(f"comparison: {version} vs the champion on {data.evaluation.description}")
        decision: Decision = decide(con, version, data.evaluation, extractor, actor=actor, min_gain=min_gain)
        if progress is not None:
            progress("shadow scoring: current ads with the challenger (and the champion) to find what moved")
        champion_cv = None
        watermark = 0
        if decision.champion is not None:
            old = load(con, decision.champion)
            champion_cv = old.metrics.get("cv", {}).get("grouped", {}).get("overall")
            watermark = old.label_watermark
        challenger = load(con, version)
        score_pending(con, challenger)
        moved: list[Mover] = []
        flipped: dict[str, list[int]] = {}
        if decision.champion is not None:
            score_pending(con, load(con, decision.champion))
            moved = score_movers(con, decision.champion, version, movers)
            found = warehouse_flips(con, decision.champion, old.threshold, version, challenger.threshold)
            if found is not None:
                flipped = {lang: list(counts) for lang, counts in found.by_language.items()}
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
        new_label_fates=dict(data.ledger.fates_since(watermark)),
        alert_flips=flipped,
    )
