"""A case for referral to the police or a hotline: the ad, its evidence, contacts, linked ads and decisions,
as JSON (values exactly as stored) or CSV (cells that a spreadsheet would run as a formula are neutralised)."""

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

CSV_COLUMNS = ("section", "item", "field", "value")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def build_case(detail: AdDetail, exported_by: str) -> dict[str, Any]:
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


def record_export(
    con: duckdb.DuckDBPyConnection, case: dict[str, Any], fmt: str, analyst: str
) -> None:
    con.execute(
        "INSERT INTO case_exports (ad_id, format, analyst, linked_ad_ids) VALUES (?, ?, ?, ?)",
        [case["ad"]["ad_id"], fmt, analyst, json.dumps([a["ad_id"] for a in case["linked_ads"]])],
    ).fetchall()
