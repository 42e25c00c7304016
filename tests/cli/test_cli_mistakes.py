"""Ordinary mistakes on the command line end in one clear ``error:`` line and a non-zero exit, never a traceback
(issue 14, "Command line"); a wrong ``--db`` never silently creates an empty warehouse."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.cli.conftest import assert_one_error_line, run_cli


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    return {"LUREWATCH_DATA_DIR": str(tmp_path / "data")}


def test_score_input_without_text_column_missing_file_or_not_utf8_is_one_line(
    champion_warehouse: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    no_text = tmp_path / "no_text.csv"
    no_text.write_text("id,body\n1,hello\n", encoding="utf-8")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("id,text\n1,Darbs Rīgā\n2,".encode() + "café".encode("latin-1") + b"\n")
    db = ["--db", str(champion_warehouse)]
    assert_one_error_line(run_cli("score", *db, "--input", no_text, env=env), "needs a 'text' column", "'body'")
    assert_one_error_line(run_cli("score", *db, "--input", tmp_path / "nope.csv", env=env), "no such file")
    assert_one_error_line(run_cli("score", *db, "--input", latin, env=env), "line 3 is not UTF-8")
    assert not (tmp_path / "latin.scored.csv").exists()


def test_crawl_of_an_unknown_site_is_one_line_and_creates_nothing(tmp_path: Path, env: dict[str, str]) -> None:
    db = tmp_path / "new" / "lw.duckdb"
    line = assert_one_error_line(run_cli("crawl", "--site", "nosuchsite", "--db", db, env=env), "unknown site")
    assert "balticjobs" in line  # the known sites are named
    assert not db.parent.exists()


def test_digest_week_must_be_a_monday_and_the_recipient_must_exist(
    champion_warehouse: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    config = tmp_path / "digest.yaml"
    config.write_text(json.dumps({"archive_dir": str(tmp_path / "archive"), "recipients": [
        {"id": "ngo", "name": "NGO", "emails": ["n@ngo.test"], "formats": ["html"]}]}), encoding="utf-8")
    base = ["service", "digest", "--db", str(champion_warehouse), "--digest-config", str(config), "--no-send"]
    assert_one_error_line(run_cli(*base, "--week", "2026-11-11", env=env), "is a Wednesday", "2026-11-09")
    assert_one_error_line(run_cli(*base, "--week", "last week", env=env), "not a date")
    assert_one_error_line(run_cli(*base, "--week", "2026-11-09", "--recipient", "nobody", env=env),
                          "no recipient nobody", "ngo")
    assert_one_error_line(run_cli(*base[:-3], "--digest-config", tmp_path / "none.yaml", env=env),
                          "no digest config")
    assert not (tmp_path / "archive").exists()


@pytest.mark.parametrize("args", [["top", "--limit", "-3"], ["top", "--limit", "many"],
                                  ["crawl-health", "--limit", "0"], ["models", "nosuchcommand"]])
def test_bad_option_values_are_one_line(
    args: list[str], champion_warehouse: Path, env: dict[str, str]
) -> None:
    db = [] if args[0] == "models" else ["--db", str(champion_warehouse)]
    assert_one_error_line(run_cli(*args, *db, env=env), "lurewatch")


def test_review_serve_on_a_busy_port_is_one_line(tmp_path: Path, env: dict[str, str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("review", "serve", "--host", "127.0.0.1", "--port", str(port), "--db",
                         tmp_path / "lw.duckdb", env=env, timeout=120)
    assert_one_error_line(result, f"cannot listen on 127.0.0.1:{port}", "--port")


READ_ONLY = [
    ["top"], ["models", "list"], ["models", "show"], ["crawl-health"], ["evaluate"], ["privacy", "history"],
    ["service", "export-parquet", "{tmp}/lake"], ["service", "digest", "--no-send"], ["score"],
    ["score", "--input", "{tmp}/in.csv"],
]


@pytest.mark.parametrize("args", READ_ONLY, ids=lambda a: " ".join(a[:2]))
def test_read_only_commands_refuse_a_missing_warehouse_and_create_nothing(
    args: list[str], tmp_path: Path, env: dict[str, str]
) -> None:
    """Issue 14: a wrong --db used to create a new empty warehouse (folders included) and then say "no champion
    model yet". Commands that only read refuse it in one line and leave no file or folder behind."""
    (tmp_path / "in.csv").write_text("text\nhello\n", encoding="utf-8")
    missing = tmp_path / "typo" / "lw.duckdb"
    result = run_cli(*[a.replace("{tmp}", str(tmp_path)) for a in args], "--db", missing, env=env)
    assert_one_error_line(result, f"no warehouse at {missing}")
    assert not missing.parent.exists()
    assert not (tmp_path / "lake").exists()


def test_a_command_that_writes_says_it_created_a_new_warehouse(tmp_path: Path, env: dict[str, str]) -> None:
    db = tmp_path / "fresh" / "lw.duckdb"
    first = run_cli("extract", "--db", db, env=env)
    assert first.returncode == 0, first.stderr
    assert f"created a new warehouse at {db}" in first.stderr and db.is_file()
    again = run_cli("extract", "--db", db, env=env)
    assert again.returncode == 0 and "created a new warehouse" not in again.stderr
