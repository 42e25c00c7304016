"""The review app under concurrent analysts, first alone (the baseline), then while crawls write to the same DuckDB
file: response times, errors and decisions.

    .venv/bin/python bench/bench_review_load.py [--clients 8] [--seconds 20] [--no-crawl] [--db FILE] [--keep DIR]

Without ``--db`` the fixture sites are served on 127.0.0.1 and the real crawl_and_score flow builds a warehouse
(about a minute). Analyst accounts are created, ``lurewatch review serve`` runs in its own process (uvicorn, like
production, argon2 with cheap test costs), and ``--clients`` analysts each loop - for ``--seconds`` - over: the
queue page, an ad page, a decision on an ad of their own slice (so every decision is a new row).

Two phases in the same run, on the same app: the **baseline** (the same requests with no crawl running), then the
same load while one crawl per fixture site runs **at the same time** (each in its own process, re-crawling its site
until the load ends; they compete with each other and with the app for the warehouse lock). ``--no-crawl`` runs
the baseline only. Only loopback addresses are used; every loop is bounded.

Printed per phase: p50/p95/max latency and count per request kind, error count (anything but 200/303, or a
transport error), crawls that ran and the most that overlapped; then the crawl phase as a ratio of the baseline,
and decisions acknowledged vs. stored once the app has stopped and its journal has been replayed.
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
from collections.abc import Callable, Sequence
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
    max_concurrent_crawls: int = 0
    session_cookies: list[str] = field(default_factory=list)  # cookie values the app gave (for log scans)

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
            "max_concurrent_crawls": self.max_concurrent_crawls,
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


def _analyst(url: str, account: tuple[str, str], ad_ids: Sequence[int], until: Callable[[int], bool],
             result: LoadResult, lock: threading.Lock, phase: str) -> None:
    """One analyst: log in, then queue page, ad page and a decision per round until ``until(round)`` is true.
    Never raises: every failure is an entry in ``result.errors`` (an exception in a thread would only warn)."""
    name, password = account
    client = httpx.Client(base_url=url, follow_redirects=False, timeout=900)  # bounded; generous under load

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
        page = timed("login page", "GET", "/login")
        token = CSRF_INPUT.search(page.text) if page is not None else None
        if token is None:
            with lock:
                result.errors.append("login page: no CSRF token")
            return
        login = timed("login", "POST", "/login",
                      data={"username": name, "password": password, "csrf_token": token.group(1), "next": "/"})
        if login is None or login.status_code != 303:
            with lock:
                result.errors.append(f"login refused for {name}")
            return
        with lock:
            result.session_cookies.extend(str(cookie.value) for cookie in client.cookies.jar)
        queue = timed("queue", "GET", "/")
        match = CSRF_INPUT.search(queue.text) if queue is not None else None
        if match is None:
            with lock:
                result.errors.append("queue page: no CSRF token")
            return
        csrf = match.group(1)
        for n in range(100_000):  # bounded; ``until`` ends it long before
            if until(n) or not ad_ids:
                break
            ad_id = ad_ids[n % len(ad_ids)]
            if n:
                timed("queue", "GET", "/", params={"page": str(1 + n % 3)})
            timed("ad", "GET", f"/ads/{ad_id}")
            label, note = LABELS[n % len(LABELS)], f"{phase} {name} {n}"
            response = timed("decision", "POST", f"/ads/{ad_id}/decision",
                             data={"csrf_token": csrf, "label": label, "note": note, "filters": "", "next_hint": ""})
            if response is not None and response.status_code == 303:
                with lock:
                    result.acknowledged.append((name, ad_id, label, note))
    except Exception as error:  # never let a thread die silently
        with lock:
            result.errors.append(f"{name}: {type(error).__name__}: {error}")
    finally:
        client.close()


def _crawl_loop(db: Path, site: str, base_url: str, stop: threading.Event, result: LoadResult,
                lock: threading.Lock, running: list[int], lock_timeout_s: float | None) -> None:
    """Re-crawl one site into ``db`` (a crawl process each time) until ``stop`` is set; at least once."""
    from crawlers.run import CrawlError, crawl_site

    for _ in range(1000):  # bounded; each crawl takes seconds
        with lock:
            running[0] += 1
            result.max_concurrent_crawls = max(result.max_concurrent_crawls, running[0])
        try:
            crawl_site(site, db, base_url, timeout_s=max(300.0, 2 * (lock_timeout_s or 0.0)),
                       lock_timeout_s=lock_timeout_s, env={"LUREWATCH_CRAWL_DELAY_S": "0.01"})
        except CrawlError as error:
            with lock:
                result.crawl_errors.append(str(error)[:300])
        except Exception as error:  # never let a thread die silently
            with lock:
                result.crawl_errors.append(f"{type(error).__name__}: {error}"[:300])
        finally:
            with lock:
                running[0] -= 1
                result.crawls += 1
        if stop.is_set():
            return


def run_load(url: str, accounts: Sequence[tuple[str, str]], ad_ids: Sequence[int], seconds: float | None = None,
             crawl: tuple[Path, dict[str, str]] | None = None, *, rounds: int | None = None,
             phase: str = "load", crawl_lock_timeout_s: float | None = None) -> LoadResult:
    """``len(accounts)`` analysts against the app at ``url``, each on its own slice of ``ad_ids``, for ``seconds``
    or for exactly ``rounds`` rounds each (a fixed amount of work, whatever the machine's load). With
    ``crawl = (db, base_urls)``, one crawl per site runs at the same time as the analysts, over and over, until they
    are done (every site is crawled at least once), each waiting up to ``crawl_lock_timeout_s`` for the warehouse
    (default: the crawler's own). Notes carry ``phase`` so phases of one run stay apart."""
    if (seconds is None) == (rounds is None):
        raise ValueError("give either seconds or rounds")
    result = LoadResult(seconds or 0.0, len(accounts))
    lock = threading.Lock()
    stop = threading.Event()
    running = [0]
    crawlers = []
    if crawl is not None:
        db, base_urls = crawl
        crawlers = [
            threading.Thread(target=_crawl_loop,
                             args=(db, site, base_urls[site], stop, result, lock, running, crawl_lock_timeout_s),
                             name=f"crawl-{site}", daemon=True)
            for site in sorted(base_urls)
        ]
        for crawler in crawlers:
            crawler.start()
    started = time.monotonic()
    stop_at = started + (seconds or 0.0)

    def until(n: int) -> bool:
        return n >= rounds if rounds is not None else time.monotonic() >= stop_at

    threads = [
        threading.Thread(target=_analyst,
                         args=(url, account, ad_ids[i :: len(accounts)], until, result, lock, phase),
                         name=f"analyst-{i}")
        for i, account in enumerate(accounts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=3600)
    result.seconds = time.monotonic() - started
    stop.set()
    for crawler in crawlers:
        crawler.join(timeout=max(330.0, 2 * (crawl_lock_timeout_s or 0.0) + 30))
    stuck = [t.name for t in [*threads, *crawlers] if t.is_alive()]
    if stuck:
        result.errors.append(f"threads still running: {stuck}")
    return result


@dataclass
class Stored:
    """Analyst decisions in the warehouse after the app stopped and its journal was replayed."""

    decisions: Counter[tuple[str, int, str, str]]
    pending_at_stop: int  # journal entries the running app had not written yet when it stopped
    rejected: list[str]  # journal entries the replay refused (each an acknowledged decision never stored)


def stored_decisions(db: Path) -> Stored:
    """Call after the app has stopped: replay what is left in its journal exactly as a restarted app does at
    startup (the same code), then read every analyst decision. Deterministic: nothing is polled or timed."""
    from review_app.journal import DecisionJournal
    from review_app.store import ReviewWarehouse
    from warehouse import session

    journal = DecisionJournal(db.with_name(db.name + ".review-journal.jsonl"))
    pending = len(journal.pending())
    if pending and not ReviewWarehouse(db, journal).try_replay(lock_timeout_s=120):
        raise RuntimeError(f"{pending} journaled decision(s) could not be replayed into {db}")
    rejected = journal.rejected_path.read_text(encoding="utf-8").splitlines() if journal.rejected_path.exists() else []
    with session(db) as con:
        rows = con.execute("SELECT analyst, ad_id, label, note FROM labels WHERE source = 'analyst'").fetchall()
    return Stored(Counter((str(r[0]), int(r[1]), str(r[2]), str(r[3])) for r in rows), pending, rejected)


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


def _ratio(loaded: float | None, base: float | None) -> str:
    return f"{loaded / base:.2f}x" if loaded and base else "n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    parser.add_argument("--no-crawl", action="store_true", help="the baseline phase only")
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
            phases: dict[str, LoadResult] = {}
            try:
                phases["baseline (no crawl)"] = run_load(app.url, accounts, ad_ids, args.seconds, phase="baseline")
                if not args.no_crawl:
                    phases[f"{len(sites.base_urls)} crawls at once"] = run_load(
                        app.url, accounts, ad_ids, args.seconds, (db, sites.base_urls), phase="crawls")
            finally:
                app.stop()
            stored = stored_decisions(db)
        acknowledged = [item for result in phases.values() for item in result.acknowledged]
        lost = [item for item in acknowledged if stored.decisions[item] != 1]
        errors = [error for result in phases.values() for error in result.errors]
        print(f"\n{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
        for name, result in phases.items():
            print(f"\n## {name}")
            print(json.dumps({**result.summary(), "crawl_errors": len(result.crawl_errors)}))
            print(result.table())
            if result.errors:
                print("errors:", Counter(result.errors).most_common(10))
        if len(phases) == 2:
            base, loaded = (result.summary() for result in phases.values())
            print(f"\nwith crawls vs. baseline (same run): p50 {_ratio(loaded['p50_ms'], base['p50_ms'])}, "
                  f"p95 {_ratio(loaded['p95_ms'], base['p95_ms'])}, "
                  f"throughput {_ratio(loaded['requests_per_s'], base['requests_per_s'])}")
        print(f"decisions: {len(acknowledged)} acknowledged, {len(lost)} lost or duplicated, "
              f"{stored.pending_at_stop} still journaled when the app stopped (replayed), "
              f"{len(stored.rejected)} refused by the replay")
        return 1 if lost or errors or stored.rejected else 0
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
