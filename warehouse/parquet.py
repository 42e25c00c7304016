"""Export the warehouse to partitioned Parquet and read it back, for deployments that keep data in object storage.

Layout under ``root`` (Hive partitioning, one folder per site and ISO week of the ad)::

    ads/site=balticjobs/week=2026-11-09/part-<uuid>.parquet
    features/site=.../week=.../...           features, scores, entities, ad_clusters and ad_facts follow their ad
    models/models.parquet                    small tables: one file
    _schema/<table>.parquet                  an empty file with each table's columns (so empty tables read back)

The week of an ad is the Monday of ``coalesce(posted, first_seen)``, as in the digest. Reading back goes through
DuckDB's ``read_parquet(..., hive_partitioning = true)``; :func:`attach_views` creates views with the warehouse's
table names and columns, so warehouse queries (the digest's, for one) run unchanged on the Parquet copy, and
:func:`scan` gives the raw scan with the ``site``/``week`` columns for partition-pruned reads.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

WEEK_OF_AD = "CAST(date_trunc('week', coalesce(a.posted, CAST(a.first_seen AS DATE))) AS DATE)"
#: Per-ad tables, partitioned by their ad's site and week.
PARTITIONED: tuple[str, ...] = ("ads", "features", "scores", "entities", "ad_clusters", "ad_facts")
#: Small tables, one file each.
SMALL: tuple[str, ...] = ("models", "sites")
DEFAULT_TABLES: tuple[str, ...] = (*PARTITIONED, *SMALL)
SCHEMA_DIR = "_schema"


@dataclass(frozen=True, slots=True)
class ExportResult:
    root: Path
    rows: dict[str, int]
    weeks: tuple[date, ...] | None  # None: a full export


def _literal(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _select(table: str) -> str:
    if table == "ads":
        return f"SELECT a.*, a.site_id AS site, {WEEK_OF_AD} AS week FROM ads a"
    return f"SELECT t.*, a.site_id AS site, {WEEK_OF_AD} AS week FROM {table} t JOIN ads a ON a.ad_id = t.ad_id"


def _check(tables: Iterable[str]) -> None:
    unknown = set(tables) - set(DEFAULT_TABLES)
    if unknown:
        raise ValueError(f"cannot export {sorted(unknown)}: known tables are {DEFAULT_TABLES}")


def export_parquet(
    con: duckdb.DuckDBPyConnection,
    root: Path | str,
    *,
    tables: Sequence[str] = DEFAULT_TABLES,
    weeks: Sequence[date] | None = None,
    compression: str = "zstd",
) -> ExportResult:
    """Write ``tables`` under ``root``. With ``weeks``, only those weeks' partitions are rewritten (an incremental
    export: the week folders are replaced, other weeks stay); without, each table is rewritten whole."""
    _check(tables)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / SCHEMA_DIR).mkdir(exist_ok=True)
    rows: dict[str, int] = {}
    week_list = sorted(set(weeks)) if weeks is not None else None
    for table in tables:
        con.execute(
            f"COPY (SELECT * FROM {table} LIMIT 0) TO {_literal(root / SCHEMA_DIR / f'{table}.parquet')} "
            "(FORMAT parquet)"
        )
        if table in SMALL:
            target = root / table
            target.mkdir(exist_ok=True)
            rows[table] = int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
            con.execute(
                f"COPY {table} TO {_literal(target / f'{table}.parquet')} (FORMAT parquet, COMPRESSION {compression})"
            )
            continue
        target = root / table
        select = _select(table)
        if week_list is None:
            if target.exists():
                shutil.rmtree(target)
        else:
            for week in week_list:
                for folder in target.glob(f"site=*/week={week.isoformat()}"):
                    shutil.rmtree(folder)
            select = f"SELECT * FROM ({select}) WHERE week IN (SELECT unnest($weeks))"
        params = {"weeks": week_list} if week_list is not None else {}
        rows[table] = int(con.execute(f"SELECT count(*) FROM ({select})", params).fetchall()[0][0])
        if rows[table] == 0:
            continue
        con.execute(
            f"""
            COPY ({select}) TO {_literal(target)}
            (FORMAT parquet, PARTITION_BY (site, week), COMPRESSION {compression}, OVERWRITE_OR_IGNORE,
             FILENAME_PATTERN 'part-{{uuid}}')
            """,
            params,
        )
    return ExportResult(root, rows, tuple(week_list) if week_list is not None else None)


def _has_data(root: Path, table: str) -> bool:
    folder = root / table
    return folder.is_dir() and any(folder.rglob("*.parquet"))


def scan(root: Path | str, table: str) -> str:
    """SQL for the raw scan of one exported table (partitioned ones with ``site`` and ``week`` columns, so
    ``WHERE week >= ...`` or ``site = ...`` only reads the matching folders)."""
    _check([table])
    root = Path(root)
    if table in SMALL:
        return f"read_parquet({_literal(root / table / f'{table}.parquet')})"
    if not _has_data(root, table):
        return (
            f"(SELECT *, CAST(NULL AS VARCHAR) AS site, CAST(NULL AS DATE) AS week "
            f"FROM read_parquet({_literal(root / SCHEMA_DIR / f'{table}.parquet')}))"
        )
    return (
        f"read_parquet({_literal(root / table / '**' / '*.parquet')}, hive_partitioning = true, "
        "hive_types = {'site': VARCHAR, 'week': DATE}, union_by_name = true)"
    )


def attach_views(con: duckdb.DuckDBPyConnection, root: Path | str, tables: Sequence[str] = DEFAULT_TABLES) -> None:
    """Create views named like the warehouse tables (same columns, same order) over the Parquet export."""
    _check(tables)
    root = Path(root)
    for table in tables:
        if not (root / SCHEMA_DIR / f"{table}.parquet").exists():
            raise FileNotFoundError(f"{root} has no export of {table!r}")
        columns = [
            row[0]
            for row in con.execute(
                f"DESCRIBE SELECT * FROM read_parquet({_literal(root / SCHEMA_DIR / f'{table}.parquet')})"
            ).fetchall()
        ]
        column_list = ", ".join(f'"{c}"' for c in columns)
        con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT {column_list} FROM {scan(root, table)}")


def read_parquet_warehouse(root: Path | str, tables: Sequence[str] = DEFAULT_TABLES) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection whose ``ads``, ``features``, ... are views over the export at ``root``."""
    con = duckdb.connect()
    attach_views(con, root, tables)
    return con
