"""The app's way into the warehouse: short sessions that wait for the DuckDB lock, replay the decision journal
first (so every page sees every acknowledged decision, in order), and a cache of the champion model."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

import warehouse
from pipeline.model_registry import LoadedModel, champion_version, load
from review_app.decisions import apply_entries
from review_app.journal import DecisionJournal, JournalLocked, ReplayOutcome
from warehouse import WarehouseBusy

logger = logging.getLogger(__name__)


class ReviewWarehouse:
    def __init__(self, db_path: Path, journal: DecisionJournal) -> None:
        self.db_path = db_path
        self.journal = journal
        self._mutex = threading.Lock()  # one warehouse session per app process at a time
        self._model_lock = threading.Lock()
        self._model: LoadedModel | None = None
        self.last_replay = ReplayOutcome()  # what the current session's replay did (valid inside session())

    @contextmanager
    def session(self, lock_timeout_s: float) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the warehouse (waiting up to ``lock_timeout_s`` in all), replay the journal, yield, close."""
        deadline = time.monotonic() + lock_timeout_s
        if not self._mutex.acquire(timeout=lock_timeout_s):
            raise WarehouseBusy(f"{self.db_path} is busy in this app for more than {lock_timeout_s:g} s")
        try:
            remaining = max(deadline - time.monotonic(), 0.05)
            with warehouse.session(self.db_path, lock_timeout_s=remaining) as con:
                self.last_replay = self._replay(con)
                yield con
        finally:
            self._mutex.release()

    def _replay(self, con: duckdb.DuckDBPyConnection) -> ReplayOutcome:
        try:
            outcome = self.journal.replay(lambda entries: apply_entries(con, entries))
        except (JournalLocked, duckdb.Error, RuntimeError):
            # The entries stay in the journal and are retried by the next session; reads go on.
            logger.exception("could not replay the decision journal %s", self.journal.path)
            return ReplayOutcome()
        if outcome.applied:
            logger.info("replayed %d journaled decision(s) into %s", len(outcome.applied), self.db_path)
        return outcome

    def try_replay(self, lock_timeout_s: float) -> bool:
        """Replay a non-empty journal if the warehouse can be had within the timeout. True if it is empty now."""
        if not self.journal.has_pending():
            return True
        try:
            with self.session(lock_timeout_s):
                pass
        except WarehouseBusy:
            return False
        return not self.journal.has_pending()

    def champion(self, con: duckdb.DuckDBPyConnection) -> LoadedModel | None:
        """The champion model, loaded once per version."""
        version = champion_version(con)
        if version is None:
            return None
        with self._model_lock:
            if self._model is None or self._model.version != version:
                self._model = load(con, version)
            return self._model
