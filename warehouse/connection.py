"""Opening the DuckDB file: one place that knows how, so every caller gets a migrated schema.

DuckDB lets one process at a time hold a database file (even readers are locked out while a writer has it
open). lurewatch therefore keeps every connection short (one unit of work, then close) and every opener
waits for the lock with :func:`connect` instead of failing: the crawler, the flows and the review app take
turns on the same file.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from warehouse.integrity import (
    WarehouseDamaged,
    check_metadata,
    damage_message,
    damaged_finding,
    is_corruption,
    mark_damaged,
)
from warehouse.migrate import migrate

DEFAULT_LOCK_TIMEOUT_S = 60.0


class WarehouseBusy(TimeoutError):
    """Another process held the warehouse file for longer than the lock timeout."""


def _is_lock_conflict(error: duckdb.Error) -> bool:
    return "Could not set lock" in str(error) or "Conflicting lock" in str(error)


def connect(
    path: Path | str, *, read_only: bool = False, lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S
) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the warehouse at ``path`` and bring its schema up to date.

    Waits up to ``lock_timeout_s`` while another process holds the file. ``":memory:"`` gives a throw-away
    in-memory warehouse. A writer gets :class:`WarehouseDamaged` for a file that fails an integrity check (see
    :mod:`warehouse.integrity`): one marked damaged, one whose headers DuckDB rejects, or (on the first writer open
    of the file in this process) one whose tables' storage metadata cannot be read.
    """
    target = str(path)
    created = False
    if target != ":memory:":
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        created = not read_only and not Path(target).exists()
        finding = None if read_only else damaged_finding(target)
        if finding is not None:
            raise WarehouseDamaged(damage_message(target, finding))
    deadline = time.monotonic() + lock_timeout_s
    delay = 0.01
    while True:
        try:
            con = duckdb.connect(target, read_only=read_only)
            break
        except duckdb.Error as error:
            if is_corruption(error):
                if not read_only:
                    mark_damaged(target, " ".join(str(error).split()))
                raise WarehouseDamaged(damage_message(target, " ".join(str(error).split()))) from error
            if not isinstance(error, duckdb.IOException) or not _is_lock_conflict(error):
                raise
            if time.monotonic() >= deadline:
                raise WarehouseBusy(f"{target} stayed locked by another process for {lock_timeout_s:g} s") from error
            time.sleep(delay)
            delay = min(delay * 2, 0.25)
    if created:
        # Contacts of people in ads live here: a new warehouse is readable by its owner only, whatever the umask.
        os.chmod(target, 0o600)
    if not read_only:
        if target != ":memory:":
            _check_once(con, target)
        migrate(con)
    return con


_checked: set[tuple[int, int]] = set()  # (device, inode) of files whose metadata this process has read


def _check_once(con: duckdb.DuckDBPyConnection, target: str) -> None:
    """The first writer open of a file in this process reads every table's storage metadata."""
    info = os.stat(target)
    key = (info.st_dev, info.st_ino)
    if key in _checked:
        return
    findings = check_metadata(con)
    if findings:
        con.close()
        mark_damaged(target, "; ".join(findings))
        raise WarehouseDamaged(damage_message(target, "; ".join(findings)))
    _checked.add(key)


@contextmanager
def session(
    path: Path | str, *, read_only: bool = False, lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short unit of work: open (waiting for the lock), yield, always close so others get their turn."""
    con = connect(path, read_only=read_only, lock_timeout_s=lock_timeout_s)
    try:
        yield con
    except duckdb.Error as error:
        if not is_corruption(error) or str(path) == ":memory:":
            raise
        # a block failed its checksum while this unit of work read it: from now on every writer refuses the file
        finding = " ".join(str(error).split())
        mark_damaged(path, finding)
        raise WarehouseDamaged(damage_message(path, finding)) from error
    finally:
        con.close()
