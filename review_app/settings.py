"""Settings of the review web app (environment variables prefixed ``LUREWATCH_REVIEW_``).

The warehouse location defaults to the product-wide setting (``LUREWATCH_DB_PATH`` / ``LUREWATCH_DATA_DIR``);
the account store and the decision journal live next to the DuckDB file unless set explicitly.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from lurewatch.settings import get_settings
from warehouse.pseudonymise import KEY_ENV, KEY_FILE_ENV, Pseudonymiser


class ReviewSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LUREWATCH_REVIEW_", extra="ignore")

    db_path: Path | None = Field(default=None, description="DuckDB warehouse; defaults to LUREWATCH_DB_PATH.")
    auth_db_path: Path | None = Field(
        default=None, description="SQLite file with accounts and sessions; defaults to <db>.review-auth.sqlite3."
    )
    journal_path: Path | None = Field(
        default=None, description="Append-only decision journal; defaults to <db>.review-journal.jsonl."
    )
    cookie_secure: bool = Field(default=True, description="Send the session cookie over HTTPS only.")
    session_max_age_minutes: int = Field(default=12 * 60, ge=1, description="Absolute session lifetime.")
    session_idle_minutes: int = Field(default=60, ge=1, description="A session unused this long expires.")
    login_session_minutes: int = Field(
        default=30, ge=1, description="Lifetime of the signed pre-login cookie (the login form's CSRF; nothing stored)."
    )
    login_max_failures: int = Field(default=5, ge=1, description="Failed logins per user and IP in the window.")
    login_max_failures_per_ip: int = Field(
        default=30, ge=1, description="Failed logins per client IP (any user names) in the window."
    )
    login_failure_window_minutes: int = Field(default=15, ge=1)
    decision_lock_timeout_s: float = Field(
        default=3.0, gt=0, description="How long a decision waits for the warehouse before it is journaled."
    )
    read_lock_timeout_s: float = Field(default=20.0, gt=0, description="How long a page waits for the warehouse.")
    replay_interval_s: float = Field(
        default=5.0, gt=0, description="How often a non-empty journal is retried in the background."
    )
    password_time_cost: int = Field(default=3, ge=1, description="argon2id iterations (argon2-cffi default).")
    password_memory_kib: int = Field(default=65536, ge=1024, description="argon2id memory (argon2-cffi default).")
    password_parallelism: int = Field(default=4, ge=1, description="argon2id lanes (argon2-cffi default).")
    pseudonym_key_file: Path | None = Field(
        default=None,
        description="Key for pseudonymised case exports (mode 600); defaults to LUREWATCH_PSEUDONYM_KEY / "
        "LUREWATCH_PSEUDONYM_KEY_FILE, the key retention uses. Without a key, analysts cannot export cases.",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses of reverse proxies whose X-Forwarded-For/-Proto headers are trusted "
        "(the client IP for login rate limits). Empty (default): proxy headers are ignored, the peer address counts.",
    )
    password_hash_threads: int = Field(
        default=2, ge=1, le=64, description="argon2 hashes computed at once (in worker threads, never on the event "
        "loop); further logins wait their turn."
    )
    max_body_bytes: int = Field(
        default=256 * 1024, ge=16 * 1024, description="Largest request body accepted (413 before it is read)."
    )
    page_size: int = Field(default=25, ge=5, le=200)
    learning_share: float = Field(
        default=0.2, ge=0.0, le=1.0, description="Share of the weekly review budget (LUREWATCH_REVIEW_BUDGET) the "
        "'teach the model' mode asks for: ads whose label would teach the model most (review_app/learning.py)."
    )
    explain_top: int = Field(default=8, ge=1, le=30)
    page_text_chars: int = Field(
        default=20_000, ge=1_000, description="Characters of ad text an ad page shows; the rest on 'show full text'."
    )
    page_max_highlights: int = Field(default=500, ge=0, description="Evidence spans marked on an ad page at most.")
    page_list_rows: int = Field(
        default=50, ge=5, description="Rows an ad page shows at most of its contacts, linked ads and history."
    )
    page_deadline_s: float = Field(
        default=5.0, gt=0, description="Longest wait for highlighting (then the text is shown without highlights) "
        "and for the reasons of an ad shown in full."
    )
    page_long_ad_wait_s: float = Field(
        default=0.15, gt=0, description="Longest wait for the reasons of an ad too long to show in full; they go on "
        "being computed and the next view shows them."
    )

    @property
    def database(self) -> Path:
        return self.db_path or get_settings().database

    @property
    def auth_database(self) -> Path:
        return self.auth_db_path or self.database.with_name(self.database.name + ".review-auth.sqlite3")

    @property
    def journal(self) -> Path:
        return self.journal_path or self.database.with_name(self.database.name + ".review-journal.jsonl")

    def pseudonymiser(self) -> Pseudonymiser | None:
        """The key case exports are pseudonymised with: ``pseudonym_key_file``, else the product-wide key from the
        environment; ``None`` when no key is configured at all. A configured but unusable key (too short, a file
        others can read) raises :class:`~warehouse.pseudonymise.PseudonymKeyError`, so the app refuses to start."""
        if self.pseudonym_key_file is not None:
            return Pseudonymiser.from_env({KEY_FILE_ENV: str(self.pseudonym_key_file)})
        if not (os.environ.get(KEY_ENV) or os.environ.get(KEY_FILE_ENV)):
            return None
        return Pseudonymiser.from_env()

    def password_hasher(self) -> PasswordHasher:
        return _hasher(self.password_time_cost, self.password_memory_kib, self.password_parallelism)

    @property
    def session_cookie_name(self) -> str:
        # The __Host- prefix makes browsers refuse the cookie unless it is Secure, host-only and Path=/.
        return "__Host-lw_session" if self.cookie_secure else "lw_session"


@cache
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
