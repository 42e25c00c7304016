"""Analyst decisions and undos as events, and how they land in the append-only ``labels`` audit trail.

Nothing here ever UPDATEs or DELETEs a ``labels`` row. Each event becomes at most one new row:

* ``decide``: ``label`` is lure | not_lure | unsure | skip, ``previous_label`` the ad's label before it (NULL if
  it had none), ``action = 'decide'``.
* ``undo`` of an earlier decision D: a row whose ``label`` is D's ``previous_label`` (the value D replaced) or,
  if D replaced nothing, the marker ``'none'`` ("no decision"); ``previous_label`` is D's label,
  ``action = 'undo'`` and ``undoes_label_id`` points at D.

The ad's current label is its latest row (``ORDER BY decided_at DESC, label_id DESC``), exactly the row
:func:`pipeline.training_data.warehouse_examples` picks before it keeps only lure / not_lure: after an undo
the restored value (or 'none', which is not a training label) is what retraining sees.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import duckdb

from review_app.journal import Entry, ReplayOutcome

LABELS: tuple[str, ...] = ("lure", "not_lure", "unsure", "skip")
NO_LABEL = "none"
KEYS = {"lure": "l", "not_lure": "n", "unsure": "u", "skip": "s"}
BUTTON_TITLES = {"lure": "Lure", "not_lure": "Not a lure", "unsure": "Unsure", "skip": "Skip"}
LABEL_TITLES = {
    "lure": "Lure",
    "not_lure": "Not a lure",
    "unsure": "Unsure",
    "skip": "Skipped",
    NO_LABEL: "No decision",
}
MAX_NOTE_CHARS = 2000
SOURCE = "analyst"

Action = Literal["decide", "undo"]


class DecisionError(ValueError):
    """A decision that cannot be accepted (unknown label, note too long)."""


@dataclass(frozen=True, slots=True)
class DecisionEvent:
    event_id: str
    action: Action
    ad_id: int
    analyst: str
    decided_at: str  # ISO 8601 with time zone: when the analyst pressed the key
    label: str | None = None
    note: str | None = None
    target_event_id: str | None = None  # undo: the decision being undone
    cluster_of: int | None = None  # decide: taken on this (lead) ad for its whole template cluster

    def to_entry(self) -> Entry:
        entry: Entry = {"cluster_of": self.cluster_of} if self.cluster_of is not None else {}
        return entry | {
            "event_id": self.event_id,
            "action": self.action,
            "ad_id": self.ad_id,
            "analyst": self.analyst,
            "decided_at": self.decided_at,
            "label": self.label,
            "note": self.note,
            "target_event_id": self.target_event_id,
        }

    @classmethod
    def from_entry(cls, entry: Entry) -> DecisionEvent:
        action = entry.get("action")
        if action not in ("decide", "undo"):
            raise DecisionError(f"unknown action {action!r}")
        return cls(
            event_id=str(entry["event_id"]),
            action=action,
            ad_id=int(entry["ad_id"]),
            analyst=str(entry["analyst"]),
            decided_at=str(entry["decided_at"]),
            label=entry.get("label"),
            note=entry.get("note"),
            target_event_id=entry.get("target_event_id"),
            cluster_of=int(entry["cluster_of"]) if entry.get("cluster_of") is not None else None,
        )


def _now() -> str:
    return datetime.now(UTC).isoformat()


def new_decision(ad_id: int, label: str, note: str | None, analyst: str) -> DecisionEvent:
    if label not in LABELS:
        raise DecisionError(f"label must be one of {', '.join(LABELS)}")
    clean = (note or "").strip()
    if len(clean) > MAX_NOTE_CHARS:
        raise DecisionError(f"notes may have at most {MAX_NOTE_CHARS} characters")
    return DecisionEvent(uuid.uuid4().hex, "decide", ad_id, analyst, _now(), label=label, note=clean or None)


def new_cluster_decision(lead: DecisionEvent, ad_id: int) -> DecisionEvent:
    """The same decision for another ad of the lead ad's template cluster (applied only while that ad is still
    undecided and in the same cluster: see :func:`_apply_decide`)."""
    return DecisionEvent(uuid.uuid4().hex, "decide", ad_id, lead.analyst, _now(), label=lead.label, note=lead.note,
                         cluster_of=lead.ad_id)


def undecided_cluster_members(con: duckdb.DuckDBPyConnection, ad_id: int, limit: int = 500) -> list[int]:
    """The other ads of the ad's template cluster (``ad_clusters``) that have no decision in force, oldest id
    first: what a decision on the ad applies to besides it."""
    rows = con.execute(
        f"""
        WITH members AS (
            SELECT c.ad_id FROM ad_clusters c
            WHERE c.cluster_id = (SELECT cluster_id FROM ad_clusters WHERE ad_id = ?) AND c.ad_id <> ?
        ),
        latest AS (
            SELECT ad_id, label FROM (
                SELECT ad_id, label, row_number() OVER (PARTITION BY ad_id ORDER BY decided_at DESC, label_id DESC) rn
                FROM labels WHERE ad_id IN (SELECT ad_id FROM members)
            ) WHERE rn = 1
        )
        SELECT m.ad_id FROM members m LEFT JOIN latest l USING (ad_id)
        WHERE l.label IS NULL OR l.label = '{NO_LABEL}'
        ORDER BY m.ad_id LIMIT ?
        """,
        [ad_id, ad_id, limit],
    ).fetchall()
    return [int(r[0]) for r in rows]


def new_undo(ad_id: int, target_event_id: str, analyst: str) -> DecisionEvent:
    return DecisionEvent(uuid.uuid4().hex, "undo", ad_id, analyst, _now(), target_event_id=target_event_id)


def current_label(con: duckdb.DuckDBPyConnection, ad_id: int) -> str | None:
    """The ad's label in force (None: never decided, or an undo restored 'no decision')."""
    rows = con.execute(
        "SELECT label FROM labels WHERE ad_id = ? ORDER BY decided_at DESC, label_id DESC LIMIT 1", [ad_id]
    ).fetchall()
    if not rows or rows[0][0] == NO_LABEL:
        return None
    return str(rows[0][0])


def _insert(
    con: duckdb.DuckDBPyConnection,
    event: DecisionEvent,
    label: str,
    previous: str | None,
    undoes_label_id: int | None,
) -> None:
    con.execute(
        """
        INSERT INTO labels (ad_id, label, source, analyst, decided_at, note, previous_label, action, event_id,
                            undoes_label_id)
        VALUES (?, ?, ?, ?, CAST(CAST(? AS TIMESTAMPTZ) AS TIMESTAMP), ?, ?, ?, ?, ?)
        """,
        [
            event.ad_id,
            label,
            SOURCE,
            event.analyst,
            event.decided_at,
            event.note,
            previous,
            event.action,
            event.event_id,
            undoes_label_id,
        ],
    ).fetchall()


def _apply_decide(con: duckdb.DuckDBPyConnection, event: DecisionEvent) -> str | None:
    if event.label not in LABELS:
        return f"unknown label {event.label!r}"
    if not con.execute("SELECT count(*) FROM ads WHERE ad_id = ?", [event.ad_id]).fetchall()[0][0]:
        return f"no ad {event.ad_id}"
    previous = current_label(con, event.ad_id)
    # a cluster decision reaches only ads of the cluster nobody has decided
    if event.cluster_of is not None and event.ad_id not in undecided_cluster_members(con, event.cluster_of, 10**6):
        return f"ad {event.ad_id} was decided separately or left the template cluster of ad {event.cluster_of}"
    _insert(con, event, event.label, previous, None)
    return None


def _apply_undo(con: duckdb.DuckDBPyConnection, event: DecisionEvent) -> str | None:
    rows = con.execute(
        "SELECT label_id, ad_id, label, previous_label, analyst, action FROM labels WHERE event_id = ?",
        [event.target_event_id],
    ).fetchall()
    if not rows:
        return f"decision {event.target_event_id} is not in the warehouse"
    label_id, ad_id, label, previous, analyst, action = rows[0]
    if action != "decide" or analyst != event.analyst or ad_id != event.ad_id:
        return "only your own decisions can be undone"
    if con.execute("SELECT count(*) FROM labels WHERE undoes_label_id = ?", [label_id]).fetchall()[0][0]:
        return "that decision was already undone"
    in_force = current_label(con, ad_id)
    if in_force != label:
        return "the ad was decided again since; nothing undone"
    _insert(con, event, previous or NO_LABEL, in_force, int(label_id))
    return None


def apply_entries(con: duckdb.DuckDBPyConnection, entries: list[Entry]) -> ReplayOutcome:
    """Write journal entries in order, in one transaction; entries already in ``labels`` are skipped."""
    outcome = ReplayOutcome()
    ids = [str(e["event_id"]) for e in entries]
    present = {
        row[0]
        for row in con.execute(
            "SELECT event_id FROM labels WHERE event_id IN (SELECT unnest(?::VARCHAR[]))", [ids]
        ).fetchall()
    }
    con.execute("BEGIN TRANSACTION")
    try:
        for entry in entries:
            event_id = str(entry["event_id"])
            if event_id in present:
                outcome.already_applied.append(event_id)
                continue
            try:
                event = DecisionEvent.from_entry(entry)
            except (DecisionError, KeyError, TypeError, ValueError) as error:
                outcome.rejected[event_id] = f"unreadable entry: {error}"
                continue
            reason = _apply_decide(con, event) if event.action == "decide" else _apply_undo(con, event)
            if reason is None:
                outcome.applied.append(event_id)
                present.add(event_id)
            else:
                outcome.rejected[event_id] = reason
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return outcome


@dataclass(frozen=True, slots=True)
class HistoryRow:
    label_id: int
    decided_at: datetime
    analyst: str
    source: str
    action: str
    label: str
    previous_label: str | None
    note: str | None
    undoes_label_id: int | None


def history(con: duckdb.DuckDBPyConnection, ad_id: int) -> list[HistoryRow]:
    """Every label row of the ad, newest first."""
    rows = con.execute(
        """
        SELECT label_id, decided_at, analyst, source, coalesce(action, 'decide'), label, previous_label, note,
               undoes_label_id
        FROM labels WHERE ad_id = ? ORDER BY decided_at DESC, label_id DESC
        """,
        [ad_id],
    ).fetchall()
    return [HistoryRow(*row) for row in rows]


def event_status(con: duckdb.DuckDBPyConnection, event_id: str) -> dict[str, Any] | None:
    rows = con.execute("SELECT label_id, ad_id, label FROM labels WHERE event_id = ?", [event_id]).fetchall()
    return {"label_id": rows[0][0], "ad_id": rows[0][1], "label": rows[0][2]} if rows else None
