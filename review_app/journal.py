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
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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
        self._stamp_mutex = threading.Lock()
        self._last_stamp: datetime | None = None

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

    def append(self, entry: Entry, *, timestamp_key: str | None = None) -> Entry:
        """Durably append one entry (returns after fsync) and return it as written.

        ``timestamp_key``: set that field to the current time *under the journal lock*, strictly later than the
        previous stamp, so the entries' times follow their append (= replay) order even when many requests append
        at once; the audit trail orders decisions by that time and each row's ``previous_label`` relies on it."""
        with self._locked():
            if timestamp_key is not None:
                now = datetime.now(UTC)
                with self._stamp_mutex:
                    if self._last_stamp is not None and now <= self._last_stamp:
                        now = self._last_stamp + timedelta(microseconds=1)
                    self._last_stamp = now
                entry = {**entry, timestamp_key: now.isoformat()}
            self._append_lines(self.path, [entry])
        return entry

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
                for item in refused:  # never the note or the raw line: analysts type contacts into notes
                    logger.warning(
                        "decision journal entry refused (kept in %s): event %s, %s on ad %s: %s",
                        self.rejected_path.name, item.get("event_id", "?"), item.get("action", "?"),
                        item.get("ad_id", "?"), item.get("rejected_reason", "unreadable line"),
                    )
            with self.path.open("r+b") as handle:
                handle.truncate(0)
                handle.flush()
                os.fsync(handle.fileno())
        return outcome

    def rewrite(self, scrub: Callable[[list[Entry]], list[Entry]]) -> int:
        """Pass the entries of the pending journal and of the rejected file through ``scrub`` (retention rewrites
        the notes on retired ads) and, where anything changed, replace the file with a new one (written beside it,
        fsync'd, ``os.replace``'d: a crash leaves the old or the new file), so no old byte stays in it. A line that
        is not a JSON object reaches ``scrub`` as ``{"unreadable_line": line}``. Returns how many entries changed."""
        changed = 0
        with self._locked():
            for path in (self.path, self.rejected_path):
                try:
                    lines = [line for line in path.read_bytes().decode("utf-8", errors="replace").splitlines()
                             if line.strip()]
                except FileNotFoundError:
                    continue
                entries: list[Entry] = []
                for line in lines:
                    try:
                        value = json.loads(line)
                    except json.JSONDecodeError:
                        value = None
                    entries.append(value if isinstance(value, dict) else {"unreadable_line": line})
                scrubbed = scrub(entries)
                if len(scrubbed) != len(entries):
                    raise RuntimeError(f"journal rewrite returned {len(scrubbed)} of {len(entries)} entries")
                differ = sum(1 for a, b in zip(entries, scrubbed, strict=True) if a != b)
                if not differ:
                    continue
                changed += differ
                fresh = path.with_name(path.name + ".rewrite")
                fresh.unlink(missing_ok=True)
                self._append_lines(fresh, scrubbed)
                os.replace(fresh, path)
                _fsync_dir(path.parent)
        return changed
