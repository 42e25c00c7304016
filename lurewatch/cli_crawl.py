"""Crawl commands for the ``lurewatch`` CLI: ``crawl-health`` and ``sites list`` / ``check`` / ``new``.

Mount with ``app.add_typer(cli_crawl.app)`` (no name: the commands join the top level).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from lurewatch.cli_common import DbOption, existing_warehouse
from lurewatch.settings import get_settings
from lurewatch.terminal import safe_text

app = typer.Typer(add_completion=False, help="Crawl health and site configs.")
sites_app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Site configs: list them, check them, propose new ones."
)
app.add_typer(sites_app, name="sites")

SitesDirOption = Annotated[
    Path | None, typer.Option("--sites-dir", help="Directory of site configs (default: crawlers/sites)")
]

ALERT_MARK = "!!"


def _database(db: Path | None) -> Path:
    return get_settings(db_path=db).database


@app.command("crawl-health")
def crawl_health(
    db: DbOption = None,
    limit: Annotated[int, typer.Option(min=1, help="How many runs (latest first)")] = 20,
    site: Annotated[str | None, typer.Option(help="Only this site config")] = None,
    alerts_only: Annotated[bool, typer.Option("--alerts-only", help="Only runs with alerts")] = False,
    fail_on_alert: Annotated[
        bool, typer.Option("--fail-on-alert", help="Exit 1 if the latest run of any site has an alert (for cron)")
    ] = False,
    drop_ratio: Annotated[float, typer.Option(help="Alert when items fall by more than this share")] = 0.5,
    min_items: Annotated[int, typer.Option(help="... of a previous run with at least this many items")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per run")] = False,
) -> None:
    """Crawl health per site per run, with alerts for failed runs, sharp item drops against the previous
    finished run of the same site, and selector misses that appeared (a silently broken selector)."""
    import warehouse
    from warehouse.ad_failures import failure_counts, latest_failures
    from warehouse.crawl_runs import health_report

    path = existing_warehouse(_database(db))
    with warehouse.session(path) as con:
        runs = health_report(con, limit=limit, site=site, drop_ratio=drop_ratio, min_items=min_items)
        failing, recent = failure_counts(con), latest_failures(con, limit=3)
    latest: dict[str, int] = {}
    for run in runs:
        latest.setdefault(run.site_id, run.run_id)
    shown = [run for run in runs if run.alerts or not alerts_only]
    if as_json:
        for run in shown:
            row = {k: getattr(run, k) for k in run.__dataclass_fields__ if k != "stats"}
            typer.echo(json.dumps(row, default=str, ensure_ascii=False))
    else:
        _print_health(shown, latest)
        _print_failures(failing, recent)
    alerting = sorted({run.site_id for run in runs if run.alerts and latest[run.site_id] == run.run_id})
    if not as_json:
        if alerting:
            typer.secho(f"\nattention - the latest run has alerts: {', '.join(alerting)}", fg="red", bold=True)
        elif runs:
            typer.echo("\nno alerts on the latest run of any site")
    if fail_on_alert and alerting:
        raise typer.Exit(1)


def _print_failures(failing: dict[str, int], recent: list[Any]) -> None:
    """Ads whose feature extraction or scoring failed (pipeline isolation, table ad_failures): count and latest."""
    if not any(failing.values()):
        typer.echo("\nno ad failed feature extraction or scoring")
        return
    typer.secho(
        f"\n{failing['extract']} ads failed extraction, {failing['score']} failed scoring "
        "(retried by the next `lurewatch extract` / `lurewatch score`); latest:",
        fg="yellow",
    )
    for failure in recent:
        typer.echo(f"  ad {failure.ad_id} ({failure.stage}, {failure.attempts}x): {safe_text(failure.error, 160)}")


def _print_health(runs: list[Any], latest: dict[str, int]) -> None:
    header = (
        f"{'':2} {'run':>5} {'site':<20}{'status':<10}{'started':<17}{'pages':>6}{'items':>7}{'prev':>6}"
        f"{'new':>5}{'chg':>5}{'304':>5}{'gone':>5}{'err':>5}{'miss':>5} {'full':<5} alerts"
    )
    typer.echo(header)
    for run in runs:
        mark = ALERT_MARK if run.alerts else ""
        started = run.started_at.strftime("%Y-%m-%d %H:%M") if run.started_at else ""
        prev = "" if run.prev_items is None else str(run.prev_items)
        line = (
            f"{mark:2} {run.run_id:>5} {safe_text(run.site_id, 19):<20}{run.status:<10}{started:<17}"
            f"{run.pages:>6}{run.items:>7}{prev:>6}{run.ads_inserted:>5}{run.ads_updated:>5}{run.not_modified:>5}"
            f"{run.ads_removed:>5}{run.errors:>5}{run.selector_misses:>5} {'yes' if run.complete else 'no':<5} "
            f"{'; '.join(run.alerts)}"
        )
        if run.alerts:
            typer.secho(line, fg="red", bold=latest.get(run.site_id) == run.run_id)
        else:
            typer.echo(line)


@sites_app.command("list")
def list_sites(
    sites_dir: SitesDirOption = None,
    db: DbOption = None,
) -> None:
    """Every site config (disabled ones too) with its entry point and, if the warehouse exists, its last run."""
    from crawlers.site_config import ConfigError, load_site_configs

    try:
        configs = load_site_configs(sites_dir, include_disabled=True)
    except ConfigError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
    last = _last_runs(_database(db))
    typer.echo(f"{'name':<22}{'on':<4}{'spider':<8}{'entry':<9}{'ads of':<16}{'last run':<28}base_url")
    for name, config in sorted(configs.items()):
        run = last.get(name)
        run_text = f"{run[1]} {run[0]:%Y-%m-%d %H:%M} {run[2]} ads" if run else "never"
        typer.echo(
            f"{name:<22}{'yes' if config.enabled else 'no':<4}{config.spider:<8}{config.entry:<9}"
            f"{config.ad_site_id:<16}{run_text:<28}{config.base_url}"
        )


def _last_runs(path: Path) -> dict[str, tuple[Any, str, int]]:
    if not path.exists():
        return {}
    import duckdb

    import warehouse

    try:  # read-only: listing configs must not migrate (or lock for long) someone's warehouse
        with warehouse.session(path, read_only=True, lock_timeout_s=5) as con:
            rows = con.execute(
                "SELECT site_id, arg_max(started_at, run_id), arg_max(status, run_id), arg_max(items, run_id) "
                "FROM crawl_runs GROUP BY site_id"
            ).fetchall()
    except (duckdb.Error, warehouse.WarehouseBusy):
        return {}
    return {row[0]: (row[1], row[2], int(row[3])) for row in rows}


@sites_app.command("check")
def check_sites(
    names: Annotated[list[str] | None, typer.Argument(help="Site config names (default: every config file)")] = None,
    sites_dir: SitesDirOption = None,
    fetch: Annotated[
        int, typer.Option(min=0, help="Also crawl until this many ads were extracted (nothing is stored) and show them")
    ] = 0,
    base_url: Annotated[str | None, typer.Option(help="Fetch from here instead of the config's base_url")] = None,
) -> None:
    """Validate site configs (each file on its own, so one broken file does not hide the others). With
    --fetch N, crawl each named site until N ads were extracted, without storing anything, and show the
    fields found and any selector misses - the check to run when adding or fixing a site."""
    from crawlers.site_config import SITES_DIR, ConfigError, load_site_config

    directory = sites_dir or SITES_DIR
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    if names:
        wanted = set(names)
        files = [f for f in files if f.stem in wanted]
        missing = wanted - {f.stem for f in files}
        if missing:
            typer.secho(f"unknown site(s): {', '.join(sorted(missing))} in {directory}", fg="red", err=True)
            raise typer.Exit(2)
    if fetch and base_url and len(files) != 1:
        raise typer.BadParameter("--base-url needs exactly one site name")
    problems = 0
    valid: list[str] = []
    for path in files:
        try:
            config = load_site_config(path)
        except ConfigError as exc:
            problems += 1
            typer.secho(f"FAIL {path.stem}: {exc}", fg="red")
            continue
        valid.append(config.name)
        typer.echo(f"ok   {config.name} ({config.spider} spider, {config.entry} entry, ads of {config.ad_site_id})")
    if fetch:
        for name in valid:
            problems += _fetch_check(name, directory, base_url, fetch)
    if problems:
        raise typer.Exit(1)


def _fetch_check(name: str, directory: Path, base_url: str | None, limit: int) -> int:
    from crawlers.run import CrawlError, preview_site

    try:
        result = preview_site(name, base_url, limit, sites_dir=directory)
    except CrawlError as exc:
        typer.secho(f"FAIL {name}: {exc}", fg="red")
        return 1
    typer.echo(
        f"\n{name}: {result['items']} ads from {result['pages']} pages, {result['errors']} errors, "
        f"{result['selector_misses']} selector misses"
    )
    for sample in result["samples"]:
        typer.echo(f"  - {safe_text(sample['title'], 80)}  [{safe_text(sample['url'])}]")
        filled = [k for k in ("external_id", "company", "location", "country", "salary_text", "contact_text",
                              "page_language", "posted") if sample.get(k)]
        typer.echo(f"    fields: {', '.join(filled) or 'title, body only'}; body: {safe_text(sample['body'], 100)}")
    for miss in result["miss_samples"]:
        typer.secho(f"  selector miss on {safe_text(miss['url'])}: {', '.join(miss['fields'])}", fg="yellow")
    bad = result["items"] == 0 or result["selector_misses"] > 0 or result["errors"] > 0
    if bad:
        typer.secho(f"FAIL {name}: fix the selectors (or the site is down) before crawling it", fg="red")
    return int(bad)


@sites_app.command("new")
def new_site(
    url: Annotated[str, typer.Argument(help="The board: its home page, or better a page that lists ads")],
    name: Annotated[str | None, typer.Option(help="Config name (default: from the host, e.g. cv-lv)")] = None,
    out: Annotated[
        Path | None, typer.Option(help="File (or directory) to write (default: crawlers/sites/NAME.yaml)")
    ] = None,
    pages: Annotated[int, typer.Option(min=2, max=50, help="At most this many requests besides robots.txt")] = 12,
    delay: Annotated[
        float | None,
        typer.Option(min=0, help="Seconds between requests (default: 1, or LUREWATCH_CRAWL_DELAY_S if larger; "
                                 "a robots.txt Crawl-delay is always honoured)"),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing config file")] = False,
) -> None:
    """Propose a site config for a board: fetch a few of its pages politely (robots.txt first, our User-Agent,
    the crawler's timeout and size cap), detect sitemaps, feeds, the listing's ad links and pagination and the
    ads' schema.org JobPosting markup, write a config with `enabled: false` and report what was found and which
    fields could not be filled. Check it with `lurewatch sites check NAME --fetch 5` before enabling it."""
    from crawlers.onboard import OnboardError, propose
    from crawlers.site_config import SITES_DIR, ConfigError, load_site_config
    from lurewatch.cli_common import fail

    target, name = _new_site_target(url, name, out, SITES_DIR)
    if target.exists() and not force:
        raise fail(f"{target} already exists: pass --force to overwrite it, or --name/--out for another file")
    if not target.parent.is_dir():
        raise fail(f"{target.parent} is not a directory: check --out")
    settings = get_settings()
    try:
        proposal = propose(
            url, name, user_agent=settings.user_agent, max_pages=pages,
            timeout_s=settings.crawl_timeout_s, max_bytes=settings.crawl_max_page_bytes,
            min_delay_s=delay if delay is not None else max(1.0, settings.crawl_delay_s),
        )
    except OnboardError as exc:
        raise fail(str(exc), code=1) from exc
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        temporary.write_text(proposal.yaml_text(url), encoding="utf-8")
        load_site_config(temporary.rename(target))
    except OSError as exc:
        raise fail(f"cannot write {target}: {exc.strerror or exc}") from exc
    except ConfigError as exc:  # never expected: the proposal is validated before it is written
        raise fail(str(exc), code=1) from exc
    _print_proposal(proposal, target)


def _new_site_target(url: str, name: str | None, out: Path | None, sites_dir: Path) -> tuple[Path, str]:
    """The file to write and the config name (which must be the file's stem)."""
    import re

    from crawlers.onboard import OnboardError, default_name, site_root
    from lurewatch.cli_common import fail

    try:
        site_root(url)
    except OnboardError as exc:
        raise fail(str(exc)) from exc
    if out is not None and out.suffix in {".yaml", ".yml"}:
        if name is not None and name != out.stem:
            raise fail(f"--name {name} and --out {out.name} disagree: a config's name is its file name")
        name = out.stem
    name = name or default_name(url)
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
        raise fail(f"invalid config name {name!r}: lower-case letters, digits, '-' and '_' only")
    directory = out if out is not None and out.suffix not in {".yaml", ".yml"} else None
    if out is not None and directory is None:
        return out, name
    return (directory or sites_dir) / f"{name}.yaml", name


def _print_proposal(proposal: Any, target: Path) -> None:
    config = proposal.config
    typer.echo(f"fetched {len(proposal.fetched)} page(s) besides robots.txt")
    for what, detail in proposal.found:
        typer.echo(f"  {what:<22} {safe_text(detail)}")
    for url, reason in proposal.skipped:
        typer.echo(f"  {'not fetched':<22} {safe_text(url, 120)}: {safe_text(reason)}")
    for text in proposal.alternatives:
        typer.echo(f"  {'alternative':<22} {safe_text(text)}")
    if proposal.unfilled:
        typer.secho(f"  {'could not fill':<22} {', '.join(proposal.unfilled)}", fg="yellow")
    typer.echo(
        f"\nwrote {target}: spider {config['spider']}, entry {config['entry']} "
        f"({', '.join(config['start_paths'])}), enabled: false"
    )
    typer.echo(f"next: lurewatch sites check {config['name']} --fetch 5"
               + (f" --sites-dir {target.parent}" if target.parent.resolve() != _sites_dir().resolve() else ""))


def _sites_dir() -> Path:
    from crawlers.site_config import SITES_DIR

    return SITES_DIR
