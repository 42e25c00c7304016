"""How well the scorer does on ads it has never seen: per source, per language, with bootstrap intervals.

Sources (:mod:`pipeline.external_sets`): the EMSCAD test split, real legitimate ads (cvbankas.lt, pracuj.pl odd ids),
real scam messages (Telegram work offers, job smishing, adult-site recruitment), ordinary Telegram chat, the
fixture's evaluation split and the frozen challenge set. None of them is trained on, tuned on or used to pick a
threshold. Each source is scored as one batch, as ``lurewatch score --input`` would score that file.

Besides each source, two pooled slices: ``real`` (every real ad and message: real lures against real legitimate
ads, the only PR-AUC on text nobody here wrote) and ``hand-written`` (challenge set + fixture evaluation split).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from features import FeatureExtractor
from pipeline.bootstrap import Estimate, evaluate_scores
from pipeline.external_sets import SOURCES, LabelledText, available_sources, load_source
from pipeline.score import score_texts
from pipeline.scoring_model import ScoringModel
from pipeline.training_data import text_keys

DEFAULT_SOURCES = (
    "challenge",
    "fixture_eval",
    "emscad_test",
    "cvbankas",
    "pracuj_eval",
    "tg_spam_work",
    "smishtank_jobs",
    "backpage_recruitment",
    "tg_ham",
)
REAL_SOURCES = frozenset(
    {"emscad_test", "cvbankas", "pracuj_eval", "tg_spam_work", "smishtank_jobs", "backpage_recruitment", "tg_ham"}
)
HAND_WRITTEN = frozenset({"challenge", "fixture_eval"})
PER_LANGUAGE = frozenset({"challenge", "fixture_eval", "cvbankas", "pracuj_eval"})


@dataclass
class Scored:
    rows: list[LabelledText]
    scores: np.ndarray


@dataclass
class SliceResult:
    name: str
    metrics: dict[str, Any]
    f1: float | None = None  # at p >= 0.5 with the scores moved to the slice's own lure share (Bayes decision)


@dataclass
class GeneralisationReport:
    model: str
    threshold: float
    prevalence: float | None
    review_budget: int
    slices: list[SliceResult] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    trained_on: dict[str, int] = field(default_factory=dict)  # per source: rows left out, the model trained on them
    scored: dict[str, Scored] = field(default_factory=dict, repr=False)  # per source: its rows and their scores

    def to_dict(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            if isinstance(value, Estimate):
                return {"value": value.value, "low": value.low, "high": value.high}
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            return value

        return {
            "model": self.model,
            "threshold": self.threshold,
            "prevalence": self.prevalence,
            "review_budget": self.review_budget,
            "missing_sources": self.missing,
            "left_out_trained_on": self.trained_on,
            "slices": {s.name: {**plain(s.metrics), "f1_at_slice_prevalence": s.f1} for s in self.slices},
        }


def score_source(model: ScoringModel, extractor: FeatureExtractor, rows: Sequence[LabelledText]) -> np.ndarray:
    return score_texts(model, extractor, [r.text for r in rows])


def f1_at_slice_prevalence(model: ScoringModel, labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Fraud-class F1 deciding "lure" when the odds, moved from the model's prevalence to the slice's, exceed 1.

    EMSCAD's test split is 47 % fraud, a real board about 1 %: the same scores mean different odds there.
    """
    share = float(labels.mean()) if len(labels) else 0.0
    if not 0.0 < share < 1.0:
        return None
    model_prevalence = model.calibrator.prevalence
    p = np.clip(scores, 1e-12, 1 - 1e-12)
    logit = np.log(p / (1 - p))
    if model_prevalence is not None:
        logit = logit - np.log(model_prevalence / (1 - model_prevalence)) + np.log(share / (1 - share))
    predicted = logit >= 0
    tp = float((predicted & (labels == 1)).sum())
    fp = float((predicted & (labels == 0)).sum())
    fn = float((~predicted & (labels == 1)).sum())
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def evaluate_model(
    model: ScoringModel,
    extractor: FeatureExtractor,
    shared_dir: Path,
    project_root: Path,
    *,
    sources: Sequence[str] = DEFAULT_SOURCES,
    review_budget: int = 50,
    n_boot: int = 1000,
    seed: int = 2026,
    progress: Any = None,
) -> GeneralisationReport:
    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        raise ValueError(f"unknown evaluation source(s) {unknown}; known: {sorted(SOURCES)}")
    training_only = [s for s in sources if SOURCES[s].role != "evaluation"]
    if training_only:
        raise ValueError(f"{training_only} are training data, not evaluation sources")
    present = set(available_sources(shared_dir, project_root))
    report = GeneralisationReport(
        model=model.version or "(unregistered)",
        threshold=model.threshold,
        prevalence=model.calibrator.prevalence,
        review_budget=review_budget,
        missing=[s for s in sources if s not in present],
    )
    scored = report.scored
    for name in sources:
        if name not in present:
            continue
        rows = load_source(name, shared_dir, project_root)
        # an ad an analyst decided may have become training data (e.g. a fixture evaluation ad): never grade on it
        seen = np.isin(text_keys([r.text for r in rows]), model.training_keys)
        if seen.any():
            report.trained_on[name] = int(seen.sum())
            rows = [r for r, s in zip(rows, seen, strict=True) if not s]
        if progress is not None:
            progress(f"scoring {name} ({len(rows)} texts)")
        scored[name] = Scored(rows, score_source(model, extractor, rows))

    def add(name: str, rows: Sequence[LabelledText], scores: np.ndarray) -> None:
        labels = np.array([r.label for r in rows], dtype=int)
        # a 50-ad slice with 16 lures cannot fill a budget of 50: precision is taken among as many of the riskiest
        # ads as the slice has lures (at most the budget), so a perfect ranking scores 1.0 on every slice
        budget = max(1, min(review_budget, int(labels.sum())))
        metrics = evaluate_scores(labels, scores, model.threshold, budget, n_boot=n_boot, seed=seed)
        report.slices.append(SliceResult(name, metrics, f1_at_slice_prevalence(model, labels, scores)))

    for name, item in scored.items():
        rows, scores = item.rows, item.scores
        add(name, rows, scores)
        if name in PER_LANGUAGE:
            for lang in sorted({r.language or "?" for r in rows}):
                keep = [i for i, r in enumerate(rows) if (r.language or "?") == lang]
                if len(keep) < len(rows):
                    add(f"{name} lang={lang}", [rows[i] for i in keep], scores[keep])
    for pool, members in (("pooled: real", REAL_SOURCES), ("pooled: hand-written", HAND_WRITTEN)):
        chosen = [n for n in scored if n in members]
        if len(chosen) > 1:
            rows = [r for n in chosen for r in scored[n].rows]
            add(pool, rows, np.concatenate([scored[n].scores for n in chosen]))
    return report


HEADER = (
    f"{'slice':<30}{'n':>6}{'lures':>6}{'legit':>6}  {'PR-AUC [95% CI]':<22}{'recall@thr':<22}"
    f"{'false alarms@thr':<22}{'precision@budget':<22}{'F1':>6}"
)


def report_lines(report: GeneralisationReport) -> list[str]:
    prevalence = "the training mix" if report.prevalence is None else f"{report.prevalence:.1%} lures"
    lines = [
        f"model {report.model}: alert threshold {report.threshold:.4f}, scores calibrated to {prevalence}, "
        f"precision@budget = lures among the slice's top k, k = {report.review_budget} (the review budget) or the "
        "slice's number of lures if fewer",
        HEADER,
    ]
    for s in report.slices:
        m = s.metrics
        f1 = "-" if s.f1 is None else f"{s.f1:.3f}"
        lines.append(
            f"{s.name:<30}{m['n']:>6}{m['lures']:>6}{m['legit']:>6}  {m['pr_auc'].fmt():<22}{m['recall'].fmt():<22}"
            f"{m['false_alarm_rate'].fmt():<22}{m['precision_at_budget'].fmt():<22}{f1:>6}"
        )
    if report.missing:
        lines.append(f"not available here (files missing): {', '.join(report.missing)}")
    for name, count in report.trained_on.items():
        lines.append(f"{name}: {count} rows left out, the model trained on them (e.g. analysts' decisions)")
    return lines
