"""Case exports: contents (ad, evidence, contacts, linked ads, decisions), contacts pseudonymised for analysts and in
clear only in an administrator's referral with a logged reason, CSV formula neutralising."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from review_support import ADMIN, Client, ReviewEnv, prepare, query, running

from lurewatch.csv_safety import FORMULA_TRIGGERS, neutralise
from review_app.app import create_app
from warehouse.pseudonymise import KEY_FILE_ENV, MASK_CHAR, Pseudonymiser, PseudonymKeyError, is_pseudonym
from warehouse.records import ad_text


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


def _pseudonymiser(env: ReviewEnv) -> Pseudonymiser:
    assert env.settings.pseudonym_key_file is not None
    return Pseudonymiser.from_env({KEY_FILE_ENV: str(env.settings.pseudonym_key_file)})


def _clear_values(db: Path, ad_id: int) -> set[str]:
    rows = query(db, "SELECT value, raw FROM entities WHERE ad_id = ?", [ad_id])
    return {text for row in rows for text in row if len(text) >= 5}


def _referral(client: Client, ad_id: int, fmt: str, reason: str) -> httpx.Response:
    return client.post(f"/ads/{ad_id}/referral.{fmt}", {"csrf_token": client.session_token(), "reason": reason})


def test_analyst_json_export_holds_the_whole_case_with_contacts_pseudonymised(shared_env: ReviewEnv) -> None:
    """The analyst's JSON case has the ad, every evidence span, the contacts, the ads linked by shared contacts,
    the score reasons and the decision history, but no contact value leaves the app: contacts are the keyed
    pseudonyms (the same ones retention gives), contact spans in the text are masked in place (offsets stay
    valid), a phone number the analyst typed into a note becomes its pseudonym. The export is logged with the
    key's public id."""
    ad_id = _linked_ad(shared_env)
    phone = query(shared_env.db, "SELECT value FROM entities WHERE ad_id = ? ORDER BY start_pos", [ad_id])[0][0]
    client = shared_env.logged_in()
    client.decide(ad_id, "lure", note=f"referred to hotline, they know {phone}")
    response = client.get(f"/ads/{ad_id}/export.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-disposition"] == f'attachment; filename="lurewatch-case-{ad_id}.json"'
    leaked = [value for value in _clear_values(shared_env.db, ad_id) if value in response.text]
    assert leaked == []
    case: dict[str, Any] = json.loads(response.text)
    pseudonymiser = _pseudonymiser(shared_env)
    assert case["case"]["pseudonymised"] is True and case["case"]["purpose"] == "analysis"
    assert case["case"]["pseudonym_key_id"] == pseudonymiser.key_id
    title, body = query(shared_env.db, "SELECT title, body FROM ads WHERE ad_id = ?", [ad_id])[0]
    exported = ad_text(case["ad"]["title"], case["ad"]["body"])
    original = ad_text(title, body)
    assert len(exported) == len(original) and exported != original
    assert all(a in (b, MASK_CHAR) for a, b in zip(exported, original, strict=True))
    assert case["ad"]["ad_id"] == ad_id and case["case"]["exported_by"] == "alice"
    assert case["ad"]["current_label"] == "lure"
    evidence = json.loads(query(shared_env.db, "SELECT evidence FROM features WHERE ad_id = ?", [ad_id])[0][0])
    assert [e["indicator"] for e in case["evidence"]] == [e["indicator"] for e in evidence]
    contacts = query(shared_env.db, "SELECT kind, value FROM entities WHERE ad_id = ? ORDER BY start_pos", [ad_id])
    expected = sorted((kind, pseudonymiser.pseudonym(value)) for kind, value in contacts)
    assert sorted((c["kind"], c["value"]) for c in case["contacts"]) == expected
    assert all(is_pseudonym(c["raw"]) for c in case["contacts"])
    linked = query(
        shared_env.db,
        "SELECT DISTINCT o.ad_id FROM entities e JOIN entities o ON o.kind = e.kind AND o.value = e.value "
        "AND o.ad_id <> e.ad_id WHERE e.ad_id = ? AND e.kind <> 'url'",
        [ad_id],
    )
    assert {a["ad_id"] for a in case["linked_ads"]} == {r[0] for r in linked} and case["linked_ads"]
    assert all(a["linked_by"] for a in case["linked_ads"])
    note = case["decisions"][0]["note"]
    assert case["decisions"][0]["label"] == "lure" and note.startswith("referred to hotline, they know pz1_")
    assert case["score_reasons"]
    logged = query(
        shared_env.db,
        "SELECT format, analyst, linked_ad_ids, pseudonymised, key_id, reason FROM case_exports WHERE ad_id = ? "
        "ORDER BY export_id",
        [ad_id],
    )
    assert logged[-1][:2] == ("json", "alice") and logged[-1][3:] == (True, pseudonymiser.key_id, None)
    assert set(json.loads(logged[-1][2])) == {a["ad_id"] for a in case["linked_ads"]}


def test_referral_export_in_clear_is_for_administrators_with_a_reason(shared_env: ReviewEnv) -> None:
    """Contacts in clear leave the app only through the referral export: an analyst is refused (403), an
    administrator must give a reason (400 without one, 403 without the form's CSRF token, 405 by plain link); the
    referral carries the stored values exactly and is logged as a referral with its reason."""
    ad_id = _linked_ad(shared_env)
    reason = "Police request 2026/114: contact numbers needed"
    analyst = shared_env.logged_in()
    assert _referral(analyst, ad_id, "json", reason).status_code == 403
    admin = shared_env.logged_in(ADMIN)
    assert _referral(admin, ad_id, "json", "   too  ").status_code == 400
    no_token = admin.post(f"/ads/{ad_id}/referral.json", {"reason": reason})
    assert no_token.status_code == 403
    assert admin.get(f"/ads/{ad_id}/referral.json").status_code == 405
    assert query(shared_env.db, "SELECT count(*) FROM case_exports WHERE reason IS NOT NULL AND ad_id = ?",
                 [ad_id])[0][0] == 0
    response = _referral(admin, ad_id, "json", f"  {reason}\n")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == f'attachment; filename="lurewatch-case-{ad_id}-referral.json"'
    case = json.loads(response.text)
    assert case["case"] | {"exported_at": None} == case["case"] | {
        "exported_at": None, "purpose": "referral", "pseudonymised": False, "reason": reason, "exported_by": "root",
    }
    title, body = query(shared_env.db, "SELECT title, body FROM ads WHERE ad_id = ?", [ad_id])[0]
    assert (case["ad"]["title"], case["ad"]["body"]) == (title, body)
    contacts = query(shared_env.db, "SELECT kind, value FROM entities WHERE ad_id = ?", [ad_id])
    assert sorted((c["kind"], c["value"]) for c in case["contacts"]) == sorted(contacts)
    logged = query(shared_env.db, "SELECT format, analyst, pseudonymised, key_id, reason FROM case_exports "
                   "WHERE ad_id = ? ORDER BY export_id", [ad_id])
    assert logged[-1] == ("json-referral", "root", False, None, reason)


def test_admin_page_offers_the_referral_form_and_analyst_page_does_not(shared_env: ReviewEnv) -> None:
    """Only administrators see the referral form; everybody sees the pseudonymised export links."""
    ad_id = _linked_ad(shared_env)
    analyst_page = shared_env.logged_in().get(f"/ads/{ad_id}").text
    admin_page = shared_env.logged_in(ADMIN).get(f"/ads/{ad_id}").text
    for page in (analyst_page, admin_page):
        assert f'href="/ads/{ad_id}/export.csv"' in page and f'href="/ads/{ad_id}/export.json"' in page
    assert f'action="/ads/{ad_id}/referral.json"' in admin_page and 'name="reason"' in admin_page
    assert "referral." not in analyst_page


def test_without_a_key_analysts_get_no_export_rather_than_one_in_clear(
    review_template: Path, tmp_path: Path
) -> None:
    """No pseudonymisation key configured: the analyst export answers 503 with what the operator must do, and
    nothing is logged; the administrator's referral (in clear by design) still works."""
    settings = prepare(review_template, tmp_path / "nokey", pseudonym_key_file=None)
    with running(settings) as env:
        ad_id = _linked_ad(env)
        response = env.logged_in().get(f"/ads/{ad_id}/export.json")
        assert response.status_code == 503
        assert "LUREWATCH_PSEUDONYM_KEY_FILE" in response.text
        assert query(env.db, "SELECT count(*) FROM case_exports")[0][0] == 0
        assert _referral(env.logged_in(ADMIN), ad_id, "csv", "hotline case 2026-7 needs it").status_code == 200


def test_a_configured_but_unsafe_key_stops_the_app_from_starting(review_template: Path, tmp_path: Path) -> None:
    """A key file that other users can read is refused at start-up (not silently used, not silently ignored)."""
    key = tmp_path / "shared.key"
    key.write_text("k" * 64, encoding="utf-8")
    key.chmod(0o644)
    with pytest.raises(PseudonymKeyError, match="readable by other users"):
        create_app(prepare(review_template, tmp_path / "badkey", pseudonym_key_file=key))


def test_csv_export_matches_json_and_neutralises_formulas(shared_env: ReviewEnv) -> None:
    """The CSV carries the same values as the JSON (section, item, field, value rows) and no cell starts with a
    character a spreadsheet would evaluate: the =HYPERLINK(...) fixture ad is exported as inert text, in the
    analyst export and in the referral (where E.164 phone numbers, starting with '+', get the apostrophe)."""
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
    assert "=HYPERLINK(" in fields[("ad", "body")]
    assert fields[("ad", "title")] == as_json["ad"]["title"]
    sections = {r["section"] for r in rows}
    assert {"case", "ad", "evidence", "contacts"} <= sections
    contact_values = [r["value"] for r in rows if r["section"] == "contacts" and r["field"] == "value"]
    assert contact_values == [neutralise(c["value"]) for c in as_json["contacts"]]
    assert contact_values and all(is_pseudonym(v) for v in contact_values)
    referral = _referral(shared_env.logged_in(ADMIN), ad_id, "csv", "hotline referral, case 2026-31")
    assert referral.status_code == 200 and referral.headers["content-type"].startswith("text/csv")
    clear_rows = _csv_rows(referral.text)
    for row in clear_rows:
        for cell in row.values():
            assert not cell.startswith(FORMULA_TRIGGERS), row
    clear_values = [r["value"] for r in clear_rows if r["section"] == "contacts" and r["field"] == "value"]
    assert any(v.startswith("'+") for v in clear_values)


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_neutralise_prefixes_every_formula_trigger(trigger: str) -> None:
    """Cells starting with = + - @ TAB or CR get a leading apostrophe; other cells are unchanged."""
    assert neutralise(f"{trigger}HYPERLINK(\"http://evil.example\")") == f"'{trigger}HYPERLINK(\"http://evil.example\")"
    assert neutralise(f"a{trigger}b") == f"a{trigger}b"
