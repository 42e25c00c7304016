"""Importing known labels into the warehouse, idempotently: fixture ground truth (:func:`import_labels`) and label
files (``lurewatch labels import FILE``, :func:`read_label_file` then :func:`import_label_file`).

A label file is CSV (a header row) or JSON Lines (one object per line) with the columns ``text`` or ``ad_id`` (one of
them per row), ``label`` (``lure`` / ``not_lure``), ``source`` (who decided: a partner NGO's name; ``--source`` fills
it in for rows without one), and optionally ``lang`` and ``note``. Every row is checked; each bad row gives one
``line N: ...`` message and a file with bad rows is imported only on request (``--skip-bad``). The file's name and
SHA-256 are recorded in ``label_imports``; text rows are kept in ``imported_labels`` and ad rows join ``labels``.
Training reads both (:func:`imported_examples`, :func:`pipeline.training_data.warehouse_examples`) under the
origin "imported (<source>)" of :mod:`pipeline.label_ledger`. Error messages quote labels, sources and ids from the
file, never its texts or notes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from features.schema import SUPPORTED_LANGUAGES
from lurewatch.csv_safety import starts_a_formula
from pipeline.label_ledger import REFERENCE_ORIGINS
from pipeline.training_data import Example

csv.field_size_limit(sys.maxsize)


def import_labels(
    con: duckdb.DuckDBPyConnection,
    labels: Iterable[tuple[str, str, bool]],
    *,
    source: str,
    analyst: str,
    note: str | None = None,
) -> int:
    """Attach ``(site_id, external_id, is_lure)`` labels to crawled ads. Returns how many were new.

    An ad that already has a label from the same source keeps it; ads not crawled yet are ignored.
    """
    rows = list(labels)
    if not rows:
        return 0
    table = pa.table(
        {
            "site_id": [r[0] for r in rows],
            "external_id": [r[1] for r in rows],
            "label": ["lure" if r[2] else "not_lure" for r in rows],
        }
    )
    con.register("_incoming_labels", table)
    try:
        inserted = con.execute(
            """
            INSERT INTO labels (ad_id, label, source, analyst, note)
            SELECT a.ad_id, i.label, ?, ?, ?
            FROM _incoming_labels i JOIN ads a ON a.site_id = i.site_id AND a.external_id = i.external_id
            WHERE NOT EXISTS (SELECT 1 FROM labels l WHERE l.ad_id = a.ad_id AND l.source = ?)
            RETURNING label_id
            """,
            [source, analyst, note, source],
        ).fetchall()
    finally:
        con.unregister("_incoming_labels")
    return len(inserted)


# --- `lurewatch labels import FILE`: labelled data from a file (a partner NGO's export, an own case file) ---------

IMPORT_COLUMNS = ("text", "ad_id", "label", "source", "lang", "note")
LABEL_VALUES = ("lure", "not_lure")
MAX_TEXT_CHARS = 200_000
MAX_NOTE_CHARS = 2_000
MAX_ERRORS_SHOWN = 100
#: Sources lurewatch gives its own labels: a file may not pose as one (its rows would pass for analysts' decisions).
RESERVED_SOURCES = frozenset({"analyst", "fixture", "emscad", "import", *REFERENCE_ORIGINS})
_SOURCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$")
IMPORTED_SITE = "imported"


class LabelFileError(ValueError):
    """The file as a whole cannot be read (missing, not UTF-8, no usable header): one line, nothing imported."""


@dataclass(frozen=True, slots=True)
class LabelRow:
    line: int
    label: str
    source: str
    text: str | None = None
    ad_id: int | None = None
    lang: str | None = None
    note: str | None = None


@dataclass
class LabelFile:
    """A parsed file: the good rows, one message per bad row (``line N: what is wrong``), and what it was."""

    path: Path
    sha256: str
    rows: list[LabelRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    rows_read: int = 0
    duplicates: int = 0  # rows repeating an earlier row of the file (same source, text or ad, label): kept once


@dataclass
class ImportResult:
    import_id: int
    rows_read: int
    texts_new: int
    ads_new: int
    already_present: int
    analyst_kept: int  # ad rows on ads an analyst of this warehouse decided: the analyst's decision stands
    skipped_bad: int
    sources: dict[str, int]


def _shown(value: object, limit: int = 40) -> str:
    """A value from the file inside an error message: one line, at most ``limit`` characters."""
    text = " ".join(str(value).split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _uncell(value: str) -> str:
    """Undo lurewatch's CSV neutralisation (``'=...`` -> ``=...``): exported cells round-trip unchanged."""
    return value[1:] if value.startswith("'") and starts_a_formula(value[1:]) else value


def _decode(path: Path) -> tuple[str, str]:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise LabelFileError(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise LabelFileError(f"{path}: is a folder, not a CSV or JSONL file") from exc
    except OSError as exc:
        raise LabelFileError(f"{path}: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LabelFileError(f"{path}: line {line} is not UTF-8 (save the file as UTF-8)") from exc
    return text, hashlib.sha256(data).hexdigest()


def _file_format(path: Path, text: str) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix in (".csv", ".tsv", ".txt") or not text.lstrip().startswith("{"):
        return "csv"
    return "jsonl"


def source_problem(source: str) -> str | None:
    """Why ``source`` cannot name where labels come from, or None."""
    if not _SOURCE_RE.match(source):
        return f"source {_shown(source)} is not a name (letters, digits and _ . : @ -, at most 64)"
    if source.lower() in RESERVED_SOURCES:
        return f"source {_shown(source)} is reserved for lurewatch's own labels (name the file's origin)"
    return None


def _check_row(
    values: dict[str, Any], line: int, default_source: str | None
) -> tuple[LabelRow | None, list[str]]:
    problems = [f"{name} is a JSON {type(value).__name__}, not a string"
                for name, value in values.items()
                if value is not None and (isinstance(value, bool) or not isinstance(value, str | int))]
    if problems:
        return None, problems
    raw_text, raw_ad = values.get("text"), values.get("ad_id")
    text = None if raw_text is None or str(raw_text).strip() == "" else str(raw_text).strip()
    ad_given = raw_ad is not None and str(raw_ad).strip() != ""
    ad_id: int | None = None
    if text is not None and ad_given:
        problems.append("has both text and ad_id (give one)")
    elif text is None and not ad_given:
        problems.append("has neither text nor ad_id")
    if text is not None and len(text) > MAX_TEXT_CHARS:
        problems.append(f"text has {len(text):,} characters (at most {MAX_TEXT_CHARS:,})")
    if ad_given:
        candidate = str(raw_ad).strip()
        if isinstance(raw_ad, bool) or not candidate.isdigit() or int(candidate) < 1:
            problems.append(f"ad_id {_shown(raw_ad)} is not a positive whole number")
        else:
            ad_id = int(candidate)
    label = str(values.get("label") or "").strip().lower()
    if not label:
        problems.append("no label (lure or not_lure)")
    elif label not in LABEL_VALUES:
        problems.append(f"label {_shown(values.get('label'))} is not lure or not_lure")
    source = str(values.get("source") or "").strip() or (default_source or "")
    if not source:
        problems.append("no source (a source column, or --source)")
    elif (problem := source_problem(source)) is not None:
        problems.append(problem)
    lang = str(values.get("lang") or "").strip().lower() or None
    if lang is not None and lang not in SUPPORTED_LANGUAGES:
        problems.append(f"lang {_shown(lang)} is not one of {', '.join(SUPPORTED_LANGUAGES)}")
    note = str(values.get("note") or "").strip() or None
    if note is not None and len(note) > MAX_NOTE_CHARS:
        problems.append(f"note has {len(note):,} characters (at most {MAX_NOTE_CHARS:,})")
    if problems:
        return None, problems
    return LabelRow(line, label, source, text, ad_id, lang, note), []


def _csv_records(text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """``(line, fields)`` per CSV row, or ``(line, problem)``; the header line is checked first."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise LabelFileError(f"line 1: not a CSV header ({exc})") from exc
    columns = [h.strip().lower() for h in header]
    _check_columns(columns)
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield line, f"not a CSV row ({exc})"
            line = reader.line_num + 1
            continue
        if not any(c.strip() for c in cells):
            line = reader.line_num + 1
            continue
        if len(cells) != len(columns):
            yield line, f"{len(cells)} fields, the header has {len(columns)}"
        else:
            yield line, {c: _uncell(v) for c, v in zip(columns, cells, strict=True)}
        line = reader.line_num + 1


def _check_columns(columns: Sequence[str]) -> None:
    unknown = [c for c in columns if c not in IMPORT_COLUMNS]
    if unknown:
        raise LabelFileError(f"unknown column {', '.join(map(_shown, unknown))} in the header (columns: "
                             f"{', '.join(IMPORT_COLUMNS)})")
    if len(set(columns)) != len(columns):
        raise LabelFileError("a column appears twice in the header")
    if "label" not in columns or not {"text", "ad_id"} & set(columns):
        raise LabelFileError("the header needs a label column and a text or ad_id column")


def _jsonl_records(text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except ValueError as exc:
            yield line, f"not JSON ({str(exc).split(':')[0]})"
            continue
        if not isinstance(value, dict):
            yield line, "not a JSON object"
            continue
        unknown = [k for k in value if k not in IMPORT_COLUMNS]
        if unknown:
            yield line, f"unknown field {', '.join(map(_shown, unknown))} (fields: {', '.join(IMPORT_COLUMNS)})"
            continue
        yield line, value


def read_label_file(path: Path, default_source: str | None = None) -> LabelFile:
    """Parse and validate a CSV or JSONL label file (columns: :data:`IMPORT_COLUMNS`). Raises
    :class:`LabelFileError` for a file that cannot be read at all; bad rows are collected in ``errors``."""
    text, digest = _decode(path)
    parsed = LabelFile(path, digest)
    records = _jsonl_records(text) if _file_format(path, text) == "jsonl" else _csv_records(text)
    seen: dict[tuple[str, str], tuple[int, str]] = {}
    for line, record in records:
        parsed.rows_read += 1
        if isinstance(record, str):
            parsed.errors.append(f"line {line}: {record}")
            continue
        row, problems = _check_row(record, line, default_source)
        if row is None:
            parsed.errors.append(f"line {line}: " + "; ".join(problems))
            continue
        key = (row.source, row.text if row.text is not None else f"\x00ad:{row.ad_id}")
        earlier = seen.get(key)
        if earlier is not None:
            what = "text" if row.text is not None else f"ad_id {row.ad_id}"
            if earlier[1] != row.label:
                parsed.errors.append(f"line {line}: the same {what} and source as line {earlier[0]} with "
                                     "another label")
            else:
                parsed.duplicates += 1
            continue
        seen[key] = (line, row.label)
        parsed.rows.append(row)
    if parsed.rows_read == 0:
        raise LabelFileError(f"{path}: no label rows")
    return parsed


def check_ad_ids(con: duckdb.DuckDBPyConnection, parsed: LabelFile) -> None:
    """Rows naming an ``ad_id`` this warehouse does not hold become errors."""
    wanted = sorted({r.ad_id for r in parsed.rows if r.ad_id is not None})
    if not wanted:
        return
    known = {int(r[0]) for r in con.execute(
        "SELECT ad_id FROM ads WHERE ad_id IN (SELECT unnest(?::BIGINT[]))", [wanted]).fetchall()}
    bad = [r for r in parsed.rows if r.ad_id is not None and r.ad_id not in known]
    for row in bad:
        parsed.errors.append(f"line {row.line}: ad_id {row.ad_id} is not an ad of this warehouse")
    if bad:
        lines = {r.line for r in bad}
        parsed.rows = [r for r in parsed.rows if r.line not in lines]
        parsed.errors.sort(key=lambda message: int(message.split()[1].rstrip(":")))


def import_label_file(con: duckdb.DuckDBPyConnection, parsed: LabelFile, *, imported_by: str) -> ImportResult:
    """Store the good rows of ``parsed`` with the file's record (``label_imports``), in one transaction.

    Text rows go to ``imported_labels``; a row already there with the same source, text and label is not added
    again (importing a file twice adds nothing; a changed label is added and, being newer, wins). Ad rows go to
    ``labels`` (analyst ``import:<id>``) unless the ad's latest label already says the same from the same source,
    or an analyst of this warehouse decided the ad (the analyst's decision stands).
    """
    texts = [r for r in parsed.rows if r.text is not None]
    ads = [r for r in parsed.rows if r.ad_id is not None]
    sources = dict(sorted(Counter(r.source for r in parsed.rows).items()))
    con.execute("BEGIN TRANSACTION")
    try:
        import_id = int(con.execute(
            "INSERT INTO label_imports (file_name, file_sha256, imported_by, rows_read, rows_new, rows_skipped, "
            "sources) VALUES (?, ?, ?, ?, 0, 0, ?) RETURNING import_id",
            [parsed.path.name, parsed.sha256, imported_by, parsed.rows_read, json.dumps(sources)],
        ).fetchall()[0][0])
        texts_new = _insert_texts(con, import_id, texts)
        ads_new, analyst_kept = _insert_ads(con, import_id, ads)
        present = len(texts) - texts_new + len(ads) - ads_new - analyst_kept + parsed.duplicates
        con.execute("UPDATE label_imports SET rows_new = ?, rows_skipped = ? WHERE import_id = ?",
                    [texts_new + ads_new, len(parsed.errors) + present + analyst_kept, import_id])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return ImportResult(import_id, parsed.rows_read, texts_new, ads_new, present, analyst_kept, len(parsed.errors),
                        sources)


def _insert_texts(con: duckdb.DuckDBPyConnection, import_id: int, rows: Sequence[LabelRow]) -> int:
    if not rows:
        return 0
    table = pa.table({
        "line": [r.line for r in rows], "text": [r.text for r in rows], "label": [r.label for r in rows],
        "source": [r.source for r in rows], "lang": [r.lang for r in rows], "note": [r.note for r in rows],
    })
    con.register("_incoming_texts", table)
    try:
        inserted = con.execute(
            """
            INSERT INTO imported_labels (import_id, line, text, label, source, lang, note)
            SELECT ?, i.line, i.text, i.label, i.source, i.lang, i.note FROM _incoming_texts i
            WHERE NOT EXISTS (
                SELECT 1 FROM (
                    SELECT source, text, label FROM imported_labels
                    QUALIFY row_number() OVER (PARTITION BY source, text ORDER BY imported_label_id DESC) = 1
                ) l WHERE l.source = i.source AND l.text = i.text AND l.label = i.label)
            ORDER BY i.line
            RETURNING imported_label_id
            """,
            [import_id],
        ).fetchall()
    finally:
        con.unregister("_incoming_texts")
    return len(inserted)


def _insert_ads(con: duckdb.DuckDBPyConnection, import_id: int, rows: Sequence[LabelRow]) -> tuple[int, int]:
    if not rows:
        return 0, 0
    table = pa.table({"line": [r.line for r in rows], "ad_id": [r.ad_id for r in rows],
                      "label": [r.label for r in rows], "source": [r.source for r in rows],
                      "note": [r.note for r in rows]})
    con.register("_incoming_ads", table)
    try:
        kept = con.execute(
            "SELECT count(*) FROM _incoming_ads i WHERE EXISTS "
            "(SELECT 1 FROM labels l WHERE l.ad_id = i.ad_id AND l.source = 'analyst')"
        ).fetchall()[0][0]
        inserted = con.execute(
            """
            INSERT INTO labels (ad_id, label, source, analyst, note)
            SELECT i.ad_id, i.label, i.source, ?, i.note FROM _incoming_ads i
            WHERE NOT EXISTS (SELECT 1 FROM labels l WHERE l.ad_id = i.ad_id AND l.source = 'analyst')
              AND NOT EXISTS (
                SELECT 1 FROM (
                    SELECT ad_id, label, source FROM labels
                    QUALIFY row_number() OVER (PARTITION BY ad_id ORDER BY decided_at DESC, label_id DESC) = 1
                ) l WHERE l.ad_id = i.ad_id AND l.label = i.label AND l.source = i.source)
            ORDER BY i.line
            RETURNING label_id
            """,
            [f"import:{import_id}"],
        ).fetchall()
    finally:
        con.unregister("_incoming_ads")
    return len(inserted), int(kept)


def imported_examples(con: duckdb.DuckDBPyConnection) -> list[Example]:
    """The imported text labels training reads: the latest row per (source, text), origin "imported (<source>)"."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'imported_labels'").fetchall()[0][0]
    if not exists:
        return []
    rows = con.execute(
        """
        SELECT imported_label_id, text, label, source, lang FROM imported_labels
        QUALIFY row_number() OVER (PARTITION BY source, text ORDER BY imported_label_id DESC) = 1
        ORDER BY imported_label_id
        """
    ).fetchall()
    return [Example(text=str(text), label=int(label == "lure"), source=str(source), language=lang,
                    site=IMPORTED_SITE, external_id=f"imported:{row_id}")
            for row_id, text, label, source, lang in rows]
