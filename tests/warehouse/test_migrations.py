"""Schema migrations: numbered, tracked in schema_version, applied once, atomically."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from warehouse import connect, current_version, migrate
from warehouse.migrate import Migration, available_migrations

CORE_TABLES = {
    "sites",
    "crawl_runs",
    "ads",
    "features",
    "entities",
    "scores",
    "labels",
    "models",
    "schema_version",
}


def test_fresh_file_gets_every_table_and_the_latest_version(tmp_path: Path) -> None:
    """A new warehouse file is created with the full schema and records the latest migration number."""
    con = connect(tmp_path / "new" / "lw.duckdb")
    tables = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert tables >= CORE_TABLES
    assert current_version(con) == available_migrations()[-1].version


def test_reopening_applies_nothing_and_keeps_data(tmp_path: Path) -> None:
    """Opening an up-to-date warehouse twice neither re-runs migrations nor touches existing rows."""
    path = tmp_path / "lw.duckdb"
    con = connect(path)
    con.execute("INSERT INTO labels (ad_id, label, source, analyst) VALUES (1, 'lure', 'analyst', 'ana')")
    con.close()
    con = connect(path)
    assert migrate(con) == []
    assert con.execute("SELECT count(*) FROM labels").fetchall() == [(1,)]


def test_new_migration_upgrades_an_old_file(tmp_path: Path) -> None:
    """A later migration runs once on an existing file and bumps schema_version."""
    con = duckdb.connect(str(tmp_path / "lw.duckdb"))
    base = available_migrations()
    migrate(con, base)
    extra = Migration(base[-1].version + 1, "add_notes", "CREATE TABLE notes (id INTEGER)")
    assert migrate(con, [*base, extra]) == [extra.version]
    assert current_version(con) == extra.version
    assert migrate(con, [*base, extra]) == []


def test_failing_migration_rolls_back_completely(tmp_path: Path) -> None:
    """A migration that fails half-way leaves neither its tables nor a schema_version row behind."""
    con = duckdb.connect(str(tmp_path / "lw.duckdb"))
    base = available_migrations()
    migrate(con, base)
    broken = Migration(
        base[-1].version + 1, "broken", "CREATE TABLE half (id INTEGER); SELECT * FROM no_such_table;"
    )
    with pytest.raises(duckdb.Error):
        migrate(con, [*base, broken])
    assert current_version(con) == base[-1].version
    tables = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert "half" not in tables


def test_lower_numbered_migration_merged_later_still_runs(tmp_path: Path) -> None:
    """A file that already ran migration N+2 still gets migration N+1 when it appears later."""
    con = duckdb.connect(str(tmp_path / "lw.duckdb"))
    base = available_migrations()
    late = Migration(base[-1].version + 2, "late", "CREATE TABLE late_table (id INTEGER)")
    migrate(con, [*base, late])
    middle = Migration(base[-1].version + 1, "middle", "CREATE TABLE middle_table (id INTEGER)")
    assert migrate(con, [*base, middle, late]) == [middle.version]
    tables = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert {"late_table", "middle_table"} <= tables
