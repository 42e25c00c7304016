"""Numbered SQL migrations (``migrations/NNNN_name.sql``) tracked in a ``schema_version`` table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import duckdb

_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    found: list[Migration] = []
    for entry in resources.files("warehouse.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a number: {versions}")
    return found


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchall()
    if exists[0][0] == 0:
        return 0
    return int(con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()[0][0])


def applied_versions(con: duckdb.DuckDBPyConnection) -> set[int]:
    return {int(row[0]) for row in con.execute("SELECT version FROM schema_version").fetchall()}


def migrate(con: duckdb.DuckDBPyConnection, migrations: list[Migration] | None = None) -> list[int]:
    """Apply, in number order, every migration the database has not recorded yet (each in its own
    transaction). Tracking the set rather than the maximum means a migration merged later with a lower
    number than one already applied still runs. Returns what ran."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version "
        "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT now())"
    )
    have = applied_versions(con)
    applied: list[int] = []
    for migration in available_migrations() if migrations is None else migrations:
        if migration.version in have:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(migration.sql)
            con.execute(
                "INSERT INTO schema_version (version, name) VALUES (?, ?)",
                [migration.version, migration.name],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(migration.version)
    return applied
