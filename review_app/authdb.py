"""The account store: a small SQLite file beside the warehouse with users, sessions and failed logins.

It is deliberately not in DuckDB: DuckDB admits one process at a time, and an analyst must be able to log in
and have a decision accepted (journaled) while a crawl or a training run holds the warehouse.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    user_id       INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('analyst', 'admin')),
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    REAL NOT NULL,
    created_by    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash  TEXT PRIMARY KEY,              -- sha256 of the cookie value; the value itself is never stored
    user_id     INTEGER REFERENCES users (user_id),  -- NULL: a pre-login session that only carries a CSRF token
    csrf_token  TEXT NOT NULL,
    created_at  REAL NOT NULL,
    last_seen   REAL NOT NULL,
    expires_at  REAL NOT NULL,
    data        TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS idx_sessions_user ON sessions (user_id);
CREATE TABLE IF NOT EXISTS login_failures (
    username TEXT NOT NULL,
    ip       TEXT NOT NULL,
    at       REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_login_failures ON login_failures (username, ip, at);
CREATE TABLE IF NOT EXISTS app_secrets (
    name  TEXT PRIMARY KEY,                    -- login-csrf: signs the pre-login cookies (no row per visitor)
    value BLOB NOT NULL
);
"""


def initialise(path: Path) -> None:
    """Create the file (mode 0600: hashes, CSRF tokens, client IPs) and its tables if needed (idempotent)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)  # SQLite gives its -wal and -shm files the database file's mode
    con = sqlite3.connect(path, timeout=10)
    try:
        con.execute("PRAGMA journal_mode = WAL")
        con.executescript(SCHEMA)
        con.commit()
    finally:
        con.close()


@contextmanager
def auth_session(path: Path) -> Iterator[sqlite3.Connection]:
    """One short transaction on the account store: commit on success, roll back on error, always close."""
    con = sqlite3.connect(path, timeout=10)
    con.execute("PRAGMA foreign_keys = ON")
    try:
        yield con
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        con.close()
