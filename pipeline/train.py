"""Training the scorer and estimating its quality honestly.

1. Features: lure / contact features (``features.FEATURE_NAMES``) and cross-ad features per example;
   hashed word + character n-grams of the text.
2. Cross-validation, twice: stratified folds, and template-grouped folds (no near-duplicate cluster on both
   sides). Every fold refits everything (IDF, text model, column selection, trees) on its training rows.
3. Calibration: Platt scaling fitted on the grouped out-of-fold log-odds (the model faces new templates
   in production); reported metrics use cross-fitted calibration, so no row is scored by a calibrator that
   saw its label.
4. Alert threshold for the review budget (see :mod:`pipeline.thresholds`).
5. The final model is fitted on all examples.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from features import FEATURE_NAMES, FeatureExtractor
from features.taxonomy import INDICATORS
from pipeline.calibration import Calibrator, cross_fitted, reliability
from pipeline.cross_ad_inputs import CROSS_AD_NAMES, batch_cross_ad, contact_keys
from pipeline.design_matrix import structured_matrix
from pipeline.fit import fit_parts, raw_scores
from pipeline.folds import SCHEMES, make_folds, template_groups
from pipeline.metrics import sliced
from pipeline.scoring_model import ScoringModel
from pipeline.text_vectorizer import hashed_counts
from pipeline.thresholds import DEFAULT_PREVALENCE, DEFAULT_WEEKLY_VOLUME, budget_threshold
from pipeline.training_data import Example, fingerprint, text_keys
from pipeline.training_progress import FitProgress, Reporter

DEFAULT_BUDGET = 50


def ensure_vectors(examples: Sequence[Example], extractor: FeatureExtractor) -> None:
    """Fill in lure feature vectors and contacts for examples that came without them (e.g. EMSCAD rows)."""
    todo = [e for e in examples if e.vector is None]
    if todo:
        found = extractor.extract_many([e.text for e in todo], langs=[e.language for e in todo])
        for example, feats in zip(todo, found, strict=True):
            example.vector = feats.vector()
            example.contacts = contact_keys(feats.contacts)
            example.language = example.language or feats.language


def ensure_cross_ad(examples: Sequence[Example]) -> None:
    """Examples without warehouse cross-ad features get them within their own batch (e.g. all EMSCAD rows)."""
    todo = [e for e in examples if e.vector is not None and CROSS_AD_NAMES[0] not in e.vector]
    if not todo:
        return
    for example, cross in zip(todo, batch_cross_ad([e.text for e in todo], [e.contacts or () for e in todo]),
                              strict=True):
        example.vector = {**(example.vector or {}), **cross}


# Not comparable across training sources: EMSCAD's text had stop words and punctuation stripped upstream, so its
# lengths and language-detection confidences differ from crawled ads for reasons unrelated to fraud; the trees
# would learn "where the example came from" instead of "is it a lure".
SOURCE_CONFOUNDED = frozenset({"n_chars", "language_confidence"})
# Having a phone number, an e-mail or a web address says nothing about a lure: a café, a landlord and a recruiter
# all give one. Counted bare, they taught the trees "short ad + mobile number = lure" (EMSCAD's ads had their
# contacts stripped upstream, the fixture's lures all carry a mobile). What a contact says is kept: messenger-only
# contact, free-mail, a company e-mail, a foreign number, a link shortener.
SURFACE_CONTACTS = frozenset({"n_phones", "n_phones_mobile", "n_phones_landline", "n_emails", "n_urls"})
# More lure evidence never makes an ad less suspicious: the trees may not learn otherwise from a few examples.
MONOTONE_INCREASING = frozenset({"n_indicators_distinct", "n_evidence"} | {f"ind_{i}" for i in INDICATORS})


def feature_names() -> list[str]:
    """The structured model inputs: lure/contact/fact features of the extractor, then cross-ad features."""
    left_out = SOURCE_CONFOUNDED | SURFACE_CONTACTS
    return [name for name in FEATURE_NAMES if name not in left_out] + list(CROSS_AD_NAMES)


def monotone_constraints(names: Sequence[str]) -> list[int]:
    return [1 if name in MONOTONE_INCREASING else 0 for name in names]


@dataclass
class ModelInputs:
    """What every fit of the scorer reads, for one set of examples."""

    names: list[str]  # structured column names (:func:`feature_names`)
    texts: list[str]
    labels: np.ndarray
    groups: np.ndarray  # template groups (near-duplicates and known template ids) for grouped folds
    counts: sp.csr_matrix  # hashed n-gram counts
    structured: sp.csr_matrix
    monotone: list[int]


def model_inputs(examples: Sequence[Example], extractor: FeatureExtractor) -> ModelInputs:
    """Fill in missing feature vectors and cross-ad features, then build the model's inputs."""
    ensure_vectors(examples, extractor)
    ensure_cross_ad(examples)
    names = feature_names()
    texts = [e.text for e in examples]
    return ModelInputs(
        names=names,
        texts=texts,
        labels=np.array([e.label for e in examples], dtype=int),
        groups=template_groups(texts, [e.group for e in examples]),
        counts=hashed_counts(texts),
        structured=structured_matrix([e.vector or {} for e in examples], names),
        monotone=monotone_constraints(names),
    )


def out_of_fold(
    counts: sp.csr_matrix,
    structured: sp.csr_matrix,
    labels: np.ndarray,
    groups: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
    seed: int,
    monotone: Sequence[int] = (),
    progress: FitProgress | None = None,
) -> np.ndarray:
    """Raw log-odds for every row from a model fitted without that row's fold."""
    progress = progress or FitProgress(None, schemes=0, folds=0)
    raw = np.zeros(len(labels), dtype=float)
    for train_idx, test_idx in folds:
        parts = progress.fit(fit_parts, counts[train_idx], structured[train_idx], labels[train_idx],
                             groups[train_idx], seed, monotone)
        raw[test_idx] = raw_scores(parts, counts[test_idx], structured[test_idx])
    return raw


def train(
    examples: Sequence[Example],
    extractor: FeatureExtractor,
    *,
    seed: int = 2026,
    folds: int = 5,
    schemes: Sequence[str] = SCHEMES,
    review_budget: int = DEFAULT_BUDGET,
    week_texts: tuple[Sequence[str], Sequence[dict[str, float]]] | None = None,
    calibration: str = "platt",
    label_watermark: int = 0,
    weekly_volume: int = DEFAULT_WEEKLY_VOLUME,
    prevalence: float = DEFAULT_PREVALENCE,
    progress: Reporter | None = None,
) -> ScoringModel:
    """Fit on all examples; metrics come from out-of-fold predictions of every CV scheme, per slice.

    Scores are calibrated to ``prevalence`` (the share of lures on the boards scored). The alert threshold fits
    ``review_budget`` alerts into ``weekly_volume`` new ads a week (:mod:`pipeline.thresholds`); ``week_texts``
    (texts, feature vectors) of the ads first seen in the last 7 days set it instead when they are that many.
    ``progress`` hears of each cross-validation fold and the final fit, with an estimate of the time left.
    """
    started = time.perf_counter()
    if len({e.label for e in examples}) < 2:
        raise ValueError("training needs both lure and not-lure examples")
    inputs = model_inputs(examples, extractor)
    names, texts, labels, groups = inputs.names, inputs.texts, inputs.labels, inputs.groups
    counts, structured, monotone = inputs.counts, inputs.structured, inputs.monotone
    slices = {
        "source": [e.source for e in examples],
        "lang": [e.language for e in examples],
        "site": [e.site for e in examples],
    }
    metrics: dict[str, Any] = {"cv": {}, "cv_folds": folds}
    calibration_raw: np.ndarray | None = None
    fits = FitProgress(progress, schemes=len(schemes), folds=folds)
    for scheme in schemes:
        split = make_folds(labels, groups, scheme, folds, seed)
        fits.split(scheme, len(split))
        raw = out_of_fold(counts, structured, labels, groups, split, seed, monotone, fits)
        calibrated = cross_fitted(raw, labels, [test for _, test in split], calibration)
        metrics["cv"][scheme] = sliced(labels, calibrated, slices)
        calibration_raw = raw  # the last scheme (grouped by default) sets calibration + threshold
        metrics.setdefault("reliability", {})[scheme] = {
            "uncalibrated": reliability(labels, expit(raw)),
            "calibrated": reliability(labels, calibrated),
        }
    if calibration_raw is None:
        raise ValueError("no cross-validation scheme given")
    training_prevalence = float(labels.mean())
    calibrator = Calibrator.fit(calibration_raw, labels, calibration).for_prevalence(prevalence, training_prevalence)
    parts = fits.fit(fit_parts, counts, structured, labels, groups, seed, monotone)
    model = ScoringModel.from_parts(parts, names, calibrator, 0.5)
    week_scores = model.predict(*week_texts) if week_texts and len(week_texts[0]) else None
    budget = budget_threshold(review_budget, labels, calibrator(calibration_raw), week_scores,
                              weekly_volume=weekly_volume, prevalence=prevalence)
    model.threshold = budget["threshold"]
    model.fingerprint = fingerprint(examples)
    model.training_keys = text_keys(texts)
    model.label_watermark = label_watermark
    metrics["threshold"] = budget
    metrics["calibration"] = calibrator.to_dict()
    metrics["training"] = {
        "examples": len(examples),
        "lures": int(labels.sum()),
        "lure_share": round(training_prevalence, 4),
        "template_groups": len(np.unique(groups)),
        "by_source": {s: slices["source"].count(s) for s in sorted(set(slices["source"]))},
        "seconds": round(time.perf_counter() - started, 1),
    }
    model.metrics = metrics
    return model
