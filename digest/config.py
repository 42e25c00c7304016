"""Digest configuration: SMTP, archive and recipients, read from a YAML file (see ``recipients.example.yaml``).

Every recipient inherits ``defaults`` and may override any of it: its template, output formats, filters and
thresholds (high-risk cut-off, small-count suppression, emerging-phrase growth). Relative paths in the file
(``archive_dir``, ``template_dirs``, ``smtp.password_file``) are resolved against the file's own folder.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

EXAMPLE_CONFIG = Path(__file__).with_name("recipients.example.yaml")
DEFAULT_CONFIG_NAME = "digest.yaml"


def default_config_path(data_dir: Path) -> Path:
    """Where the service looks for the recipients file: ``<data_dir>/digest.yaml``."""
    return data_dir / DEFAULT_CONFIG_NAME

Format = Literal["html", "pdf", "csv"]
_RECIPIENT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HighRisk(_Strict):
    """Which ads count as high-risk: score at or above a cut-off, or the N best-scored ads of each week."""

    mode: Literal["threshold", "top_n"] = "threshold"
    min_score: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Cut-off; default: the champion model's params.threshold."
    )
    top_n: int = Field(default=100, ge=1, description="Ads per week in top_n mode.")


class Emerging(_Strict):
    """Emerging lure phrases: evidence texts seen in more ads this week than in the baseline weeks."""

    baseline_weeks: int = Field(default=4, ge=1, le=26)
    min_growth: float = Field(default=2.0, ge=1.0, description="(this week + 1) / (weekly baseline + 1).")
    max_phrases: int = Field(default=15, ge=0, le=100)


class Thresholds(_Strict):
    suppress_below: int = Field(
        default=5, ge=0, le=1000, description='Counts below this are shown as "<k" (0 turns suppression off).'
    )
    history_weeks: int = Field(default=8, ge=2, le=52, description="Weeks in the trend chart, this one included.")
    high_risk: HighRisk = HighRisk()
    emerging: Emerging = Emerging()
    cluster_min_size: int = Field(default=2, ge=2, description="Ads a template/contact cluster needs to count.")
    top_clusters: int = Field(default=5, ge=0, le=50, description="Anonymous rows in the growing-clusters table.")


class Filters(_Strict):
    """Restrict a recipient's digest to some languages, sites or destination countries (None: all)."""

    languages: tuple[str, ...] | None = None
    sites: tuple[str, ...] | None = None
    countries: tuple[str, ...] | None = None

    @field_validator("countries")
    @classmethod
    def _upper(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if value is None else tuple(v.upper() for v in value)


class Profile(_Strict):
    """What a recipient gets; ``defaults`` and every recipient are profiles (recipients override defaults)."""

    template: str = "digest.html.j2"
    formats: tuple[Format, ...] = ("html", "pdf", "csv")
    thresholds: Thresholds = Thresholds()
    filters: Filters = Filters()
    title: str = "Weekly recruitment-lure digest"
    #: The digest's language and number/date formats: en, lv, lt, et, fi or pl (digest/i18n.py).
    locale: Literal["en", "lv", "lt", "et", "fi", "pl"] = "en"


class Recipient(Profile):
    id: str
    name: str
    emails: tuple[str, ...] = ()

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        if not _RECIPIENT_ID.match(value):
            raise ValueError(f"recipient id {value!r}: use lower-case letters, digits, '-' and '_' only")
        return value

    @field_validator("emails")
    @classmethod
    def _valid_emails(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for address in value:
            if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", address):
                raise ValueError(f"not an e-mail address: {address!r}")
        return value

    def settings_fingerprint(self) -> str:
        """Hash of everything in this profile that changes the digest's content or look (not the addresses)."""
        relevant = self.model_dump(mode="json", exclude={"emails", "name"})
        return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()


class Smtp(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=25, ge=1, le=65535)
    sender: str = "lurewatch digest <digest@localhost>"
    starttls: bool = False
    ssl: bool = False
    username: str | None = None
    password_file: Path | None = Field(default=None, description="File holding the SMTP password (not in YAML).")
    timeout_s: float = Field(default=30.0, gt=0)

    def password(self) -> str | None:
        if self.password_file is None:
            return None
        return self.password_file.read_text(encoding="utf-8").strip()


class DigestConfig(_Strict):
    archive_dir: Path = Path("digests")
    template_dirs: tuple[Path, ...] = ()
    smtp: Smtp = Smtp()
    recipients: tuple[Recipient, ...]

    @model_validator(mode="after")
    def _unique_ids(self) -> DigestConfig:
        ids = [r.id for r in self.recipients]
        if len(set(ids)) != len(ids):
            raise ValueError(f"recipient ids must be unique: {ids}")
        return self

    def recipient(self, recipient_id: str) -> Recipient:
        for r in self.recipients:
            if r.id == recipient_id:
                return r
        raise KeyError(f"no recipient {recipient_id!r} (have {[r.id for r in self.recipients]})")


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _resolve(path: str | Path | None, root: Path) -> Path | None:
    if path is None:
        return None
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else root / candidate


def parse_config(data: dict[str, Any], root: Path) -> DigestConfig:
    """Build a config from parsed YAML; ``root`` resolves relative paths."""
    if not isinstance(data, dict) or "recipients" not in data:
        raise ValueError("digest config needs a 'recipients' list")
    defaults = data.get("defaults") or {}
    Profile.model_validate(defaults)  # fail early, with the right location, on bad defaults
    recipients = [_deep_merge(defaults, r) for r in data["recipients"] or []]
    smtp = dict(data.get("smtp") or {})
    if smtp.get("password_file") is not None:
        smtp["password_file"] = _resolve(smtp["password_file"], root)
    return DigestConfig(
        archive_dir=_resolve(data.get("archive_dir", "digests"), root) or root / "digests",
        template_dirs=tuple(_resolve(p, root) or root for p in data.get("template_dirs") or ()),
        smtp=Smtp.model_validate(smtp),
        recipients=tuple(Recipient.model_validate(r) for r in recipients),
    )


def load_config(path: Path | str) -> DigestConfig:
    path = Path(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return parse_config(data, path.resolve().parent)
