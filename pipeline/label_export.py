"""``lurewatch labels export OUT``: this warehouse's analyst decisions, shareable with another NGO without contacts.

One row per ad an analyst decided (the latest decision, lure or not_lure): ``text`` (title and body), ``label``,
``source`` (the exporting organisation's name, given with ``--source``), ``lang`` and, on request, the analyst's
``note``; exactly the columns ``lurewatch labels import`` reads (:mod:`pipeline.label_import`). No ad id, URL, site,
analyst name or date leaves.

Every text field is scrubbed before it is written: each contact in it (phones in any format the extractor knows,
e-mails, messenger numbers and handles, URLs, bare @handles and social-network handles:
:func:`features.contact_spans.contact_spans`; the contacts extraction stored for the ad; and any other run of 7-15
digits that is not a date or an amount) is replaced by its keyed pseudonym (``pz1_…``,
:mod:`warehouse.pseudonymise`), so two exported ads that shared a number still share a pseudonym, and nobody without
the key can recompute it. Without a key there is no export. CSV cells that a spreadsheet would run as a formula are
neutralised (:mod:`lurewatch.csv_safety`; the import undoes it). The file is written to a temporary file beside
``OUT`` and renamed over it when complete.
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from features.contact_spans import contact_spans
from lurewatch.csv_safety import neutralise
from warehouse.pseudonymise import DIGEST_HEX, PREFIX, Pseudonymiser
from warehouse.records import ad_text

EXPORT_COLUMNS = ("text", "label", "source", "lang", "note")
FORMATS = {".csv": "csv", ".jsonl": "jsonl"}

_PSEUDONYM_IN_TEXT = re.compile(rf"{PREFIX}[0-9a-f]{{{DIGEST_HEX}}}")
_NUMBER_RUN = re.compile(r"(?<![\w+])\+?\(?\d(?:[ \t\u00a0\-./()]{0,2}\d){6,14}(?!\d)")
_DATE_LIKE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")
_MONEY_AFTER = re.compile(r"\s{0,2}(?:€|\$|£|₽|eur|euro|eiro|zł|zl\b|pln|руб|usd|gbp|nok|sek)", re.IGNORECASE)

DECISIONS_SQL = """
WITH latest AS (
    SELECT ad_id, label, note, source,
           row_number() OVER (PARTITION BY ad_id ORDER BY decided_at DESC, label_id DESC) AS rn
    FROM labels
)
SELECT a.ad_id, a.title, a.body, l.label, l.note, f.language
FROM latest l JOIN ads a USING (ad_id) LEFT JOIN features f USING (ad_id)
WHERE l.rn = 1 AND l.source = 'analyst' AND l.label IN ('lure', 'not_lure')
ORDER BY a.ad_id
"""


class ExportError(ValueError):
    """An export that cannot be written (unknown format, no folder): one line."""


@dataclass(frozen=True, slots=True)
class ExportResult:
    rows: int
    lures: int
    contacts_replaced: int
    path: Path


def export_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ExportError(f"{path}: the file name must end in .csv or .jsonl (the format written)")
    if path.is_dir():
        raise ExportError(f"{path} is a folder")
    if not path.parent.is_dir():
        raise ExportError(f"{path.parent} is not an existing folder")
    return fmt


def contact_like_spans(text: str, stored: Iterable[tuple[int, int]] = ()) -> list[tuple[int, int]]:
    """Every span of ``text`` to replace, merged: contacts found in it, ``stored`` spans (the extraction's), and runs
    of 7-15 digits that are not a date or an amount. Pseudonyms already in the text are left alone."""
    protected = [m.span() for m in _PSEUDONYM_IN_TEXT.finditer(text)]
    found = list(contact_spans(text)) + [(int(s), int(e)) for s, e in stored if 0 <= int(s) < int(e) <= len(text)]
    for m in _NUMBER_RUN.finditer(text):
        if not (_DATE_LIKE.match(m.group()) or _MONEY_AFTER.match(text, m.end())):
            found.append(m.span())
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if any(start < p_end and p_start < end for p_start, p_end in protected):
            continue
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def scrub(text: str, pseudonymiser: Pseudonymiser, stored: Iterable[tuple[int, int]] = ()) -> tuple[str, int]:
    """``text`` with every contact-like span replaced by the keyed pseudonym of its value; and how many."""
    spans = contact_like_spans(text, stored)
    parts: list[str] = []
    position = 0
    for start, end in spans:
        parts += [text[position:start], pseudonymiser.pseudonym(text[start:end].strip())]
        position = end
    parts.append(text[position:])
    return "".join(parts), len(spans)


def export_rows(
    con: duckdb.DuckDBPyConnection, pseudonymiser: Pseudonymiser, *, source: str, notes: bool = False
) -> tuple[list[dict[str, str]], int]:
    """The scrubbed rows of the export (see the module docstring) and how many contacts were replaced."""
    decisions = con.execute(DECISIONS_SQL).fetchall()
    ids = [int(r[0]) for r in decisions]
    stored: dict[int, list[tuple[int, int]]] = {}
    if ids:
        for ad_id, start, end in con.execute(
            "SELECT ad_id, start_pos, end_pos FROM entities WHERE ad_id IN (SELECT unnest(?::BIGINT[]))", [ids]
        ).fetchall():
            stored.setdefault(int(ad_id), []).append((int(start), int(end)))
    rows: list[dict[str, str]] = []
    replaced = 0
    for ad_id, title, body, label, note, language in decisions:
        text, n = scrub(ad_text(title, body), pseudonymiser, stored.get(int(ad_id), ()))
        replaced += n
        row = {"text": text, "label": str(label), "source": source, "lang": str(language or ""), "note": ""}
        if notes and note:
            row["note"], n = scrub(str(note), pseudonymiser)
            replaced += n
        rows.append(row)
    return rows, replaced


def write_export(path: Path, rows: Sequence[dict[str, str]], fmt: str) -> None:
    """Write ``rows`` as CSV (cells neutralised) or JSON Lines, atomically (temporary file, then rename)."""
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, renamed only when complete
        "w", encoding="utf-8", newline="", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            if fmt == "csv":
                writer = csv.writer(handle)
                writer.writerow(EXPORT_COLUMNS)
                for row in rows:
                    writer.writerow([neutralise(row[c]) for c in EXPORT_COLUMNS])
            else:
                for row in rows:
                    handle.write(json.dumps({c: row[c] for c in EXPORT_COLUMNS if row[c]}, ensure_ascii=False) + "\n")
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def export_decisions(
    con: duckdb.DuckDBPyConnection, path: Path, pseudonymiser: Pseudonymiser, *, source: str, notes: bool = False
) -> ExportResult:
    fmt = export_format(path)
    rows, replaced = export_rows(con, pseudonymiser, source=source, notes=notes)
    write_export(path, rows, fmt)
    return ExportResult(len(rows), sum(r["label"] == "lure" for r in rows), replaced, path)
