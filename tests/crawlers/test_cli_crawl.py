"""The crawl commands of the CLI: `crawl-health` flags silently broken sites, `sites list` shows every config,
`sites check` validates configs and, with --fetch, previews what a config extracts without storing anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from minisite_server import MINI_CONFIG, MiniSite, ad_page, listing_page, write_config
from typer.testing import CliRunner

from lurewatch.cli_crawl import ALERT_MARK, app
from warehouse import connect
from warehouse.crawl_runs import finish_run, health_report, start_run

runner = CliRunner()


def _run(db: Path, site: str, items: int, misses: int = 0, status: str = "finished",
         skipped: str | None = None) -> int:
    con = connect(db)
    try:
        run = start_run(con, site)
        finish_run(con, run, status=status, pages=items + 1, items=items, ads_inserted=0, ads_updated=0,
                   errors=0, selector_misses=misses, complete=status == "finished" and skipped is None,
                   stats={"removal_skipped": skipped})
    finally:
        con.close()
    return run


@pytest.fixture()
def history(tmp_path: Path) -> Path:
    db = tmp_path / "w.duckdb"
    _run(db, "steady", 120)
    _run(db, "dropping", 100)
    _run(db, "broken-selector", 40)
    _run(db, "steady", 118)
    _run(db, "dropping", 30)  # -70 %
    _run(db, "broken-selector", 40, misses=6)  # same items, but a required field stopped matching
    _run(db, "steady", 2, status="failed")
    _run(db, "steady", 117)  # the failed run is not the baseline: compared with 118
    _run(db, "feed", 25, skipped="disabled for entry 'feed'")  # by design: no alert
    _run(db, "partial", 50, skipped="1 entry page(s) failed")
    return db


def test_health_report_alerts(history: Path) -> None:
    """Alerts come from comparing each run with the previous *finished* run of the same site."""
    con = connect(history)
    try:
        report = {run.run_id: run for run in health_report(con)}
    finally:
        con.close()
    assert report[5].alerts == ("items dropped 70% (100 → 30)",)
    assert report[6].alerts == ("selector misses appeared (0 → 6)",)
    assert report[7].alerts == ("run failed",)
    assert report[8].alerts == () and report[8].prev_items == 118
    assert report[1].alerts == () and report[1].prev_items is None
    assert report[9].alerts == ()
    assert report[10].alerts == ("partial crawl: 1 entry page(s) failed",)


def test_crawl_health_command_highlights_alerts(history: Path) -> None:
    """The table marks alerting runs with !! and names the sites whose latest run needs attention;
    --fail-on-alert turns that into exit code 1 for cron, --alerts-only and --json filter and format."""
    result = runner.invoke(app, ["crawl-health", "--db", str(history)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    flagged = [line for line in lines if line.startswith(ALERT_MARK)]
    assert len(flagged) == 4
    assert any("dropping" in line and "items dropped 70%" in line for line in flagged)
    assert any("broken-selector" in line and "selector misses appeared" in line for line in flagged)
    assert "the latest run has alerts: broken-selector, dropping, partial" in result.output

    failing = runner.invoke(app, ["crawl-health", "--db", str(history), "--fail-on-alert", "--alerts-only"])
    assert failing.exit_code == 1
    assert "steady" in failing.output  # the failed run of steady is listed (an alert), its healthy runs are not
    assert sum(1 for line in failing.output.splitlines() if line.startswith(ALERT_MARK)) == 4

    quiet = runner.invoke(app, ["crawl-health", "--db", str(history), "--site", "steady", "--fail-on-alert"])
    assert quiet.exit_code == 0 and "no alerts on the latest run" in quiet.output

    as_json = runner.invoke(app, ["crawl-health", "--db", str(history), "--json", "--site", "steady", "--limit", "2"])
    rows = [json.loads(line) for line in as_json.output.splitlines()]
    assert [row["run_id"] for row in rows] == [8, 7] and rows[1]["alerts"] == ["run failed"]


def test_crawl_health_without_warehouse_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["crawl-health", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code != 0 and "no warehouse" in result.output
    assert not (tmp_path / "none.duckdb").exists()


def test_sites_list_shows_every_config_and_its_last_run(history: Path) -> None:
    """Bundled configs including the disabled example entry points, with the last run when there is one."""
    result = runner.invoke(app, ["sites", "list", "--db", str(history)])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line for line in result.output.splitlines()[1:]}
    assert {"balticjobs", "skelbimai", "darbas-forum", "balticjobs-sitemap", "darbas-forum-rss"} <= set(rows)
    assert rows["darbas-forum-rss"].split()[1:4] == ["no", "listing", "feed"]
    assert "never" in rows["balticjobs"]


def test_sites_check_reports_each_broken_file(tmp_path: Path) -> None:
    """Every file is checked on its own: the broken one fails with its problem, the good one is ok."""
    sites = write_config(tmp_path / "sites")
    broken = {**MINI_CONFIG, "name": "broken", "fields": {"title": {"css": "h1[["}, "body": {"css": "p"}}}
    (sites / "broken.yaml").write_text(yaml.safe_dump(broken), encoding="utf-8")
    result = runner.invoke(app, ["sites", "check", "--sites-dir", str(sites)])
    assert result.exit_code == 1
    assert "FAIL broken:" in result.output and "invalid selector" in result.output
    assert "ok   minisite" in result.output
    assert runner.invoke(app, ["sites", "check", "minisite", "--sites-dir", str(sites)]).exit_code == 0
    assert runner.invoke(app, ["sites", "check", "nope", "--sites-dir", str(sites)]).exit_code == 2


def test_sites_check_fetch_previews_without_storing(tmp_path: Path) -> None:
    """--fetch crawls until N ads were extracted and prints them with the fields found; a detail page where
    a required selector matches nothing makes the check fail and names the field. Nothing is written."""
    with MiniSite() as site:
        site.pages = {
            "/robots.txt": (200, "User-agent: *\nAllow: /\n"),
            "/list?page=1": (200, listing_page(["/ad/1", "/ad/2"], None)),
            "/ad/1": (200, ad_page("1", "Packer", "Packing boxes.", "Tel. +371 20000001")),
            "/ad/2": (200, ad_page("2", "Redesigned", None)),  # the body selector no longer matches
        }
        result = runner.invoke(app, ["sites", "check", "minisite", "--sites-dir", str(write_config(tmp_path / "s")),
                                     "--fetch", "5", "--base-url", site.base_url])
    assert result.exit_code == 1, result.output
    assert "minisite: 1 ads" in result.output and "1 selector misses" in result.output
    assert "Packer" in result.output and "contact_text" in result.output
    assert "selector miss on" in result.output and "/ad/2: body" in result.output
    assert "FAIL minisite" in result.output
    assert not list(tmp_path.rglob("*.duckdb"))
