"""The pseudonym bridge: plain contact values of fresh ads paired with the pseudonyms retention gave old ads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from warehouse import connect
from warehouse.ads import upsert_ads
from warehouse.contact_links import bridge_key, contact_bridge, has_pseudonymised_contacts, pseudonym_bridge
from warehouse.pseudonymise import KEY_ENV, KEY_FILE_ENV, Pseudonymiser
from warehouse.records import AdRow, ad_text
from warehouse.retention import apply_retention

KEY = Pseudonymiser(b"contact-links-test-key-" + b"0" * 16)
NOW = datetime(2026, 11, 24, 12, 0)
KINDS = ("phone", "email", "whatsapp", "telegram", "viber")
# (url, last seen, [(kind, value)]): ad 1 and 2 are old, 3 and 4 fresh
ADS: list[tuple[str, datetime, list[tuple[str, str]]]] = [
    ("https://x.example/1", datetime(2026, 6, 1), [("phone", "+37129145678"), ("email", "jan@inbox.lv")]),
    ("https://x.example/2", datetime(2026, 6, 2), [("whatsapp", "+37129145678")]),
    ("https://x.example/3", NOW, [("phone", "+37129145678"), ("telegram", "@fresh_only")]),
    ("https://x.example/4", NOW, [("email", "Jan@Inbox.LV"), ("url", "https://apply.example/form")]),
]


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Four ads with contacts written as entities; ads 1 and 2 pseudonymised by a real retention run."""
    con = connect(tmp_path / "lw.duckdb")
    for url, seen, contacts in ADS:
        body = "Darbs. Kontakti: " + ", ".join(value for _, value in contacts)
        upsert_ads(con, [AdRow("site", url, "Darbs", body)], run_id=None, seen_at=seen)
        ad_id = con.execute("SELECT ad_id FROM ads WHERE url = ?", [url]).fetchall()[0][0]
        text = ad_text("Darbs", body)
        for kind, value in contacts:
            start = text.index(value)
            con.execute(
                "INSERT INTO entities (ad_id, kind, value, raw, start_pos, end_pos) VALUES (?, ?, ?, ?, ?, ?)",
                [ad_id, kind, value, value, start, start + len(value)],
            )
    apply_retention(con, 30, pseudonymiser=KEY, now=NOW)
    yield con
    con.close()


def test_bridge_pairs_plain_values_with_the_stored_pseudonyms(con: duckdb.DuckDBPyConnection) -> None:
    """Every distinct plain value whose pseudonym an old ad holds is paired with it (whatever its kind and its
    spelling: pseudonyms are of the normalised value); values no old ad had are not in the bridge."""
    phone, mail = KEY.pseudonym("+37129145678"), KEY.pseudonym("jan@inbox.lv")
    assert {v for (v,) in con.execute("SELECT value FROM entities WHERE ad_id <= 2").fetchall()} == {phone, mail}
    assert has_pseudonymised_contacts(con, KINDS) and not has_pseudonymised_contacts(con, ["url"])
    assert pseudonym_bridge(con, KEY, KINDS) == [("+37129145678", phone), ("Jan@Inbox.LV", mail)]
    assert pseudonym_bridge(con, KEY, ["phone"]) == [("+37129145678", phone)]
    assert pseudonym_bridge(con, KEY, KINDS, plain=["@fresh_only", phone]) == []
    assert pseudonym_bridge(con, KEY, ["telegram"], targets=[phone]) == []
    assert pseudonym_bridge(con, KEY, ["phone"], targets=[phone]) == [("+37129145678", phone)]
    assert contact_bridge(con, KINDS, pseudonymiser=KEY) == pseudonym_bridge(con, KEY, KINDS)
    assert contact_bridge(con, ["url", "telegram"], pseudonymiser=KEY) == []  # no pseudonym of these kinds


def test_without_a_key_the_bridge_is_empty_and_nothing_fails(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No key configured (or an unusable one): linking falls back to stored values, no error; a key in the
    environment is used when the caller passes none."""
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    assert bridge_key(con, KINDS) is None and contact_bridge(con, KINDS) == []
    monkeypatch.setenv(KEY_ENV, "too-short")
    assert contact_bridge(con, KINDS) == []
    monkeypatch.setenv(KEY_ENV, KEY.key.decode())
    assert bridge_key(con, KINDS) == KEY
    assert len(contact_bridge(con, KINDS)) == 2
