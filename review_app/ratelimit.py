"""Failed-login rate limiting over a sliding window: per (user name, client IP), and per client IP across all
user names (password spraying)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from review_app.authdb import auth_session


@dataclass(frozen=True, slots=True)
class LoginLimiter:
    auth_db: Path
    max_failures: int
    window_s: float
    max_failures_per_ip: int = 30

    def retry_after(self, username: str, ip: str) -> int:
        """Seconds until another attempt is allowed (0: allowed now)."""
        now = time.time()
        with auth_session(self.auth_db) as con:
            per_user = con.execute(
                "SELECT at FROM login_failures WHERE username = ? AND ip = ? AND at > ? ORDER BY at DESC LIMIT ?",
                (username, ip, now - self.window_s, self.max_failures),
            ).fetchall()
            per_ip = con.execute(
                "SELECT at FROM login_failures WHERE ip = ? AND at > ? ORDER BY at DESC LIMIT ?",
                (ip, now - self.window_s, self.max_failures_per_ip),
            ).fetchall()
        waits = [
            max(1, int(float(rows[-1][0]) + self.window_s - now) + 1)
            for rows, limit in ((per_user, self.max_failures), (per_ip, self.max_failures_per_ip))
            if len(rows) >= limit
        ]
        return max(waits, default=0)

    def record_failure(self, username: str, ip: str) -> None:
        now = time.time()
        with auth_session(self.auth_db) as con:
            con.execute("INSERT INTO login_failures (username, ip, at) VALUES (?, ?, ?)", (username, ip, now))
            con.execute("DELETE FROM login_failures WHERE at < ?", (now - self.window_s,))

    def clear(self, username: str, ip: str) -> None:
        with auth_session(self.auth_db) as con:
            con.execute("DELETE FROM login_failures WHERE username = ? AND ip = ?", (username, ip))
