"""The review app under concurrent analysts while crawls write to the same DuckDB file: response times and errors.

    .venv/bin/python bench/bench_review_load.py [--clients 8] [--seconds 20] [--no-crawl] [--db FILE] [--keep DIR]

Without ``--db`` the fixture sites are served on 127.0.0.1 and the real crawl_and_score flow builds a warehouse
(about a minute). Analyst accounts are created, ``lurewatch review serve`` runs in its own process (uvicorn, like
production, argon2 with cheap test costs), and ``--clients`` analysts each loop - for ``--seconds`` - over: the
queue page, an ad page, a decision on an ad of their own slice (so every decision is a new row). Meanwhile crawl
subprocesses re-crawl the fixture sites one after another, competing for the warehouse lock. Only loopback
addresses are used; every loop is bounded by the duration.

Printed: p50/p95/max latency and count per request kind, error count (anything but 200/303, or a transport error),
decisions acknowledged vs. stored once the journal has drained, and the number of crawls that ran meanwhile.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
CHEAP_HASHING = {
    "LUREWATCH_REVIEW_PASSWORD_TIME_COST": "1",
    "LUREWATCH_REVIEW_PASSWORD_MEMORY_KIB": "8192",
    "LUREWATCH_REVIEW_PASSWORD_PARALLELISM": "1",
}
LABELS = ("lure", "not_lure", "unsure", "skip")


@dataclass
class LoadResult:
    seconds: float
    clients: int
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    acknowledged: list[tuple[str, int, str, str]] = field(default_factory=list)
    crawls: int = 0
    crawl_errors: list[str] = field(default_factory=list)

    def percentile(self, kind: str | None, q: float) -> float:
        """Nearest-rank percentile of one request kind (``None``: all requests), in seconds."""
        pool = self.latencies.get(kind, []) if kind else [v for vs in self.latencies.values() for v in vs]
        values = sorted(pool)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, round(q * (len(values) - 1)))]

    def table(self) -> str:
        lines = ["| request | n | p50 ms | p95 ms | max ms |", "|---|---:|---:|---:|---:|"]
        for kind in sorted(self.latencies):
            values = self.latencies[kind]
            lines.append(
                f"| {kind} | {len(values)} | {self.percentile(kind, 0.5) * 1000:.0f} | "
                f"{self.percentile(kind, 0.95) * 1000:.0f} | {max(values) * 1000:.0f} |"
            )
        return "\n".join(lines)

    def summary(self) -> dict[str, Any]:
        all_values = [v for values in self.latencies.values() for v in values]
        return {
            "clients": self.clients,
            "seconds": round(self.seconds, 1),
            "requests": len(all_values),
            "requests_per_s": round(len(all_values) / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(self.percentile(None, 0.5) * 1000, 1) if all_values else None,
            "p95_ms": round(self.percentile(None, 0.95) * 1000, 1) if all_values else None,
            "errors": len(self.errors),
            "decisions_acknowledged": len(self.acknowledged),
            "crawls_during_load": self.crawls,
        }


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, **(extra or {})}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


class AppServer:
    """``python -m lurewatch.cli_review review serve`` on 127.0.0.1 in its own process group."""

    def __init__(self, db: Path, extra_env: dict[str, str] | None = None, log_path: Path | None = None) -> None:
        self.log_path = log_path or db.with_name(db.name + ".app.log")
        start = self.log_path.stat().st_size if self.log_path.exists() else 0  # appended to: read only what is new
        self._log = self.log_path.open("a", encoding="utf-8")
        command = [
            sys.executable, "-m", "lurewatch.cli_review", "review", "serve", "--host", "127.0.0.1", "--port", "0",
            "--db", str(db), "--insecure-cookies", "--log-level", "info",
        ]
        self.process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT, start_new_session=True,
            env=child_env({**CHEAP_HASHING, **(extra_env or {})}),
        )
        match = wait_for_line(self.log_path, r"listening on (http://\S+)", self.process, start)
        if match is None:
            self.stop()
            raise RuntimeError(f"the review app did not start; see {self.log_path}")
        self.url = match.group(1)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with suppress(httpx.TransportError):
                if httpx.get(self.url + "/login", timeout=5).status_code == 200:
                    return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("the review app did not answer within 60 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)
        self._log.close()


def wait_for_line(path: Path, pattern: str, process: subprocess.Popen[Any], start: int = 0, timeout_s: float = 60
                  ) -> re.Match[str] | None:
    """The first match of ``pattern`` after byte ``start`` of the file ``path`` that ``process`` writes to (polled,
    bounded)."""
    regex = re.compile(pattern)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        with path.open("rb") as handle:
            handle.seek(start)
            match = regex.search(handle.read().decode("utf-8", errors="replace"))
        if match:
            return match
        time.sleep(0.02)
    return None


def create_accounts(db: Path, names: Sequence[tuple[str, str]]) -> None:
    from review_app.authdb import initialise
    from review_app.settings import ReviewSettings
    from review_app.users import create_user

    settings = ReviewSettings(db_path=db, password_time_cost=1, password_memory_kib=8192, password_parallelism=1)
    initialise(settings.auth_database)
    for name, password in names:
        create_user(settings.auth_database, name, password, "analyst", created_by="bench",
                    hasher=settings.password_hasher())


def _analyst(url: str, account: tuple[str, str], ad_ids: Sequence[int], stop_at: float, result: LoadResult,
             lock: threading.Lock) -> None:
    name, password = account
    client = httpx.Client(base_url=url, follow_redirects=False, timeout=60)

    def timed(kind: str, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = client.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            with lock:
                result.errors.append(f"{kind}: {type(error).__name__}")
            return None
        elapsed = time.perf_counter() - started
        with lock:
            result.latencies.setdefault(kind, []).append(elapsed)
            if response.status_code not in (200, 303):
                result.errors.append(f"{kind}: HTTP {response.status_code}")
        return response

    try:
        page = client.get("/login")
        token = CSRF_INPUT.search(page.text)
        assert token is not None, "no CSRF token on /login"
        login = timed("login", "POST", "/login",
                      data={"username": name, "password": password, "csrf_token": token.group(1), "next": "/"})
        if login is None or login.status_code != 303:
            return
        queue = timed("queue", "GET", "/")
        match = CSRF_INPUT.search(queue.text) if queue is not None else None
        csrf = match.group(1) if match else ""
        for n in range(100_000):  # bounded; the duration ends it long before
            if time.monotonic() >= stop_at or not ad_ids:
                break
            ad_id = ad_ids[n % len(ad_ids)]
            if n:
                timed("queue", "GET", "/", params={"page": str(1 + n % 3)})
            timed("ad", "GET", f"/ads/{ad_id}")
            label, note = LABELS[n % len(LABELS)], f"load {name} {n}"
            response = timed("decision", "POST", f"/ads/{ad_id}/decision",
                             data={"csrf_token": csrf, "label": label, "note": note, "filters": "", "next_hint": ""})
            if response is not None and response.status_code == 303:
                with lock:
                    result.acknowledged.append((name, ad_id, label, note))
    finally:
        client.close()


def _crawl_loop(db: Path, base_urls: dict[str, str], stop: threading.Event, result: LoadResult) -> None:
    from crawlers.run import CrawlError, crawl_site

    sites = sorted(base_urls)
    for turn in range(1000):  # bounded; each crawl takes seconds
        if stop.is_set():
            return
        site = sites[turn % len(sites)]
        try:
            crawl_site(site, db, base_urls[site], timeout_s=300, env={"LUREWATCH_CRAWL_DELAY_S": "0.01"})
        except CrawlError as error:
            result.crawl_errors.append(str(error)[:300])
        result.crawls += 1


def run_load(url: str, accounts: Sequence[tuple[str, str]], ad_ids: Sequence[int], seconds: float,
             crawl: tuple[Path, dict[str, str]] | None = None) -> LoadResult:
    """``len(accounts)`` analysts for ``seconds`` against the app at ``url`` (each on its own slice of ``ad_ids``),
    optionally while crawls of ``crawl = (db, base_urls)`` run one after another."""
    result = LoadResult(seconds, len(accounts))
    lock = threading.Lock()
    stop = threading.Event()
    crawler = None
    if crawl is not None:
        crawler = threading.Thread(target=_crawl_loop, args=(*crawl, stop, result), name="crawls", daemon=True)
        crawler.start()
    started = time.monotonic()
    stop_at = started + seconds
    threads = [
        threading.Thread(target=_analyst, args=(url, account, ad_ids[i :: len(accounts)], stop_at, result, lock),
                         name=f"analyst-{i}")
        for i, account in enumerate(accounts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 180)
    result.seconds = time.monotonic() - started
    stop.set()
    if crawler is not None:
        crawler.join(timeout=330)
    return result


def stored_decisions(db: Path, journal_wait_s: float = 60) -> Counter[tuple[str, int, str, str]]:
    """Analyst decisions in the warehouse once the app's journal has drained (waits for it, bounded)."""
    from warehouse import session

    journal = db.with_name(db.name + ".review-journal.jsonl")
    deadline = time.monotonic() + journal_wait_s
    while journal.exists() and journal.stat().st_size > 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    with session(db) as con:
        rows = con.execute("SELECT analyst, ad_id, label, note FROM labels WHERE source = 'analyst'").fetchall()
    return Counter((str(r[0]), int(r[1]), str(r[2]), str(r[3])) for r in rows)


def build_warehouse(folder: Path, base_urls: dict[str, str]) -> Path:
    """The real crawl_and_score flow over the fixture sites (first model on fixture labels only)."""
    from fixture_sites import load_ads
    from flows.crawl_and_score import crawl_and_score

    os.environ.setdefault("PREFECT_HOME", str(folder / "prefect"))
    os.environ.update({"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                       "PREFECT_LOGGING_LEVEL": "WARNING", "LUREWATCH_MODELS_DIR": str(folder / "models")})
    empty = folder / "no-emscad.csv"
    empty.write_text("text,fraudulent\n", encoding="utf-8")
    os.environ["LUREWATCH_EMSCAD_TRAIN_CSV"] = str(empty)
    db = folder / "bench.duckdb"
    seed = [(ad["site"], ad["ref"], bool(ad["label"])) for ad in load_ads() if ad["split"] == "train"]
    crawl_and_score(base_urls=base_urls, db_path=str(db), seed_labels=seed, seed_label_source="fixture")
    return db


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--no-crawl", action="store_true", help="no crawls during the load")
    parser.add_argument("--db", type=Path, help="an existing warehouse (copied) instead of building one")
    parser.add_argument("--keep", type=Path, help="keep the work folder here")
    args = parser.parse_args(argv)

    from fixture_sites import FixtureSites
    from warehouse import session

    folder = args.keep or Path(tempfile.mkdtemp(prefix="lurewatch-bench-load-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with FixtureSites() as sites:
            if args.db is not None:
                db = folder / "bench.duckdb"
                shutil.copyfile(args.db, db)
            else:
                print("building the fixture warehouse with the crawl_and_score flow ...", flush=True)
                db = build_warehouse(folder, sites.base_urls)
            accounts = [(f"bench{i}", f"bench{i}-password-long") for i in range(args.clients)]
            create_accounts(db, accounts)
            with session(db) as con:
                ad_ids = [int(r[0]) for r in con.execute("SELECT ad_id FROM ads ORDER BY ad_id").fetchall()]
            app = AppServer(db, {"LUREWATCH_REVIEW_REPLAY_INTERVAL_S": "0.5"})
            try:
                result = run_load(app.url, accounts, ad_ids, args.seconds,
                                  None if args.no_crawl else (db, sites.base_urls))
                stored = stored_decisions(db)
            finally:
                app.stop()
        lost = [item for item in result.acknowledged if stored[item] != 1]
        print(f"\n{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
        print(json.dumps({**result.summary(), "decisions_lost_or_duplicated": len(lost),
                          "crawl_errors": len(result.crawl_errors)}))
        print(result.table())
        if result.errors:
            print("errors:", Counter(result.errors).most_common(10))
        return 1 if lost or result.errors else 0
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
