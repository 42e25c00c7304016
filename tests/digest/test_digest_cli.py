"""``lurewatch service digest`` / ``export-parquet`` / ``schedules`` (the Typer app in lurewatch/cli_service.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digest.mailsink import MailSink
from lurewatch.cli_service import app
from warehouse import session


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUREWATCH_DATA_DIR", str(tmp_path / "data"))


def test_digest_command_builds_and_sends(
    synthetic_warehouse: Path, warehouse_copy: Callable[[Path], Path], tmp_path: Path, mail_sink: MailSink
) -> None:
    db = warehouse_copy(synthetic_warehouse)
    config = tmp_path / "digest.yaml"
    config.write_text(json.dumps({
        "archive_dir": "archive", "smtp": {"port": mail_sink.port},
        "recipients": [{"id": "ngo", "name": "NGO", "emails": ["n@ngo.test"], "formats": ["html"]},
                       {"id": "other", "name": "Other", "emails": ["o@ngo.test"], "formats": ["html"]}],
    }), encoding="utf-8")
    runner = CliRunner()
    args = ["digest", "--db", str(db), "--digest-config", str(config), "--week", "2026-11-09"]
    built = runner.invoke(app, [*args, "--recipient", "ngo", "--no-send"])
    assert built.exit_code == 0, built.output
    assert "2026-11-09 ngo:" in built.output and "not sent" in built.output and "other" not in built.output
    sent = runner.invoke(app, args)
    assert sent.exit_code == 0, sent.output
    assert "ngo: " in sent.output and "(unchanged, reused); sent" in sent.output
    assert sorted(r.rcpt_tos for r in mail_sink.wait_for(2)) == [("n@ngo.test",), ("o@ngo.test",)]
    missing = runner.invoke(app, ["digest", "--db", str(db), "--digest-config", str(tmp_path / "none.yaml")])
    assert missing.exit_code != 0 and "recipients.example.yaml" in missing.output


def test_export_parquet_and_schedules_commands(
    synthetic_warehouse: Path, warehouse_copy: Callable[[Path], Path], tmp_path: Path
) -> None:
    db = warehouse_copy(synthetic_warehouse)
    runner = CliRunner()
    result = runner.invoke(app, ["export-parquet", str(tmp_path / "lake"), "--db", str(db), "--week", "2026-11-09"])
    assert result.exit_code == 0, result.output
    with session(db) as con:
        in_week = con.execute(
            "SELECT count(*) FROM ads WHERE posted >= DATE '2026-11-09' AND posted < DATE '2026-11-16'"
        ).fetchall()[0][0]
    assert f"ads {in_week:>16} rows".split() == next(line for line in result.output.splitlines()
                                                      if line.startswith("ads ")).split()
    assert (tmp_path / "lake" / "ads" / "site=balticjobs" / "week=2026-11-09").is_dir()
    schedules = runner.invoke(app, ["schedules"])
    assert schedules.exit_code == 0, schedules.output
    assert "0 3 * * *" in schedules.output and "0 7 * * 1" in schedules.output and "0 4 1 * *" in schedules.output
    assert "limit site:balticjobs" in schedules.output
