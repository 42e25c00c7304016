"""The weekly_digest Prefect flow: query, render, archive and e-mail per recipient; the same numbers read from
the Parquet export give the same fingerprint, so a second run renders and sends nothing."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from digest.mailsink import MailSink
from digest.synthetic import SyntheticSpec, generate
from flows.digest import digest_deliver_task, digest_query_task, digest_render_task, weekly_digest
from warehouse import session
from warehouse.parquet import export_parquet

WEEK = date(2026, 11, 9)


def test_weekly_digest_flow_archives_mails_and_is_idempotent_across_storage(tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    with session(db) as con:
        generate(con, SyntheticSpec(ads=4000))
        export_parquet(con, tmp_path / "lake")
    with MailSink() as sink:
        config = tmp_path / "digest.yaml"
        config.write_text(
            json.dumps(
                {
                    "archive_dir": "archive",
                    "smtp": {"host": "127.0.0.1", "port": sink.port},
                    "defaults": {"formats": ["html", "csv"]},
                    "recipients": [
                        {"id": "ngo-a", "name": "A", "emails": ["a@ngo.test"]},
                        {"id": "ngo-b", "name": "B", "emails": ["b@ngo.test"], "filters": {"languages": ["lt"]}},
                        {"id": "archive-only", "name": "Archive"},
                    ],
                }
            ),
            encoding="utf-8",
        )
        first = weekly_digest(config_path=str(config), db_path=str(db), week=WEEK, parquet_root=str(tmp_path / "lake"))
        received = sink.wait_for(2)
        second = weekly_digest(config_path=str(config), db_path=str(db), week=WEEK)
    assert first["week"] == "2026-11-09"
    assert [(d["recipient"], d["delivery"], d["reused"]) for d in first["digests"]] == [
        ("ngo-a", "sent", False), ("ngo-b", "sent", False), ("archive-only", None, False)]
    assert sorted(r.rcpt_tos for r in received) == [("a@ngo.test",), ("b@ngo.test",)]
    # read from DuckDB this time: same numbers, same fingerprint -> the archived digest, no second e-mail
    assert [(d["delivery"], d["reused"]) for d in second["digests"]] == [("skipped", True), ("skipped", True),
                                                                         (None, True)]
    assert [d["fingerprint"] for d in second["digests"]] == [d["fingerprint"] for d in first["digests"]]
    assert len(sink.received) == 2
    assert all((Path(d["folder"]) / "manifest.json").exists() for d in first["digests"])
    assert Path(first["digests"][0]["folder"]).is_relative_to(tmp_path / "archive")


def test_digest_tasks_have_retries_timeouts_and_tags() -> None:
    assert (digest_query_task.retries, digest_query_task.timeout_seconds) == (2, 900)
    assert digest_render_task.timeout_seconds == 900
    assert digest_deliver_task.retries == 3 and digest_deliver_task.timeout_seconds == 180
    assert digest_deliver_task.tags == {"smtp"}


def test_missing_config_is_explained(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"recipients\.example\.yaml"):
        weekly_digest.fn(config_path=str(tmp_path / "nope.yaml"), db_path=str(tmp_path / "wh.duckdb"))
