"""A damaged warehouse is detected and never written to (issue 12, item 13).

Real damaged copies: 200 KB of a real warehouse file overwritten with random bytes, as a failing disk or a careless
``dd`` would. DuckDB itself opens such a file and lets commands write to it until a query reads a damaged block.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lurewatch.cli_doctor import app as doctor_app
from warehouse import WarehouseDamaged, connect, session
from warehouse.integrity import BLOCK_BYTES, HEADER_BYTES, HEADERS, damaged_blocks, damaged_marker


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real warehouse of a few MB: 20,000 ads with scores."""
    db = tmp_path_factory.mktemp("good") / "lurewatch.duckdb"
    with session(db) as con:
        con.execute(
            "INSERT INTO ads (site_id, url, title, body, first_seen, last_seen, content_hash) "
            "SELECT 'site', 'https://x.example/ad/' || i, 'Job ' || i, "
            "repeat('Packing work, housing ' || i || '. ', 30), "
            "now(), now(), md5(i::VARCHAR) FROM range(20000) t(i)"
        )
        con.execute("INSERT INTO scores SELECT ad_id, 'm1', random(), content_hash, now() FROM ads")
    return db


def _copy(good: Path, tmp_path: Path) -> Path:
    db = tmp_path / "copy" / "lurewatch.duckdb"
    db.parent.mkdir()
    shutil.copy(good, db)
    return db


def _overwrite(db: Path, offset: int, size: int = 200_000) -> None:
    noise = random.Random(offset).randbytes(size)
    with open(db, "r+b") as handle:
        handle.seek(offset)
        handle.write(noise)


def _doctor(db: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(doctor_app, ["--db", str(db)])
    return result.exit_code, result.stdout, result.stderr


def test_doctor_passes_an_intact_warehouse_and_every_block_checksum_matches(good: Path, tmp_path: Path) -> None:
    """The block check knows DuckDB's checksum: on an intact file every header and block verifies."""
    db = _copy(good, tmp_path)
    assert os.path.getsize(db) > 4 * BLOCK_BYTES
    assert damaged_blocks(db) == []
    code, out, err = _doctor(db)
    assert code == 0, err
    assert '"intact": true' in out


def test_a_warehouse_with_200_kb_overwritten_is_found_by_doctor_and_refused_by_every_writer(
    good: Path, tmp_path: Path
) -> None:
    """200 KB overwritten in the middle of the data: DuckDB still opens the file (the attack of the issue), but
    `lurewatch doctor` finds the damaged blocks and exits 1 with one line saying how to recover; from then on every
    writer (connect, `lurewatch extract`) refuses the file with one line and writes nothing; a restored good copy
    checks clean and the mark goes away."""
    db = _copy(good, tmp_path)
    _overwrite(db, os.path.getsize(db) // 2)
    import duckdb

    duckdb.connect(str(db)).close()  # DuckDB alone notices nothing at open

    code, _, err = _doctor(db)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "damaged" in lines[0] and "to recover" in lines[0] and "Parquet export" in lines[0]
    assert "fails its checksum" in lines[0]
    assert damaged_marker(db).exists()

    with pytest.raises(WarehouseDamaged, match="damaged"):
        connect(db)
    size, mtime = os.path.getsize(db), os.stat(db).st_mtime_ns
    extract = subprocess.run(
        [sys.executable, "-c", "from lurewatch.cli import app; app()", "extract", "--db", str(db)],
        capture_output=True, text=True, timeout=300,
    )
    assert extract.returncode == 1
    assert len(extract.stderr.strip().splitlines()) == 1 and "Traceback" not in extract.stderr
    assert "damaged" in extract.stderr
    assert (os.path.getsize(db), os.stat(db).st_mtime_ns) == (size, mtime)  # not a byte written

    shutil.copy(good, db)  # the operator restores a good copy
    code, _, err = _doctor(db)
    assert code == 0, err
    assert not damaged_marker(db).exists()
    connect(db).close()


def test_damaged_headers_are_refused_at_open_with_one_clear_error(good: Path, tmp_path: Path) -> None:
    """Damage where DuckDB keeps its headers: the writer's open refuses the file with WarehouseDamaged (not a raw
    DuckDB error), and marks it."""
    db = _copy(good, tmp_path)
    _overwrite(db, HEADER_BYTES, size=100)
    with pytest.raises(WarehouseDamaged, match="to recover"):
        connect(db)
    assert damaged_marker(db).exists()
    assert any("header 1" in finding for finding in damaged_blocks(db))


def test_a_query_that_meets_a_damaged_block_marks_the_file_for_every_writer(good: Path, tmp_path: Path) -> None:
    """Without doctor: the first unit of work that reads a damaged block raises WarehouseDamaged and marks the file,
    so the next writer refuses it before writing anything."""
    db = _copy(good, tmp_path)
    with session(db, read_only=True) as con:  # a block holding ads.body
        block = con.execute("SELECT max(block_id) FROM pragma_storage_info('ads') WHERE column_name = 'body' "
                            "AND block_id >= 0").fetchall()[0][0]
    _overwrite(db, HEADERS * HEADER_BYTES + int(block) * BLOCK_BYTES, size=BLOCK_BYTES)
    with pytest.raises(WarehouseDamaged), session(db) as con:
        con.execute("SELECT sum(length(body)), count(DISTINCT url) FROM ads").fetchall()
    assert damaged_marker(db).exists()
    with pytest.raises(WarehouseDamaged):
        connect(db)
