"""Weekly digest generation on a large synthetic warehouse, stage by stage, against a bare scan of the same data.

    .venv/bin/python bench/bench_digest.py [--ads 1000000] [--weeks 12] [--repeat 3] [--keep DIR]

The warehouse is generated in DuckDB with SQL alone (``digest.synthetic``: ads, features with JSON vectors and
evidence, scores, champion model, phone/e-mail/messenger entities, template clusters). The **baseline**, measured
in the same run on the same file, is the cheapest query that touches the same rows: high-risk counts per site and
week, ``SELECT site_id, week, count(*) FILTER (WHERE score >= t) FROM ads JOIN scores GROUP BY ALL``. Every query
stage is the best of ``--repeat`` runs; rendering stages run once (they do not depend on the data size). The
Parquet rows export the same warehouse partitioned by site and week and run the digest queries on it.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import sys
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from timing import best_of

from digest import archive, queries
from digest.config import parse_config
from digest.queries import DigestQuery, load_digest_data
from digest.render import fingerprint, render_csv, render_html, render_pdf
from digest.service import subject, text_summary
from digest.synthetic import SyntheticSpec, generate
from digest.view import build_view
from warehouse import session
from warehouse.parquet import export_parquet, read_parquet_warehouse

BASELINE_SQL = """
SELECT a.site_id, date_trunc('week', coalesce(a.posted, CAST(a.first_seen AS DATE))) AS week,
       count(*) AS ads, count(*) FILTER (WHERE s.score >= 0.5) AS high_risk
FROM ads a JOIN scores s ON s.ad_id = a.ad_id AND s.model_version = 'synthetic-champion'
GROUP BY ALL
"""


def once(fn: Callable[[], Any]) -> tuple[float, Any]:
    return best_of(1, fn)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ads", type=int, default=1_000_000)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the warehouse and outputs here (kept)")
    args = parser.parse_args(argv)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-digest-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "bench.duckdb"
    db.unlink(missing_ok=True)
    spec = SyntheticSpec(ads=args.ads, weeks=args.weeks)
    week = spec.last_week
    config = parse_config(
        {"archive_dir": str(folder / "archive"), "recipients": [{"id": "bench", "name": "Benchmark NGO"}]}, folder
    )
    recipient = config.recipients[0]
    query = DigestQuery(week, recipient.thresholds, recipient.filters)
    rows: list[tuple[str, float]] = []

    generate_s, counts = once(lambda: _generate(db, spec))
    with session(db) as con:
        baseline_s, _ = best_of(args.repeat, lambda: con.execute(BASELINE_SQL).fetchall())
        model, threshold = queries.resolve_model(con, None)
        first_week = week - timedelta(days=7 * (recipient.thresholds.history_weeks - 1))
        window = min(first_week, week - timedelta(days=7 * recipient.thresholds.emerging.baseline_weeks))
        scope_s, _ = best_of(args.repeat, lambda: queries._build_scope(con, query, model, threshold, window))
        rows.append(("query: scope (temp tables: ads in scope, high-risk flag)", scope_s))
        rows.append(("query: weekly trend", best_of(args.repeat, lambda: queries._trend(con, first_week, week))[0]))
        rows.append(("query: site / language / country breakdowns", best_of(args.repeat, lambda: [
            queries._breakdown(con, c, week) for c in ("site_id", "language", "country")])[0]))
        rows.append(("query: indicators (JSON vectors)",
                     best_of(args.repeat, lambda: queries._indicator_breakdown(con, week))[0]))
        rows.append(("query: template + contact clusters", best_of(args.repeat, lambda: queries._clusters(
            con, week, recipient.thresholds.cluster_min_size, recipient.thresholds.top_clusters))[0]))
        rows.append(("query: emerging phrases (JSON evidence)",
                     best_of(args.repeat, lambda: queries._phrases(con, week, recipient.thresholds))[0]))
        all_queries_s, data = best_of(args.repeat, lambda: load_digest_data(con, query))
    view_s, view = once(lambda: build_view(data, recipient))
    fingerprint_s, (digest_fingerprint, parts) = once(lambda: fingerprint(data, recipient))
    view.fingerprint = digest_fingerprint
    from digest.charts import render_charts

    charts_s, charts = once(lambda: render_charts(view))
    view.charts = charts
    html_s, html = once(lambda: render_html(view, recipient.template))
    pdf_s, pdf = once(lambda: render_pdf(html))
    csv_s, csvs = once(lambda: render_csv(view))

    def _archive() -> Any:
        from digest.render import RenderedFile

        files = [RenderedFile("digest.html", html.encode(), "text/html"),
                 RenderedFile("digest.pdf", pdf, "application/pdf"), *csvs]
        with session(db) as con:
            return archive.store(con, config.archive_dir, recipient_id=recipient.id, week_start=week,
                                 fingerprint=digest_fingerprint, parts=parts,
                                 thresholds=recipient.thresholds.model_dump(mode="json"), model_version=model,
                                 rendered=files, text_summary=text_summary(view), subject=subject(view))

    archive_s, _ = once(_archive)
    rows += [
        ("query: all of the above (load_digest_data)", all_queries_s),
        ("suppression + labels (view)", view_s),
        ("fingerprint (data + templates + thresholds)", fingerprint_s),
        ("charts (3 matplotlib PNGs)", charts_s),
        ("HTML (Jinja2)", html_s),
        ("PDF (WeasyPrint)", pdf_s),
        ("CSV tables", csv_s),
        ("archive (files + digest_archive row)", archive_s),
    ]
    total = all_queries_s + view_s + fingerprint_s + charts_s + html_s + pdf_s + csv_s + archive_s
    rows.append(("**digest total**", total))

    lake = folder / "lake"
    shutil.rmtree(lake, ignore_errors=True)
    with session(db) as con:
        export_s, _ = once(lambda: export_parquet(con, lake))
    lake_bytes = sum(p.stat().st_size for p in lake.rglob("*.parquet"))
    pq = read_parquet_warehouse(lake)
    try:
        pq_baseline_s, _ = best_of(args.repeat, lambda: pq.execute(BASELINE_SQL).fetchall())
        pq_queries_s, pq_data = best_of(args.repeat, lambda: load_digest_data(pq, query))
    finally:
        pq.close()
    assert pq_data == data, "the Parquet copy gave other numbers"
    db_bytes = db.stat().st_size

    print(f"\n# Digest benchmark: {args.ads:,} synthetic ads over {args.weeks} weeks, week {week}")
    print(f"\n{platform.processor() or platform.machine()}, {_cores()} cores, Python {platform.python_version()}, "
          f"DuckDB {_duckdb_version()}; rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    print(f"generation {generate_s:.1f} s; warehouse {db_bytes / 1e6:.0f} MB; high-risk ads in the week "
          f"{data.high_risk_current:,} of {data.ads_current:,}\n")
    print("| stage | seconds | × baseline |")
    print("|---|---:|---:|")
    print(f"| baseline: high-risk per site and week (bare scan + GROUP BY) | {baseline_s:.3f} | 1.0 |")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.3f} | {seconds / baseline_s:.1f} |")
    print(f"| Parquet export (site × week partitions, zstd; {lake_bytes / 1e6:.0f} MB) | {export_s:.3f} | "
          f"{export_s / baseline_s:.1f} |")
    print(f"| baseline on Parquet | {pq_baseline_s:.3f} | {pq_baseline_s / baseline_s:.1f} |")
    print(f"| query: load_digest_data on Parquet | {pq_queries_s:.3f} | {pq_queries_s / baseline_s:.1f} |")
    if args.keep is None:
        shutil.rmtree(folder, ignore_errors=True)


def _generate(db: Path, spec: SyntheticSpec) -> dict[str, int]:
    with session(db) as con:
        counts = generate(con, spec)
        con.execute("CHECKPOINT")
    return counts


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _duckdb_version() -> str:
    import duckdb

    return str(duckdb.__version__)


if __name__ == "__main__":
    main()
