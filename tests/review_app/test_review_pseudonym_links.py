"""Linked ads across the retention boundary: a fresh ad and an old ad whose shared contact retention replaced by
its pseudonym stay linked on the ad page (both ways), with the app's key (or the environment's); without a key the
page works as before (old and fresh ads are simply not linked by that contact)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from review_support import prepare, query, running

from review_app.ad_view import LINKING_KINDS, load_ad
from warehouse import session
from warehouse.pseudonymise import KEY_ENV, KEY_FILE_ENV, Pseudonymiser, is_pseudonym
from warehouse.retention import apply_retention

TEST_KEY = "review-link-test-key-" + "0123456789abcdef" * 2
LINKED_TABLE = re.compile(r'<table class="linked">(.*?)</table>', re.S)
LINKED_ROW = re.compile(r'<tr>\s*<td><a href="/ads/(\d+)[^"]*">.*?</tr>', re.S)
TAG = re.compile(r'<span class="tag">([^<]*)</span>')
CONTACT = re.compile(r'<span class="kind">([^<]*)</span> <span class="value">([^<]*)</span>(.*?)</li>', re.S)
OTHER_ADS = re.compile(r"in (\d+) other ads?")


def _linked(page: str) -> dict[int, list[str]]:
    """Linked ads on an ad page: ad id -> the "linked by" reasons."""
    table = LINKED_TABLE.search(page)
    if table is None:
        return {}
    return {int(row.group(1)): [html.unescape(t) for t in TAG.findall(row.group(0))]
            for row in LINKED_ROW.finditer(table.group(1))}


def _other_ads(page: str) -> dict[tuple[str, str], int]:
    """Contacts on an ad page: (kind, value) -> the number of other ads carrying it."""
    out: dict[tuple[str, str], int] = {}
    for kind, value, rest in CONTACT.findall(page):
        count = OTHER_ADS.search(rest)
        out[(html.unescape(kind), html.unescape(value))] = int(count.group(1)) if count else 0
    return out


def _shared_pair(db: Path) -> tuple[str, str, int, int, int]:
    """(kind, value, old ad, fresh ad, other ads with that contact): two ads sharing a contact, a phone number if
    there is one."""
    kinds = ", ".join(f"'{k}'" for k in LINKING_KINDS)
    rows = query(
        db,
        f"""
        WITH shared AS (
            SELECT e.kind, e.value, e.ad_id AS fresh, list(DISTINCT o.ad_id ORDER BY o.ad_id) AS holders
            FROM entities e JOIN entities o ON o.kind = e.kind AND o.value = e.value AND o.ad_id <> e.ad_id
            WHERE e.kind IN ({kinds})
            GROUP BY ALL
        )
        SELECT kind, value, holders[1], fresh, len(holders) FROM shared ORDER BY kind <> 'phone', fresh LIMIT 1
        """,
    )
    assert rows, "the fixture sites reuse contacts across ads"
    kind, value, old, fresh, others = rows[0]
    return str(kind), str(value), int(old), int(fresh), int(others)


def test_ad_page_links_fresh_and_pseudonymised_ads_by_their_shared_contact(
    review_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An old ad pseudonymised by a real retention run and a fresh ad with the same contact in clear: with the app
    configured with the key retention used, the fresh ad's page lists the old ad as linked by that contact and
    counts it in the contact's "in N other ads"; the old ad's page lists the fresh ad by its pseudonym. An app with
    no key configured still serves the pages, and the contact no longer links the two (old ads then only link among
    themselves, as the stored values say)."""
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    settings = prepare(review_template, tmp_path / "review")  # with a key file of its own
    assert settings.pseudonym_key_file is not None
    key = Pseudonymiser.from_env({KEY_FILE_ENV: str(settings.pseudonym_key_file)})
    kind, value, old, fresh, others = _shared_pair(settings.database)
    with session(settings.database) as con:
        con.execute("UPDATE ads SET last_seen = now() - INTERVAL 100 DAY WHERE ad_id = ?", [old])
        apply_retention(con, 30, pseudonymiser=key)
    pseudonym = key.pseudonym(value)
    stored = {v for (v,) in query(settings.database, "SELECT value FROM entities WHERE ad_id = ?", [old])}
    assert pseudonym in stored and all(is_pseudonym(v) for v in stored)
    assert query(settings.database, "SELECT value FROM entities WHERE ad_id = ? AND kind = ? AND value = ?",
                 [fresh, kind, value])

    with running(settings) as env:
        client = env.logged_in()
        fresh_page = client.get(f"/ads/{fresh}")
        assert fresh_page.status_code == 200
        assert f"{kind} {value}" in _linked(fresh_page.text).get(old, [])
        assert _other_ads(fresh_page.text)[(kind, value)] == others
        old_page = client.get(f"/ads/{old}")
        assert old_page.status_code == 200
        assert f"{kind} {pseudonym}" in _linked(old_page.text).get(fresh, [])
        assert _other_ads(old_page.text)[(kind, pseudonym)] == others
        client.close()

    with running(settings.model_copy(update={"pseudonym_key_file": None})) as env:
        client = env.logged_in()
        plain_page = client.get(f"/ads/{fresh}")
        assert plain_page.status_code == 200
        assert f"{kind} {value}" not in _linked(plain_page.text).get(old, [])
        assert _other_ads(plain_page.text)[(kind, value)] == others - 1
        assert client.get(f"/ads/{old}").status_code == 200
        client.close()

    monkeypatch.setenv(KEY_ENV, TEST_KEY)  # a different product-wide key: the app's own key must win
    with session(settings.database) as con:  # a key passed in wins over the environment (here: another key)
        detail = load_ad(con, fresh, None, pseudonymiser=key)
    assert detail is not None
    assert any(a.ad_id == old and f"{kind} {value}" in a.reasons for a in detail.linked)
