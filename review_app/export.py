"""A case for referral to the police or a hotline: the ad, its evidence, contacts, linked ads and decisions,
as JSON (values exactly as stored) or CSV (cells that a spreadsheet would run as a formula are neutralised).

Two kinds of export leave the app:

* the **analyst export** (any analyst): every contact identifier replaced by its keyed pseudonym and the contact
  spans in the ad text masked (:func:`warehouse.pseudonymise.pseudonymise_case`); the same pseudonym an ad gets from
  retention, so a hotline can tell two cases apart or together without seeing a phone number. Then one scrubber
  (:func:`scrub_case`) searches every text field of every section, linked ads included, for contacts the stored
  extraction does not list (a national-format number, a URL in the company field, a phone in a linked ad's title);
* the **referral export** (administrators only, a reason required): values in clear, for the police or a hotline
  that needs to act on the number. The reason is recorded with the export.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime
from typing import Any

import duckdb

from features.contacts import extract_contacts, lower_same_length
from features.phones import find_phones
from lurewatch.csv_safety import neutralise
from review_app.ad_view import AdDetail
from review_app.indicators import info
from warehouse.pseudonymise import DIGEST_HEX, PREFIX, Pseudonymiser, mask_spans, pseudonymise_case

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


# Values the app itself produces (times, hashes, account names, labels, codes): not ad or note text, not scrubbed.
_MACHINE_FIELDS = frozenset(
    {
        "exported_at", "exported_by", "tool", "purpose", "pseudonymised", "pseudonym_key_id", "model_version",
        "posted", "first_seen", "last_seen", "decided_at", "content_hash", "analyst", "source", "action", "label",
        "previous_label", "current_label", "indicator", "language", "site_id", "kind", "feature",
    }
)
# The board's own address and id of an ad: kept as references, only contacts found inside them are replaced.
_REFERENCE_FIELDS = frozenset({"url", "external_id"})
# Masked in place, same length, so the evidence offsets into them stay valid.
_IN_PLACE = frozenset({("ad", "title"), ("ad", "body")})
_PSEUDONYM_IN_TEXT = re.compile(rf"{PREFIX}[0-9a-f]{{{DIGEST_HEX}}}")
# Any 7-15 digits written as one number (national formats such as "2914 5678" that no numbering plan validated).
_NUMBER_RUN = re.compile(r"(?<![\w+])\+?\(?\d(?:[ \t\u00a0\-./()]{0,2}\d){6,14}(?!\d)")
_DATE_LIKE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")
_MONEY_AFTER = re.compile(r"\s{0,2}(?:€|\$|£|₽|eur|euro|eiro|zł|zl\b|pln|руб|usd|gbp|nok|sek)", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w.@])@[a-z0-9_][a-z0-9_.]{2,29}[a-z0-9_]", re.IGNORECASE)
_NETWORK_HANDLE = re.compile(  # "instagram: model.casting", "IG - x_y_z", "tiktok @..." (no @ needed)
    r"\b(?:instagram|insta|inst|ig|tiktok|tik\s?tok|snapchat|snap|vk|facebook|fb)\b[\s:;,\-–—]{0,4}"
    r"(?P<handle>@?[a-z0-9_][a-z0-9_.]{2,29}[a-z0-9_])",
    re.IGNORECASE,
)


def contact_spans(text: str, *, references: bool = False) -> list[tuple[int, int, str]]:
    """Every contact-like span in ``text`` as ``(start, end, identifier)``, overlapping spans merged: what
    :func:`features.contacts.extract_contacts` finds (phones in any numbering plan it knows, e-mails incl. obfuscated
    ones, messenger links and handles, URLs), any other @handle or social-network handle, and any run of 7-15
    digits that is not a date or an amount. Pseudonyms already in the text are left alone. ``references``: the
    text is an ad's own URL or id, so it is not one URL contact as a whole and digit runs alone do not count."""
    protected = [m.span() for m in _PSEUDONYM_IN_TEXT.finditer(text)]
    found = [(c.start, c.end, c.value) for c in extract_contacts(text) if not (references and c.kind == "url")]
    if references:  # a URL claims its whole span in extract_contacts: look for numbers inside it separately
        found += [(m.start, m.end, m.e164) for m in find_phones(lower_same_length(text))]
    found += [(m.start(), m.end(), m.group()) for m in _HANDLE.finditer(text)]
    found += [(m.start("handle"), m.end("handle"), m.group("handle")) for m in _NETWORK_HANDLE.finditer(text)]
    if not references:
        for m in _NUMBER_RUN.finditer(text):
            run = m.group()
            if _DATE_LIKE.match(run) or _MONEY_AFTER.match(text, m.end()):
                continue
            found.append((m.start(), m.end(), run))
    spans = sorted(
        (start, end, value)
        for start, end, value in found
        if end > start and not any(start < p_end and p_start < end for p_start, p_end in protected)
    )
    merged: list[tuple[int, int, str]] = []
    for start, end, value in spans:
        if merged and start < merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), last[2])
        else:
            merged.append((start, end, value))
    return merged


def scrub_text(text: str, pseudonymiser: Pseudonymiser, *, in_place: bool = False, references: bool = False) -> str:
    """``text`` with every contact-like span (:func:`contact_spans`) masked with ``•`` (``in_place``: same length)
    or replaced by the keyed pseudonym of the identifier."""
    spans = contact_spans(text, references=references)
    if not spans:
        return text
    if in_place:
        return mask_spans(text, [(start, end) for start, end, _ in spans])
    parts: list[str] = []
    position = 0
    for start, end, value in spans:
        parts += [text[position:start], pseudonymiser.pseudonym(value)]
        position = end
    parts.append(text[position:])
    return "".join(parts)


def _scrub_value(value: Any, pseudonymiser: Pseudonymiser, key: str, section: str) -> Any:
    if isinstance(value, str):
        if key in _MACHINE_FIELDS:
            return value
        return scrub_text(
            value, pseudonymiser, in_place=(section, key) in _IN_PLACE, references=key in _REFERENCE_FIELDS
        )
    if isinstance(value, list):
        return [_scrub_value(item, pseudonymiser, key, section) for item in value]
    if isinstance(value, dict):
        return {name: _scrub_value(item, pseudonymiser, str(name), section) for name, item in value.items()}
    return value


def scrub_case(case: dict[str, Any], pseudonymiser: Pseudonymiser) -> dict[str, Any]:
    """The one scrubber every analyst export goes through: every text field of every section (the ad, evidence,
    score reasons, contacts, *linked ads*, decisions and notes) is searched for contacts itself, whatever the
    extraction stored: the ad's title and body are masked in place, everything else gets keyed pseudonyms."""
    return {section: _scrub_value(value, pseudonymiser, "", section) for section, value in case.items()}


def analyst_case(case: dict[str, Any], pseudonymiser: Pseudonymiser) -> dict[str, Any]:
    """The case an analyst may take out of the app: the stored contacts pseudonymised and their spans masked
    (:func:`warehouse.pseudonymise.pseudonymise_case`), then every text field through :func:`scrub_case`."""
    out = scrub_case(pseudonymise_case(case, pseudonymiser), pseudonymiser)
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
