"""The ad_failures table (migration 0014): what is stored about a failing ad, and when it is forgotten."""

from __future__ import annotations

from pathlib import Path

from warehouse import session
from warehouse.ad_failures import (
    AdFailure,
    describe_error,
    failure_counts,
    forget_resolved,
    latest_failures,
    record_failures,
)
from warehouse.ads import upsert_ads
from warehouse.records import AdRow


def _raise(message: str) -> BaseException:
    try:
        raise ValueError(message)
    except ValueError as error:
        return error


def test_stored_errors_carry_no_contact_and_say_where_they_were_raised() -> None:
    """An exception message may quote ad text: phone numbers (international and national), e-mails, URLs and
    handles are masked, the line is capped, and the file:line of the raise is kept for the developer."""
    error = _raise(
        "bad token in 'zvani +371 2914 5678 vai 2914 5678, raksti anna@example.lv, https://wa.me/37129145678, "
        "@recruiter_lv'" + " x" * 500
    )
    text = describe_error(error)
    for contact in ("2914", "5678", "anna@", "wa.me", "recruiter_lv"):
        assert contact not in text
    assert text.startswith("ValueError: bad token in 'zvani [number] vai [number], raksti [e-mail], [url] [handle]")
    assert text.endswith("in _raise)") and "tests/warehouse/test_ad_failures.py:" in text
    assert len(text) < 400 and "\n" not in text
    assert describe_error(_raise("")).startswith("ValueError (at ")
    assert describe_error(KeyError("р")) == "KeyError: 'р'"  # never raised: no location, message kept


def test_failures_count_attempts_and_are_forgotten_once_the_ad_goes_through(tmp_path: Path) -> None:
    """A failure is recorded once per ad and stage, counted again on each failing run, deleted when the stage
    succeeds for the ad, and dropped as resolved if the ad got up-to-date features by another route."""
    with session(tmp_path / "lw.duckdb") as con:
        upsert_ads(con, [AdRow("s", f"http://x/{i}", f"t{i}", "b") for i in range(3)], run_id=None)
        ids = [int(r[0]) for r in con.execute("SELECT ad_id FROM ads ORDER BY ad_id").fetchall()]
        hashes = dict(con.execute("SELECT ad_id, content_hash FROM ads").fetchall())
        first = [AdFailure(i, hashes[i], "KeyError: 'р'") for i in ids[:2]]
        record_failures(con, "extract", "v1", first)
        record_failures(con, "extract", "v1", first[:1])
        record_failures(con, "score", "m1", [AdFailure(ids[2], hashes[ids[2]], "ValueError")])
        assert failure_counts(con) == {"extract": 2, "score": 1}
        attempts = dict(con.execute("SELECT ad_id, attempts FROM ad_failures WHERE stage = 'extract'").fetchall())
        assert attempts == {ids[0]: 2, ids[1]: 1}
        assert {f.ad_id for f in latest_failures(con, limit=5)} == set(ids)

        record_failures(con, "extract", "v2", [], succeeded=[ids[0]])
        assert failure_counts(con) == {"extract": 1, "score": 1}

        con.execute(
            "INSERT INTO features (ad_id, content_hash, extractor_version, language, language_confidence, vector, "
            "evidence) VALUES (?, ?, 'v2', 'en', 1.0, '{}', '[]')", [ids[1], hashes[ids[1]]],
        )
        forget_resolved(con)
        assert failure_counts(con) == {"extract": 0, "score": 1}
