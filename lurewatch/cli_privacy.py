"""``lurewatch privacy ...``: data retention and contact pseudonyms.

Mount in :mod:`lurewatch.cli` with ``app.add_typer(privacy_cli, name="privacy")``; ``python -m lurewatch.cli_privacy``
runs it on its own.

```
lurewatch privacy keygen PATH                          # a new pseudonymisation key file (mode 600)
lurewatch privacy retention --days 180 [--dry-run] [--mode pseudonymise|delete] [--db PATH]
                             [--parquet-root PATH]   # then re-export the weeks the run changed to that export
lurewatch privacy pseudonym VALUE                      # the pseudonym of a phone/e-mail/handle (for look-ups)
lurewatch privacy history [--db PATH]                  # the latest retention runs
```

The key comes from ``LUREWATCH_PSEUDONYM_KEY`` or ``LUREWATCH_PSEUDONYM_KEY_FILE`` (see :mod:`warehouse.pseudonymise`);
it is never printed, only its public fingerprint (``key_id``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from lurewatch.terminal import safe_text

privacy_cli = typer.Typer(add_completion=False, no_args_is_help=True, help="Data retention and contact pseudonyms.")

DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="DuckDB warehouse file (default: LUREWATCH_DB_PATH or data/lurewatch.duckdb)"),
]


def _database(db: Path | None) -> Path:
    from lurewatch.settings import get_settings

    return get_settings(db_path=db).database


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {safe_text(message)}", fg="red", err=True)
    return typer.Exit(2)


@privacy_cli.command("keygen")
def keygen(path: Annotated[Path, typer.Argument(help="Where to write the key (must not exist yet)")]) -> None:
    """Write a new random pseudonymisation key, readable by its owner only. Keep it out of the repository."""
    from warehouse.pseudonymise import KEY_FILE_ENV, generate_key_file

    try:
        generate_key_file(path)
    except FileExistsError as exc:
        raise _fail(f"{path} exists already: a new key would break the links of earlier pseudonyms") from exc
    typer.echo(f"wrote a new key to {path} (mode 600); set {KEY_FILE_ENV}={path}")


def _exported_tables(root: Path) -> list[str]:
    """The per-ad (week-partitioned) tables the Parquet export at ``root`` holds."""
    from warehouse.parquet import PARTITIONED, SCHEMA_DIR

    return [table for table in PARTITIONED if (root / SCHEMA_DIR / f"{table}.parquet").is_file()]


def _reexport_command(root: Path, weeks: Sequence[date]) -> str:
    return f"lurewatch service export-parquet {root} " + " ".join(f"--week {w.isoformat()}" for w in weeks)


@privacy_cli.command("retention")
def retention(
    days: Annotated[int, typer.Option("--days", min=1, help="Retention period: ads not seen for this many days")],
    mode: Annotated[str, typer.Option(help="pseudonymise (keyed HMAC, links kept) or delete the contacts")] = (
        "pseudonymise"
    ),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would change; change nothing")] = False,
    allow_key_change: Annotated[
        bool, typer.Option("--allow-key-change", help="Accept a key other than the one earlier runs used")
    ] = False,
    db: DbOption = None,
    parquet_root: Annotated[
        Path | None,
        typer.Option(
            "--parquet-root",
            help="A Parquet export of this warehouse (`lurewatch service export-parquet`): after the run, re-export "
            "the weeks it changed there, so the export keeps no clear contact either",
        ),
    ] = None,
) -> None:
    """Pseudonymise (or delete) the contacts of ads not seen for --days days and mask them in the ad text, its
    snapshots and the analysts' notes on it. One transaction: an interrupted run changes nothing. Prints one JSON
    line (the report); with --parquet-root a second one says which weeks were re-exported there."""
    from features import extract_contacts
    from warehouse import connect
    from warehouse.parquet import export_parquet
    from warehouse.pseudonymise import Pseudonymiser, PseudonymKeyError
    from warehouse.retention import MODES, apply_retention

    if mode not in MODES:
        raise typer.BadParameter(f"must be one of {', '.join(MODES)}", param_hint="--mode")
    tables = _exported_tables(parquet_root) if parquet_root is not None else []
    if parquet_root is not None and not tables:
        # checked before the run: a re-export into a folder without an export would leave a partial copy there
        raise _fail(f"{parquet_root} holds no Parquet export of the warehouse (make one with "
                    "`lurewatch service export-parquet`)")
    try:
        pseudonymiser = Pseudonymiser.from_env() if mode == "pseudonymise" else None
    except PseudonymKeyError as exc:
        raise _fail(str(exc)) from exc

    def find_contacts(text: str) -> list[tuple[int, int]]:
        return [(c.start, c.end) for c in extract_contacts(text)]

    con = connect(_database(db))
    try:
        try:
            report = apply_retention(
                con, days, mode=mode,  # type: ignore[arg-type]
                pseudonymiser=pseudonymiser, dry_run=dry_run, find_contacts=find_contacts,
                allow_key_change=allow_key_change,
            )
        except PseudonymKeyError as exc:
            raise _fail(str(exc)) from exc
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
        if parquet_root is None:
            return
        weeks = [w.isoformat() for w in report.weeks]
        if dry_run or not report.weeks:
            typer.echo(json.dumps({"parquet_root": str(parquet_root), "reexported": False, "weeks": weeks,
                                   "rows": {}, "why": "dry run" if dry_run else "no ad changed"}, ensure_ascii=False))
            return
        try:
            result = export_parquet(con, parquet_root, tables=tables, weeks=report.weeks)
        except Exception as exc:  # the retention run is committed: say exactly what is left to do
            raise _fail(
                f"retention run {report.run_id} is committed, but re-exporting weeks {', '.join(weeks)} to "
                f"{parquet_root} failed ({exc}); the export still holds clear contacts of those weeks: run "
                f"`{_reexport_command(parquet_root, report.weeks)}`"
            ) from exc
        typer.echo(json.dumps({"parquet_root": str(parquet_root), "reexported": True, "weeks": weeks,
                               "rows": result.rows}, ensure_ascii=False))
    finally:
        con.close()


@privacy_cli.command("pseudonym")
def pseudonym(value: Annotated[str, typer.Argument(help="A phone number, e-mail address, handle or URL")]) -> None:
    """Print the pseudonym a contact value has in pseudonymised ads (to look it up in the warehouse)."""
    from warehouse.pseudonymise import Pseudonymiser, PseudonymKeyError

    try:
        typer.echo(Pseudonymiser.from_env().pseudonym(value))
    except PseudonymKeyError as exc:
        raise _fail(str(exc)) from exc


@privacy_cli.command("history")
def history(db: DbOption = None, limit: Annotated[int, typer.Option(help="How many runs")] = 20) -> None:
    """The latest retention runs (newest first), one JSON line each."""
    from warehouse import connect
    from warehouse.retention import retention_history

    con = connect(_database(db))
    try:
        rows = retention_history(con, limit)
    finally:
        con.close()
    for row in rows:
        typer.echo(json.dumps(row, default=str, ensure_ascii=False))


app = typer.Typer(add_completion=False, no_args_is_help=True, help="lurewatch data protection.")
app.add_typer(privacy_cli, name="privacy")

if __name__ == "__main__":
    app()
