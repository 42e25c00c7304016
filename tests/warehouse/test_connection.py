"""Sharing one warehouse file between processes: openers wait for the lock instead of failing."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from warehouse import WarehouseBusy, connect, session

HOLD = """
import select, sys
from warehouse import connect
con = connect(sys.argv[1])
con.execute("INSERT INTO labels (ad_id, label, source, analyst) VALUES (1, 'lure', 'analyst', 'holder')")
print("holding", flush=True)
select.select([sys.stdin], [], [], float(sys.argv[2]))  # until the test writes a line (or the time is up)
con.close()
"""


def _hold(path: Path, seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    return holder


def test_second_process_waits_for_the_lock_and_loses_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While another process holds the file, connect() waits (it has found the file locked and is retrying; the
    holder lets go only then, so the waiting path is always taken), then both processes' writes are there."""
    import duckdb

    path = tmp_path / "lw.duckdb"
    connect(path).close()
    attempts: list[int] = []
    real_connect = duckdb.connect

    def counting_connect(*args: Any, **kwargs: Any) -> duckdb.DuckDBPyConnection:
        attempts.append(1)
        return real_connect(*args, **kwargs)

    holder = _hold(path, 600)
    outcome: list[Any] = []

    def waiter() -> None:
        try:
            with session(path, lock_timeout_s=600) as con:
                con.execute("INSERT INTO labels (ad_id, label, source, analyst) VALUES (2, 'not_lure', 'analyst', "
                            "'waiter')")
                outcome.append(sorted(r[0] for r in con.execute("SELECT analyst FROM labels").fetchall()))
        except Exception as error:  # reported below, in the test's own thread
            outcome.append(error)

    monkeypatch.setattr(duckdb, "connect", counting_connect)
    thread = threading.Thread(target=waiter)
    try:
        thread.start()
        deadline = time.monotonic() + 120  # generous: only bounds a broken run
        while len(attempts) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(attempts) >= 2 and outcome == []  # refused at least once, still waiting
    finally:
        assert holder.stdin is not None
        holder.stdin.write("go\n")
        holder.stdin.close()
        holder.wait(timeout=60)
        thread.join(timeout=120)
    assert outcome == [["holder", "waiter"]]


def test_lock_held_too_long_is_a_clear_error(tmp_path: Path) -> None:
    """A file locked beyond the timeout raises WarehouseBusy naming the file, not a raw IO error."""
    path = tmp_path / "lw.duckdb"
    connect(path).close()
    holder = _hold(path, 5)
    try:
        with pytest.raises(WarehouseBusy, match=r"lw\.duckdb"):
            connect(path, lock_timeout_s=0.5)
    finally:
        holder.kill()
        holder.wait()


def test_a_new_warehouse_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    """The warehouse holds contacts of people in ads: a file lurewatch creates gets mode 600 even under a
    permissive umask (022), and an existing file's mode is left as the operator set it."""
    import os
    import stat

    old = os.umask(0o022)
    try:
        with session(tmp_path / "new.duckdb"):
            pass
        existing = tmp_path / "existing.duckdb"
        with session(existing):
            pass
        existing.chmod(0o640)
        with session(existing):
            pass
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.duckdb").stat().st_mode) == 0o600
    assert stat.S_IMODE(existing.stat().st_mode) == 0o640
