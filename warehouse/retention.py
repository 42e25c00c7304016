"""Data retention: contacts of ads not seen for N days are pseudonymised (or deleted) and masked in the text.

What one run does, in a single transaction (a crash or ``kill -9`` leaves the warehouse exactly as before):

* **Due ads**: ``last_seen`` older than the cutoff (``now - days``), not processed yet (or seen again / re-extracted
  with plain contact values since they were processed).
* **entities** of due ads: ``value`` and ``raw`` become the keyed pseudonym of the value (``mode="pseudonymise"``,
  see :mod:`warehouse.pseudonymise`: equal values keep equal pseudonyms, so shared-contact links survive) or the rows
  are deleted (``mode="delete"``).
* **ads.title / body / contact_text** of due ads: every contact span (the entity offsets, every occurrence of the
  raw and normalised values, and whatever ``find_contacts`` finds) is masked with ``•``, length-preserving, so every
  stored offset stays valid. ``content_hash`` is left as it was: it fingerprints the text as crawled, so neither
  feature extraction nor scoring nor the crawler's change detection sees a "changed" ad.
* **features.evidence** texts overlapping a masked span are rewritten from the masked text.
* **ad_snapshots.page_text** of due ads, and every superseded snapshot older than the cutoff, masked the same way
  (``content_hash`` kept, so a re-crawl of an unchanged page still adds no snapshot).
* **labels.note** of every label of a due ad: analysts type phone numbers and e-mail addresses into their decision
  notes, so every occurrence of the ad's contact values (raw and normalised) and whatever ``find_contacts`` finds in
  the note is replaced: by its keyed pseudonym (``mode="pseudonymise"``; the pseudonym of the entity's normalised
  value, so ``lurewatch privacy pseudonym VALUE`` finds it) or masked with ``•`` (``mode="delete"``, which also masks
  pseudonyms an earlier run left in the note). The rest of the note stays verbatim. ``labels`` is otherwise the
  append-only audit trail (migration 0004: rows are never UPDATEd or DELETEd); retention is the one deliberate
  exception, and it only rewrites contact substrings inside ``note``: label, analyst, times, action, event id and
  every other column stay as they were, no row is added or removed. Labels of other ads are not touched, even when
  their notes mention a contact of a due ad. A note written after its ad was processed (a later decision, or one
  journaled while retention held the warehouse) is rewritten by the next run, the same way its ad was.
* **Every other free-text column** of due ads: ``ads.company / location / country / salary_text`` and
  ``ad_facts.city / destination / category`` (a crawled "country" holding a phone number, a URL as "company"), masked
  with ``•`` the same way.
* Scores, features vectors, clusters and cross-ad features are untouched.

DuckDB keeps the freed old values in the file: ``lurewatch privacy retention`` therefore rebuilds the file after the
run (:func:`warehouse.compact.rebuild_file`) and rewrites the review app's decision journal
(:func:`rewrite_retired_notes`), so no byte of a retired contact stays in any file.

The report lists the ISO weeks (Mondays, :data:`warehouse.parquet.WEEK_OF_AD`) of the ads the run changed, so a
Parquet export (which would keep the clear contacts) can re-export exactly those weeks
(``lurewatch privacy retention --parquet-root PATH``).

``retention_runs`` records each run (period, cutoff, mode, key fingerprint, counts); ``retention_ads`` /
``retention_snapshots`` make re-runs cheap and idempotent. A run refuses a pseudonymisation key other than the one
earlier runs used (pseudonyms would stop matching) unless ``allow_key_change`` is set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

import duckdb
import pyarrow as pa

from warehouse.parquet import WEEK_OF_AD
from warehouse.pseudonymise import (
    DIGEST_HEX,
    PREFIX,
    PSEUDONYM_SQL_PATTERN,
    Pseudonymiser,
    PseudonymKeyError,
    is_pseudonym,
    mask_spans,
    mask_strings,
    needle_spans,
    split_ad_text,
)
from warehouse.records import ad_text

Mode = Literal["pseudonymise", "delete"]
MODES: tuple[Mode, ...] = ("pseudonymise", "delete")
#: Finds contact spans in a text (``features.extract_contacts`` in production; injected, so that the warehouse
#: package imports nothing above it).
ContactFinder = Callable[[str], Iterable[tuple[int, int]]]
_PSEUDONYM_IN_TEXT = re.compile(rf"{PREFIX}[0-9a-f]{{{DIGEST_HEX}}}")
CHUNK = 2000


@dataclass(frozen=True, slots=True)
class RetentionReport:
    run_id: int | None  # None for a dry run (nothing is recorded)
    days: int
    cutoff: datetime
    mode: str
    dry_run: bool
    key_id: str | None
    ads: int  # ads whose title/body/contact line changed or whose contacts were processed
    entities: int
    snapshots: int
    evidence: int
    notes: int = 0  # labels whose note had contact values rewritten
    weeks: tuple[date, ...] = ()  # ISO weeks (Mondays, as in the Parquet export) of the ads this run changed
    imported: int = 0  # imported labelled texts (``labels import``) older than the cut-off whose contacts were masked

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["cutoff"] = self.cutoff.isoformat(sep=" ")
        values["weeks"] = [week.isoformat() for week in self.weeks]
        return values


@dataclass(slots=True)
class _Entity:
    entity_id: int
    ad_id: int
    kind: str
    value: str
    raw: str
    start: int
    end: int


def _check_key(con: duckdb.DuckDBPyConnection, key_id: str, allow_key_change: bool) -> None:
    used = {
        str(row[0])
        for row in con.execute(
            "SELECT DISTINCT key_id FROM retention_runs WHERE mode = 'pseudonymise' AND key_id IS NOT NULL"
        ).fetchall()
    }
    if used - {key_id} and not allow_key_change:
        raise PseudonymKeyError(
            f"earlier retention runs used pseudonymisation key(s) {sorted(used)}, this key is {key_id}: pseudonyms "
            "would no longer match (linked ads split). Use the same key, or pass allow_key_change / "
            "--allow-key-change deliberately."
        )


def _due_ads(con: duckdb.DuckDBPyConnection, cutoff: datetime, mode: Mode) -> list[tuple[Any, ...]]:
    plain = "TRUE" if mode == "delete" else f"NOT regexp_matches(e.value, '{PSEUDONYM_SQL_PATTERN}')"
    return con.execute(
        f"""
        SELECT a.ad_id, a.title, a.body, a.contact_text
        FROM ads a LEFT JOIN retention_ads r USING (ad_id)
        WHERE a.last_seen < $cutoff
          AND (r.ad_id IS NULL OR a.last_seen > r.processed_at
               OR EXISTS (SELECT 1 FROM entities e WHERE e.ad_id = a.ad_id AND {plain}))
        ORDER BY a.ad_id
        """,
        {"cutoff": cutoff},
    ).fetchall()


def _entities(con: duckdb.DuckDBPyConnection, ad_ids: Sequence[int]) -> dict[int, list[_Entity]]:
    rows = con.execute(
        "SELECT entity_id, ad_id, kind, value, raw, start_pos, end_pos FROM entities "
        "WHERE ad_id IN (SELECT unnest(?::BIGINT[])) ORDER BY ad_id, start_pos",
        [list(ad_ids)],
    ).fetchall()
    found: dict[int, list[_Entity]] = {}
    for row in rows:
        found.setdefault(int(row[1]), []).append(_Entity(int(row[0]), int(row[1]), *row[2:5], int(row[5]), int(row[6])))
    return found


def _needles(entities: Iterable[_Entity]) -> set[str]:
    """Strings to mask wherever they occur: raw and normalised values that are not pseudonyms already."""
    return {s for e in entities for s in (e.raw, e.value) if s and not is_pseudonym(s)}


def _mask(text: str, spans: Iterable[tuple[int, int]], needles: Iterable[str], finder: ContactFinder | None) -> str:
    masked = mask_strings(mask_spans(text, spans), needles)
    if finder is not None:
        masked = mask_spans(masked, finder(masked))
    return masked


def _merge(spans: Iterable[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """Spans clipped to ``[0, length)``, overlapping ones united, in order."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted((max(0, int(s)), min(length, int(e))) for s, e in spans):
        if start >= end:
            continue
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _rewrite_note(
    note: str, entities: Sequence[_Entity], finder: ContactFinder | None, pseudonymiser: Pseudonymiser | None
) -> str:
    """``note`` with every contact of its ad (the ``_needles`` of its entities, as in :func:`mask_strings`) and every
    contact ``finder`` finds replaced by its keyed pseudonym (an entity's raw or normalised value by the pseudonym of
    the normalised value, which is what ``entities.value`` becomes), or, without a pseudonymiser (delete mode),
    masked with ``•`` together with any pseudonym already in the note. Everything else is kept verbatim."""
    spans = needle_spans(note, _needles(entities))
    if finder is not None:
        spans += [(int(start), int(end)) for start, end in finder(note)]
    done = [m.span() for m in _PSEUDONYM_IN_TEXT.finditer(note)]
    if pseudonymiser is None:
        return mask_spans(note, [*spans, *done])
    # never rewrite inside a pseudonym an earlier run wrote (a digit run in its hex could look like a number)
    spans = [(s, e) for s, e in spans if not any(s < d_end and d_start < e for d_start, d_end in done)]
    if not spans:
        return note
    normalised = {text: e.value for e in entities for text in (e.raw, e.value) if text and not is_pseudonym(text)}
    parts: list[str] = []
    position = 0
    for start, end in _merge(spans, len(note)):
        piece = note[start:end]
        parts += [note[position:start], pseudonymiser.pseudonym(normalised.get(piece, piece))]
        position = end
    parts.append(note[position:])
    return "".join(parts)


def _weeks(con: duckdb.DuckDBPyConnection, ad_ids: Iterable[int]) -> tuple[date, ...]:
    """The ISO weeks (Mondays, :data:`warehouse.parquet.WEEK_OF_AD`) of these ads, ascending."""
    ids = sorted(set(ad_ids))
    if not ids:
        return ()
    rows = con.execute(
        f"SELECT DISTINCT {WEEK_OF_AD} AS week FROM ads a WHERE a.ad_id IN (SELECT unnest(?::BIGINT[])) ORDER BY week",
        [ids],
    ).fetchall()
    return tuple(row[0] for row in rows)


def apply_retention(
    con: duckdb.DuckDBPyConnection,
    days: int,
    *,
    mode: Mode = "pseudonymise",
    pseudonymiser: Pseudonymiser | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
    find_contacts: ContactFinder | None = None,
    allow_key_change: bool = False,
    fault: Callable[[str], None] | None = None,
) -> RetentionReport:
    """Apply the retention period ``days`` (see the module docstring). ``dry_run`` computes the exact counts and
    rolls everything back. ``fault`` is a test hook called with ``"retention.before_commit"`` (see
    :mod:`warehouse.compact`).

    The freed bytes of everything this rewrites stay in the DuckDB file until it is rebuilt: call
    :func:`warehouse.compact.rebuild_file` afterwards (``lurewatch privacy retention`` does)."""
    fault = fault or (lambda point: None)
    if days < 1:
        raise ValueError("the retention period must be at least 1 day")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    if mode == "pseudonymise" and pseudonymiser is None:
        raise PseudonymKeyError("mode 'pseudonymise' needs a pseudonymisation key (see warehouse.pseudonymise)")
    started = now or datetime.now()
    cutoff = started - timedelta(days=days)
    key_id = pseudonymiser.key_id if pseudonymiser is not None else None
    if mode == "pseudonymise" and key_id is not None:
        _check_key(con, key_id, allow_key_change)
    con.execute("BEGIN TRANSACTION")
    try:
        run_id = int(
            con.execute(
                "INSERT INTO retention_runs (started_at, days, cutoff, mode, dry_run, key_id) "
                "VALUES (?, ?, ?, ?, ?, ?) RETURNING run_id",
                [started, days, cutoff, mode, dry_run, key_id],
            ).fetchall()[0][0]
        )
        due = _due_ads(con, cutoff, mode)
        ads_changed = entities_changed = evidence_changed = notes_changed = 0
        needles_by_ad: dict[int, set[str]] = {}
        changed_ads: set[int] = set()  # ads whose text, entities, evidence or label notes this run rewrote
        for offset in range(0, len(due), CHUNK):
            chunk = due[offset : offset + CHUNK]
            ad_ids = [int(row[0]) for row in chunk]
            by_ad = _entities(con, ad_ids)
            evidence_rows = dict(
                con.execute(
                    "SELECT ad_id, evidence FROM features WHERE ad_id IN (SELECT unnest(?::BIGINT[]))", [ad_ids]
                ).fetchall()
            )
            note_rows = con.execute(
                "SELECT label_id, ad_id, note FROM labels WHERE ad_id IN (SELECT unnest(?::BIGINT[])) "
                "AND note IS NOT NULL AND note <> '' ORDER BY label_id",
                [ad_ids],
            ).fetchall()
            new_ads: list[tuple[int, str, str, str | None]] = []
            new_evidence: list[tuple[int, str]] = []
            new_notes: list[tuple[int, str]] = []
            counted: set[int] = set()  # ads of this chunk already counted in ads_changed
            for ad_id, title, body, contact in chunk:
                entities = by_ad.get(int(ad_id), [])
                needles = _needles(entities)
                needles_by_ad[int(ad_id)] = needles
                text = ad_text(title, body)
                spans = [(e.start, e.end) for e in entities if 0 <= e.start < e.end <= len(text)
                         and text[e.start : e.end] == e.raw]
                masked = _mask(text, spans, needles, find_contacts)
                new_title, new_body = split_ad_text(masked, title)
                new_contact = _mask(contact, [], needles, find_contacts) if contact else contact
                if (new_title, new_body, new_contact) != (title, body, contact) or entities:
                    ads_changed += 1
                    counted.add(int(ad_id))
                if (new_title, new_body, new_contact) != (title, body, contact):
                    new_ads.append((int(ad_id), new_title, new_body, new_contact))
                    changed_ads.add(int(ad_id))
                if entities and (mode == "delete" or any(not is_pseudonym(e.value) or not is_pseudonym(e.raw)
                                                         for e in entities)):
                    changed_ads.add(int(ad_id))
                raw_evidence = evidence_rows.get(ad_id)
                if raw_evidence and masked != text:
                    items = json.loads(raw_evidence)
                    touched = False
                    for item in items:
                        start, end = item.get("start"), item.get("end")
                        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
                            if masked[start:end] != text[start:end]:
                                item["text"] = masked[start:end]
                                touched = True
                        elif isinstance(item.get("text"), str):
                            clean = mask_strings(item["text"], needles)
                            touched |= clean != item["text"]
                            item["text"] = clean
                    if touched:
                        new_evidence.append((int(ad_id), json.dumps(items, ensure_ascii=False)))
            for label_id, ad_id, note in note_rows:
                clean = _rewrite_note(
                    note, by_ad.get(int(ad_id), []), find_contacts, pseudonymiser if mode == "pseudonymise" else None
                )
                if clean != note:
                    new_notes.append((int(label_id), clean))
                    changed_ads.add(int(ad_id))
            if new_ads:
                _execute_with(con, "_ret_ads", pa.table({
                    "ad_id": pa.array([r[0] for r in new_ads], pa.int64()),
                    "title": pa.array([r[1] for r in new_ads], pa.string()),
                    "body": pa.array([r[2] for r in new_ads], pa.string()),
                    "contact_text": pa.array([r[3] for r in new_ads], pa.string()),
                }), "UPDATE ads SET title = n.title, body = n.body, contact_text = n.contact_text "
                    "FROM _ret_ads n WHERE ads.ad_id = n.ad_id")
            if new_evidence:
                _execute_with(con, "_ret_evidence", pa.table({
                    "ad_id": pa.array([r[0] for r in new_evidence], pa.int64()),
                    "evidence": pa.array([r[1] for r in new_evidence], pa.string()),
                }), "UPDATE features SET evidence = n.evidence::JSON FROM _ret_evidence n "
                    "WHERE features.ad_id = n.ad_id")
                evidence_changed += len(new_evidence)
            notes_changed += _update_notes(con, new_notes)
            scrubbed = _scrub_other_columns(con, ad_ids, needles_by_ad, find_contacts)
            ads_changed += len(scrubbed - counted)
            changed_ads |= scrubbed
            all_entities = [e for ad_id in ad_ids for e in by_ad.get(ad_id, [])]
            if mode == "delete":
                entities_changed += len(all_entities)
                con.execute(
                    "DELETE FROM entities WHERE ad_id IN (SELECT unnest(?::BIGINT[]))", [ad_ids]
                ).fetchall()
            else:
                assert pseudonymiser is not None
                plain = [e for e in all_entities if not (is_pseudonym(e.value) and is_pseudonym(e.raw))]
                if plain:
                    _execute_with(con, "_ret_entities", pa.table({
                        "entity_id": pa.array([e.entity_id for e in plain], pa.int64()),
                        "value": pa.array([pseudonymiser.pseudonym(e.value) for e in plain], pa.string()),
                    }), "UPDATE entities SET value = n.value, raw = n.value FROM _ret_entities n "
                        "WHERE entities.entity_id = n.entity_id")
                    entities_changed += len(plain)
            con.execute(
                "INSERT OR REPLACE INTO retention_ads (ad_id, processed_at, mode, run_id) "
                "SELECT unnest(?::BIGINT[]), ?, ?, ?",
                [ad_ids, started, mode, run_id],
            ).fetchall()
        late = _late_notes(con, cutoff, set(needles_by_ad), find_contacts, pseudonymiser)
        notes_changed += _update_notes(con, [(label_id, note) for label_id, _, note in late])
        changed_ads.update(ad_id for _, ad_id, _ in late)
        snapshots = _mask_snapshots(con, cutoff, needles_by_ad, find_contacts, started, run_id)
        imported = _scrub_imported_labels(con, cutoff, find_contacts)
        weeks = _weeks(con, changed_ads)
        con.execute(
            "UPDATE retention_runs SET finished_at = now(), ads = ?, entities = ?, snapshots = ?, evidence = ?, "
            "notes = ? WHERE run_id = ?",
            [ads_changed, entities_changed, snapshots, evidence_changed, notes_changed, run_id],
        ).fetchall()
        if not dry_run:
            fault("retention.before_commit")
        con.execute("ROLLBACK" if dry_run else "COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return RetentionReport(
        None if dry_run else run_id, days, cutoff, mode, dry_run, key_id, ads_changed, entities_changed, snapshots,
        evidence_changed, notes_changed, weeks, imported,
    )


def _execute_with(
    con: duckdb.DuckDBPyConnection, name: str, table: pa.Table, sql: str, params: Sequence[Any] = ()
) -> None:
    """Run ``sql`` with the Arrow ``table`` visible as ``name``; it is unregistered again whatever happens."""
    con.register(name, table)
    try:
        con.execute(sql, list(params)).fetchall()
    finally:
        con.unregister(name)


#: Free-text columns of ``ads`` besides title/body/contact_text, and of ``ad_facts`` (which copies ads.location and
#: ads.country into city/destination/category): a crawled "country" can hold a phone number, a "company" a URL.
OTHER_AD_COLUMNS: tuple[str, ...] = ("company", "location", "country", "salary_text")
AD_FACT_COLUMNS: tuple[str, ...] = ("city", "destination", "category")


def _scrub_other_columns(
    con: duckdb.DuckDBPyConnection,
    ad_ids: Sequence[int],
    needles_by_ad: dict[int, set[str]],
    finder: ContactFinder | None,
) -> set[int]:
    """Mask (with ``•``) every contact in the other free-text columns of these ads (:data:`OTHER_AD_COLUMNS`) and
    of their ``ad_facts`` row (:data:`AD_FACT_COLUMNS`): the ad's own contact values and whatever ``finder`` finds.
    Returns the ads whose rows changed."""
    changed: set[int] = set()
    for table, columns in (("ads", OTHER_AD_COLUMNS), ("ad_facts", AD_FACT_COLUMNS)):
        rows = con.execute(
            f"SELECT ad_id, {', '.join(columns)} FROM {table} WHERE ad_id IN (SELECT unnest(?::BIGINT[]))",
            [list(ad_ids)],
        ).fetchall()
        updates: list[tuple[Any, ...]] = []
        for ad_id, *values in rows:
            needles = needles_by_ad.get(int(ad_id), set())
            clean = [_mask(v, [], needles, finder) if isinstance(v, str) and v else v for v in values]
            if clean != values:
                updates.append((int(ad_id), *clean))
                changed.add(int(ad_id))
        if updates:
            _execute_with(con, f"_ret_{table}_columns", pa.table(
                {"ad_id": pa.array([u[0] for u in updates], pa.int64())}
                | {c: pa.array([u[i + 1] for u in updates], pa.string()) for i, c in enumerate(columns)}
            ), f"UPDATE {table} SET {', '.join(f'{c} = n.{c}' for c in columns)} "
               f"FROM _ret_{table}_columns n WHERE {table}.ad_id = n.ad_id")
    return changed


def _scrub_imported_labels(con: duckdb.DuckDBPyConnection, cutoff: datetime, finder: ContactFinder | None) -> int:
    """Mask (with ``•``) every contact ``finder`` finds in the text and note of labelled texts imported
    (``lurewatch labels import``) before ``cutoff``: a partner's file may carry the contacts of its ads."""
    rows = con.execute(
        "SELECT il.imported_label_id, il.text, il.note FROM imported_labels il JOIN label_imports li USING (import_id) "
        "WHERE li.imported_at < ?",
        [cutoff],
    ).fetchall()
    updates = []
    for row_id, text, note in rows:
        clean_text = _mask(text, [], set(), finder) if text else text
        clean_note = _mask(note, [], set(), finder) if note else note
        if (clean_text, clean_note) != (text, note):
            updates.append((int(row_id), clean_text, clean_note))
    if updates:
        _execute_with(con, "_ret_imported", pa.table({
            "imported_label_id": pa.array([u[0] for u in updates], pa.int64()),
            "text": pa.array([u[1] for u in updates], pa.string()),
            "note": pa.array([u[2] for u in updates], pa.string()),
        }), "UPDATE imported_labels SET text = n.text, note = n.note FROM _ret_imported n "
            "WHERE imported_labels.imported_label_id = n.imported_label_id")
    return len(updates)


def rewrite_retired_notes(
    con: duckdb.DuckDBPyConnection,
    notes: Sequence[tuple[int, str]],
    find_contacts: ContactFinder | None,
    pseudonymiser: Pseudonymiser | None,
) -> list[str]:
    """``(ad_id, note)`` pairs from outside the warehouse (the review app's decision journal) rewritten as
    retention rewrites ``labels.note``: a note on an ad retention has processed and that is still expired gets its
    contacts pseudonymised (or masked, for an ad processed in delete mode); other notes come back unchanged."""
    ids = sorted({int(ad_id) for ad_id, _ in notes})
    if not ids:
        return [note for _, note in notes]
    modes = dict(con.execute(
        "SELECT r.ad_id, r.mode FROM retention_ads r JOIN ads a USING (ad_id) "
        "WHERE r.ad_id IN (SELECT unnest(?::BIGINT[])) AND a.last_seen <= r.processed_at",
        [ids],
    ).fetchall())
    entities = _entities(con, sorted(modes)) if modes else {}
    out: list[str] = []
    for ad_id, note in notes:
        mode = modes.get(int(ad_id))
        if mode is None or not note:
            out.append(note)
            continue
        keyed = pseudonymiser if mode == "pseudonymise" else None
        out.append(_rewrite_note(note, entities.get(int(ad_id), []), find_contacts, keyed))
    return out


def _update_notes(con: duckdb.DuckDBPyConnection, rows: Sequence[tuple[int, str]]) -> int:
    """Write rewritten notes (the one deliberate rewrite of the append-only labels table: only contact substrings
    of ``note`` change). Returns how many."""
    if rows:
        _execute_with(con, "_ret_notes", pa.table({
            "label_id": pa.array([r[0] for r in rows], pa.int64()),
            "note": pa.array([r[1] for r in rows], pa.string()),
        }), "UPDATE labels SET note = n.note FROM _ret_notes n WHERE labels.label_id = n.label_id")
    return len(rows)


def _late_notes(
    con: duckdb.DuckDBPyConnection,
    cutoff: datetime,
    done_now: set[int],
    finder: ContactFinder | None,
    pseudonymiser: Pseudonymiser | None,
) -> list[tuple[int, int, str]]:
    """Notes written after their ad was processed (a decision made later, or journaled while retention held the
    warehouse and replayed afterwards): ads processed by an earlier run, still expired, not processed again now.
    Their entities hold pseudonyms (or are gone), so the contacts are whatever ``finder`` finds and pseudonyms an
    ad's own entities carry; each note is rewritten as its ad was (pseudonymised, or masked for an ad retention
    deleted). ``(label_id, ad_id, new note)`` for every note that changes."""
    rows = con.execute(
        """
        SELECT l.label_id, l.ad_id, l.note, r.mode
        FROM labels l JOIN retention_ads r USING (ad_id) JOIN ads a USING (ad_id)
        WHERE l.note IS NOT NULL AND l.note <> '' AND a.last_seen < $cutoff AND a.last_seen <= r.processed_at
          AND l.ad_id NOT IN (SELECT unnest($done::BIGINT[]))
        ORDER BY l.label_id
        """,
        {"cutoff": cutoff, "done": sorted(done_now)},
    ).fetchall()
    if not rows:
        return []
    entities = _entities(con, sorted({int(r[1]) for r in rows}))
    changed: list[tuple[int, int, str]] = []
    for label_id, ad_id, note, mode in rows:
        keyed = pseudonymiser if mode == "pseudonymise" else None
        clean = _rewrite_note(note, entities.get(int(ad_id), []), finder, keyed)
        if clean != note:
            changed.append((int(label_id), int(ad_id), clean))
    return changed


def _mask_snapshots(
    con: duckdb.DuckDBPyConnection,
    cutoff: datetime,
    needles_by_ad: dict[int, set[str]],
    finder: ContactFinder | None,
    started: datetime,
    run_id: int,
) -> int:
    """Mask the snapshots of the ads just processed, and superseded snapshots older than the cutoff."""
    rows = con.execute(
        """
        WITH latest AS (SELECT ad_id, max(fetched_at) AS fetched_at FROM ad_snapshots GROUP BY ad_id)
        SELECT s.ad_id, s.fetched_at, s.content_hash, s.page_text
        FROM ad_snapshots s JOIN latest l USING (ad_id)
        WHERE NOT EXISTS (SELECT 1 FROM retention_snapshots r WHERE r.ad_id = s.ad_id
                          AND r.fetched_at = s.fetched_at AND r.content_hash = s.content_hash)
          AND (s.ad_id IN (SELECT unnest(?::BIGINT[]))
               OR (s.fetched_at < ? AND s.fetched_at < l.fetched_at))
        ORDER BY s.ad_id, s.fetched_at
        """,
        [list(needles_by_ad), cutoff],
    ).fetchall()
    if not rows:
        return 0
    missing = sorted({int(r[0]) for r in rows} - set(needles_by_ad))
    extra = {ad_id: _needles(entities) for ad_id, entities in _entities(con, missing).items()} if missing else {}
    changed: list[tuple[int, datetime, str, str]] = []
    for ad_id, fetched_at, content_hash, page_text in rows:
        needles = needles_by_ad.get(int(ad_id)) or extra.get(int(ad_id), set())
        masked = _mask(page_text, [], needles, finder)
        if masked != page_text:
            changed.append((int(ad_id), fetched_at, content_hash, masked))
    if changed:
        _execute_with(con, "_ret_snapshots", pa.table({
            "ad_id": pa.array([r[0] for r in changed], pa.int64()),
            "fetched_at": pa.array([r[1] for r in changed], pa.timestamp("us")),
            "content_hash": pa.array([r[2] for r in changed], pa.string()),
            "page_text": pa.array([r[3] for r in changed], pa.string()),
        }), "UPDATE ad_snapshots SET page_text = n.page_text FROM _ret_snapshots n WHERE ad_snapshots.ad_id = "
            "n.ad_id AND ad_snapshots.fetched_at = n.fetched_at AND ad_snapshots.content_hash = n.content_hash")
    _execute_with(con, "_ret_snapshot_keys", pa.table({
        "ad_id": pa.array([int(r[0]) for r in rows], pa.int64()),
        "fetched_at": pa.array([r[1] for r in rows], pa.timestamp("us")),
        "content_hash": pa.array([r[2] for r in rows], pa.string()),
    }), "INSERT OR REPLACE INTO retention_snapshots (ad_id, fetched_at, content_hash, processed_at, run_id) "
        "SELECT ad_id, fetched_at, content_hash, ?, ? FROM _ret_snapshot_keys", [started, run_id])
    return len(changed)


def retention_history(con: duckdb.DuckDBPyConnection, limit: int = 20) -> list[dict[str, Any]]:
    """The latest retention runs, newest first."""
    cursor = con.execute(
        "SELECT run_id, started_at, finished_at, days, cutoff, mode, key_id, ads, entities, snapshots, evidence, "
        "notes FROM retention_runs ORDER BY run_id DESC LIMIT ?",
        [limit],
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
