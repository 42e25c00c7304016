"""Case exports for referral: contents (ad, evidence, contacts, linked ads, decisions), CSV formula neutralising."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from review_support import ReviewEnv, query

from lurewatch.csv_safety import FORMULA_TRIGGERS, neutralise


def _linked_ad(env: ReviewEnv) -> int:
    """An ad sharing a phone number or e-mail with another ad (the fixture reuses contacts across sites)."""
    rows = query(
        env.db,
        """
        SELECT e.ad_id FROM entities e JOIN entities o ON o.kind = e.kind AND o.value = e.value AND o.ad_id <> e.ad_id
        WHERE e.kind IN ('phone', 'email', 'telegram', 'whatsapp', 'viber') ORDER BY e.ad_id LIMIT 1
        """,
    )
    return int(rows[0][0])


def _csv_rows(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_json_export_holds_the_whole_case(shared_env: ReviewEnv) -> None:
    """The JSON case has the ad with its exact text, every evidence span, the contacts, the ads linked by shared
    contacts, the score reasons and the decision history; it is a download and the export is logged."""
    ad_id = _linked_ad(shared_env)
    client = shared_env.logged_in()
    client.decide(ad_id, "lure", note="referred to hotline")
    response = client.get(f"/ads/{ad_id}/export.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-disposition"] == f'attachment; filename="lurewatch-case-{ad_id}.json"'
    case: dict[str, Any] = json.loads(response.text)
    title, body = query(shared_env.db, "SELECT title, body FROM ads WHERE ad_id = ?", [ad_id])[0]
    assert case["ad"]["ad_id"] == ad_id and case["ad"]["title"] == title and case["ad"]["body"] == body
    assert case["case"]["exported_by"] == "alice" and case["ad"]["current_label"] == "lure"
    evidence = json.loads(query(shared_env.db, "SELECT evidence FROM features WHERE ad_id = ?", [ad_id])[0][0])
    assert [(e["indicator"], e["text"]) for e in case["evidence"]] == [(e["indicator"], e["text"]) for e in evidence]
    contacts = query(shared_env.db, "SELECT kind, value FROM entities WHERE ad_id = ? ORDER BY start_pos", [ad_id])
    assert sorted((c["kind"], c["value"]) for c in case["contacts"]) == sorted(contacts)
    linked = query(
        shared_env.db,
        "SELECT DISTINCT o.ad_id FROM entities e JOIN entities o ON o.kind = e.kind AND o.value = e.value "
        "AND o.ad_id <> e.ad_id WHERE e.ad_id = ? AND e.kind <> 'url'",
        [ad_id],
    )
    assert {a["ad_id"] for a in case["linked_ads"]} == {r[0] for r in linked} and case["linked_ads"]
    assert all(a["linked_by"] for a in case["linked_ads"])
    assert case["decisions"][0]["label"] == "lure" and case["decisions"][0]["note"] == "referred to hotline"
    assert case["score_reasons"]
    logged = query(shared_env.db, "SELECT format, analyst, linked_ad_ids FROM case_exports WHERE ad_id = ?", [ad_id])
    assert logged[-1][:2] == ("json", "alice")
    assert set(json.loads(logged[-1][2])) == {a["ad_id"] for a in case["linked_ads"]}


def test_csv_export_matches_json_and_neutralises_formulas(shared_env: ReviewEnv) -> None:
    """The CSV carries the same values as the JSON (section, item, field, value rows) and no cell starts with a
    character a spreadsheet would evaluate: the =HYPERLINK(...) fixture ad is exported as inert text."""
    ad_id = int(query(shared_env.db, "SELECT ad_id FROM ads WHERE body LIKE '%=HYPERLINK(%'")[0][0])
    client = shared_env.logged_in()
    as_json = json.loads(client.get(f"/ads/{ad_id}/export.json").text)
    response = client.get(f"/ads/{ad_id}/export.csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == f'attachment; filename="lurewatch-case-{ad_id}.csv"'
    rows = _csv_rows(response.text)
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(FORMULA_TRIGGERS), row
    fields = {(r["section"], r["field"]): r["value"] for r in rows if r["section"] == "ad"}
    assert fields[("ad", "body")] == as_json["ad"]["body"]  # the formula sits mid-text: kept verbatim
    assert fields[("ad", "title")] == as_json["ad"]["title"]
    sections = {r["section"] for r in rows}
    assert {"case", "ad", "evidence", "contacts"} <= sections
    contact_values = [r["value"] for r in rows if r["section"] == "contacts" and r["field"] == "value"]
    assert contact_values == [neutralise(c["value"]) for c in as_json["contacts"]]
    assert any(v.startswith("'+") for v in contact_values)  # E.164 phone numbers start with '+'


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_neutralise_prefixes_every_formula_trigger(trigger: str) -> None:
    """Cells starting with = + - @ TAB or CR get a leading apostrophe; other cells are unchanged."""
    assert neutralise(f"{trigger}HYPERLINK(\"http://evil.example\")") == f"'{trigger}HYPERLINK(\"http://evil.example\")"
    assert neutralise(f"a{trigger}b") == f"a{trigger}b"
