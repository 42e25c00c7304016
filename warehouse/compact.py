"""Rebuilding the warehouse file, so that no byte of deleted or overwritten data survives in it.

DuckDB never overwrites the blocks an UPDATE or DELETE frees, not even after ``FORCE CHECKPOINT``: the old values
stay in the file until the block happens to be reused. After retention masked contacts, the file would still hold
them in clear. :func:`rebuild_file` therefore copies the live contents (``COPY FROM DATABASE``: tables, sequences
with their current values, indexes, views) into a brand-new file beside the warehouse and swaps it in with
``os.replace``, while the caller's writer connection still holds the warehouse lock, so no other writer can come
in between.

Crash safety, step by step (each step is a named fault point, see :class:`FaultHook`):

1. ``rebuild.after_checkpoint``: the warehouse is checkpointed (its WAL is folded in and removed). A crash leaves
   the old file, complete.
2. ``rebuild.after_copy``: the copy ``<db>.rebuild`` is being written. A crash leaves the old file in place and a
   partial copy, which the next rebuild deletes before it starts (nothing ever opens it as a warehouse).
3. ``rebuild.before_replace``: the copy is complete, checkpointed (no WAL of its own) and fsync'd.
4. ``os.replace``: atomic. ``rebuild.after_replace``: the new file is in place; the directory is fsync'd next.

So the path always names either the old or the new file, both complete. :func:`mark_rebuild_pending` (called
before the change that needs the rebuild is committed) leaves a marker that only a finished rebuild removes, so a
run interrupted anywhere is completed by the next one (:func:`rebuild_pending`).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

REBUILD_SUFFIX = ".rebuild"
PENDING_SUFFIX = ".rebuild-pending"
_ATTACH_NAME = "lw_rebuild"

#: Called with the name of each step of a rebuild (and of a retention run); production passes :func:`no_fault`,
#: tests one from :func:`fault_hook` to crash the process at that exact step.
FaultHook = Callable[[str], None]
FAULT_POINTS: tuple[str, ...] = (
    "retention.before_commit",
    "rebuild.after_checkpoint",
    "rebuild.after_copy",
    "rebuild.before_replace",
    "rebuild.after_replace",
)


class InjectedFault(RuntimeError):
    """Raised at a fault point enabled by ``LUREWATCH_FAULT_POINT`` (tests only)."""


def no_fault(point: str) -> None:
    """The production fault hook: does nothing."""


def fault_hook(spec: str | None) -> FaultHook:
    """A fault hook from a setting such as ``"rebuild.after_copy"`` (raise :class:`InjectedFault` there) or
    ``"rebuild.after_copy:kill"`` (the process SIGKILLs itself there). ``None`` or ``""``: :func:`no_fault`."""
    if not spec:
        return no_fault
    point, _, action = spec.partition(":")
    if point not in FAULT_POINTS or action not in ("", "raise", "kill"):
        raise ValueError(f"unknown fault point {spec!r}: one of {', '.join(FAULT_POINTS)}, optionally ':kill'")

    def hook(name: str) -> None:
        if name != point:
            return
        if action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        raise InjectedFault(f"injected fault at {name}")

    return hook


@dataclass(frozen=True, slots=True)
class RebuildReport:
    path: Path
    bytes_before: int
    bytes_after: int

    def as_dict(self) -> dict[str, object]:
        return {"rebuilt": str(self.path), "bytes_before": self.bytes_before, "bytes_after": self.bytes_after}


def rebuild_path(path: Path) -> Path:
    return path.with_name(path.name + REBUILD_SUFFIX)


def pending_path(path: Path) -> Path:
    return path.with_name(path.name + PENDING_SUFFIX)


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _fsync(path: Path, *, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY if directory else os.O_RDWR)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def mark_rebuild_pending(path: Path | str) -> None:
    """Record (durably) that ``path`` must be rebuilt: call before committing the change that needs it."""
    path = Path(path)
    marker = pending_path(path)
    fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, b"a retention run changed this warehouse; the file still holds the old bytes until rebuilt\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    _fsync(path.parent, directory=True)


def rebuild_pending(path: Path | str) -> bool:
    return pending_path(Path(path)).exists()


def remove_leftovers(path: Path | str) -> list[Path]:
    """Delete what an interrupted rebuild left beside ``path`` (the partial copy and its WAL). Call only while
    holding the warehouse lock. Returns what was removed."""
    path = Path(path)
    removed = []
    for leftover in (rebuild_path(path), _wal(rebuild_path(path))):
        if leftover.exists():
            leftover.unlink()
            removed.append(leftover)
    return removed


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def rebuild_file(con: duckdb.DuckDBPyConnection, path: Path | str, fault: FaultHook = no_fault) -> RebuildReport:
    """Rewrite the warehouse ``path`` into a new file holding only its live contents and swap it in atomically.

    ``con`` is an open writer connection on ``path`` (it holds the lock for the whole rebuild) and must be the only
    connection to it in this process; it is closed here, whatever happens. See the module docstring for what a
    crash at each step leaves.
    """
    path = Path(path)
    target = rebuild_path(path)
    try:
        remove_leftovers(path)
        bytes_before = path.stat().st_size
        con.execute("FORCE CHECKPOINT").fetchall()
        fault("rebuild.after_checkpoint")
        if _wal(path).exists() and _wal(path).stat().st_size > 0:
            raise RuntimeError(f"{_wal(path)} is not empty after a checkpoint: not rebuilding")
        source = str(con.execute("SELECT current_database()").fetchall()[0][0])
        con.execute(f"ATTACH {_literal(target)} AS {_ATTACH_NAME}")
        try:
            con.execute(f'COPY FROM DATABASE "{source}" TO {_ATTACH_NAME}').fetchall()
            fault("rebuild.after_copy")
            con.execute(f"CHECKPOINT {_ATTACH_NAME}").fetchall()
        finally:
            con.execute(f"DETACH {_ATTACH_NAME}")
        if _wal(target).exists():
            if _wal(target).stat().st_size > 0:
                raise RuntimeError(f"{_wal(target)} is not empty after a checkpoint: not swapping it in")
            _wal(target).unlink()
        os.chmod(target, path.stat().st_mode & 0o777)
        _fsync(target)
        fault("rebuild.before_replace")
        # The old file is replaced under this connection: it must not write to it (or to "<db>.wal", which from
        # now on belongs to the new file) when it closes.
        con.execute("PRAGMA disable_checkpoint_on_shutdown")
        os.replace(target, path)
        fault("rebuild.after_replace")
        _fsync(path.parent, directory=True)
    finally:
        con.close()
    pending_path(path).unlink(missing_ok=True)
    return RebuildReport(path, bytes_before, path.stat().st_size)
