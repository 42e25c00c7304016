"""A model report per version: one self-contained HTML page a data scientist can read without the code.

What it shows, and on which data:

* **Held-out evaluation** — the model scores the rows of the gate's evaluation set that it never trained on
  (:func:`report_evaluation_set`: the frozen fixture eval split and EMSCAD fifth, minus analyst-labelled ads and
  their near-duplicates, plus the analyst evaluation sample). On those rows: the precision-recall curve, the
  calibration curve, the confusion matrix at the model's alert threshold, and per-language / per-site / per-source
  tables with counts and stratified-bootstrap 95 % intervals (:func:`pipeline.bootstrap.evaluate_scores`).
  Scores are probabilities at the board prevalence (1 % lures); the evaluation rows hold far more lures, so the
  calibration curve moves each score's odds to the rows' own lure share first (Bayes' rule, as
  :func:`pipeline.generalisation.f1_at_slice_prevalence`), else every point would sit above the diagonal.
* **Cross-validation** — the stored out-of-fold metrics and reliability table (counts per slice; no intervals:
  the out-of-fold scores are not stored).
* **Top features** — LightGBM gain of the structured features and of the selected n-gram columns, and the
  strongest word n-grams of the linear text model. The text columns are hashed, so an n-gram's name comes from
  the texts the report has at hand (the evaluation rows and the warehouse's ads); a column none of them contains
  is shown by its number.
* **Training data** — the label ledger stored with the model (which labels were used, which held out and why).
* **Difference to the champion** — both models on the same rows (neither trained on them), per slice with
  intervals, and how many alert decisions flipped, on the evaluation rows and on the warehouse's current ads
  (each model at its own threshold), by language.

Every piece of text in the page (ad n-grams, site names, versions, user names) is HTML-escaped; charts are inline
SVG built from numbers only.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from sklearn.metrics import precision_recall_curve

from features import FeatureExtractor
from pipeline.bootstrap import Estimate, evaluate_scores
from pipeline.evaluation_set import EvaluationSet, frozen_evaluation_set, gate_evaluation_set
from pipeline.folds import GROUPING_THRESHOLD
from pipeline.label_ledger import ANALYST, analyst_sample
from pipeline.model_registry import ModelRow, champion_version, list_models, load
from pipeline.scoring_model import ScoringModel
from pipeline.text_vectorizer import N_WORD, ngram_columns
from pipeline.train import ensure_cross_ad, ensure_vectors
from pipeline.training_data import Example

N_BOOT = 1000
SLICE_DIMENSIONS = ("lang", "site", "source")
TOP_FEATURES = 20
TOP_NGRAMS = 15


# ---------------------------------------------------------------------------------------------------------------
# data


def report_evaluation_set(con: duckdb.DuckDBPyConnection, emscad_csv: Path | None) -> EvaluationSet:
    """The rows a report (and ``models compare``) scores: the frozen set minus analyst-labelled ads and their
    near-duplicates, plus the analyst evaluation sample, as the gate of a training run today would build it."""
    from features.near_duplicates import cluster_ids
    from pipeline.training_data import warehouse_examples
    from pipeline.training_set import first_analyst_labels

    frozen = frozen_evaluation_set(emscad_csv if emscad_csv is not None and emscad_csv.exists() else None)
    analyst = [e for e in warehouse_examples(con) if e.source == ANALYST]
    if not analyst:
        return frozen
    firsts = first_analyst_labels(con)
    clusters = cluster_ids([e.text for e in analyst], GROUPING_THRESHOLD)
    chosen = analyst_sample([e.text for e in analyst], [firsts.get(e.ad_id or -1, e.label_id or 0) for e in analyst],
                            clusters.tolist())
    return gate_evaluation_set(frozen, analyst, [e for e, s in zip(analyst, chosen, strict=True) if s])


def fair_rows(evaluation: EvaluationSet, *models: ScoringModel) -> list[Example]:
    """Evaluation rows none of ``models`` trained on (by content key)."""
    keys = evaluation.keys
    seen = np.zeros(len(keys), dtype=bool)
    for model in models:
        seen |= np.isin(keys, model.training_keys)
    return [e for e, s in zip(evaluation.examples, seen, strict=True) if not s]


@dataclass
class SliceRow:
    name: str  # "overall", "lang=lv", "site=balticjobs", ...
    n: int
    lures: int
    flagged: int
    pr_auc: Estimate
    recall: Estimate
    false_alarm_rate: Estimate
    precision_at_threshold: Estimate


def slice_rows(
    labels: np.ndarray,
    scores: np.ndarray,
    slices: Mapping[str, Sequence[str | None]],
    threshold: float,
    n_boot: int = N_BOOT,
) -> list[SliceRow]:
    """Overall, then one row per value of each slice dimension, with bootstrap intervals."""

    def row(name: str, mask: np.ndarray) -> SliceRow:
        m = evaluate_scores(labels[mask], scores[mask], threshold, n_boot=n_boot)
        return SliceRow(name, m["n"], m["lures"], m["flagged"], m["pr_auc"], m["recall"], m["false_alarm_rate"],
                        m["precision_at_threshold"])

    out = [row("overall", np.ones(len(labels), dtype=bool))]
    for dimension, values in slices.items():
        column = np.array([v or "?" for v in values], dtype=object)
        for value in sorted(set(column.tolist())):
            out.append(row(f"{dimension}={value}", column == value))
    return out


def example_slices(rows: Sequence[Example]) -> dict[str, list[str | None]]:
    return {"lang": [e.language for e in rows], "site": [e.site for e in rows], "source": [e.source for e in rows]}


@dataclass
class Flips:
    """Alert decisions of two models on the same ads (each at its own threshold), per language."""

    n: int
    to_alert: int  # not alerted by the old model, alerted by the new
    from_alert: int  # alerted by the old, not by the new
    by_language: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # lang -> (n, to, from)

    @property
    def flipped(self) -> int:
        return self.to_alert + self.from_alert


def flips(old: np.ndarray, old_threshold: float, new: np.ndarray, new_threshold: float,
          languages: Sequence[str | None]) -> Flips:
    was, now = old >= old_threshold, new >= new_threshold
    by_language: dict[str, tuple[int, int, int]] = {}
    column = np.array([v or "?" for v in languages], dtype=object)
    for value in sorted(set(column.tolist())):
        mask = column == value
        by_language[str(value)] = (int(mask.sum()), int((now & ~was & mask).sum()), int((was & ~now & mask).sum()))
    return Flips(len(old), int((now & ~was).sum()), int((was & ~now).sum()), by_language)


def warehouse_flips(con: duckdb.DuckDBPyConnection, old: str, old_threshold: float, new: str,
                    new_threshold: float) -> Flips | None:
    """Alert flips among the warehouse's ads scored by both models (None when no ad has both scores)."""
    rows = con.execute(
        """
        SELECT coalesce(f.language, '?'), o.score, n.score
        FROM scores o JOIN scores n ON n.ad_id = o.ad_id AND n.model_version = ?
        LEFT JOIN features f ON f.ad_id = o.ad_id
        WHERE o.model_version = ?
        """,
        [new, old],
    ).fetchall()
    if not rows:
        return None
    return flips(np.array([r[1] for r in rows], dtype=float), old_threshold,
                 np.array([r[2] for r in rows], dtype=float), new_threshold, [str(r[0]) for r in rows])


@dataclass
class Feature:
    name: str
    kind: str  # "structured" | "n-gram column" | "word n-gram"
    value: float


@dataclass
class Curves:
    recall: list[float]
    precision: list[float]
    calibration: list[tuple[float, float, int]]  # (mean predicted, observed lure rate, n) per bin


@dataclass
class ModelReport:
    row: ModelRow
    threshold: float
    evaluation_description: str
    evaluation_fingerprint: str
    eval_rows: int
    eval_lures: int
    slices: list[SliceRow]
    curves: Curves
    confusion: dict[str, int]  # tp, fp, fn, tn at the alert threshold
    gain: list[Feature]
    text_ngrams: list[Feature]  # strongest positive then strongest negative word n-grams of the text model
    champion: str | None = None  # None when this model is the champion or there is none
    champion_threshold: float | None = None
    champion_slices: list[SliceRow] = field(default_factory=list)  # on the rows neither model trained on
    compared_slices: list[SliceRow] = field(default_factory=list)  # this model on those same rows
    champion_curves: Curves | None = None
    compared_curves: Curves | None = None
    compared_rows: int = 0
    eval_flips: Flips | None = None
    warehouse_flips: Flips | None = None
    generated_at: datetime = field(default_factory=datetime.now)


def _shift_to(scores: np.ndarray, model: ScoringModel, share: float) -> np.ndarray:
    """Probabilities with the odds moved from the model's prevalence to ``share`` (the rows' own lure share)."""
    prevalence = model.calibrator.prevalence
    p = np.clip(scores, 1e-12, 1 - 1e-12)
    if prevalence is None or not 0.0 < share < 1.0:
        return p
    logit = np.log(p / (1 - p)) - math.log(prevalence / (1 - prevalence)) + math.log(share / (1 - share))
    return 1.0 / (1.0 + np.exp(-logit))


def curves(labels: np.ndarray, scores: np.ndarray, model: ScoringModel, bins: int = 10) -> Curves:
    precision, recall, _ = precision_recall_curve(labels, scores)
    shifted = _shift_to(scores, model, float(labels.mean()) if len(labels) else 0.0)
    order = np.argsort(shifted, kind="stable")
    calibration = []
    for part in np.array_split(order, min(bins, max(1, len(order)))):  # equal-count bins
        if len(part):
            calibration.append((float(shifted[part].mean()), float(labels[part].mean()), len(part)))
    return Curves([float(r) for r in recall], [float(p) for p in precision], calibration)


def _column_names(texts: Sequence[str]) -> dict[int, str]:
    """Hashed column -> the (longest) n-gram of ``texts`` that hashes to it."""
    names: dict[int, str] = {}
    for text in texts:
        for column, grams in ngram_columns(text).items():
            best = max(grams, key=len)
            if len(best) > len(names.get(column, "")):
                names[column] = best
    return names


def top_features(model: ScoringModel, texts: Sequence[str], top: int = TOP_FEATURES,
                 top_ngrams: int = TOP_NGRAMS) -> tuple[list[Feature], list[Feature]]:
    """``(LightGBM gain per input, strongest word n-grams of the linear text model)``."""
    names = _column_names(texts)
    gain = np.asarray(model.booster.feature_importance(importance_type="gain"), dtype=float)
    n_structured = len(model.structured_names)
    gains: list[Feature] = []
    for index in np.argsort(-gain, kind="stable")[:top]:
        if gain[index] <= 0:
            break
        if index < n_structured:
            gains.append(Feature(model.structured_names[index], "structured", float(gain[index])))
        else:
            column = int(model.text_columns[index - n_structured])
            label = names.get(column, f"#{column}")
            gains.append(Feature(label, "word n-gram" if column < N_WORD else "character n-gram", float(gain[index])))
    weights = model.text_model.scale * np.asarray(model.text_model.coef, dtype=float)
    word_columns = np.array(sorted(c for c in names if c < N_WORD), dtype=np.int64)
    ngrams: list[Feature] = []
    if len(word_columns):
        w = weights[word_columns]
        order = np.argsort(-w, kind="stable")
        for index in [*order[:top_ngrams], *order[::-1][:top_ngrams]]:
            if (w[index] > 0) == (len(ngrams) < top_ngrams) and w[index] != 0:
                ngrams.append(Feature(names[int(word_columns[index])], "word n-gram", float(w[index])))
    return gains, ngrams


def _warehouse_texts(con: duckdb.DuckDBPyConnection, limit: int = 5000) -> list[str]:
    from warehouse.records import ad_text

    rows = con.execute("SELECT title, body FROM ads ORDER BY ad_id LIMIT ?", [limit]).fetchall()
    return [ad_text(r[0], r[1]) for r in rows]


def build_report(
    con: duckdb.DuckDBPyConnection,
    version: str,
    evaluation: EvaluationSet,
    extractor: FeatureExtractor,
    *,
    n_boot: int = N_BOOT,
) -> ModelReport:
    """Everything the page shows for ``version`` (LookupError: no such model; ValueError: nothing to evaluate)."""
    rows_by_version = {r.version: r for r in list_models(con)}
    if version not in rows_by_version:
        raise LookupError(f"no model {version!r} in the registry")
    model = load(con, version)
    current = champion_version(con)
    champion = load(con, current) if current and current != version else None
    ensure_vectors(evaluation.examples, extractor)
    ensure_cross_ad(evaluation.examples)
    own = fair_rows(evaluation, model)
    if not own or len({e.label for e in own}) < 2:
        raise ValueError(f"the evaluation set has {len(own)} rows {version} did not train on: nothing to report")
    labels = np.array([e.label for e in own], dtype=int)
    scores = model.predict([e.text for e in own], [e.vector or {} for e in own])
    flagged = scores >= model.threshold
    confusion = {
        "tp": int((flagged & (labels == 1)).sum()), "fp": int((flagged & (labels == 0)).sum()),
        "fn": int((~flagged & (labels == 1)).sum()), "tn": int((~flagged & (labels == 0)).sum()),
    }
    gain, ngrams = top_features(model, [e.text for e in own] + _warehouse_texts(con))
    report = ModelReport(
        row=rows_by_version[version],
        threshold=float(model.threshold),
        evaluation_description=evaluation.description,
        evaluation_fingerprint=evaluation.fingerprint,
        eval_rows=len(own),
        eval_lures=int(labels.sum()),
        slices=slice_rows(labels, scores, example_slices(own), model.threshold, n_boot),
        curves=curves(labels, scores, model),
        confusion=confusion,
        gain=gain,
        text_ngrams=ngrams,
    )
    if champion is not None:
        both = fair_rows(evaluation, model, champion)
        if both and len({e.label for e in both}) > 1:
            y = np.array([e.label for e in both], dtype=int)
            texts, vectors = [e.text for e in both], [e.vector or {} for e in both]
            new, old = model.predict(texts, vectors), champion.predict(texts, vectors)
            report.champion = champion.version
            report.champion_threshold = float(champion.threshold)
            report.compared_rows = len(both)
            report.compared_slices = slice_rows(y, new, example_slices(both), model.threshold, n_boot)
            report.compared_curves = curves(y, new, model)
            report.champion_slices = slice_rows(y, old, example_slices(both), champion.threshold, n_boot)
            report.champion_curves = curves(y, old, champion)
            report.eval_flips = flips(old, champion.threshold, new, model.threshold, [e.language for e in both])
        report.warehouse_flips = warehouse_flips(con, str(champion.version), champion.threshold, version,
                                                 model.threshold)
    return report


@dataclass
class Comparison:
    """Two models on the same evaluation rows (neither trained on them), per slice with intervals."""

    a: str
    b: str
    a_threshold: float
    b_threshold: float
    rows: int
    lures: int
    evaluation: str
    a_slices: list[SliceRow]
    b_slices: list[SliceRow]
    flips: Flips  # alert decisions from a (old) to b (new), each at its own threshold


def compare_models(con: duckdb.DuckDBPyConnection, a: str, b: str, evaluation: EvaluationSet,
                   extractor: FeatureExtractor, *, n_boot: int = N_BOOT) -> Comparison:
    """LookupError: an unknown version; ValueError: no rows with both classes that neither model trained on."""
    first, second = load(con, a), load(con, b)
    ensure_vectors(evaluation.examples, extractor)
    ensure_cross_ad(evaluation.examples)
    rows = fair_rows(evaluation, first, second)
    if not rows or len({e.label for e in rows}) < 2:
        raise ValueError(f"the evaluation set has {len(rows)} rows neither model trained on: cannot compare")
    y = np.array([e.label for e in rows], dtype=int)
    texts, vectors = [e.text for e in rows], [e.vector or {} for e in rows]
    sa, sb = first.predict(texts, vectors), second.predict(texts, vectors)
    slices = example_slices(rows)
    return Comparison(a, b, float(first.threshold), float(second.threshold), len(rows), int(y.sum()),
                      evaluation.description, slice_rows(y, sa, slices, first.threshold, n_boot),
                      slice_rows(y, sb, slices, second.threshold, n_boot),
                      flips(sa, first.threshold, sb, second.threshold, [e.language for e in rows]))


def comparison_lines(c: Comparison) -> list[str]:
    """The comparison as aligned text: full version names in a legend (headers are never cut), then one row per
    slice (overall, per language, per site, per label source) with counts and intervals."""
    lines = [
        f"A = {c.a} (alert threshold {c.a_threshold:.4f})",
        f"B = {c.b} (alert threshold {c.b_threshold:.4f})",
        f"evaluation rows neither model trained on: {c.rows:,} ({c.lures:,} lures) of {c.evaluation}",
        "intervals: 95 % stratified bootstrap; recall at each model's own alert threshold",
        "",
    ]
    header = ["slice", "n", "lures", "PR-AUC A [95% CI]", "PR-AUC B [95% CI]", "delta", "recall A [95% CI]",
              "recall B [95% CI]"]
    table: list[list[str]] = []
    b_rows = {r.name: r for r in c.b_slices}
    for ra in c.a_slices:
        rb = b_rows.get(ra.name)
        if rb is None:
            continue
        delta = (None if ra.pr_auc.value is None or rb.pr_auc.value is None else rb.pr_auc.value - ra.pr_auc.value)
        name = "".join(ch if ch.isprintable() else " " for ch in ra.name)  # no terminal control characters
        table.append([name, f"{ra.n:,}", f"{ra.lures:,}", ra.pr_auc.fmt(), rb.pr_auc.fmt(),
                      "-" if delta is None else f"{delta:+.3f}", ra.recall.fmt(), rb.recall.fmt()])
    widths = [max(len(row[i]) for row in [header, *table]) for i in range(len(header))]

    def fmt(row: Sequence[str]) -> str:
        return "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths,
                                                                                                      strict=True)))

    lines += [fmt(header), *(fmt(row) for row in table), ""]
    f = c.flips
    lines.append(f"alert decisions that differ: {f.flipped:,} of {f.n:,} rows ({f.to_alert:,} alerted only by B, "
                 f"{f.from_alert:,} only by A)")
    lines += [f"  {lang}: {to + fr:,} of {n:,} (B only {to:,}, A only {fr:,})" for lang, (n, to, fr)
              in f.by_language.items() if to + fr]
    return lines


# ---------------------------------------------------------------------------------------------------------------
# HTML

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1100px;padding:1.5rem;
color:#1d2530;line-height:1.45}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d6dbe2}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}
th,td{padding:.25rem .6rem;border-bottom:1px solid #e4e8ee;text-align:right;vertical-align:top}
th:first-child,td:first-child{text-align:left}th{background:#f3f5f8}
.muted{color:#5d6b7a;font-size:.9rem}.charts{display:flex;flex-wrap:wrap;gap:1.5rem}
.charts figure{margin:0}.charts figcaption{font-size:.85rem;color:#5d6b7a;max-width:420px}
.up{color:#1b7f3b}.down{color:#b3261e}code{font-size:.85rem}
.confusion td{min-width:6rem;text-align:center}.confusion th{text-align:center}
"""

NAVY, ORANGE, GREY = "#1f3a5f", "#d9822b", "#9aa5b1"


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _est(value: Estimate, digits: int = 3) -> str:
    return _e(value.fmt(digits))


def line_chart(series: Sequence[tuple[str, Sequence[float], Sequence[float], str]], x_label: str, y_label: str,
               *, diagonal: bool = False, points: bool = False, width: int = 420, height: int = 320) -> str:
    """An inline SVG chart of lines on [0, 1] x [0, 1] (numbers only; labels escaped)."""
    left, right, top, bottom = 46, 12, 12, 40
    pw, ph = width - left - right, height - top - bottom

    def x(v: float) -> float:
        return left + max(0.0, min(1.0, v)) * pw

    def y(v: float) -> float:
        return top + (1.0 - max(0.0, min(1.0, v))) * ph

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(y_label)} against {_e(x_label)}">']
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line x1="{x(0):.1f}" y1="{y(tick):.1f}" x2="{x(1):.1f}" y2="{y(tick):.1f}" stroke="#e4e8ee"/>')
        parts.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" font-size="10" text-anchor="end">{tick:.2f}</text>')
        parts.append(f'<text x="{x(tick):.1f}" y="{top + ph + 14}" font-size="10" '
                     f'text-anchor="middle">{tick:.2f}</text>')
    parts.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="{GREY}"/>')
    if diagonal:
        parts.append(f'<line x1="{x(0):.1f}" y1="{y(0):.1f}" x2="{x(1):.1f}" y2="{y(1):.1f}" stroke="{GREY}" '
                     'stroke-dasharray="4 3"/>')
    for i, (name, xs, ys, color) in enumerate(series):
        path = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in zip(xs, ys, strict=True))
        parts.append(f'<polyline class="series" data-series="{_e(name)}" points="{path}" fill="none" '
                     f'stroke="{color}" stroke-width="2"/>')
        if points:
            parts += [f'<circle cx="{x(a):.1f}" cy="{y(b):.1f}" r="3" fill="{color}"/>'
                      for a, b in zip(xs, ys, strict=True)]
        parts.append(f'<rect x="{left + 10}" y="{top + 8 + 16 * i}" width="10" height="3" fill="{color}"/>'
                     f'<text x="{left + 26}" y="{top + 13 + 16 * i}" font-size="11">{_e(name)}</text>')
    parts.append(f'<text x="{left + pw / 2:.1f}" y="{height - 6}" font-size="11" text-anchor="middle">'
                 f'{_e(x_label)}</text>')
    parts.append(f'<text x="12" y="{top + ph / 2:.1f}" font-size="11" text-anchor="middle" '
                 f'transform="rotate(-90 12 {top + ph / 2:.1f})">{_e(y_label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _slice_table(rows: Sequence[SliceRow], dimension: str | None) -> str:
    chosen = [r for r in rows if (dimension is None and r.name == "overall") or
              (dimension is not None and r.name.startswith(dimension + "="))]
    if not chosen:
        return '<p class="muted">No rows.</p>'
    head = ("<tr><th>slice</th><th>ads</th><th>lures</th><th>flagged</th><th>PR-AUC [95% CI]</th>"
            "<th>recall at threshold</th><th>false alarms at threshold</th><th>precision at threshold</th></tr>")
    body = "".join(
        f"<tr><td>{_e(r.name.split('=', 1)[-1])}</td><td>{r.n:,}</td><td>{r.lures:,}</td><td>{r.flagged:,}</td>"
        f"<td>{_est(r.pr_auc)}</td><td>{_est(r.recall)}</td><td>{_est(r.false_alarm_rate)}</td>"
        f"<td>{_est(r.precision_at_threshold)}</td></tr>"
        for r in chosen
    )
    return f'<table class="slices" data-dimension="{_e(dimension or "overall")}">{head}{body}</table>'


def _cv_tables(metrics: Mapping[str, Any]) -> str:
    out = []
    for scheme, table in metrics.get("cv", {}).items():
        rows = "".join(
            f"<tr><td>{_e(name)}</td><td>{m.get('n', 0):,}</td><td>{m.get('positives', 0):,}</td>"
            f"<td>{_num(m.get('pr_auc'))}</td><td>{_num(m.get('roc_auc'))}</td><td>{_num(m.get('f1'))}</td></tr>"
            for name, m in table.items()
        )
        out.append(f"<h3>{_e(metrics.get('cv_folds', '?'))}-fold cross-validation, {_e(scheme)}</h3>"
                   "<table><tr><th>slice</th><th>ads</th><th>lures</th><th>PR-AUC</th><th>ROC-AUC</th>"
                   f"<th>F1 at p &ge; 0.5</th></tr>{rows}</table>")
    return "".join(out) or '<p class="muted">No cross-validation metrics stored with this model.</p>'


def _num(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    return f"{float(value):.{digits}f}"


def _flips_table(found: Flips | None, where: str) -> str:
    if found is None:
        return f'<p class="muted">No {_e(where)} scored by both models.</p>'
    rows = "".join(f"<tr><td>{_e(lang)}</td><td>{n:,}</td><td>{to:,}</td><td>{fr:,}</td></tr>"
                   for lang, (n, to, fr) in found.by_language.items())
    return (f'<p class="flips" data-where="{_e(where)}">{found.flipped:,} of {found.n:,} {_e(where)} changed their '
            f"alert decision: {found.to_alert:,} newly alerted, {found.from_alert:,} no longer alerted.</p>"
            "<table><tr><th>language</th><th>ads</th><th>newly alerted</th><th>no longer alerted</th></tr>"
            f"{rows}</table>")


def _ledger(metrics: Mapping[str, Any]) -> str:
    labels = metrics.get("labels")
    training = metrics.get("training", {})
    parts = []
    if training:
        parts.append(f"<p>Trained on {training.get('examples', 0):,} ads ({training.get('lures', 0):,} lures, "
                     f"{training.get('template_groups', 0):,} template groups) in {_e(training.get('seconds', '?'))} s."
                     "</p>")
    if not labels:
        parts.append('<p class="muted">This model was trained before the label ledger was recorded.</p>')
        return "".join(parts)
    rows = "".join(
        f"<tr><td>{_e(name)}</td><td>{c['used']:,}</td><td>{c['used_lures']:,}</td><td>{c['held_out']:,}</td></tr>"
        for name, c in labels.get("by_origin", {}).items()
    )
    parts.append(f"<p>{labels.get('used', 0):,} labels used in training, {labels.get('held_out', 0):,} held out.</p>"
                 '<table class="ledger"><tr><th>origin</th><th>used</th><th>of which lures</th><th>held out</th></tr>'
                 f"{rows}</table>")
    reasons = "".join(
        f"<tr><td>{_e(reason)}</td><td>{sum(per.values()):,}</td>"
        f"<td>{_e(', '.join(f'{o} {n:,}' for o, n in per.items()))}</td></tr>"
        for reason, per in labels.get("by_reason", {}).items()
    )
    if reasons:
        parts.append("<table><tr><th>held out because</th><th>labels</th><th>by origin</th></tr>"
                     f"{reasons}</table>")
    return "".join(parts)


def _features(report: ModelReport) -> str:
    gain = "".join(f"<tr><td><code>{_e(f.name)}</code></td><td>{_e(f.kind)}</td><td>{f.value:,.1f}</td></tr>"
                   for f in report.gain)
    words = "".join(f"<tr><td><code>{_e(f.name)}</code></td><td>{f.value:+.3f}</td></tr>" for f in report.text_ngrams)
    return ("<h3>LightGBM: total gain per input</h3>"
            f'<table class="gain"><tr><th>input</th><th>kind</th><th>gain</th></tr>{gain}</table>'
            "<h3>Linear text model: strongest word n-grams</h3>"
            '<p class="muted">Log-odds one unit of the n-gram\'s TF-IDF weight adds (positive: towards lure). '
            "Named from the evaluation rows and the warehouse's ads (the columns are hashed).</p>"
            f'<table class="ngrams"><tr><th>n-gram</th><th>weight</th></tr>{words}</table>')


def _champion_section(report: ModelReport) -> str:
    if report.champion is None:
        status = "is the champion" if report.row.status == "champion" else "has no champion to compare with"
        return f'<p class="muted">This model {_e(status)}: nothing to compare.</p>'
    mine = {r.name: r for r in report.compared_slices}
    rows = []
    for old in report.champion_slices:
        new = mine.get(old.name)
        if new is None:
            continue
        delta = None if new.pr_auc.value is None or old.pr_auc.value is None else new.pr_auc.value - old.pr_auc.value
        cls = "" if delta is None or abs(delta) < 5e-4 else (' class="up"' if delta > 0 else ' class="down"')
        rows.append(f"<tr><td>{_e(old.name)}</td><td>{old.n:,}</td><td>{old.lures:,}</td><td>{_est(old.pr_auc)}</td>"
                    f"<td>{_est(new.pr_auc)}</td><td{cls}>{'–' if delta is None else f'{delta:+.3f}'}</td>"
                    f"<td>{_est(old.recall)}</td><td>{_est(new.recall)}</td></tr>")
    curves = ""
    if report.champion_curves is not None:
        own = report.compared_curves or report.curves
        curves = ('<div class="charts"><figure>' + line_chart(
            [("champion", report.champion_curves.recall, report.champion_curves.precision, GREY),
             ("this model", own.recall, own.precision, NAVY)], "recall", "precision")
            + "<figcaption>Precision-recall of both models.</figcaption></figure></div>")
    return (f"<p>Champion <code>{_e(report.champion)}</code> (alert threshold {report.champion_threshold:.4f}) "
            f"and this model (threshold {report.threshold:.4f}) on the same {report.compared_rows:,} evaluation "
            "rows neither trained on.</p>"
            '<table class="compare"><tr><th>slice</th><th>ads</th><th>lures</th><th>champion PR-AUC</th>'
            "<th>this model PR-AUC</th><th>delta</th><th>champion recall</th><th>this model recall</th></tr>"
            f"{''.join(rows)}</table>{curves}"
            "<h3>Alert decisions that flipped</h3>"
            + _flips_table(report.eval_flips, "evaluation rows")
            + _flips_table(report.warehouse_flips, "warehouse ads"))


def render_html(report: ModelReport, *, stylesheet: str | None = None) -> str:
    """The report as one HTML document; ``stylesheet``: link this URL instead of an inline <style> (for pages
    served under a Content-Security-Policy without 'unsafe-inline')."""
    row, c = report.row, report.confusion
    style = f'<link rel="stylesheet" href="{_e(stylesheet)}">' if stylesheet else f"<style>{CSS}</style>"
    threshold_info = row.metrics.get("threshold", {})
    pr = line_chart([("this model", report.curves.recall, report.curves.precision, NAVY)], "recall", "precision")
    cal_series = [("held-out rows", [p for p, _, _ in report.curves.calibration],
                   [o for _, o, _ in report.curves.calibration], NAVY)]
    cv_bins = row.metrics.get("reliability", {}).get("grouped", {}).get("calibrated", {}).get("bins", [])
    if cv_bins:
        cal_series.append(("cross-validation (training mix)", [b["mean_score"] for b in cv_bins],
                           [b["lure_rate"] for b in cv_bins], ORANGE))
    calibration = line_chart(cal_series, "predicted probability", "observed lure share", diagonal=True, points=True)
    lure_share = report.eval_lures / report.eval_rows if report.eval_rows else 0.0
    prevalence = float(row.metrics.get("calibration", {}).get("params", {}).get("prevalence") or 0.01)
    parent = f" · parent <code>{_e(row.parent_version)}</code>" if row.parent_version else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Model report {_e(row.version)} · lurewatch</title>{style}</head>
<body>
<h1>Model report <code>{_e(row.version)}</code></h1>
<p class="muted">Status <strong>{_e(row.status)}</strong> · trained by {_e(row.created_by)} at
{_e(f"{row.created_at:%Y-%m-%d %H:%M}")} on {row.n_train or 0:,} ads · training fingerprint
<code>{_e(row.training_fingerprint)}</code>{parent}
· report generated {_e(f"{report.generated_at:%Y-%m-%d %H:%M}")}</p>

<section id="summary"><h2>Summary</h2>
<p>Alert threshold <strong>{report.threshold:.4f}</strong> ({_e(threshold_info.get("basis", ""))}).
Held out: {report.eval_rows:,} evaluation rows this model never trained on ({report.eval_lures:,} lures,
{lure_share:.1%}): {_e(report.evaluation_description)}; fingerprint <code>{_e(report.evaluation_fingerprint)}</code>.
Intervals are 95 % stratified-bootstrap percentile intervals ({N_BOOT:,} replicates).</p>
{_slice_table(report.slices, None)}
</section>

<section id="curves"><h2>Precision-recall and calibration (held-out rows)</h2>
<div class="charts">
<figure>{pr}<figcaption>Precision-recall curve on the {report.eval_rows:,} held-out rows.</figcaption></figure>
<figure>{calibration}<figcaption>Calibration: rows in ten equal-count bins of predicted probability (scores moved
from the board prevalence to the rows' own lure share, {lure_share:.1%}) against the share of lures in the bin;
orange: the stored cross-validation reliability table. On the dashed line a score means what it says.</figcaption>
</figure></div>
</section>

<section id="confusion"><h2>Confusion matrix at the alert threshold ({report.threshold:.4f})</h2>
<table class="confusion"><tr><th></th><th>alerted</th><th>not alerted</th></tr>
<tr><th>lure</th><td data-cell="tp">{c["tp"]:,}</td><td data-cell="fn">{c["fn"]:,}</td></tr>
<tr><th>not a lure</th><td data-cell="fp">{c["fp"]:,}</td><td data-cell="tn">{c["tn"]:,}</td></tr></table>
<p class="muted">The threshold is set for a board with {prevalence:.1%}
lures and the weekly review budget; the evaluation rows hold {lure_share:.1%}.</p>
</section>

<section id="languages"><h2>Per language (held-out rows)</h2>{_slice_table(report.slices, "lang")}</section>
<section id="sites"><h2>Per site (held-out rows)</h2>{_slice_table(report.slices, "site")}</section>
<section id="sources"><h2>Per label source (held-out rows)</h2>{_slice_table(report.slices, "source")}</section>

<section id="cross-validation"><h2>Cross-validation (stored with the model)</h2>
<p class="muted">Out-of-fold metrics per slice; counts shown, no intervals (the out-of-fold scores are not stored).
A slice with a handful of lures says little.</p>{_cv_tables(row.metrics)}</section>

<section id="features"><h2>Top features</h2>{_features(report)}</section>

<section id="training-data"><h2>Training data</h2>{_ledger(row.metrics)}</section>

<section id="champion"><h2>Difference to the champion</h2>{_champion_section(report)}</section>
</body></html>
"""


def write_report(path: Path, report: ModelReport) -> None:
    """Write the page next to ``path`` first and rename it over ``path`` when complete."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(render_html(report), encoding="utf-8")
    temporary.replace(path)
