"""Plain-text tables of a model's metrics, for the terminal and the retrain report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeline.label_ledger import ledger_lines
from pipeline.metrics import TOP_K

# P@20 is shown only for slices of more than 40 ads (on fewer it is little more than the slice's lure share).
HEADER = f"{'slice':<26}{'n':>6}{'lures':>7}{'PR-AUC':>8}{'ROC-AUC':>9}{'F1':>7}{'P@20':>7}"


def _fmt(value: Any, width: int, digits: int) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return f"{'-':>{width}}"
    return f"{value:>{width}.{digits}f}"


def metrics_row(name: str, m: Mapping[str, Any]) -> str:
    return (
        f"{name:<26}{m['n']:>6}{m['positives']:>7}{_fmt(m['pr_auc'], 8, 3)}{_fmt(m['roc_auc'], 9, 3)}"
        f"{_fmt(m['f1'], 7, 3)}{_fmt(m['precision_at_20'] if m['n'] > 2 * TOP_K else None, 7, 2)}"
    )


def metrics_table(table: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return [HEADER, *(metrics_row(name, m) for name, m in table.items())]


def training_report(metrics: Mapping[str, Any]) -> list[str]:
    """Cross-validated metrics per scheme and slice, calibration and the review-budget threshold."""
    lines: list[str] = []
    for scheme, table in metrics.get("cv", {}).items():
        title = {
            "stratified": "stratified",
            "grouped": "template-grouped (no near-duplicate cluster on both sides)",
        }.get(scheme, scheme)
        lines += ["", f"{metrics.get('cv_folds', '?')}-fold cross-validation, {title}; F1 at calibrated p >= 0.5:"]
        lines += metrics_table(table)
    for scheme, rel in metrics.get("reliability", {}).items():
        before, after = rel["uncalibrated"], rel["calibrated"]
        lines.append(
            f"calibration ({scheme} out-of-fold): ECE {before['ece']:.3f} -> {after['ece']:.3f}, "
            f"Brier {before['brier']:.3f} -> {after['brier']:.3f}"
        )
    calibration = metrics.get("calibration", {}).get("params", {})
    if "prevalence" in calibration:
        lines += [
            "",
            f"scores are probabilities on a board with {calibration['prevalence']:.1%} lures "
            f"(training mix: {calibration['training_prevalence']:.1%} lures; LUREWATCH_PREVALENCE)",
        ]
    budget = metrics.get("threshold")
    if budget:
        precision = budget.get("expected_precision")
        lines += [
            "",
            f"review budget {budget['review_budget']} ads/week -> alert threshold {budget['threshold']:.4f} "
            f"({budget['basis']})",
            f"expected precision at that budget: {_fmt(precision, 0, 2).strip()} "
            f"({budget['expected_precision_basis']})",
        ]
        if budget.get("week_ads_at_or_above") is not None:
            lines.append(f"ads of the last crawled week at or above it: {budget['week_ads_at_or_above']}")
    training = metrics.get("training")
    if training:
        lines.append(
            f"trained on {training['examples']} ads ({training['lures']} lures, {training['template_groups']} "
            f"template groups; {training['by_source']}) in {training['seconds']} s"
        )
    labels = metrics.get("labels")
    if labels:
        lines += ["", *ledger_lines(labels)]
    return lines


def comparison_table(a_name: str, a: Mapping[str, Any], b_name: str, b: Mapping[str, Any]) -> list[str]:
    # column titles are never cut: a column is as wide as its title needs
    wa, wb = max(23, len(a_name) + 9), max(23, len(b_name) + 9)
    lines = [f"{'slice':<26}{'n':>6}{'PR-AUC ' + a_name:>{wa}}{'PR-AUC ' + b_name:>{wb}}{'delta':>8}"]
    for name in a:
        if name not in b:
            continue
        pa_, pb_ = a[name]["pr_auc"], b[name]["pr_auc"]
        delta = None if pa_ is None or pb_ is None else pb_ - pa_
        lines.append(f"{name:<26}{a[name]['n']:>6}{_fmt(pa_, wa, 4)}{_fmt(pb_, wb, 4)}{_fmt(delta, 8, 4)}")
    return lines
