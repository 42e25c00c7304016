"""Opening the DuckDB file: one place that knows how, so every caller gets a migrated schema."""

from __future__ import annotations

from pathlib import Path

import duckdb

from warehouse.migrate import migrate


def connect(path: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the warehouse at ``path`` and bring its schema up to date.

    ``":memory:"`` gives a throw-away in-memory warehouse.
    """
    target = str(path)
    if target != ":memory:":
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    if read_only:
        return duckdb.connect(target, read_only=True)
    con = duckdb.connect(target)
    migrate(con)
    return con
