"""The review app under concurrent analysts while crawls write to the same warehouse (bounded, loopback only; the
figures themselves come from bench/bench_review_load.py - here only correctness is asserted: no errors, no lost or
duplicated decision), and what such a session leaves in the logs: no password, no session cookie, no CSRF token.

The load is a fixed amount of work (rounds per analyst), not a wall-clock span, and decisions are counted after the
app stopped and what was left in its journal was replayed, so a slow, loaded machine changes nothing but the time
it takes."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from rel_support import ANALYSTS, PROJECT_ROOT, create_accounts, query

ROUNDS = 6  # queue page, ad page and a decision, per analyst


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_review_load", PROJECT_ROOT / "bench" / "bench_review_load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@dataclass
class LoadRun:
    db: Path
    result: Any
    stored: Any
    logs: dict[str, str]
    csrf_tokens: list[str]


@pytest.fixture(scope="module")
def load_run(flow_warehouse: Path, fixture_servers: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadRun]:
    bench = _bench()
    folder = tmp_path_factory.mktemp("rel-load")
    db = folder / "load.duckdb"
    db.write_bytes(flow_warehouse.read_bytes())
    create_accounts(db, ANALYSTS, admin=False)
    ad_ids = [row[0] for row in query(db, "SELECT ad_id FROM ads ORDER BY ad_id")]
    # Correctness, not speed, is asserted: pages and crawls wait as long as it takes for the warehouse (a loaded
    # machine must not turn a slow answer into a 503 or a crawl error).
    patient = {"LUREWATCH_REVIEW_REPLAY_INTERVAL_S": "0.5", "LUREWATCH_REVIEW_READ_LOCK_TIMEOUT_S": "600"}
    app = bench.AppServer(db, patient, log_path=folder / "app.log")
    try:
        result = bench.run_load(app.url, ANALYSTS, ad_ids, rounds=ROUNDS, crawl=(db, fixture_servers.base_urls),
                                crawl_lock_timeout_s=600)
    finally:
        app.stop()
    import sqlite3

    with sqlite3.connect(db.with_name(db.name + ".review-auth.sqlite3")) as con:
        csrf = [row[0] for row in con.execute("SELECT csrf_token FROM sessions")]
    stored = bench.stored_decisions(db)  # the app has stopped: replays what it left in the journal, then reads
    logs = {path.name: path.read_text(encoding="utf-8", errors="replace") for path in folder.rglob("*.log")}
    yield LoadRun(db, result, stored, logs, csrf)


def test_concurrent_analysts_during_crawls_get_no_errors_and_lose_no_decision(load_run: LoadRun) -> None:
    """8 analysts, 6 rounds each (queue, ad page, decision), while one crawl per fixture site runs at the same time
    in its own process, writing to the same DuckDB file: every request answers 200/303, every acknowledged decision
    is in the warehouse exactly once after the journal was replayed, nothing else was written and the replay
    refused nothing."""
    result = load_run.result
    assert result.errors == []
    assert result.crawls >= 3 and result.crawl_errors == []
    assert result.max_concurrent_crawls >= 2  # the crawls really overlapped
    assert len(result.latencies["decision"]) == len(ANALYSTS) * ROUNDS == len(result.acknowledged)
    lost = [item for item in result.acknowledged if load_run.stored.decisions[item] != 1]
    assert lost == []
    assert sum(load_run.stored.decisions.values()) == len(result.acknowledged)
    assert load_run.stored.rejected == []
    print(f"{len(result.acknowledged)} decisions acknowledged, {load_run.stored.pending_at_stop} of them still in the "
          f"journal when the app stopped; {result.crawls} crawls, at most {result.max_concurrent_crawls} at once")


def test_logs_hold_no_password_session_cookie_or_csrf_token(load_run: LoadRun) -> None:
    """The app log (uvicorn access log at INFO) and the crawl logs of that session contain none of the analysts'
    passwords, none of the session cookie values the app handed out, no CSRF token; the access log does show the
    requests and the scan has the cookie values to look for (it is not vacuous)."""
    assert load_run.logs and any('"POST /login' in text for text in load_run.logs.values())
    cookies = load_run.result.session_cookies
    assert len(cookies) >= len(ANALYSTS) and all(len(value) >= 20 for value in cookies)
    assert load_run.csrf_tokens
    secrets = [password for _, password in ANALYSTS] + cookies + load_run.csrf_tokens
    found = {name: [s for s in secrets if s in text] for name, text in load_run.logs.items()}
    assert {name: hits for name, hits in found.items() if hits} == {}
    cookie_names = re.compile(r"lw_session=|__Host-lw_session=|csrf_token=")
    assert [name for name, text in load_run.logs.items() if cookie_names.search(text)] == []
