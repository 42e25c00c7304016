"""Per-user accounts: argon2id password hashes, roles, enabling and disabling.

Hashes use argon2-cffi's defaults (RFC 9106 low-memory profile) unless the settings choose other costs; a hash
made with other parameters is upgraded at the next successful login."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from review_app.authdb import auth_session

Role = Literal["analyst", "admin"]
ROLES: tuple[Role, ...] = ("analyst", "admin")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")

DEFAULT_HASHER = PasswordHasher()


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """Verified when the user name is unknown, so a wrong name takes as long as a wrong password."""
    return hasher.hash("lurewatch-no-such-user-placeholder")


class UserError(ValueError):
    """A user name, role or password that cannot be accepted."""


@dataclass(frozen=True, slots=True)
class User:
    user_id: int
    username: str
    role: Role
    active: bool

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def normalise_username(name: str) -> str:
    username = name.strip().lower()
    if not _USERNAME.match(username):
        raise UserError("user names are 2-63 characters: lower-case letters, digits, '.', '_' or '-'")
    return username


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(f"passwords may have at most {MAX_PASSWORD_LENGTH} characters")


def user_from_row(row: tuple[int, str, str, int]) -> User:
    role: Role = "admin" if row[2] == "admin" else "analyst"
    return User(user_id=int(row[0]), username=str(row[1]), role=role, active=bool(row[3]))


def create_user(
    auth_db: Path, name: str, password: str, role: str, *, created_by: str, hasher: PasswordHasher = DEFAULT_HASHER
) -> User:
    username = normalise_username(name)
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    check_password_policy(password)
    password_hash = hasher.hash(password)
    with auth_session(auth_db) as con:
        if con.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
            raise UserError(f"user {username!r} already exists")
        cursor = con.execute(
            "INSERT INTO users (username, password_hash, role, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
            (username, password_hash, role, time.time(), created_by),
        )
        user_id = int(cursor.lastrowid or 0)
    return User(user_id=user_id, username=username, role="admin" if role == "admin" else "analyst", active=True)


def get_user(auth_db: Path, user_id: int) -> User | None:
    with auth_session(auth_db) as con:
        row = con.execute("SELECT user_id, username, role, active FROM users WHERE user_id = ?", (user_id,)).fetchone()
    return user_from_row(row) if row else None


def list_users(auth_db: Path) -> list[User]:
    with auth_session(auth_db) as con:
        rows = con.execute("SELECT user_id, username, role, active FROM users ORDER BY username").fetchall()
    return [user_from_row(row) for row in rows]


def authenticate(
    auth_db: Path, name: str, password: str, hasher: PasswordHasher = DEFAULT_HASHER
) -> User | None:
    """The active user with this name and password, else None (same work done for unknown names)."""
    try:
        username = normalise_username(name)
    except UserError:
        username = ""
    with auth_session(auth_db) as con:
        row = con.execute(
            "SELECT user_id, username, role, active, password_hash FROM users WHERE username = ?", (username,)
        ).fetchone()
    stored = str(row[4]) if row else _dummy_hash(hasher)
    try:
        hasher.verify(stored, password[:MAX_PASSWORD_LENGTH])
    except (VerificationError, InvalidHashError):
        return None
    if row is None or not row[3]:
        return None
    if hasher.check_needs_rehash(stored):
        with auth_session(auth_db) as con:
            con.execute("UPDATE users SET password_hash = ? WHERE user_id = ?", (hasher.hash(password), row[0]))
    return user_from_row((row[0], row[1], row[2], row[3]))


def set_password(auth_db: Path, name: str, password: str, hasher: PasswordHasher = DEFAULT_HASHER) -> None:
    """Replace a user's password and end all their sessions."""
    username = normalise_username(name)
    check_password_policy(password)
    with auth_session(auth_db) as con:
        cursor = con.execute(
            "UPDATE users SET password_hash = ? WHERE username = ?", (hasher.hash(password), username)
        )
        if cursor.rowcount == 0:
            raise UserError(f"no user {username!r}")
        con.execute("DELETE FROM sessions WHERE user_id = (SELECT user_id FROM users WHERE username = ?)", (username,))


def set_active(auth_db: Path, name: str, active: bool) -> None:
    """Enable or disable an account; disabling ends its sessions at once."""
    username = normalise_username(name)
    with auth_session(auth_db) as con:
        cursor = con.execute("UPDATE users SET active = ? WHERE username = ?", (int(active), username))
        if cursor.rowcount == 0:
            raise UserError(f"no user {username!r}")
        if not active:
            con.execute(
                "DELETE FROM sessions WHERE user_id = (SELECT user_id FROM users WHERE username = ?)", (username,)
            )
