"""The durable decision journal: an append-only JSONL file next to the warehouse, fsync'd on every append.

Every decision is appended here first and only then written to DuckDB, so a decision acknowledged to the analyst
survives a warehouse that stays locked by a long crawl or training run, and a crash. ``replay`` hands the
entries, in append order, to a function that writes them into the warehouse (idempotently, by event id) and
empties the journal only after that function returned, i.e. after its transaction committed. Entries that
can never be applied (say, a decision on an ad that does not exist) go to ``<journal>.rejected.jsonl``.

Appends and replays of all threads and processes are serialised with ``flock`` on ``<journal>.lock``.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

Entry = dict[str, Any]


class JournalLocked(TimeoutError):
    """Another thread or process kept the journal lock too long."""


@dataclass(slots=True)
class ReplayOutcome:
    """What one replay did: entries newly written, already present, and refused (with the reason)."""

    applied: list[str] = field(default_factory=list)
    already_applied: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.applied) + len(self.already_applied) + len(self.rejected)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DecisionJournal:
    def __init__(self, path: Path, lock_timeout_s: float = 10.0) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self.rejected_path = path.with_name(path.name.removesuffix(".jsonl") + ".rejected.jsonl")
        self.lock_timeout_s = lock_timeout_s

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + self.lock_timeout_s
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise JournalLocked(f"{self.lock_path} stayed locked for {self.lock_timeout_s:g} s") from None
                    time.sleep(0.005)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _append_lines(self, path: Path, entries: list[Entry]) -> None:
        created = not path.exists()
        data = "".join(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n" for e in entries).encode("utf-8")
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            _fsync_dir(path.parent)

    def append(self, entry: Entry) -> None:
        """Durably append one entry (returns after fsync)."""
        with self._locked():
            self._append_lines(self.path, [entry])

    def has_pending(self) -> bool:
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    def _read(self) -> tuple[list[Entry], list[str]]:
        try:
            raw = self.path.read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return [], []
        entries: list[Entry] = []
        broken: list[str] = []
        for line in raw.splitlines():
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                broken.append(line)  # a torn last line from a crash mid-append: never acknowledged
                continue
            if isinstance(value, dict) and isinstance(value.get("event_id"), str):
                entries.append(value)
            else:
                broken.append(line)
        return entries, broken

    def pending(self) -> list[Entry]:
        """The entries not yet replayed, in append order."""
        with self._locked():
            return self._read()[0]

    def replay(self, apply: Callable[[list[Entry]], ReplayOutcome]) -> ReplayOutcome:
        """Apply pending entries in order, then empty the journal. If ``apply`` raises, nothing is removed."""
        if not self.has_pending():
            return ReplayOutcome()
        with self._locked():
            entries, broken = self._read()
            outcome = apply(entries) if entries else ReplayOutcome()
            if outcome.count != len(entries):
                raise RuntimeError(f"replay accounted for {outcome.count} of {len(entries)} journal entries")
            refused = [
                {**e, "rejected_reason": outcome.rejected[e["event_id"]], "rejected_at": time.time()}
                for e in entries
                if e["event_id"] in outcome.rejected
            ]
            refused += [{"unreadable_line": line, "rejected_at": time.time()} for line in broken]
            if refused:
                self._append_lines(self.rejected_path, refused)
                for item in refused:
                    logger.warning("decision journal entry refused: %s", item)
            with self.path.open("r+b") as handle:
                handle.truncate(0)
                handle.flush()
                os.fsync(handle.fileno())
        return outcome
