"""``lurewatch service``: run lurewatch as a scheduled service on one machine, the digest, the Parquet export.

    lurewatch service start                 # prefect server on 127.0.0.1:4200 + the scheduled deployments
    lurewatch service schedules             # what runs when
    lurewatch service digest [--week D]     # build, archive and e-mail a digest now
    lurewatch service export-parquet DIR    # partitioned Parquet copy of the warehouse

Mount with ``app.add_typer(cli_service.app, name="service")`` in ``lurewatch/cli.py``; or run it as
``python -m lurewatch.cli_service``. Prefect is imported only inside commands, after its environment is set.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from lurewatch.cli_common import DbOption, LurewatchTyper, existing_warehouse, fail, warehouse_for_writing
from lurewatch.prefect_env import configure_prefect
from lurewatch.settings import Settings, get_settings

app = LurewatchTyper(add_completion=False, no_args_is_help=True, help="Run lurewatch as a scheduled service.")
ConfigOption = Annotated[
    Path | None, typer.Option("--digest-config", help="Digest recipients YAML (default: <data dir>/digest.yaml)")
]


def _settings(db: Path | None, *, must_exist: bool = False, may_create: bool = False) -> Settings:
    """``must_exist``: refuse a missing warehouse (read-only commands); ``may_create``: create it, saying so."""
    settings = get_settings(db_path=db)
    if must_exist:
        existing_warehouse(settings.database)
    elif may_create:
        warehouse_for_writing(settings.database)
    configure_prefect(settings)
    return settings


def _monday(value: str | None) -> date | None:
    """``--week``: an ISO date that is a Monday (the first day of a digest week), or one error line."""
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError as error:
        raise fail(f"--week {value!r} is not a date (YYYY-MM-DD, a Monday)") from error
    if day.weekday() != 0:
        monday = date.fromordinal(day.toordinal() - day.weekday())
        raise fail(f"--week {value} is a {day:%A}: give the Monday the week starts on ({monday.isoformat()})")
    return day


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def wait_for_api(api_url: str, timeout_s: float, process: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until ``<api_url>/health`` answers (or the server process died)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"prefect server exited with code {process.returncode} (see its log)")
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"the Prefect API at {api_url} did not come up within {timeout_s:g} s")


def start_server(host: str, port: int, log_file: Path) -> subprocess.Popen[bytes]:
    """``prefect server start`` in a child process (its output in ``log_file``)."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=os.environ.copy(),
            start_new_session=True,  # its own process group: stopping it stops the uvicorn it starts
        )


def _signal_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
        return True
    except ProcessLookupError:
        return False


def stop_process(process: subprocess.Popen[bytes], timeout_s: float = 20.0) -> None:
    """Stop a child started with ``start_new_session=True`` and everything in its process group: SIGTERM, then
    SIGKILL for whatever is still there after ``timeout_s``."""
    pgid = process.pid
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        process.poll()  # reap the leader, or the group never looks empty
        if not _signal_group(pgid, 0):
            break
        time.sleep(0.2)
    else:
        _signal_group(pgid, signal.SIGKILL)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@app.command()
def start(
    db: DbOption = None,
    digest_config: ConfigOption = None,
    host: Annotated[str, typer.Option(help="Address of the Prefect API server (loopback only)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the Prefect API server")] = 4200,
    server: Annotated[bool, typer.Option(help="Start `prefect server` (--no-server: use PREFECT_API_URL)")] = True,
    ui: Annotated[bool, typer.Option(help="Serve Prefect's web UI too")] = False,
    dask_address: Annotated[
        str | None, typer.Option(help="Dask scheduler for feature extraction and scoring (tcp://host:8786)")
    ] = None,
    timezone: Annotated[str, typer.Option(help="Time zone of the schedules")] = "Europe/Riga",
    startup_timeout: Annotated[float, typer.Option(help="Seconds to wait for the server")] = 180.0,
) -> None:
    """Start the whole service on this machine: Prefect server on loopback + the scheduled deployments."""
    settings = _settings(db, may_create=True)
    from digest.config import default_config_path  # (no Prefect import before its environment is set)

    config_path = digest_config or default_config_path(settings.data_dir)
    if not config_path.exists():
        typer.echo(f"warning: no digest config at {config_path}: the weekly digest will fail until there is one "
                   "(copy digest/recipients.example.yaml)", err=True)
    if not _is_loopback(host):
        raise typer.BadParameter(f"{host} is not a loopback address: the service's API has no authentication")
    os.environ["PREFECT_UI_ENABLED"] = "true" if ui else "false"
    process: subprocess.Popen[bytes] | None = None
    if server:
        os.environ["PREFECT_API_URL"] = f"http://{host}:{port}/api"
        log_file = Path(os.environ["PREFECT_HOME"]) / "server.log"
        typer.echo(f"starting prefect server on http://{host}:{port} (log {log_file})")
        process = start_server(host, port, log_file)
        (Path(os.environ["PREFECT_HOME"]) / "server.pid").write_text(str(process.pid), encoding="utf-8")
    elif "PREFECT_API_URL" not in os.environ:
        raise typer.BadParameter("--no-server needs PREFECT_API_URL pointing to a running Prefect API")
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        wait_for_api(os.environ["PREFECT_API_URL"], startup_timeout, process)
        from flows.deployments import ServiceOptions, serve_service

        options = ServiceOptions(
            db_path=str(settings.database),
            digest_config=str(digest_config) if digest_config else None,
            dask_address=dask_address,
            timezone=timezone,
        )
        typer.echo(f"serving deployments against {os.environ['PREFECT_API_URL']} (Ctrl-C stops)")
        serve_service(options)
    except KeyboardInterrupt:
        pass
    finally:
        if process is not None:
            stop_process(process)


@app.command()
def schedules(timezone: Annotated[str, typer.Option(help="Time zone of the schedules")] = "Europe/Riga") -> None:
    """Print the deployments, their schedules and the tag concurrency limits."""
    from flows.deployments import ServiceOptions, concurrency_limits, configured_sites

    options = ServiceOptions(timezone=timezone)
    typer.echo(f"crawl-and-score/daily   {options.crawl_cron:<12} {timezone}")
    typer.echo(f"weekly-digest/weekly    {options.digest_cron:<12} {timezone}")
    typer.echo(f"retrain/monthly         {options.retrain_cron:<12} {timezone}")
    for tag, limit in sorted(concurrency_limits(options, configured_sites()).items()):
        typer.echo(f"limit {tag:<24} {limit}")


@app.command()
def digest(
    db: DbOption = None,
    digest_config: ConfigOption = None,
    week: Annotated[str | None, typer.Option(help="Monday of the week (default: the last complete week)")] = None,
    recipient: Annotated[list[str] | None, typer.Option(help="Only this recipient id; repeat for several")] = None,
    send: Annotated[bool, typer.Option(help="E-mail the digests (--no-send: build and archive only)")] = True,
    parquet: Annotated[Path | None, typer.Option(help="Read the numbers from this Parquet export")] = None,
) -> None:
    """Build, archive and (unless --no-send) e-mail the weekly digest now."""
    monday = _monday(week)
    settings = _settings(db, must_exist=parquet is None)
    from digest.config import default_config_path, load_config
    from digest.delivery import DeliveryError
    from digest.service import run_digest
    from lurewatch.terminal import Progress

    config_path = digest_config or default_config_path(settings.data_dir)
    if not config_path.exists():
        raise fail(f"no digest config at {config_path}: copy digest/recipients.example.yaml there")
    try:
        config = load_config(config_path)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise fail(f"{config_path}: {error}") from error
    known = [r.id for r in config.recipients]
    unknown = [r for r in recipient or [] if r not in known]
    if unknown:
        raise fail(f"no recipient {', '.join(unknown)} in {config_path} (recipients: {', '.join(known) or 'none'})")
    if parquet is not None and not parquet.is_dir():
        raise fail(f"--parquet {parquet}: no such folder")
    chosen = recipient or known
    outcomes = []
    undelivered = 0
    with Progress("digest", total=len(chosen)) as progress:
        for done, recipient_id in enumerate(chosen):  # one at a time: a failed delivery does not stop the others
            progress.update(done, description=f"digest for {recipient_id} ({done + 1}/{len(chosen)})")
            try:
                outcomes += run_digest(
                    settings.database, config, monday, recipient_ids=[recipient_id], send_mail=send,
                    parquet_root=parquet,
                )
            except DeliveryError as error:
                undelivered += 1
                typer.secho(f"error: {recipient_id}: the digest was built but not delivered: {error}", fg="red",
                            err=True)
        progress.update(len(chosen))
    for outcome in outcomes:
        status = outcome.delivery.status if outcome.delivery else "not sent"
        reused = " (unchanged, reused)" if outcome.digest.reused else ""
        typer.echo(f"{outcome.week_start} {outcome.recipient_id}: {outcome.digest.folder}{reused}; {status}")
    if undelivered:
        raise typer.Exit(1)


@app.command("export-parquet")
def export_parquet(
    out: Annotated[Path, typer.Argument(help="Folder (or mounted bucket) to write the partitioned Parquet to")],
    db: DbOption = None,
    week: Annotated[list[str] | None, typer.Option(help="Only re-export this week (Monday); repeat")] = None,
) -> None:
    """Export ads, features, scores, entities and clusters as Parquet partitioned by site and week."""
    weeks = [day for w in week or [] if (day := _monday(w)) is not None] or None
    settings = _settings(db, must_exist=True)
    from warehouse import session
    from warehouse.parquet import export_parquet as export

    with session(settings.database) as con:
        result = export(con, out, weeks=weeks)
    for table, rows in result.rows.items():
        typer.echo(f"{table:<12} {rows:>10} rows")


if __name__ == "__main__":
    app()
