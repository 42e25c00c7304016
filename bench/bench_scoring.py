"""Scoring throughput (and where its time goes) and training time at 100k ads, as ratios to bare LightGBM measured
in the same run.

    .venv/bin/python bench/bench_scoring.py [--ads 100000] [--train-ads 100000]

Synthesises ``--ads`` ads from the fixture ads and EMSCAD rows with variations (other digits — phone numbers,
pay, dates —, sentences reordered or dropped, a reference number appended), ~70 % fixture-like (short Baltic
ads), ~30 % EMSCAD-like (long English ads), and writes them with feature rows into a fresh DuckDB file. Lure
features are extracted once per base ad and reused by its variants (extraction is ``bench_features.py``'s
subject, not this one's). Then it measures:

* **scoring**: ``pipeline.score.score_pending`` — read ads + features from DuckDB, hash n-grams, TF-IDF,
  linear text model, LightGBM, calibration, write ``scores`` — against **bare** ``booster.predict`` on the
  already-built design matrix of the same ads (the baseline: the trees alone, nothing else). Then the same
  stages are run one by one on the same ads to show **where the time goes**: read (DuckDB rows, feature JSON,
  cross-ad features), vectorise (n-gram hashing, TF-IDF, text-model margin, design matrix), predict (trees +
  calibration), write (``scores``). Extraction is not part of ``score_pending`` (``lurewatch extract`` does it
  earlier); its cost per ad is measured on a sample and shown beside, for the whole path of a new ad. sklearn's
  stock ``HashingVectorizer`` over the same n-grams is printed as a *reference* (the project replaced it with
  its own hashing, which is faster): it is not a floor;
* **training**: one full fit of the scorer (``pipeline.fit.fit_parts``: IDF, text model with its inner
  out-of-fold margins, chi2 column selection, LightGBM) on ``--train-ads`` ads against **one plain
  ``lightgbm.train``** on the same design matrix with the same parameters. ``lurewatch train`` does
  2 x folds + 1 such fits (stratified and grouped CV, then the final model), each CV fit on (folds-1)/folds of
  the rows; the table states that multiple.

Prints a Markdown table to paste into the README.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

import lightgbm as lgb  # noqa: E402
import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402

from features import FeatureExtractor  # noqa: E402
from fixture_sites import load_ads  # noqa: E402
from lurewatch.settings import get_settings  # noqa: E402
from pipeline.cross_ad_features import cross_ad_vectors  # noqa: E402
from pipeline.design_matrix import combine, structured_matrix  # noqa: E402
from pipeline.feature_store import extractor_version  # noqa: E402
from pipeline.fit import fit_parts, inner_folds  # noqa: E402
from pipeline.folds import template_groups  # noqa: E402
from pipeline.model_registry import load_champion, register  # noqa: E402
from pipeline.score import PENDING_BATCH_SQL, PENDING_IDS_SQL, score_pending, store_scores  # noqa: E402
from pipeline.text_vectorizer import _char, _word, hashed_counts  # noqa: E402
from pipeline.train import feature_names, train  # noqa: E402
from pipeline.training_data import Example, emscad_examples  # noqa: E402
from warehouse import session  # noqa: E402
from warehouse.records import ad_text, content_hash  # noqa: E402

T = TypeVar("T")
BaseAd = tuple[str, str, int, str, dict[str, float], str]  # title, body, label, language, vector, evidence JSON
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def vary(text: str, rng: random.Random, n: int) -> str:
    text = re.sub(r"\d", lambda _: str(rng.randrange(10)), text)
    sentences = _SENTENCE.split(text)
    if len(sentences) > 3 and rng.random() < 0.5:
        head, tail = sentences[:1], sentences[1:]
        rng.shuffle(tail)
        sentences = head + tail
    if len(sentences) > 3 and rng.random() < 0.3:
        sentences.pop(rng.randrange(1, len(sentences)))
    return " ".join(sentences) + f" Ref. {n}"


def base_ads(extractor: FeatureExtractor) -> list[BaseAd]:
    """(title, body, label, language, vector, evidence JSON) of every fixture ad and EMSCAD row."""
    fixture = [(a["title"], a["body"], int(a["label"])) for a in load_ads()]
    emscad = [("", e.text, e.label) for e in emscad_examples(get_settings().emscad_train_csv)]
    rows = fixture + emscad
    found = extractor.extract_many([ad_text(t, b) for t, b, _ in rows])
    return [
        (t, b, y, f.language, f.vector(), json.dumps([{"indicator": e.indicator, "start": e.start, "end": e.end,
                                                       "text": e.text, "pattern": e.pattern} for e in f.evidence]))
        for (t, b, y), f in zip(rows, found, strict=True)
    ]


def synthesise(bases: list[BaseAd], count: int, seed: int = 1) -> list[tuple[int, str, str, int]]:
    """(base index, title, body, label) for ``count`` ads: 70 % fixture-based, 30 % EMSCAD-based."""
    rng = random.Random(seed)
    n_fixture = len(load_ads())
    out = []
    for n in range(count):
        base = rng.randrange(n_fixture) if rng.random() < 0.7 else rng.randrange(n_fixture, len(bases))
        title, body, label = bases[base][0], bases[base][1], bases[base][2]
        out.append((base, vary(title, rng, n) if title else "", vary(body, rng, n), label))
    return out


def write_warehouse(db: Path, bases: list[BaseAd], ads: list[tuple[int, str, str, int]]) -> None:
    now = datetime.now()
    hashes = [content_hash(t, b) for _, t, b, _ in ads]
    table = pa.table(
        {
            "ad_id": pa.array(range(1, len(ads) + 1), pa.int64()),
            "site_id": ["bench"] * len(ads),
            "url": [f"http://127.0.0.1/bench/{i}" for i in range(len(ads))],
            "title": [t or "-" for _, t, _, _ in ads],
            "body": [b for _, _, b, _ in ads],
            "content_hash": hashes,
            "language": [bases[i][3] for i, _, _, _ in ads],
            "vector": [json.dumps(bases[i][4]) for i, _, _, _ in ads],
            "evidence": [bases[i][5] for i, _, _, _ in ads],
        }
    )
    with session(db) as con:
        con.register("_bench", table)
        con.execute(
            "INSERT INTO ads (ad_id, site_id, url, title, body, first_seen, last_seen, content_hash) "
            "SELECT ad_id, site_id, url, title, body, ?, ?, content_hash FROM _bench",
            [now, now],
        )
        con.execute(
            "INSERT INTO features (ad_id, content_hash, extractor_version, language, language_confidence, vector, "
            "evidence) SELECT ad_id, content_hash, ?, language, 1.0, vector::JSON, evidence::JSON FROM _bench",
            [extractor_version()],
        )
        con.unregister("_bench")


def sklearn_hashing(texts: list[str]) -> None:
    """A reference, not a floor: sklearn's stock hashing of the same n-grams (which the project's own hashing in
    ``pipeline.text_vectorizer`` replaces because it is faster)."""
    for vectorizer in (_word, _char):
        vectorizer.transform(texts)


def stage_times(con: Any, model: Any, batch_size: int = 5000) -> dict[str, float]:
    """``score_pending``'s stages run one by one (same functions, same batches) on every ad, timed separately:
    read, vectorise, predict, write. The scores are deleted first and written again."""
    con.execute("DELETE FROM scores").fetchall()
    ids = [int(r[0]) for r in con.execute(PENDING_IDS_SQL, [model.version]).fetchall()]
    spent = dict.fromkeys(("read", "vectorise", "predict", "write"), 0.0)
    for start in range(0, len(ids), batch_size):
        began = time.perf_counter()
        batch = con.execute(PENDING_BATCH_SQL, [model.version, ids[start : start + batch_size]]).fetchall()
        cross = cross_ad_vectors(con, [r[0] for r in batch])
        vectors = [{**json.loads(r[4]), **cross[int(r[0])]} for r in batch]
        texts = [ad_text(r[1], r[2]) for r in batch]
        read = time.perf_counter()
        design = model.design(texts, vectors)
        vectorised = time.perf_counter()
        scores = model.calibrator(model.raw_scores(design))
        predicted = time.perf_counter()
        store_scores(con, model.version, [r[0] for r in batch], scores, [r[3] for r in batch])
        written = time.perf_counter()
        spent["read"] += read - began
        spent["vectorise"] += vectorised - read
        spent["predict"] += predicted - vectorised
        spent["write"] += written - predicted
    return spent


def timed(fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, float]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ads", type=int, default=100_000)
    parser.add_argument("--train-ads", type=int, default=100_000)
    parser.add_argument("--folds", type=int, default=5, help="CV folds assumed for the `lurewatch train` multiple")
    args = parser.parse_args()
    extractor = FeatureExtractor()
    bases, t_base = timed(base_ads, extractor)
    ads, t_synth = timed(synthesise, bases, max(args.ads, args.train_ads))
    print(f"{len(bases)} base ads with features in {t_base:.0f} s; {len(ads)} ads synthesised in {t_synth:.0f} s",
          flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="lurewatch-bench-"))
    db = workdir / "bench.duckdb"
    _, t_write = timed(write_warehouse, db, bases, ads[: args.ads])
    print(f"warehouse with {args.ads} ads written in {t_write:.0f} s", flush=True)

    # a champion trained on the real labelled data (fixture + EMSCAD), as in production
    seed_examples = [Example(ad_text(t, b), y, "bench", vector=dict(v), contacts=()) for t, b, y, _, v, _ in bases]
    model = train(seed_examples, extractor, seed=1, folds=3, schemes=("grouped",))
    with session(db) as con:
        register(con, model, workdir / "models", created_by="bench", promote=True)
        champion = load_champion(con)
        assert champion is not None
        _, t_score = timed(score_pending, con, champion)
    print(f"scored {args.ads} ads in {t_score:.1f} s", flush=True)

    sample = ads[: args.ads]
    texts = [ad_text(t, b) for _, t, b, _ in sample]
    vectors = [bases[i][4] for i, _, _, _ in sample]
    design, t_design = timed(champion.design, texts, vectors)
    _, t_bare = timed(champion.booster.predict, design.matrix, raw_score=True)
    _, t_hash = timed(sklearn_hashing, texts)
    print(f"design matrix {t_design:.1f} s, bare predict {t_bare:.2f} s, sklearn stock hashing {t_hash:.1f} s",
          flush=True)
    with session(db) as con:
        stages = stage_times(con, champion)
    extract_sample = [ad_text(t, b) for _, t, b, _ in sample[: min(len(sample), 2000)]]
    started_cpu = time.process_time()
    extractor.extract_many(extract_sample)
    extract_per_ad = (time.process_time() - started_cpu) / max(len(extract_sample), 1)
    print("stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in stages.items())
          + f"; extraction {1 / extract_per_ad:,.0f} ads per CPU-second ({len(extract_sample)} ads)", flush=True)

    train_rows = ads[: args.train_ads]
    train_texts = [ad_text(t, b) for _, t, b, _ in train_rows]
    labels = np.array([y for *_, y in train_rows], dtype=int)
    counts, t_counts = timed(hashed_counts, train_texts)
    structured = structured_matrix([bases[i][4] for i, _, _, _ in train_rows], feature_names())
    groups, t_groups = timed(template_groups, train_texts)
    parts, t_fit = timed(fit_parts, counts, structured, labels, groups, 1)
    plain_params = {k: v for k, v in parts.params.items() if k != "num_rounds"}
    matrix = combine(structured, parts.weights.transform(counts), parts.text_columns)
    _, t_lgb = timed(lgb.train, plain_params, lgb.Dataset(matrix, label=labels, params=plain_params),
                     num_boost_round=parts.params["num_rounds"])
    cv_fits = 2 * args.folds + 1
    print()
    n = args.ads
    print(f"| step ({n:,} ads scored, {args.train_ads:,} trained on; 2 cores) | time | ads/s | x baseline |")
    print("|---|---|---|---|")
    print(f"| **baseline**: bare `booster.predict` on the already-built matrix (the trees alone) | {t_bare:.2f} s | "
          f"{n / t_bare:,.0f} | 1.0x |")
    print(f"| `score_pending`: DuckDB read, n-gram hashing, text model, trees, calibration, DuckDB write | "
          f"{t_score:.1f} s | {n / t_score:,.0f} | {t_score / t_bare:.0f}x |")
    total = sum(stages.values())
    for name, what in (("read", "DuckDB rows + feature JSON + cross-ad features"),
                       ("vectorise", "n-gram hashing, TF-IDF, text-model margin, design matrix"),
                       ("predict", "trees + calibration"), ("write", "INSERT into `scores`")):
        print(f"| - {name}: {what} | {stages[name]:.1f} s ({stages[name] / total:.0%}) | | "
              f"{stages[name] / t_bare:.0f}x |")
    print(f"| (not in `score_pending`) extraction, done earlier by `lurewatch extract`: {1 / extract_per_ad:,.0f} "
          f"ads per CPU-second on {len(extract_sample):,} ads | ~{extract_per_ad * n:.0f} CPU-s for {n:,} | "
          f"{1 / extract_per_ad:,.0f} | {extract_per_ad * n / t_bare:.0f}x |")
    print(f"| reference, not a floor: sklearn's stock `HashingVectorizer` (word + char_wb) on the same texts, which "
          f"the project's own hashing replaces | {t_hash:.1f} s | {n / t_hash:,.0f} | {t_hash / t_bare:.0f}x |")
    print(f"| **baseline**: one plain `lightgbm.train` on the same matrix | {t_lgb:.1f} s | | 1.0x |")
    print(f"| one full scorer fit (`fit_parts`: IDF, ridge + {inner_folds(args.train_ads)} inner folds, "
          f"chi2, LightGBM) | {t_fit:.1f} s | | {t_fit / t_lgb:.1f}x |")
    print(f"| + n-gram hashing {t_counts:.0f} s, near-duplicate groups {t_groups:.0f} s (once per training) | | | |")
    print(f"| `lurewatch train` ~ hashing + groups + {cv_fits} fits | ~{t_counts + t_groups + cv_fits * t_fit:.0f} s "
          f"| | {(t_counts + t_groups + cv_fits * t_fit) / t_lgb:.0f}x |")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
