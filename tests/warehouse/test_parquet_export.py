"""Partitioned Parquet export of the warehouse: layout, exact round trip through DuckDB's read_parquet with Hive
partitioning, incremental re-export of a week, partition pruning, and warehouse queries running on the copy."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from digest.config import Thresholds
from digest.queries import DigestQuery, load_digest_data
from digest.synthetic import SyntheticSpec, generate
from warehouse import session
from warehouse.parquet import DEFAULT_TABLES, PARTITIONED, export_parquet, read_parquet_warehouse, scan

WEEK = date(2026, 11, 9)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pq-wh") / "wh.duckdb"
    with session(path) as con:
        generate(con, SyntheticSpec(ads=5000, weeks=6))
    return path


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[object, ...]]:
    return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def test_round_trip_is_exact_and_partitioned_by_site_and_week(warehouse: Path, tmp_path: Path) -> None:
    root = tmp_path / "lake"
    with session(warehouse) as con:
        result = export_parquet(con, root)
        originals = {t: _rows(con, t) for t in DEFAULT_TABLES}
        schemas = {t: [r[:2] for r in con.execute(f"DESCRIBE {t}").fetchall()] for t in DEFAULT_TABLES}
    assert result.rows["ads"] == 5000 and result.weeks is None
    sites = {p.name for p in (root / "ads").iterdir()}
    assert sites == {f"site={s}" for s in ("balticjobs", "skelbimai", "darbas-forum", "tori-ee", "praca-pl")}
    weeks = {p.name for p in (root / "ads" / "site=balticjobs").iterdir()}
    assert len(weeks) == 6 and f"week={WEEK.isoformat()}" in weeks
    assert list((root / "scores" / "site=balticjobs" / f"week={WEEK.isoformat()}").glob("*.parquet"))
    lake = read_parquet_warehouse(root)
    try:
        for table in DEFAULT_TABLES:
            assert [r[:2] for r in lake.execute(f"DESCRIBE {table}").fetchall()] == schemas[table], table
            assert _rows(lake, table) == originals[table], table
        # the raw scan carries the partition columns, and filtering on them reads only the matching folders
        counts = lake.execute(f"SELECT count(*) FROM {scan(root, 'ads')} WHERE week = ? AND site = 'tori-ee'",
                              [WEEK]).fetchall()[0][0]
        plan = "\n".join(r[1] for r in lake.execute(
            f"EXPLAIN ANALYZE SELECT count(*) FROM {scan(root, 'ads')} WHERE week = DATE '{WEEK}'").fetchall())
    finally:
        lake.close()
    with session(warehouse) as con:
        expected = con.execute(
            "SELECT count(*) FROM ads WHERE site_id = 'tori-ee' AND "
            "date_trunc('week', coalesce(posted, CAST(first_seen AS DATE))) = ?", [WEEK]).fetchall()[0][0]
    assert counts == expected > 0
    scanned = re.search(r"Scanning Files: (\d+)/(\d+)", plan)
    assert scanned is not None and scanned.groups() == ("5", "30")  # one week of 5 sites out of 6 weeks x 5 sites


def test_incremental_export_replaces_only_the_given_week(warehouse: Path, tmp_path: Path) -> None:
    root = tmp_path / "lake"
    with session(warehouse) as con:
        export_parquet(con, root)
    untouched = sorted(p.stat().st_mtime_ns for p in (root / "scores").glob("*/week=2026-10-05/*.parquet"))
    copy = tmp_path / "changed.duckdb"
    shutil.copy(warehouse, copy)
    with session(copy) as con:
        changed = con.execute(
            "UPDATE scores SET score = 0.123 WHERE ad_id IN (SELECT ad_id FROM ads WHERE posted >= ? AND posted < ? "
            "LIMIT 10) RETURNING ad_id", [WEEK, date(2026, 11, 16)]).fetchall()
        result = export_parquet(con, root, tables=PARTITIONED, weeks=[WEEK])
        expected = _rows(con, "scores")
    assert len(changed) == 10 and result.weeks == (WEEK,)
    assert result.rows["scores"] < 5000  # only that week's rows were written
    lake = read_parquet_warehouse(root)
    try:
        assert _rows(lake, "scores") == expected  # replaced, not duplicated
    finally:
        lake.close()
    assert sorted(p.stat().st_mtime_ns for p in (root / "scores").glob("*/week=2026-10-05/*.parquet")) == untouched


def test_digest_reads_the_same_numbers_from_parquet(warehouse: Path, tmp_path: Path) -> None:
    root = tmp_path / "lake"
    query = DigestQuery(WEEK, Thresholds(suppress_below=3))
    with session(warehouse) as con:
        export_parquet(con, root)
        from_duckdb = load_digest_data(con, query)
    lake = read_parquet_warehouse(root)
    try:
        from_parquet = load_digest_data(lake, query)
    finally:
        lake.close()
    assert from_parquet == from_duckdb and from_parquet.data_hash() == from_duckdb.data_hash()
    assert from_duckdb.high_risk_current > 0 and from_duckdb.phrases


def test_empty_tables_read_back_empty(tmp_path: Path) -> None:
    with session(tmp_path / "empty.duckdb") as con:
        result = export_parquet(con, tmp_path / "lake")
    assert set(result.rows.values()) == {0}
    lake = read_parquet_warehouse(tmp_path / "lake")
    try:
        assert all(lake.execute(f"SELECT count(*) FROM {t}").fetchall() == [(0,)] for t in DEFAULT_TABLES)
    finally:
        lake.close()
    with pytest.raises(ValueError, match="cannot export"):
        export_parquet(duckdb.connect(), tmp_path / "x", tables=["labels"])
