"""Is the warehouse file damaged? Three checks, from cheap to thorough, and a mark that makes every writer refuse.

DuckDB stores a checksum with every block (the three 4 KiB headers, then blocks of 256 KiB) and verifies it only
when it reads that block: a file with 200 KB overwritten opens fine, and ``extract``/``score`` go on writing to it
until a query happens to read a damaged block. So:

* **every writer open** (:func:`warehouse.connect`): DuckDB checks the headers; the first writer open of a file in a
  process also reads every table's storage metadata (:func:`check_metadata`, a few ms). A file marked damaged
  (``<db>.damaged``, see below) is refused before it is opened.
* **any query** that meets a checksum error inside :func:`warehouse.session` marks the file damaged.
* **``lurewatch doctor``** (:func:`diagnose`): verifies the checksum of every block of the file
  (:func:`damaged_blocks`, indexes and free blocks included) and reads every column of every table once. Damage found
  marks the file; a clean result removes the mark (after the file was restored).

A damaged warehouse raises :class:`WarehouseDamaged`, whose message says how to recover (:data:`RECOVERY`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np

HEADER_BYTES = 4096
HEADERS = 3
BLOCK_BYTES = 256 * 1024  # DuckDB's default block size (lurewatch never changes it)
DAMAGED_SUFFIX = ".damaged"
_CHECKSUM_SEED = np.uint64(5381)
_CHECKSUM_FACTOR = np.uint64(0xBF58476D1CE4E5B9)
RECOVERY = (
    "to recover: move the file aside (keep it), then put back the latest good copy of the warehouse (a backup or "
    "file-system snapshot), or rebuild one from the Parquet export (`lurewatch service export-parquet`; see "
    "\"Recovering a damaged warehouse\" in warehouse/README.md) and re-crawl what is newer; "
    "`lurewatch doctor` clears the mark once the file checks clean"
)


class WarehouseDamaged(RuntimeError):
    """The warehouse file failed an integrity check: nothing may write to it."""


def damaged_marker(path: Path | str) -> Path:
    path = Path(path)
    return path.with_name(path.name + DAMAGED_SUFFIX)


def mark_damaged(path: Path | str, finding: str) -> None:
    """Record that ``path`` is damaged (every writer refuses it until ``lurewatch doctor`` finds it clean)."""
    marker = damaged_marker(path)
    fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, (finding.replace("\n", " ") + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def damaged_finding(path: Path | str) -> str | None:
    """What the mark of a damaged ``path`` says, or ``None`` when it is not marked."""
    try:
        return damaged_marker(path).read_text(encoding="utf-8", errors="replace").strip() or "damaged"
    except FileNotFoundError:
        return None


def damage_message(path: Path | str, finding: str) -> str:
    return f"the warehouse {path} is damaged ({finding}); lurewatch will not write to it; {RECOVERY}"


def is_corruption(error: BaseException) -> bool:
    """Does this DuckDB error say the file is damaged (as opposed to locked, missing or a bad query)?"""
    text = str(error)
    return isinstance(error, duckdb.Error) and (
        "Corrupt database file" in text or "not a valid DuckDB database file" in text
        or "does not match stored checksum" in text
    )


def _checksum(payload: bytes) -> int:
    """DuckDB's block checksum (``Checksum`` in src/common/checksum.cpp) of a payload of whole 8-byte words."""
    words = np.frombuffer(payload, dtype="<u8")
    with np.errstate(over="ignore"):
        return int(_CHECKSUM_SEED ^ np.bitwise_xor.reduce(words * _CHECKSUM_FACTOR))


def damaged_blocks(path: Path | str) -> list[str]:
    """Every header and block of the file whose stored checksum does not match its contents (all-zero blocks,
    which DuckDB leaves when it frees space, count as intact). One finding per damaged place."""
    found: list[str] = []
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        for index in range(HEADERS):
            header = handle.read(HEADER_BYTES)
            if len(header) < HEADER_BYTES:
                return [f"the file ends at byte {size:,}, inside its headers"]
            if index > 0 and int.from_bytes(header[:8], "little") != _checksum(header[8:]):
                found.append(f"header {index} (byte {index * HEADER_BYTES:,}) fails its checksum")
        offset = HEADERS * HEADER_BYTES
        while block := handle.read(BLOCK_BYTES):
            if len(block) < BLOCK_BYTES:
                found.append(f"the file ends inside a block (byte {offset:,} + {len(block):,}): truncated?")
            elif any(block) and int.from_bytes(block[:8], "little") != _checksum(block[8:]):
                found.append(f"block at byte {offset:,} fails its checksum")
            offset += len(block)
    return found


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        str(row[0])
        for row in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND NOT temporary "
            "ORDER BY table_name"
        ).fetchall()
    ]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def check_metadata(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Read the storage metadata (row groups, column segments) of every table: cheap, no data block is read."""
    found: list[str] = []
    for table in _tables(con):
        try:
            literal = "'" + table.replace("'", "''") + "'"
            con.execute(f"SELECT count(*) FROM pragma_storage_info({literal})").fetchall()
        except duckdb.Error as error:
            found.append(f"the storage metadata of table {table} cannot be read ({_short(error)})")
    return found


def check_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Read every column of every table once (DuckDB verifies each block's checksum as it reads it)."""
    found: list[str] = []
    for table in _tables(con):
        columns = [str(row[0]) for row in con.execute(f"DESCRIBE {_quote(table)}").fetchall()]
        if not columns:
            continue
        reads = ", ".join(f"bit_xor(hash({_quote(c)}))" for c in columns)
        try:
            con.execute(f"SELECT count(*), {reads} FROM {_quote(table)}").fetchall()
        except duckdb.Error as error:
            found.append(f"table {table} cannot be read ({_short(error)})")
    return found


def _short(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= 160 else text[:157] + "..."


@dataclass(slots=True)
class Diagnosis:
    path: Path
    findings: list[str] = field(default_factory=list)
    tables: int = 0
    blocks_checked: bool = False

    @property
    def damaged(self) -> bool:
        return bool(self.findings)


def diagnose(path: Path | str, con: duckdb.DuckDBPyConnection | None) -> Diagnosis:
    """The thorough check of ``lurewatch doctor``: block checksums of the whole file, then every table read once
    through ``con`` (an open connection holding the lock; ``None`` when the file would not even open, in which case
    only the blocks are checked). Marks the file damaged, or clears the mark when all is well."""
    path = Path(path)
    diagnosis = Diagnosis(path)
    diagnosis.findings += damaged_blocks(path)
    diagnosis.blocks_checked = True
    if con is not None:
        diagnosis.tables = len(_tables(con))
        diagnosis.findings += check_metadata(con)
        diagnosis.findings += check_tables(con)
    if diagnosis.findings:
        mark_damaged(path, "; ".join(diagnosis.findings[:3]) + (
            f" and {len(diagnosis.findings) - 3} more" if len(diagnosis.findings) > 3 else ""))
    elif con is not None:
        damaged_marker(path).unlink(missing_ok=True)
    return diagnosis
