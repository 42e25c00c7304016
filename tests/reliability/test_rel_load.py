"""The review app under concurrent analysts while crawls write to the same warehouse (bounded, loopback only; the
figures themselves come from bench/bench_review_load.py - here only correctness is asserted: no errors, no lost or
duplicated decision), and what such a session leaves in the logs: no password, no session cookie, no CSRF token."""

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

LOAD_SECONDS = 12.0


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
    cookies: list[str]


@pytest.fixture(scope="module")
def load_run(flow_warehouse: Path, fixture_servers: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadRun]:
    bench = _bench()
    folder = tmp_path_factory.mktemp("rel-load")
    db = folder / "load.duckdb"
    db.write_bytes(flow_warehouse.read_bytes())
    create_accounts(db, ANALYSTS, admin=False)
    ad_ids = [row[0] for row in query(db, "SELECT ad_id FROM ads ORDER BY ad_id")]
    app = bench.AppServer(db, {"LUREWATCH_REVIEW_REPLAY_INTERVAL_S": "0.5"}, log_path=folder / "app.log")
    try:
        result = bench.run_load(app.url, ANALYSTS, ad_ids, LOAD_SECONDS, (db, fixture_servers.base_urls))
        stored = bench.stored_decisions(db)
    finally:
        app.stop()
    logs = {path.name: path.read_text(encoding="utf-8", errors="replace") for path in folder.rglob("*.log")}
    import sqlite3

    with sqlite3.connect(db.with_name(db.name + ".review-auth.sqlite3")) as con:
        csrf = [row[0] for row in con.execute("SELECT csrf_token FROM sessions")]
    yield LoadRun(db, result, stored, logs, csrf)


def test_concurrent_analysts_during_crawls_get_no_errors_and_lose_no_decision(load_run: LoadRun) -> None:
    """8 analysts for 12 s (queue, ad page, decision) while crawl subprocesses write to the same DuckDB file: every
    request answers 200/303, every acknowledged decision is in the warehouse exactly once after the journal drained,
    and nothing else was written."""
    result = load_run.result
    assert result.errors == []
    assert result.crawls >= 1 and result.crawl_errors == []
    assert len(result.latencies["decision"]) >= 8 and len(result.acknowledged) == len(result.latencies["decision"])
    lost = [item for item in result.acknowledged if load_run.stored[item] != 1]
    assert lost == []
    assert sum(load_run.stored.values()) == len(result.acknowledged)


def test_logs_hold_no_password_session_cookie_or_csrf_token(load_run: LoadRun) -> None:
    """The app log (uvicorn access log at INFO) and the crawl logs of that session contain none of the analysts'
    passwords, no session cookie or CSRF token; the access log does show the requests (the scan is not vacuous)."""
    assert load_run.logs and any('"POST /login' in text for text in load_run.logs.values())
    secrets = [password for _, password in ANALYSTS] + load_run.cookies
    found = {name: [s for s in secrets if s in text] for name, text in load_run.logs.items()}
    assert {name: hits for name, hits in found.items() if hits} == {}
    cookie_values = re.compile(r"lw_session=|__Host-lw_session=|csrf_token=")
    assert [name for name, text in load_run.logs.items() if cookie_values.search(text)] == []
