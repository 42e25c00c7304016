"""The pseudonym derivation is pinned to fixed known answers.

Every pseudonym stored by retention, every case export and every link from a fresh ad to a pseudonymised one
depends on ``Pseudonymiser.pseudonym`` giving the same output for the same key and contact forever. A changed
derivation (another HMAC label, hash, normalisation, prefix or length) would silently cut every stored link while
every test that computes its expectation with the same function still passed: these values were computed once and
are written down here, and they are also recomputed from the documented recipe
(``"pz1_" + HMAC-SHA256(key, "lurewatch-contact\\0" + normalised)[:24 hex]``) without the code under test."""

from __future__ import annotations

import hashlib
import hmac

import duckdb
import pytest

from warehouse.pseudonymise import Pseudonymiser, is_pseudonym

KEY = b"lurewatch-known-answer-test-key-0123456789"  # a test-only key, never a real one

KNOWN = [
    ("+371 2914 5678", "pz1_6e26f496f3a21c67e382b813"),
    ("+37129145678", "pz1_6e26f496f3a21c67e382b813"),  # phone-like values compare as +digits
    ("Jan@Inbox.LV", "pz1_b27ade3fcfcbe420ded0557d"),  # case-folded
    ("jan@inbox.lv", "pz1_b27ade3fcfcbe420ded0557d"),
    ("\uff2a\uff21\uff2e@inbox.lv", "pz1_b27ade3fcfcbe420ded0557d"),  # full-width letters: NFKC first
    ("www.firma.lv/x", "pz1_a4ccce09d3991da71fd2af4a"),
    ("@recruiter_anna", "pz1_9bb8294316ce19a12abe8a22"),
]


def _recipe(normalised: str) -> str:
    digest = hmac.new(KEY, b"lurewatch-contact\x00" + normalised.encode("utf-8"), hashlib.sha256).hexdigest()
    return "pz1_" + digest[:24]


@pytest.mark.parametrize(("value", "expected"), KNOWN)
def test_pseudonyms_match_their_known_answers(value: str, expected: str) -> None:
    """Each contact form gives exactly the pseudonym written down when the derivation was fixed."""
    assert Pseudonymiser(KEY).pseudonym(value) == expected


def test_known_answers_follow_the_documented_recipe() -> None:
    """The written-down answers are the documented HMAC recipe applied to the normalised contact (computed here
    without the code under test), so they are not just a snapshot of whatever the code did once."""
    assert _recipe("+37129145678") == "pz1_6e26f496f3a21c67e382b813"
    assert _recipe("jan@inbox.lv") == "pz1_b27ade3fcfcbe420ded0557d"
    assert _recipe("www.firma.lv/x") == "pz1_a4ccce09d3991da71fd2af4a"
    assert _recipe("@recruiter_anna") == "pz1_9bb8294316ce19a12abe8a22"


def test_key_fingerprint_and_idempotence_are_pinned() -> None:
    """The public key fingerprint recorded with retention runs and exports is fixed too; a pseudonym passed in again
    comes back unchanged; another key gives another pseudonym."""
    pseudonymiser = Pseudonymiser(KEY)
    assert pseudonymiser.key_id == "b745a918fb6c"
    assert pseudonymiser.key_id == hashlib.sha256(b"lurewatch-pseudonym-key-id\x00" + KEY).hexdigest()[:12]
    assert pseudonymiser.pseudonym("pz1_6e26f496f3a21c67e382b813") == "pz1_6e26f496f3a21c67e382b813"
    assert is_pseudonym("pz1_6e26f496f3a21c67e382b813")
    assert Pseudonymiser(KEY[::-1]).pseudonym("+37129145678") != "pz1_6e26f496f3a21c67e382b813"


def test_the_sql_function_gives_the_same_known_answers() -> None:
    """``lw_pseudonym`` in DuckDB (used to link fresh ads to pseudonymised ones) gives the same pinned values."""
    con = duckdb.connect()
    try:
        Pseudonymiser(KEY).register_sql(con)
        got = con.execute(
            "SELECT v, lw_pseudonym(v) FROM (SELECT unnest(?::VARCHAR[]) AS v)", [[v for v, _ in KNOWN]]
        ).fetchall()
    finally:
        con.close()
    assert dict(got) == dict(KNOWN)
