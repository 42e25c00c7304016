"""Scoring a CSV file (``lurewatch score --input``): streamed, and never at the cost of the input file.

- The output is written to a temporary file beside the target and renamed over it only when complete; an output
  path that is the input file (the same path, a symlink to it, a hard link, ``./x.csv`` for ``x.csv``) is refused.
- The file is read twice, chunk by chunk, and never held in memory: the first pass checks every row, extracts the
  lure features of each chunk (spooled to a temporary file; they hold feature names and numbers, no ad text) and
  keeps 256 bytes of MinHash signature and the contact keys per row; between the passes, the cross-ad features
  (near-duplicate cluster sizes, ads sharing a contact) are computed over the whole file, exactly as for a file
  scored in one batch; the second pass predicts chunk by chunk and writes. Scores do not depend on the chunk size.
- A malformed row (a field count other than the header's, a CSV syntax error) is reported with its line number and
  skipped, or, with ``strict``, the whole file is refused before anything is written. A file that is not UTF-8, has
  no ``text`` column or does not exist is refused in one line (:class:`CsvInputError`). A UTF-8 BOM (Excel's
  "CSV UTF-8") is accepted and kept in the output.
- A text longer than spaCy's limit (:data:`features.pipeline.MAX_DOC_CHARS`) is scored on its first
  ``max_chars`` characters, with a warning naming its line; its cell is written back whole.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from features import FeatureExtractor
from features.near_duplicates import NUM_PERM, minhash_signatures
from features.pipeline import MAX_DOC_CHARS
from lurewatch.csv_safety import neutralise
from pipeline.cross_ad_inputs import contact_keys, cross_ad_row, population_cross_ad
from pipeline.scoring_model import ScoringModel

csv.field_size_limit(sys.maxsize)

DEFAULT_CHUNK_ROWS = 2000
TEXT_COLUMN = "text"
SCORE_COLUMN = "score"

ProgressCallback = Callable[[str, int, int, int], None]
"""``(phase, bytes_done, bytes_total, rows_done)``; phase is ``"extracting"`` or ``"scoring"``."""


class CsvInputError(ValueError):
    """A CSV file that cannot be scored, said in one line; nothing was written."""


@dataclass(frozen=True)
class BadRow:
    """A malformed row: the physical line it starts on (1 = the header) and what is wrong with it."""

    line: int
    reason: str


@dataclass
class CsvScoreReport:
    target: Path
    rows: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)
    truncated_lines: list[int] = field(default_factory=list)
    max_chars: int = MAX_DOC_CHARS
    bom: bool = False

    def warnings(self, shown: int = 10) -> list[str]:
        """One line per kind of problem, naming the lines (the first ``shown`` of them)."""
        lines: list[str] = []
        if self.bad_rows:
            where = ", ".join(str(b.line) for b in self.bad_rows[:shown])
            more = f" and {len(self.bad_rows) - shown} more" if len(self.bad_rows) > shown else ""
            lines.append(
                f"skipped {len(self.bad_rows)} malformed row(s) at line {where}{more} "
                f"(line {self.bad_rows[0].line}: {self.bad_rows[0].reason}); they are not in the output"
            )
        if self.truncated_lines:
            where = ", ".join(str(n) for n in self.truncated_lines[:shown])
            more = f" and {len(self.truncated_lines) - shown} more" if len(self.truncated_lines) > shown else ""
            lines.append(
                f"{len(self.truncated_lines)} text(s) longer than {self.max_chars:,} characters were scored on their "
                f"first {self.max_chars:,} characters (line {where}{more})"
            )
        return lines


def same_file(source: Path, target: Path) -> bool:
    """Whether writing ``target`` would write ``source`` (same path, symlink, hard link, relative spelling)."""
    if target.exists():
        try:
            return os.path.samefile(source, target)
        except OSError:
            return False
    return source.resolve() == target.resolve()


def check_paths(source: Path, target: Path) -> None:
    """Refuse, in one line, an input that is not a readable file and an output that is the input."""
    if not source.exists():
        raise CsvInputError(f"{source}: no such file")
    if not source.is_file():
        raise CsvInputError(f"{source}: not a file")
    if same_file(source, target):
        raise CsvInputError(
            f"--output {target} is the input file: scoring writes a new file, choose another --output "
            "(the input is never overwritten)"
        )
    if target.exists() and target.is_dir():
        raise CsvInputError(f"--output {target} is a folder")


class _Lines:
    """The file's physical lines, decoded one at a time, so a decoding error names its exact line."""

    def __init__(self, handle: IO[bytes], name: str) -> None:
        self.handle = handle
        self.name = name
        self.line = 0
        self.bytes_read = 0
        self.bom = False

    def __iter__(self) -> Iterator[str]:
        for raw in self.handle:
            self.line += 1
            self.bytes_read += len(raw)
            if self.line == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
                self.bom = True
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise CsvInputError(
                    f"{self.name}: line {self.line} is not UTF-8 (byte {error.start + 1} of the line): save the file "
                    "as UTF-8 (Excel: \"CSV UTF-8\"; LibreOffice: character set \"Unicode (UTF-8)\")"
                ) from None


@dataclass
class _Row:
    line: int
    cells: list[str]
    text: str


class _Reader:
    """Header, then good rows; malformed rows are recorded in ``bad`` as they are met."""

    def __init__(self, handle: IO[bytes], name: str, max_chars: int) -> None:
        self.lines = _Lines(handle, name)
        self.reader = csv.reader(iter(self.lines))
        self.name = name
        self.max_chars = max_chars
        self.bad: list[BadRow] = []
        self.truncated: list[int] = []
        try:
            header = next(self.reader)
        except StopIteration:
            raise CsvInputError(f"{name}: the file is empty (it needs a header row with a 'text' column)") from None
        except csv.Error as error:
            raise CsvInputError(f"{name}: line 1 (the header) is not valid CSV: {error}") from None
        self.header = [cell.strip() for cell in header]
        if TEXT_COLUMN not in self.header:
            found = ", ".join(repr(c) for c in self.header[:20]) or "none"
            raise CsvInputError(f"{name}: needs a 'text' column (the header row has {found})")
        self.text_index = self.header.index(TEXT_COLUMN)

    def __iter__(self) -> Iterator[_Row]:
        while True:
            start = self.lines.line + 1
            try:
                cells = next(self.reader)
            except StopIteration:
                return
            except csv.Error as error:
                self.bad.append(BadRow(start, f"not valid CSV ({error})"))
                if self.lines.line < start:  # nothing consumed: the reader cannot go on
                    return
                continue
            if not cells:  # a blank line
                continue
            if len(cells) != len(self.header):
                end = self.lines.line
                span = f" (the row runs to line {end}: an unclosed quote?)" if end > start else ""
                self.bad.append(BadRow(start, f"{len(cells)} field(s), the header has {len(self.header)}{span}"))
                continue
            text = cells[self.text_index]
            if len(text) > self.max_chars:
                self.truncated.append(start)
                text = text[: self.max_chars]
            yield _Row(start, cells, text)


def _chunks(rows: Iterator[_Row], size: int) -> Iterator[list[_Row]]:
    chunk: list[_Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def score_csv_file(
    model: ScoringModel,
    extractor: FeatureExtractor,
    source: Path,
    target: Path,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    max_chars: int = MAX_DOC_CHARS,
    strict: bool = False,
    progress: ProgressCallback | None = None,
) -> CsvScoreReport:
    """Score every row of ``source`` (a CSV with a ``text`` column) into ``target`` with a ``score`` column
    (a calibrated probability). Every written cell but the score is neutralised against spreadsheet formulas."""
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    check_paths(source, target)
    name = str(source)
    total = source.stat().st_size
    report = CsvScoreReport(target=target, max_chars=max_chars)

    with tempfile.TemporaryFile(prefix="lurewatch-features-") as spool:
        signatures: list[np.ndarray] = []
        empties: list[np.ndarray] = []
        contacts: list[tuple[str, ...]] = []
        with source.open("rb") as handle:
            reader = _Reader(handle, name, max_chars)
            for chunk in _chunks(iter(reader), chunk_rows):
                texts = [row.text for row in chunk]
                found = extractor.extract_many(texts)
                pickle.dump([f.vector() for f in found], spool, protocol=pickle.HIGHEST_PROTOCOL)
                contacts.extend(contact_keys(f.contacts) for f in found)
                chunk_signatures, chunk_empty = minhash_signatures(texts)
                signatures.append(chunk_signatures)
                empties.append(chunk_empty)
                if progress is not None:
                    progress("extracting", reader.lines.bytes_read, total, len(contacts))
            report.bad_rows, report.truncated_lines, report.bom = reader.bad, reader.truncated, reader.lines.bom
            header = reader.header
        if strict and report.bad_rows:
            first = report.bad_rows[0]
            raise CsvInputError(
                f"{name}: {len(report.bad_rows)} malformed row(s), the first at line {first.line}: {first.reason}; "
                "nothing was written (without --strict they are skipped with a warning)"
            )
        all_signatures = np.concatenate(signatures) if signatures else np.zeros((0, NUM_PERM), dtype=np.uint32)
        all_empty = np.concatenate(empties) if empties else np.zeros(0, dtype=bool)
        del signatures, empties
        sizes, shared = population_cross_ad(all_signatures, all_empty, contacts)
        del all_signatures, all_empty, contacts
        spool.seek(0)
        report.rows = _write_scores(
            model, source, target, header, report, spool, sizes, shared, chunk_rows, max_chars, progress, total
        )
    return report


def _write_scores(
    model: ScoringModel,
    source: Path,
    target: Path,
    header: list[str],
    report: CsvScoreReport,
    spool: IO[bytes],
    sizes: np.ndarray,
    shared: np.ndarray,
    chunk_rows: int,
    max_chars: int,
    progress: ProgressCallback | None,
    total: int,
) -> int:
    """Second pass: predict chunk by chunk into a temporary file beside ``target``, then rename it."""
    score_at = header.index(SCORE_COLUMN) if SCORE_COLUMN in header else None
    out_header = [*header, *([] if score_at is not None else [SCORE_COLUMN])]
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    written = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8-sig" if report.bom else "utf-8", newline="") as out, \
                source.open("rb") as handle:
            writer = csv.writer(out)
            writer.writerow([neutralise(cell) for cell in out_header])
            reader = _Reader(handle, str(source), max_chars)
            for chunk in _chunks(iter(reader), chunk_rows):
                vectors: list[dict[str, float]] = pickle.load(spool)
                if len(vectors) != len(chunk):
                    raise RuntimeError(f"{source} changed while it was being scored")
                rows = range(written, written + len(chunk))
                inputs: list[dict[str, Any]] = [
                    {**vector, **cross_ad_row(sizes[i], shared[i])} for vector, i in zip(vectors, rows, strict=True)
                ]
                scores = model.predict([row.text for row in chunk], inputs)
                for row, score in zip(chunk, scores, strict=True):
                    # ad texts are attacker-written: no cell may run as a spreadsheet formula
                    cells = [neutralise(cell) for cell in row.cells]
                    if score_at is None:
                        cells.append(f"{score:.6f}")
                    else:
                        cells[score_at] = f"{score:.6f}"
                    writer.writerow(cells)
                written += len(chunk)
                if progress is not None:
                    progress("scoring", reader.lines.bytes_read, total, written)
            if written != len(sizes):
                raise RuntimeError(f"{source} changed while it was being scored")
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise
    return written
