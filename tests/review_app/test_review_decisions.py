"""Decisions, undo and the append-only audit trail in DuckDB, and what retraining reads from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from review_support import ADMIN, ReviewEnv, query

from pipeline.training_data import warehouse_examples
from warehouse import session

AUDIT_COLUMNS = (
    "label_id, ad_id, label, source, analyst, decided_at, note, previous_label, action, undoes_label_id, event_id"
)


def _audit(db: Path) -> list[tuple[Any, ...]]:
    return query(db, f"SELECT {AUDIT_COLUMNS} FROM labels ORDER BY label_id")


def _training_label(db: Path, ad_id: int) -> int | None:
    with session(db) as con:
        examples = {e.ad_id: e.label for e in warehouse_examples(con)}
    return examples.get(ad_id)


def _undecided(env: ReviewEnv, count: int) -> list[int]:
    ids = env.logged_in().queue_ids()
    assert len(ids) >= count
    return ids[:count]


def _fixture_labelled(db: Path, label: str) -> int:
    rows = query(
        db,
        "SELECT l.ad_id FROM labels l JOIN scores s USING (ad_id) WHERE l.source = 'fixture' AND l.label = ? "
        "ORDER BY l.ad_id LIMIT 1",
        [label],
    )
    return int(rows[0][0])


def test_decision_is_recorded_with_who_when_what_before_and_moves_to_the_next_ad(fresh_env: ReviewEnv) -> None:
    """A decision posted from the ad page writes one labels row (analyst, time, label, note, previous value,
    action 'decide', event id) and sends the analyst to the next ad of the queue."""
    first, second = _undecided(fresh_env, 2)
    client = fresh_env.logged_in()
    response = client.decide(first, "lure", note="asks for passport copy\n<b>urgent</b>")
    assert response.status_code == 303
    assert response.headers["location"] == f"/ads/{second}"
    assert ("ok", f"Ad #{first} marked “Lure”. Press z to undo.") in client.flashes(response)
    rows = query(
        fresh_env.db,
        "SELECT label, source, analyst, note, previous_label, action, event_id, decided_at, recorded_at "
        "FROM labels WHERE ad_id = ?",
        [first],
    )
    assert len(rows) == 1
    label, source, analyst, note, previous, action, event_id, decided_at, recorded_at = rows[0]
    assert (label, source, analyst, previous, action) == ("lure", "analyst", "alice", None, "decide")
    assert note == "asks for passport copy\n<b>urgent</b>" and len(event_id) == 32
    assert decided_at <= recorded_at
    assert first not in client.queue_ids()
    assert _training_label(fresh_env.db, first) == 1


def test_undo_restores_the_previous_value_for_retraining(fresh_env: ReviewEnv) -> None:
    """Undo appends a row whose label is the value the decision replaced (here the fixture's 'lure'), or 'none'
    when there was none: warehouse_examples then yields the restored label, or leaves the ad out."""
    labelled = _fixture_labelled(fresh_env.db, "lure")
    (fresh,) = _undecided(fresh_env, 1)
    client = fresh_env.logged_in()
    assert client.decide(labelled, "not_lure").status_code == 303
    assert _training_label(fresh_env.db, labelled) == 0
    assert client.undo().headers["location"] == f"/ads/{labelled}"
    assert _training_label(fresh_env.db, labelled) == 1
    undo_row = query(
        fresh_env.db,
        "SELECT label, previous_label, action, undoes_label_id FROM labels WHERE ad_id = ? ORDER BY label_id DESC "
        "LIMIT 1",
        [labelled],
    )[0]
    decided_id = query(
        fresh_env.db, "SELECT label_id FROM labels WHERE ad_id = ? AND action = 'decide' AND source = 'analyst'",
        [labelled],
    )[0][0]
    assert undo_row == ("lure", "not_lure", "undo", decided_id)

    assert client.decide(fresh, "lure").status_code == 303
    assert _training_label(fresh_env.db, fresh) == 1
    undone = client.undo()
    assert ("ok", f"Undone: ad #{fresh} is back to “No decision”.") in client.flashes(undone)
    assert _training_label(fresh_env.db, fresh) is None
    assert query(fresh_env.db, "SELECT label FROM labels WHERE ad_id = ? ORDER BY label_id", [fresh]) == [
        ("lure",),
        ("none",),
    ]
    assert fresh in client.queue_ids()  # back in the queue


def test_audit_trail_is_append_only(fresh_env: ReviewEnv) -> None:
    """Decisions and undos only ever add rows: every earlier row (imported labels included) stays unchanged, and
    each row's previous_label is the label in force before it."""
    before = _audit(fresh_env.db)
    a, b, c = _undecided(fresh_env, 3)
    client = fresh_env.logged_in()
    actions = [
        lambda: client.decide(a, "lure"),
        lambda: client.decide(a, "unsure", note="second look"),
        lambda: client.decide(b, "skip"),
        client.undo,
        client.undo,
        lambda: client.decide(c, "not_lure"),
    ]
    for act in actions:
        assert act().status_code == 303
    after = _audit(fresh_env.db)
    assert after[: len(before)] == before
    added = after[len(before) :]
    assert len(added) == len(actions)
    assert [(r[1], r[2], r[7], r[8]) for r in added] == [
        (a, "lure", None, "decide"),
        (a, "unsure", "lure", "decide"),
        (b, "skip", None, "decide"),
        (b, "none", "skip", "undo"),
        (a, "lure", "unsure", "undo"),
        (c, "not_lure", None, "decide"),
    ]
    assert all(r[4] == "alice" and r[3] == "analyst" for r in added)
    assert len({r[10] for r in added}) == len(added)


def test_undo_walks_back_then_reports_nothing_left(fresh_env: ReviewEnv) -> None:
    """z undoes this session's decisions newest first; with none left it changes nothing and says so."""
    a, b = _undecided(fresh_env, 2)
    client = fresh_env.logged_in()
    client.decide(a, "lure")
    client.decide(b, "not_lure")
    assert client.undo().headers["location"] == f"/ads/{b}"
    assert client.undo().headers["location"] == f"/ads/{a}"
    count = len(_audit(fresh_env.db))
    nothing = client.undo()
    assert ("info", "Nothing to undo in this session.") in client.flashes(nothing)
    assert len(_audit(fresh_env.db)) == count


def test_undo_does_not_override_a_later_decision_by_someone_else(fresh_env: ReviewEnv) -> None:
    """If another analyst decided the ad after you, your undo is refused instead of silently reverting them."""
    (ad,) = _undecided(fresh_env, 1)
    alice = fresh_env.logged_in()
    root = fresh_env.logged_in(ADMIN)
    alice.decide(ad, "lure")
    root.decide(ad, "not_lure")
    count = len(_audit(fresh_env.db))
    refused = alice.undo()
    assert any(level == "error" for level, _ in alice.flashes(refused))
    assert len(_audit(fresh_env.db)) == count
    assert _training_label(fresh_env.db, ad) == 0


def test_bad_decisions_change_nothing(fresh_env: ReviewEnv) -> None:
    """An unknown label or an ad that does not exist leaves the audit trail as it was (the latter is kept in the
    journal's rejected file for inspection)."""
    (ad,) = _undecided(fresh_env, 1)
    client = fresh_env.logged_in()
    count = len(_audit(fresh_env.db))
    bad_label = client.decide(ad, "maybe")
    assert any(level == "error" for level, _ in client.flashes(bad_label))
    missing = client.decide(999_999, "lure")
    assert ("error", "Ad #999999: the decision could not be recorded (no ad 999999).") in client.flashes(missing)
    token = client.session_token()
    assert client.post(f"/ads/{2**70}/decision", {"csrf_token": token, "label": "lure"}).status_code == 400
    assert len(_audit(fresh_env.db)) == count
    journal = fresh_env.settings.journal
    rejected = journal.with_name(journal.name.replace(".jsonl", ".rejected.jsonl"))
    assert "no ad 999999" in rejected.read_text(encoding="utf-8")
    assert not fresh_env.settings.journal.read_text(encoding="utf-8")
