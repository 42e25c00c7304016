"""Keyed pseudonyms for contact identifiers (phones, e-mails, messenger handles, URLs) and masking of contact text.

A pseudonym is ``pz1_`` + the first 24 hex digits of HMAC-SHA256(key, normalised value). It is deterministic for
one key, so two ads that shared a phone number still share a pseudonym after retention (linked-ads analysis keeps
working), but nobody without the key can recompute it from a guessed number, and the key never leaves the
operator's environment:

* ``LUREWATCH_PSEUDONYM_KEY``: the key itself (at least 32 characters), e.g. from a secret store, or
* ``LUREWATCH_PSEUDONYM_KEY_FILE``: a file holding it (created by ``lurewatch privacy keygen``; must not be
  readable by group or others).

Nothing in the repository holds a key; :class:`PseudonymKeyError` explains how to set one.

Normalisation makes equal identifiers equal pseudonyms whatever the kind (a number stored as ``phone`` and as
``whatsapp`` keeps the same pseudonym, exactly as equal plain values joined before): NFKC, trimmed, case-folded;
phone-like values reduced to ``+`` and their digits.

Text is masked *length-preserving* (every character of a contact span becomes ``•``), so every stored character
offset (``entities.start_pos/end_pos``, ``features.evidence``) stays valid after masking.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import secrets
import stat
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

KEY_ENV = "LUREWATCH_PSEUDONYM_KEY"
KEY_FILE_ENV = "LUREWATCH_PSEUDONYM_KEY_FILE"
PREFIX = "pz1_"
DIGEST_HEX = 24  # 96 bits: collisions are negligible for any realistic number of contacts
MIN_KEY_CHARS = 32
MASK_CHAR = "•"
SQL_FUNCTION = "lw_pseudonym"

_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-/]{6,}$")
_PSEUDONYM = re.compile(rf"^{PREFIX}[0-9a-f]{{{DIGEST_HEX}}}$")
#: The same test in DuckDB SQL: ``regexp_full_match(value, PSEUDONYM_SQL_PATTERN)``.
PSEUDONYM_SQL_PATTERN = f"^{PREFIX}[0-9a-f]{{{DIGEST_HEX}}}$"


class PseudonymKeyError(RuntimeError):
    """No usable pseudonymisation key (missing, too short, or a key file others can read)."""


def is_pseudonym(value: str) -> bool:
    return bool(_PSEUDONYM.match(value))


def normalise_identifier(value: str) -> str:
    """The form a contact identifier is compared in: NFKC, trimmed, case-folded; phone-like values as +digits."""
    text = unicodedata.normalize("NFKC", value).strip()
    if _PHONE_LIKE.match(text) and sum(ch.isdigit() for ch in text) >= 6:
        return "+" + "".join(ch for ch in text if ch.isdigit())
    return text.casefold()


def _check_key(key: str, source: str) -> bytes:
    key = key.strip()
    if len(key) < MIN_KEY_CHARS:
        raise PseudonymKeyError(f"the pseudonymisation key from {source} is shorter than {MIN_KEY_CHARS} characters")
    return key.encode("utf-8")


class PseudonymSettings(BaseSettings):
    """Where the key comes from (environment variables, like every lurewatch setting; the key is a SecretStr, so it
    never shows in a repr, a log line or a traceback)."""

    model_config = SettingsConfigDict(env_prefix="LUREWATCH_", extra="ignore")

    pseudonym_key: SecretStr | None = Field(default=None, description="The key itself (>= 32 characters).")
    pseudonym_key_file: Path | None = Field(default=None, description="A file holding the key (mode 600).")


def load_key(environ: Mapping[str, str] | None = None) -> bytes:
    """The key from ``LUREWATCH_PSEUDONYM_KEY`` or the file named by ``LUREWATCH_PSEUDONYM_KEY_FILE`` (``environ``:
    read these from a mapping instead of the environment)."""
    if environ is None:
        settings = PseudonymSettings()
    else:
        settings = PseudonymSettings(pseudonym_key=environ.get(KEY_ENV) or None,  # type: ignore[arg-type]
                                     pseudonym_key_file=environ.get(KEY_FILE_ENV) or None)
    if settings.pseudonym_key is not None and settings.pseudonym_key.get_secret_value():
        return _check_key(settings.pseudonym_key.get_secret_value(), KEY_ENV)
    if settings.pseudonym_key_file is not None:
        path = settings.pseudonym_key_file
        try:
            mode = path.stat().st_mode
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise PseudonymKeyError(f"cannot read the pseudonymisation key file {path}: {exc}") from exc
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise PseudonymKeyError(f"{path} is readable by other users: chmod 600 {path}")
        return _check_key(text, str(path))
    raise PseudonymKeyError(
        f"no pseudonymisation key: set {KEY_ENV} (at least {MIN_KEY_CHARS} characters) or {KEY_FILE_ENV} "
        "(create one with `lurewatch privacy keygen PATH`); keys never belong in the repository"
    )


def generate_key_file(path: Path) -> None:
    """Write a new random key (64 hex characters) to ``path``, readable by its owner only; never overwrites."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_hex(32) + "\n")


@dataclass(frozen=True, slots=True)
class Pseudonymiser:
    key: bytes

    def __post_init__(self) -> None:
        if len(self.key) < MIN_KEY_CHARS:
            raise PseudonymKeyError(f"pseudonymisation keys need at least {MIN_KEY_CHARS} bytes")

    def __repr__(self) -> str:  # never print the key (logs, tracebacks)
        return f"Pseudonymiser(key_id={self.key_id!r})"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Pseudonymiser:
        return cls(load_key(environ))

    @property
    def key_id(self) -> str:
        """A short public fingerprint of the key (recorded with each retention run; reveals nothing)."""
        return hashlib.sha256(b"lurewatch-pseudonym-key-id\x00" + self.key).hexdigest()[:12]

    def pseudonym(self, value: str) -> str:
        """The pseudonym of a contact identifier; a pseudonym is returned unchanged (idempotent)."""
        if is_pseudonym(value):
            return value
        digest = hmac.new(self.key, b"lurewatch-contact\x00" + normalise_identifier(value).encode("utf-8"),
                          hashlib.sha256).hexdigest()
        return PREFIX + digest[:DIGEST_HEX]

    def register_sql(self, con: duckdb.DuckDBPyConnection) -> None:
        """Make ``lw_pseudonym(value)`` available in SQL on ``con``, e.g. to link a fresh ad's contacts with ads
        pseudonymised earlier: ``o.value IN (e.value, lw_pseudonym(e.value))``."""
        with contextlib.suppress(duckdb.InvalidInputException, duckdb.CatalogException):
            con.remove_function(SQL_FUNCTION)
        con.create_function(SQL_FUNCTION, self.pseudonym, [duckdb.sqltype("VARCHAR")],
                            duckdb.sqltype("VARCHAR"), side_effects=False)


def mask_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` with every character inside the spans replaced by ``•`` (same length; bad spans are ignored)."""
    chars = list(text)
    for start, end in spans:
        lo, hi = max(0, int(start)), min(len(chars), int(end))
        for i in range(lo, hi):
            chars[i] = MASK_CHAR
    return "".join(chars)


def needle_spans(text: str, needles: Iterable[str], min_length: int = 4) -> list[tuple[int, int]]:
    """Every occurrence of each needle (at least ``min_length`` characters; longest first) as a ``(start, end)``
    span; spans of different needles may overlap."""
    spans: list[tuple[int, int]] = []
    for needle in sorted({n for n in needles if n and len(n) >= min_length}, key=len, reverse=True):
        start = text.find(needle)
        while start != -1:
            spans.append((start, start + len(needle)))
            start = text.find(needle, start + len(needle))
    return spans


def mask_strings(text: str, needles: Iterable[str], min_length: int = 4) -> str:
    """``text`` with every occurrence of each needle (longest first) masked, same length."""
    spans = needle_spans(text, needles, min_length)
    return mask_spans(text, spans) if spans else text


def split_ad_text(text: str, title: str) -> tuple[str, str]:
    """Inverse of :func:`warehouse.records.ad_text` for a same-length rewrite of ``ad_text(title, body)``."""
    if not title:
        return "", text
    return text[: len(title)], text[len(title) + 2 :]


def _replace_everywhere(value: Any, replacements: Sequence[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        for old, new in replacements:
            if old in value:
                value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [_replace_everywhere(v, replacements) for v in value]
    if isinstance(value, dict):
        return {k: _replace_everywhere(v, replacements) for k, v in value.items()}
    return value


def pseudonymise_case(case: Mapping[str, Any], pseudonymiser: Pseudonymiser) -> dict[str, Any]:
    """A case export (``review_app.export.build_case`` layout) with every contact identifier replaced.

    ``contacts[].value`` and ``raw`` become the pseudonym; the contact spans in the ad's title and body are masked
    (same length, so evidence offsets stay valid); every other occurrence of a raw or normalised contact value
    anywhere in the case (contact line, evidence, linked-by reasons, notes) becomes its pseudonym. The case is
    marked ``pseudonymised`` with the key's public id. The input is not modified.
    """
    out: dict[str, Any] = _replace_everywhere(dict(case), [])  # a deep copy of the JSON-like structure
    ad = out.get("ad") or {}
    contacts = out.get("contacts") or []
    title, body = str(ad.get("title") or ""), str(ad.get("body") or "")
    text = f"{title}\n\n{body}" if title else body
    spans = [(int(c["start"]), int(c["end"])) for c in contacts if c.get("start") is not None and c.get("end")]
    masked_title, masked_body = split_ad_text(mask_spans(text, spans), title)
    if ad:
        ad["title"], ad["body"] = masked_title, masked_body
    replacements: dict[str, str] = {}
    for contact in contacts:
        value, raw = str(contact.get("value") or ""), str(contact.get("raw") or "")
        alias = pseudonymiser.pseudonym(value or raw)
        for text_value in (value, raw):
            if len(text_value.strip()) >= 4 and not is_pseudonym(text_value):
                replacements[text_value] = alias
        contact["value"] = contact["raw"] = alias
    ordered = sorted(replacements.items(), key=lambda item: len(item[0]), reverse=True)
    out = {key: (item if key == "contacts" else _replace_everywhere(item, ordered)) for key, item in out.items()}
    meta = dict(out.get("case") or {})
    meta.update({"pseudonymised": True, "pseudonym_key_id": pseudonymiser.key_id})
    out["case"] = meta
    return out
