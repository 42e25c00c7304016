"""Server-side sessions: a random cookie value whose SHA-256 keys a row with the user, a CSRF token, an
absolute and an idle expiry, and a little per-session data (flash messages, the undo stack)."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from review_app.authdb import auth_session
from review_app.users import User, user_from_row

T = TypeVar("T")
_TOUCH_EVERY_S = 30.0  # last_seen is refreshed at most this often


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(slots=True)
class Session:
    token_hash: str
    csrf_token: str
    user: User | None
    expires_at: float
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    max_age_s: float
    idle_s: float
    anonymous_s: float


def create_session(auth_db: Path, user: User | None, policy: SessionPolicy) -> tuple[str, Session]:
    """A new session (``user=None``: pre-login, only for the login form's CSRF token). Returns the cookie value."""
    token = secrets.token_urlsafe(32)
    now = time.time()
    expires = now + (policy.max_age_s if user else policy.anonymous_s)
    session = Session(_hash(token), secrets.token_urlsafe(32), user, expires)
    with auth_session(auth_db) as con:
        con.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen, expires_at, data) "
            "VALUES (?, ?, ?, ?, ?, ?, '{}')",
            (session.token_hash, user.user_id if user else None, session.csrf_token, now, now, expires),
        )
    return token, session


def load_session(auth_db: Path, token: str | None, policy: SessionPolicy) -> Session | None:
    """The live session for a cookie value, or None if unknown, expired, idle too long or its user is disabled."""
    if not token or len(token) > 200:
        return None
    token_hash = _hash(token)
    now = time.time()
    with auth_session(auth_db) as con:
        row = con.execute(
            "SELECT s.csrf_token, s.expires_at, s.last_seen, s.data, u.user_id, u.username, u.role, u.active, "
            "s.user_id FROM sessions s LEFT JOIN users u ON u.user_id = s.user_id WHERE s.token_hash = ?",
            (token_hash,),
        ).fetchone()
        if row is None:
            return None
        csrf, expires_at, last_seen, data, *user_row, session_user_id = row
        is_user_session = session_user_id is not None
        idle_expired = is_user_session and now - float(last_seen) > policy.idle_s
        disabled = is_user_session and not user_row[3]
        if now >= float(expires_at) or idle_expired or disabled:
            con.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))
            return None
        if now - float(last_seen) > _TOUCH_EVERY_S:
            con.execute("UPDATE sessions SET last_seen = ? WHERE token_hash = ?", (now, token_hash))
    user = user_from_row((user_row[0], user_row[1], user_row[2], user_row[3])) if is_user_session else None
    return Session(token_hash, str(csrf), user, float(expires_at), json.loads(data or "{}"))


def save_data(auth_db: Path, session: Session) -> None:
    """Overwrite the stored data with ``session.data`` (only safe when no other request of the session can run;
    request handlers use :func:`update_data`)."""
    with auth_session(auth_db) as con:
        con.execute(
            "UPDATE sessions SET data = ? WHERE token_hash = ?",
            (json.dumps(session.data, ensure_ascii=False), session.token_hash),
        )


def update_data(auth_db: Path, session: Session, change: Callable[[dict[str, Any]], T]) -> T:
    """Read-modify-write of the session's data in one write transaction (``BEGIN IMMEDIATE``): ``change`` gets the
    data as stored *now* (not as loaded at the start of the request), so parallel requests of one session (four
    quick decisions, a flash message and an undo) never overwrite each other's changes. ``session.data`` is
    refreshed; returns what ``change`` returned."""
    with auth_session(auth_db) as con:
        con.execute("BEGIN IMMEDIATE")
        row = con.execute("SELECT data FROM sessions WHERE token_hash = ?", (session.token_hash,)).fetchone()
        data: dict[str, Any] = json.loads(row[0] or "{}") if row else dict(session.data)
        result = change(data)
        if row is not None:
            con.execute(
                "UPDATE sessions SET data = ? WHERE token_hash = ?",
                (json.dumps(data, ensure_ascii=False), session.token_hash),
            )
    session.data = data
    return result


def delete_session(auth_db: Path, session: Session) -> None:
    with auth_session(auth_db) as con:
        con.execute("DELETE FROM sessions WHERE token_hash = ?", (session.token_hash,))


def purge_expired(auth_db: Path, policy: SessionPolicy) -> int:
    now = time.time()
    with auth_session(auth_db) as con:
        cursor = con.execute(
            "DELETE FROM sessions WHERE expires_at <= ? OR (user_id IS NOT NULL AND last_seen < ?)",
            (now, now - policy.idle_s),
        )
        return cursor.rowcount
