"""Peak memory of `lurewatch score --input` on growing CSV files: the streamed scorer against the old whole-file
path (read every row, extract and predict in one batch), both measured in the same run, each in its own process.

    .venv/bin/python bench/bench_score_csv.py [--rows 5000 20000] [--baseline-rows 5000 20000]

The CSV rows are the fixture ads with their digits varied (so near-duplicate clusters and shared contacts exist, as
in a real export). A small model is trained once on the fixture's train split. Each measurement runs in a fresh
child process and reports its peak resident memory (``ru_maxrss``) and wall time. What to compare: how the peak
grows with the rows (the streamed scorer should stay nearly flat; the whole-file path grows with the file), and
the ratio of the two peaks at the largest size.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _write_rows(path: Path, rows: int, seed: int = 7) -> None:
    from fixture_sites import load_ads

    ads = load_ads()
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "title", "text"])
        for i in range(rows):
            ad = ads[i % len(ads)]
            body = re.sub(r"\d", lambda _: str(rng.randrange(10)), f"{ad['title']}\n{ad['body']}")
            writer.writerow([str(i), ad["title"], body])


def _child(mode: str, model_dir: str, source: str) -> None:
    from features import FeatureExtractor
    from pipeline.csv_scoring import score_csv_file
    from pipeline.model_files import load_model
    from pipeline.score import score_texts

    model = load_model(Path(model_dir))
    started = time.perf_counter()
    target = Path(source).with_suffix(f".{mode}.csv")
    if mode == "streamed":
        rows = score_csv_file(model, FeatureExtractor(), Path(source), target).rows
    else:  # the old path: every row in memory, one batch
        with open(source, encoding="utf-8", newline="") as handle:
            records = list(csv.DictReader(handle))
        scores = score_texts(model, FeatureExtractor(), [r["text"] for r in records])
        with target.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=[*records[0], "score"])
            writer.writeheader()
            for record, score in zip(records, scores, strict=True):
                writer.writerow({**record, "score": f"{score:.6f}"})
        rows = len(records)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": rows, "peak_mb": peak_mb, "seconds": time.perf_counter() - started}))


def _measure(mode: str, model_dir: Path, source: Path) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--child", mode, str(model_dir), str(source)],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[5000, 20000])
    parser.add_argument("--baseline-rows", type=int, nargs="*", default=None)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    from features import FeatureExtractor
    from pipeline.evaluation_set import fixture_examples
    from pipeline.model_files import save_model
    from pipeline.train import train

    baseline_rows = args.rows if args.baseline_rows is None else args.baseline_rows
    with tempfile.TemporaryDirectory(prefix="bench-score-csv-") as tmp:
        work = Path(tmp)
        model = train(fixture_examples("train"), FeatureExtractor(), seed=3, folds=2, schemes=("grouped",))
        save_model(model, work / "model")
        print("| rows | streamed peak MB | streamed s | whole-file peak MB (baseline) | whole-file s | peak ratio |")
        print("|---:|---:|---:|---:|---:|---:|")
        for rows in args.rows:
            source = work / f"ads-{rows}.csv"
            _write_rows(source, rows)
            streamed = _measure("streamed", work / "model", source)
            whole = _measure("whole", work / "model", source) if rows in baseline_rows else None
            ratio = f"{streamed['peak_mb'] / whole['peak_mb']:.2f}x" if whole else "-"
            print(f"| {rows:,} | {streamed['peak_mb']:.0f} | {streamed['seconds']:.1f} | "
                  f"{whole['peak_mb'] if whole else float('nan'):.0f} | "
                  f"{whole['seconds'] if whole else float('nan'):.1f} | {ratio} |", flush=True)


if __name__ == "__main__":
    main()
