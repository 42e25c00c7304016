"""Generalisation benchmark: the scorer against two baselines on data none of them trained on, in one run.

    .venv/bin/python bench/bench_generalisation.py [--n-boot 1000] [--json out.json]

All three are trained here, on the same rows: the fixture's ``train`` split, EMSCAD ``train.csv`` (minus the
template-disjoint fifth kept for champion/challenger comparisons), the hand-written training corpus
(``datasets/training_corpus``), the pracuj.pl ads with an even id, the even lines of the Telegram chat and the
work offers on even lines of the Telegram spam (near-copies of evaluation rows left out).

* **lurewatch**: the production training code (:func:`pipeline.train.train`, what ``lurewatch train`` runs);
* **TF-IDF + logistic regression**: scikit-learn's stock word 1-2-gram TF-IDF and a balanced logistic regression;
* **indicator count**: no model at all, the number of distinct lure indicators the lexicons find.

Each is scored on every evaluation source of :mod:`pipeline.generalisation` (the EMSCAD test split, real
legitimate ads, real scam messages, the fixture's evaluation split, the frozen challenge set), never used to
train, tune or pick a threshold. The table gives PR-AUC with a bootstrap 95% interval and the ratio of
lurewatch's PR-AUC to each baseline's; for lurewatch also recall and false alarms at its alert threshold.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

import numpy as np  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from features import FeatureExtractor  # noqa: E402
from lurewatch.settings import get_settings  # noqa: E402
from pipeline.bootstrap import evaluate_scores  # noqa: E402
from pipeline.generalisation import evaluate_model, report_lines  # noqa: E402
from pipeline.reference_data import standalone_training_examples  # noqa: E402
from pipeline.train import train  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    settings = get_settings()
    examples = standalone_training_examples(settings.emscad_train_csv, settings.training_corpus_dir,
                                            settings.shared_data_dir)
    extractor = FeatureExtractor()
    started = time.perf_counter()
    model = train(examples, extractor, seed=settings.random_seed, review_budget=settings.review_budget,
                  weekly_volume=settings.weekly_volume, prevalence=settings.prevalence)
    seconds = time.perf_counter() - started
    texts = [e.text for e in examples]
    labels = np.array([e.label for e in examples])
    tfidf = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    baseline = LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000).fit(tfidf.fit_transform(texts),
                                                                                       labels)
    print(f"trained on {len(examples)} ads ({int(labels.sum())} lures) in {seconds:.0f} s; "
          f"by source {model.metrics['training']['by_source']}")
    report = evaluate_model(model, extractor, settings.shared_data_dir, PROJECT_ROOT, n_boot=args.n_boot,
                            review_budget=settings.review_budget)
    for line in report_lines(report):
        print(line)
    print()
    print("| source | n | lures | lurewatch PR-AUC | TF-IDF+LR PR-AUC | indicator count PR-AUC | ratio vs TF-IDF+LR "
          "| ratio vs count |")
    print("|---|---:|---:|---|---|---|---:|---:|")
    by_name = {s.name: s for s in report.slices}
    rows = {}
    for name, scored in report.scored.items():
        data = scored.rows
        y = np.array([r.label for r in data])
        if y.min() == y.max():
            continue  # PR-AUC needs both classes; one-class sources are in the pooled row
        ours = by_name[name].metrics["pr_auc"]
        lr = evaluate_scores(y, baseline.predict_proba(tfidf.transform([r.text for r in data]))[:, 1], 0.5,
                             n_boot=args.n_boot)["pr_auc"]
        count = np.array([f.vector()["n_indicators_distinct"] for f in extractor.extract_many([r.text for r in data])])
        ind = evaluate_scores(y, count.astype(float), 1.0, n_boot=args.n_boot)["pr_auc"]
        rows[name] = {"n": len(y), "lures": int(y.sum()), "lurewatch": ours.value, "tfidf_lr": lr.value,
                      "indicator_count": ind.value}
        print(f"| {name} | {len(y)} | {int(y.sum())} | {ours.fmt()} | {lr.fmt()} | {ind.fmt()} | "
              f"{ours.value / lr.value:.2f}x | {ours.value / ind.value:.2f}x |")
    if args.json:
        args.json.write_text(json.dumps({"report": report.to_dict(), "baselines": rows}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
