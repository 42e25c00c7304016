"""Crawl throughput: our pipeline (parse + DuckDB) against bare Scrapy fetching the same pages.

    .venv/bin/python bench/bench_crawl.py [--ads 3000] [--runs 5]

Serves balticjobs with its ads repeated to ``--ads`` job pages (plus the listing pages) on 127.0.0.1 and, in
alternation, crawls it ``--runs`` times with

* **bare Scrapy** - a minimal spider that follows the same listing and detail links and does nothing else
  (no parsing, no items, no storage), with the same Scrapy settings as ours (robots.txt, AutoThrottle,
  concurrency, User-Agent), and
* **lurewatch, first crawl** - ``crawl_site("balticjobs", ...)`` into a fresh DuckDB file: every detail page
  decoded, parsed (JSON-LD + selectors), snapshotted, and every ad written, and
* **lurewatch, re-crawl** - the same again into the warehouse of the first crawl: unchanged pages are
  recognised by their body hash and not re-parsed (the fixture server sends no ETag, so no 304s).

With ``--browser-ads N`` (default 150; 0 skips it) it also serves the same first N ads as **jsjobs**, the
JavaScript-only fixture board (``fixture_sites/jsjobs.py``), and alternates a plain HTTP first crawl of balticjobs
with a ``render: browser`` first crawl of jsjobs through headless Chromium (``--only-browser`` skips the rest):
pages/s of each and their ratio, in the same run.

Each crawl runs in its own process, like production; the time is Scrapy's own start-to-finish (interpreter
start-up excluded for both). Prints a Markdown table of medians and the ratio to bare Scrapy; the target is
ours >= 0.75 x bare.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

TARGET_RATIO = 0.75


def write_big_fixture(path: Path, n_ads: int) -> int:
    """balticjobs' ads repeated (with new refs) until there are ``n_ads``; other sites' ads dropped."""
    from fixture_sites import load_ads

    source = [ad for ad in load_ads() if ad["site"] == "balticjobs"]
    with path.open("w", encoding="utf-8") as out:
        for i in range(n_ads):
            ad = dict(source[i % len(source)])
            copy = i // len(source)
            if copy:
                ad["ref"] = f"{ad['ref']}-r{copy:02d}"
                ad["title"] = f"{ad['title']} ({copy})"
            out.write(json.dumps(ad, ensure_ascii=False) + "\n")
    return n_ads


# ---- bare Scrapy (child process) ----------------------------------------------------------------------------
def bare_child(base_url: str, log_file: Path) -> None:
    """Fetch every listing and detail page of balticjobs, nothing more; print pages and elapsed seconds."""
    import scrapy
    from scrapy.crawler import CrawlerProcess
    from scrapy.http import Response

    from crawlers.scrapy_settings import build_scrapy_settings
    from lurewatch.settings import get_settings

    class BareSpider(scrapy.Spider):
        name = "bare"
        allowed_domains = ["127.0.0.1"]  # noqa: RUF012 - Scrapy reads it as a class attribute

        async def start(self) -> Any:
            yield scrapy.Request(base_url + "/jobs?page=1", callback=self.parse_listing)

        def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
            for href in response.css("ul.jobs li.job a.job-link::attr(href)").getall():
                yield response.follow(href, callback=self.parse_detail)
            for href in response.css("a.next[rel=next]::attr(href)").getall()[:1]:
                yield response.follow(href, callback=self.parse_listing)

        def parse_detail(self, response: Response) -> None:
            return None

    settings = build_scrapy_settings(get_settings(), log_file=log_file)  # logs like ours: same overhead
    settings["ITEM_PIPELINES"] = {}
    settings["LOG_INSTALL_ROOT_HANDLER"] = True
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler)
    cpu_started = time.process_time()
    process.start()
    cpu_s = time.process_time() - cpu_started
    stats = crawler.stats.get_stats() if crawler.stats is not None else {}
    elapsed = (stats["finish_time"] - stats["start_time"]).total_seconds()
    pages = stats.get("response_received_count", 0)
    print(json.dumps({"pages": pages, "items": 0, "elapsed_s": elapsed, "cpu_s": cpu_s}))


def run_bare(base_url: str, log_file: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--bare-child", base_url, str(log_file)],
        capture_output=True, text=True, check=True, cwd=PROJECT_ROOT, timeout=900,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_ours(base_url: str, db: Path, site: str = "balticjobs") -> dict[str, Any]:
    """``python -m crawlers.run`` exactly as ``crawl_site`` runs it (its JSON line also carries ``cpu_s``)."""
    done = subprocess.run(
        [sys.executable, "-m", "crawlers.run", "--site", site, "--db", str(db), "--base-url", base_url,
         "--log-file", str(db.with_suffix(".log"))],
        capture_output=True, text=True, check=False, cwd=PROJECT_ROOT, timeout=900,
    )
    summary: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if summary.get("status") != "finished":
        raise RuntimeError(f"our crawl failed: {summary}\n{done.stderr[-2000:]}")
    return summary


def ads_in(db: Path) -> int:
    import warehouse

    with warehouse.session(db, read_only=True) as con:
        return int(con.execute("SELECT count(*) FROM ads").fetchall()[0][0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ads", type=int, default=3000, help="job pages to serve (default 3000)")
    parser.add_argument("--runs", type=int, default=5, help="crawls of each kind (default 5)")
    parser.add_argument("--browser-ads", type=int, default=150,
                        help="ads of the browser vs plain HTTP comparison (default 150, 0: skip)")
    parser.add_argument("--only-browser", action="store_true", help="only the browser vs plain HTTP comparison")
    parser.add_argument("--bare-child", nargs=2, metavar=("BASE_URL", "LOG"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare_child:
        bare_child(args.bare_child[0], Path(args.bare_child[1]))
        return 0

    from fixture_sites import FixtureSites

    if args.browser_ads > 0:
        bench_browser(args.browser_ads, args.runs)
    if args.only_browser:
        return 0
    results: dict[str, list[dict[str, Any]]] = {"bare": [], "first": [], "again": []}
    with tempfile.TemporaryDirectory(prefix="lurewatch-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        n_ads = write_big_fixture(tmp / "ads.jsonl", args.ads)
        with FixtureSites(tmp / "ads.jsonl") as sites:
            base_url = sites.base_urls["balticjobs"]
            print(f"serving {n_ads} balticjobs ads at {base_url}; {args.runs} runs of each crawl", flush=True)
            for i in range(args.runs):
                results["bare"].append(run_bare(base_url, tmp / f"bare{i}.log"))
                db = tmp / f"run{i}.duckdb"
                results["first"].append(run_ours(base_url, db))
                stored = ads_in(db)
                if stored != n_ads:
                    raise RuntimeError(f"run {i}: {stored} ads stored, expected {n_ads}")
                results["again"].append(run_ours(base_url, db))
                line = ", ".join(
                    f"{k} {r[-1]['pages'] / r[-1]['elapsed_s']:.0f} p/s ({r[-1]['cpu_s']:.1f} s CPU)"
                    for k, r in results.items()
                )
                print(f"  run {i + 1}: {line}", flush=True)
    print_table(results, n_ads)
    return 0


def print_table(results: dict[str, list[dict[str, Any]]], n_ads: int) -> None:
    labels = {
        "bare": "bare Scrapy (fetch only)",
        "first": "lurewatch, first crawl (parse + DuckDB)",
        "again": "lurewatch, re-crawl (unchanged: hash skip)",
    }
    bare = statistics.median(r["pages"] / r["elapsed_s"] for r in results["bare"])
    print(f"\n{n_ads} job pages, {len(results['bare'])} runs each, medians; "
          f"{time.strftime('%Y-%m-%d')}, {_machine()}\n")
    bare_cpu = statistics.median(r["cpu_s"] / r["pages"] for r in results["bare"])
    print("| crawl | pages | ads stored | median s | median pages/s | min-max pages/s | vs bare "
          "| CPU ms/page | CPU vs bare |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for key, label in labels.items():
        runs = results[key]
        rates = [r["pages"] / r["elapsed_s"] for r in runs]
        rate = statistics.median(rates)
        cpu = statistics.median(r["cpu_s"] / r["pages"] for r in runs)
        stored = "-" if key == "bare" else (f"{runs[0]['inserted']} new" if key == "first"
                                            else f"0 new, {runs[0]['not_modified']} skipped")
        print(
            f"| {label} | {runs[0]['pages']} | {stored} | {statistics.median(r['elapsed_s'] for r in runs):.2f} "
            f"| {rate:.0f} | {min(rates):.0f}-{max(rates):.0f} | {rate / bare:.2f}x | {cpu * 1000:.2f} "
            f"| {bare_cpu / cpu:.2f}x |"
        )
    ratio = statistics.median(r["pages"] / r["elapsed_s"] for r in results["first"]) / bare
    verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
    print(f"\nfirst crawl / bare Scrapy = {ratio:.2f} pages/s ({verdict} the >= {TARGET_RATIO} target); "
          f"load average during the runs: {_load()}")


def bench_browser(n_ads: int, runs: int) -> None:
    """Plain HTTP (balticjobs) against ``render: browser`` (jsjobs) on the same ads, alternating, in one run."""
    from fixture_sites import FixtureSites, load_ads
    from fixture_sites.jsjobs import JsJobsServer

    rates: dict[str, list[float]] = {"http": [], "browser": []}
    pages: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="lurewatch-bench-browser-") as tmp_dir:
        tmp = Path(tmp_dir)
        write_big_fixture(tmp / "ads.jsonl", n_ads)
        ads = load_ads(tmp / "ads.jsonl")
        with FixtureSites(tmp / "ads.jsonl") as sites, JsJobsServer(ads) as js:
            print(f"browser vs plain HTTP: {n_ads} ads as balticjobs ({sites.base_urls['balticjobs']}) and as "
                  f"jsjobs ({js.base_url}); {runs} runs of each", flush=True)
            for i in range(runs):
                for kind, site, url in (("http", "balticjobs", sites.base_urls["balticjobs"]),
                                        ("browser", "jsjobs", js.base_url)):
                    summary = run_ours(url, tmp / f"{kind}{i}.duckdb", site)
                    if summary["inserted"] != n_ads:
                        raise RuntimeError(f"{kind} run {i}: {summary['inserted']} ads stored, expected {n_ads}")
                    rates[kind].append(summary["pages"] / summary["elapsed_s"])
                    pages[kind] = summary["pages"]
                print(f"  run {i + 1}: plain HTTP {rates['http'][-1]:.1f} p/s, browser {rates['browser'][-1]:.1f} p/s",
                      flush=True)
    http, browser = statistics.median(rates["http"]), statistics.median(rates["browser"])
    print(f"\n{n_ads} ads, {runs} runs each, medians; {time.strftime('%Y-%m-%d')}, {_machine()}, "
          f"load average {_load()}\n")
    print("| crawl (first crawl, parse + DuckDB) | pages | median pages/s | min-max pages/s | vs plain HTTP |")
    print("|---|---:|---:|---:|---:|")
    for kind, label, rate in (("http", "plain HTTP (balticjobs)", http),
                              ("browser", "render: browser, Chromium (jsjobs)", browser)):
        print(f"| {label} | {pages[kind]} | {rate:.1f} | {min(rates[kind]):.1f}-{max(rates[kind]):.1f} "
              f"| {rate / http:.2f}x |")
    print(f"\nbrowser / plain HTTP = {browser / http:.2f} pages/s\n", flush=True)


def _load() -> str:
    import os

    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def _machine() -> str:
    import os
    import platform

    return f"{os.cpu_count()} cores, Python {platform.python_version()}"


if __name__ == "__main__":
    sys.exit(main())
