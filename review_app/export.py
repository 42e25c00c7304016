"""A case for referral to the police or a hotline: the ad, its evidence, contacts, linked ads and decisions,
as JSON (values exactly as stored) or CSV (cells that a spreadsheet would run as a formula are neutralised).

Two kinds of export leave the app:

* the **analyst export** (any analyst): every contact identifier replaced by its keyed pseudonym and the contact
  spans in the ad text masked (:func:`warehouse.pseudonymise.pseudonymise_case`); the same pseudonym an ad gets from
  retention, so a hotline can tell two cases apart or together without seeing a phone number;
* the **referral export** (administrators only, a reason required): values in clear, for the police or a hotline
  that needs to act on the number. The reason is recorded with the export.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from typing import Any

import duckdb

from lurewatch.csv_safety import neutralise
from review_app.ad_view import AdDetail
from review_app.indicators import info
from warehouse.pseudonymise import Pseudonymiser, pseudonymise_case

CSV_COLUMNS = ("section", "item", "field", "value")
FORMATS = ("csv", "json")
MIN_REASON_CHARS = 10
MAX_REASON_CHARS = 500


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def build_case(detail: AdDetail, exported_by: str) -> dict[str, Any]:
    """The whole case with every value as stored (contacts in clear): pass it through :func:`analyst_case` or
    :func:`referral_case` before it leaves the app."""
    return {
        "case": {
            "exported_at": datetime.now(UTC).isoformat(),
            "exported_by": exported_by,
            "tool": "lurewatch review",
            "model_version": detail.model_version,
        },
        "ad": {
            "ad_id": detail.ad_id,
            "site_id": detail.site_id,
            "url": detail.url,
            "external_id": detail.external_id,
            "title": detail.title,
            "body": detail.body,
            "company": detail.company,
            "location": detail.location,
            "country": detail.country,
            "salary_text": detail.salary_text,
            "contact_text": detail.contact_text,
            "language": detail.language,
            "posted": _plain(detail.posted),
            "first_seen": _plain(detail.first_seen),
            "last_seen": _plain(detail.last_seen),
            "content_hash": detail.content_hash,
            "score": detail.score,
            "current_label": detail.status,
        },
        "evidence": [
            {
                "indicator": str(e.get("indicator")),
                "indicator_title": info(str(e.get("indicator"))).title,
                "text": e.get("text"),
                "start": e.get("start"),
                "end": e.get("end"),
                "pattern": e.get("pattern"),
            }
            for e in detail.evidence
        ],
        "score_reasons": [
            {
                "feature": r.feature,
                "title": r.title,
                "value": r.value,
                "contribution": r.contribution,
                "evidence": r.evidence,
            }
            for r in detail.reasons
        ],
        "contacts": [
            {"kind": c.kind, "value": c.value, "raw": c.raw, "start": c.start, "end": c.end, "other_ads": c.other_ads}
            for c in detail.contacts
        ],
        "linked_ads": [
            {
                "ad_id": a.ad_id,
                "site_id": a.site_id,
                "url": a.url,
                "title": a.title,
                "first_seen": _plain(a.first_seen),
                "last_seen": _plain(a.last_seen),
                "score": a.score,
                "current_label": a.status,
                "linked_by": a.reasons,
            }
            for a in detail.linked
        ],
        "decisions": [
            {
                "label_id": h.label_id,
                "decided_at": _plain(h.decided_at),
                "analyst": h.analyst,
                "source": h.source,
                "action": h.action,
                "label": h.label,
                "previous_label": h.previous_label,
                "note": h.note,
                "undoes_label_id": h.undoes_label_id,
            }
            for h in detail.history
        ],
    }


def analyst_case(case: dict[str, Any], pseudonymiser: Pseudonymiser) -> dict[str, Any]:
    """The case an analyst may take out of the app: contacts pseudonymised, contact spans in the text masked."""
    out = pseudonymise_case(case, pseudonymiser)
    out["case"]["purpose"] = "analysis"
    return out


def referral_case(case: dict[str, Any], reason: str) -> dict[str, Any]:
    """The case in clear for a referral, marked as such and carrying the administrator's reason."""
    meta = {**case["case"], "purpose": "referral", "pseudonymised": False, "reason": reason}
    return {**case, "case": meta}


def clean_reason(reason: str) -> str:
    """The referral reason as recorded: one line, trimmed; raises ValueError when too short or too long."""
    text = " ".join(reason.split())
    if len(text) < MIN_REASON_CHARS:
        raise ValueError(f"Give the reason for a referral in clear (at least {MIN_REASON_CHARS} characters).")
    if len(text) > MAX_REASON_CHARS:
        raise ValueError(f"Keep the referral reason under {MAX_REASON_CHARS} characters.")
    return text


def to_json(case: dict[str, Any]) -> str:
    return json.dumps(case, ensure_ascii=False, indent=2)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(_plain(value))


def to_csv(case: dict[str, Any]) -> str:
    """One ``section, item, field, value`` row per value; every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    rows: list[tuple[str, str, str, Any]] = []
    for section in ("case", "ad"):
        rows += [(section, "", name, value) for name, value in case[section].items()]
    for section in ("evidence", "score_reasons", "contacts", "linked_ads", "decisions"):
        for number, record in enumerate(case[section], start=1):
            rows += [(section, str(number), name, value) for name, value in record.items()]
    for row in rows:
        writer.writerow([neutralise(_cell(cell)) for cell in row])
    return out.getvalue()


def record_export(con: duckdb.DuckDBPyConnection, case: dict[str, Any], fmt: str, analyst: str) -> None:
    """Log the export (who, which ad and linked ads, pseudonymised or not, the key's public id, the reason)."""
    meta = case["case"]
    con.execute(
        "INSERT INTO case_exports (ad_id, format, analyst, linked_ad_ids, pseudonymised, key_id, reason) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            case["ad"]["ad_id"],
            fmt if meta.get("pseudonymised") else f"{fmt}-referral",
            analyst,
            json.dumps([a["ad_id"] for a in case["linked_ads"]]),
            bool(meta.get("pseudonymised")),
            meta.get("pseudonym_key_id"),
            meta.get("reason"),
        ],
    ).fetchall()


def render_case(case: dict[str, Any], fmt: str) -> tuple[bytes, str]:
    """The download body and media type (CSV with a BOM, so spreadsheets detect UTF-8)."""
    if fmt == "csv":
        return ("\ufeff" + to_csv(case)).encode("utf-8"), "text/csv; charset=utf-8"
    return to_json(case).encode("utf-8"), "application/json"
