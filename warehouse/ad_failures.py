"""Ads whose feature extraction or scoring raised (table ``ad_failures``, migration 0014).

A failing ad must not stop the others: the pipeline records it here with its error and goes on. It stays pending,
so the next run retries it; the run that gets it through deletes its row. Errors are stored without ad text: the
message is cut to :data:`MAX_ERROR_CHARS` and phone-like numbers, e-mails, URLs and handles in it are masked.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

STAGES = ("extract", "score")
MAX_ERROR_CHARS = 300

_MASKS = (
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[e-mail]"),
    (re.compile(r"(?:[a-z][a-z0-9+.-]*://|www\.)\S+", re.IGNORECASE), "[url]"),
    (re.compile(r"@\w{2,}"), "[handle]"),
)
_NUMBER = re.compile(r"\+?\d[\d\s().-]{3,}\d")
_PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, slots=True)
class AdFailure:
    """One ad that failed a stage in this run."""

    ad_id: int
    content_hash: str | None
    error: str


@dataclass(frozen=True, slots=True)
class StoredFailure:
    ad_id: int
    stage: str
    error: str
    attempts: int
    last_failed_at: datetime


def scrub(message: str) -> str:
    """``message`` with contact-like substrings masked, one line, at most :data:`MAX_ERROR_CHARS` characters."""
    text = " ".join(message[: 4 * MAX_ERROR_CHARS].split())
    for pattern, mask in _MASKS:
        text = pattern.sub(mask, text)
    text = _NUMBER.sub(lambda m: "[number]" if sum(c.isdigit() for c in m.group()) >= 6 else m.group(), text)
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def describe_error(error: BaseException) -> str:
    """``Type: message (at file:line in function)`` for an exception, safe to store and print (see :func:`scrub`)."""
    where = ""
    frames = traceback.extract_tb(error.__traceback__)
    if frames:
        last = frames[-1]
        path = Path(last.filename)
        try:
            shown = path.resolve().relative_to(_PROJECT_ROOT).as_posix()
        except ValueError:
            shown = path.name
        where = f" (at {shown}:{last.lineno} in {last.name})"
    message = scrub(str(error))
    return f"{type(error).__name__}{': ' + message if message else ''}{where}"


def record_failures(
    con: duckdb.DuckDBPyConnection,
    stage: str,
    version: str | None,
    failed: Sequence[AdFailure],
    succeeded: Sequence[int] = (),
) -> None:
    """In one transaction: forget the failures of the ``succeeded`` ads at ``stage``, record (or count again) the
    ``failed`` ones."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; expected one of {STAGES}")
    if not failed and not succeeded:
        return
    con.execute("BEGIN TRANSACTION")
    try:
        if succeeded:
            con.execute(
                "DELETE FROM ad_failures WHERE stage = ? AND ad_id IN (SELECT unnest(?))",
                [stage, [int(i) for i in succeeded]],
            )
        for failure in failed:
            con.execute(
                """
                INSERT INTO ad_failures (ad_id, stage, content_hash, version, error) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (ad_id, stage) DO UPDATE SET content_hash = excluded.content_hash,
                    version = excluded.version, error = excluded.error, attempts = ad_failures.attempts + 1,
                    last_failed_at = now()
                """,
                [int(failure.ad_id), stage, failure.content_hash, version, failure.error],
            )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def forget_resolved(con: duckdb.DuckDBPyConnection) -> None:
    """Drop failure rows of ads that have since gone through (after a crash between a batch's two commits)."""
    con.execute(
        """
        DELETE FROM ad_failures WHERE
            (stage = 'extract' AND ad_id IN (
                SELECT f.ad_id FROM features f JOIN ads a USING (ad_id) WHERE f.content_hash = a.content_hash))
         OR (stage = 'score' AND ad_id IN (
                SELECT s.ad_id FROM scores s JOIN ads a USING (ad_id)
                WHERE s.content_hash = a.content_hash AND s.model_version = ad_failures.version))
        """
    )


def failure_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Ads currently failing, per stage (every stage present, 0 when none)."""
    counts = dict.fromkeys(STAGES, 0)
    for stage, n in con.execute("SELECT stage, count(*) FROM ad_failures GROUP BY stage").fetchall():
        counts[str(stage)] = int(n)
    return counts


def latest_failures(con: duckdb.DuckDBPyConnection, limit: int = 5) -> list[StoredFailure]:
    """The most recently failed ads, latest first."""
    rows = con.execute(
        "SELECT ad_id, stage, error, attempts, last_failed_at FROM ad_failures "
        "ORDER BY last_failed_at DESC, ad_id LIMIT ?",
        [limit],
    ).fetchall()
    return [StoredFailure(int(r[0]), str(r[1]), str(r[2]), int(r[3]), r[4]) for r in rows]
