"""``lurewatch privacy ...``: data retention and contact pseudonyms.

Mount in :mod:`lurewatch.cli` with ``app.add_typer(privacy_cli, name="privacy")``; ``python -m lurewatch.cli_privacy``
runs it on its own.

```
lurewatch privacy keygen PATH                          # a new pseudonymisation key file (mode 600)
lurewatch privacy retention --days 180 [--dry-run] [--mode pseudonymise|delete] [--db PATH]
                             [--parquet-root PATH]   # then re-export the weeks the run changed to that export
                             [--shard-dir PATH]      # crawl shards to process too (default <data_dir>/shards)
lurewatch privacy rebuild [--db PATH]                  # rewrite the warehouse file (no freed bytes left in it)
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
from typing import Annotated, Any

import typer

from lurewatch.cli_common import DbOption, existing_warehouse
from lurewatch.terminal import safe_text

privacy_cli = typer.Typer(add_completion=False, no_args_is_help=True, help="Data retention and contact pseudonyms.")
#: How long retention waits for a crawl shard a crawl holds (at most; ``lock_timeout_s`` if that is shorter) before it
#: skips the shard for this run. Crawls hold a shard only for one short session per batch.
SHARD_LOCK_TIMEOUT_S = 5.0


def _database(db: Path | None) -> Path:
    from lurewatch.settings import get_settings

    return get_settings(db_path=db).database


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"error: {safe_text(message)}", fg="red", err=True)
    return typer.Exit(code)


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
    shard_dir: Annotated[
        Path | None,
        typer.Option(
            "--shard-dir",
            help="Folder of the scaled-out crawl's per-site shards (<site>.duckdb); default <data_dir>/shards, "
            "where `crawl_and_score_scaled` keeps them",
        ),
    ] = None,
) -> None:
    """Pseudonymise (or delete) the contacts of ads not seen for --days days and mask them in the ad text, every
    other free-text column, its snapshots and the analysts' notes on it (in the warehouse and in the review app's
    decision journal). One transaction: an interrupted run changes nothing. Then the warehouse file is rebuilt, so
    none of the old bytes stay in it (an interrupted rebuild is completed by the next run). The same is done to
    every crawl shard (<data_dir>/shards/*.duckdb, or --shard-dir); a shard a crawl holds is skipped with a warning
    and processed by the next run. Prints one JSON line (the report, with the journal entries rewritten, the
    rebuild and one entry per shard under "shards"); with --parquet-root a second one says which weeks were
    re-exported there."""
    from features.contact_spans import contact_spans
    from lurewatch.settings import get_settings
    from review_app.settings import ReviewSettings
    from warehouse import WarehouseDamaged, connect
    from warehouse.compact import fault_hook, mark_rebuild_pending, pending_path, rebuild_file, rebuild_pending
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
    if shard_dir is not None and not shard_dir.is_dir():
        raise _fail(f"--shard-dir {shard_dir} is not a folder (the scaled-out crawl's shards are in <data_dir>/shards)")
    try:
        pseudonymiser = Pseudonymiser.from_env() if mode == "pseudonymise" else None
    except PseudonymKeyError as exc:
        raise _fail(str(exc)) from exc

    settings = get_settings(db_path=db)
    try:
        fault = fault_hook(settings.fault_retention_point)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    database = settings.database
    try:
        con = connect(database)
    except WarehouseDamaged as exc:
        raise _fail(str(exc), 1) from exc
    try:
        was_pending = rebuild_pending(database)
        if not dry_run:
            mark_rebuild_pending(database)  # before anything is committed: a crash from here on leaves it set
        try:
            report = apply_retention(
                con, days, mode=mode,  # type: ignore[arg-type]
                pseudonymiser=pseudonymiser, dry_run=dry_run, find_contacts=contact_spans,
                allow_key_change=allow_key_change, fault=fault,
            )
        except PseudonymKeyError as exc:
            raise _fail(str(exc)) from exc
        line = report.as_dict()
        exported = None if parquet_root is None else _reexport(con, report, parquet_root, tables, dry_run,
                                                               export_parquet)
        if not dry_run:
            journal = ReviewSettings(db_path=database).journal
            line["journal_entries_rewritten"] = _rewrite_journal(con, journal, pseudonymiser, contact_spans)
            changed = report.ads + report.entities + report.snapshots + report.evidence + report.notes
            if changed or was_pending:
                line.update(rebuild_file(con, database, fault).as_dict())
            else:
                pending_path(database).unlink(missing_ok=True)
                line["rebuilt"] = None
        con.close()
        line["shards"] = _retire_shards(
            shard_dir or settings.data_dir / "shards", database,
            min(SHARD_LOCK_TIMEOUT_S, settings.lock_timeout_s),
            lambda shard: apply_retention(
                shard, days, mode=mode,  # type: ignore[arg-type]
                pseudonymiser=pseudonymiser, dry_run=dry_run, find_contacts=contact_spans,
                allow_key_change=allow_key_change, fault=fault,
            ),
            dry_run, fault,
        )
        typer.echo(json.dumps(line, ensure_ascii=False))
        if exported is not None:
            typer.echo(json.dumps(exported, ensure_ascii=False))
    finally:
        con.close()
    if any("error" in shard for shard in line["shards"]):
        raise typer.Exit(1)


def _retire_shards(
    folder: Path, database: Path, lock_timeout_s: float, run: Any, dry_run: bool, fault: Any
) -> list[dict[str, Any]]:
    """Apply ``run`` (the same retention as the warehouse's) to every crawl shard ``<folder>/*.duckdb`` and
    rebuild each shard that changed (or has a rebuild pending), exactly as the warehouse. A shard whose writer lock a
    crawl holds for longer than ``lock_timeout_s`` is skipped (``"skipped"``; the next run processes it); a
    damaged shard or one pseudonymised with another key gets ``"error"``. One entry per shard."""
    import duckdb

    from warehouse import WarehouseBusy, WarehouseDamaged, connect
    from warehouse.compact import mark_rebuild_pending, pending_path, rebuild_file, rebuild_pending
    from warehouse.pseudonymise import PseudonymKeyError

    if not folder.is_dir():
        return []
    entries: list[dict[str, Any]] = []
    for shard in sorted(p for p in folder.glob("*.duckdb") if p.is_file()):
        if shard.resolve() == database.resolve():
            continue
        entry: dict[str, Any] = {"shard": str(shard)}
        entries.append(entry)
        try:
            con = connect(shard, lock_timeout_s=lock_timeout_s)
        except WarehouseBusy:
            entry["skipped"] = "busy: a crawl holds this shard; the next retention run processes it"
            typer.secho(f"warning: {safe_text(str(shard))} is busy (a crawl holds it): skipped, retried next run",
                        fg="yellow", err=True)
            continue
        except (WarehouseDamaged, duckdb.Error) as exc:  # damaged, or not a DuckDB file at all
            entry["error"] = f"{shard}: {exc}" if isinstance(exc, duckdb.Error) else str(exc)
            typer.secho(f"error: {safe_text(str(exc))}", fg="red", err=True)
            continue
        try:
            was_pending = rebuild_pending(shard)
            if not dry_run:
                mark_rebuild_pending(shard)
            try:
                report = run(con)
            except PseudonymKeyError as exc:
                if not was_pending:  # nothing was changed: no rebuild is owed
                    pending_path(shard).unlink(missing_ok=True)
                entry["error"] = f"{shard}: {exc}"
                typer.secho(f"error: {safe_text(entry['error'])}", fg="red", err=True)
                continue
            entry.update(report.as_dict())
            if not dry_run:
                changed = report.ads + report.entities + report.snapshots + report.evidence + report.notes
                if changed or was_pending:
                    entry.update(rebuild_file(con, shard, fault).as_dict())
                else:
                    pending_path(shard).unlink(missing_ok=True)
                    entry["rebuilt"] = None
        finally:
            con.close()
    return entries


def _reexport(
    con: Any, report: Any, parquet_root: Path, tables: list[str], dry_run: bool, export: Any
) -> dict[str, Any]:
    weeks = [w.isoformat() for w in report.weeks]
    if dry_run or not report.weeks:
        return {"parquet_root": str(parquet_root), "reexported": False, "weeks": weeks,
                "rows": {}, "why": "dry run" if dry_run else "no ad changed"}
    try:
        result = export(con, parquet_root, tables=tables, weeks=report.weeks)
    except Exception as exc:  # the retention run is committed: say exactly what is left to do
        raise _fail(
            f"retention run {report.run_id} is committed, but re-exporting weeks {', '.join(weeks)} to "
            f"{parquet_root} failed ({exc}); the export still holds clear contacts of those weeks: run "
            f"`{_reexport_command(parquet_root, report.weeks)}`"
        ) from exc
    return {"parquet_root": str(parquet_root), "reexported": True, "weeks": weeks, "rows": result.rows}


def _rewrite_journal(con: Any, journal_path: Path, pseudonymiser: Any, finder: Any) -> int:
    """Rewrite the notes on retired ads in the review app's decision journal (pending and rejected entries) as
    retention rewrote them in ``labels``; a line that is not an entry has every contact in it masked."""
    from review_app.journal import DecisionJournal
    from warehouse.pseudonymise import mask_spans
    from warehouse.retention import rewrite_retired_notes

    def scrub(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        notes = [(i, e) for i, e in enumerate(entries) if isinstance(e.get("note"), str) and e.get("note")
                 and isinstance(e.get("ad_id"), int)]
        clean = rewrite_retired_notes(con, [(e["ad_id"], e["note"]) for _, e in notes], finder, pseudonymiser)
        out = list(entries)
        for (i, entry), note in zip(notes, clean, strict=True):
            if note != entry["note"]:
                out[i] = {**entry, "note": note}
        for i, entry in enumerate(out):
            line = entry.get("unreadable_line")
            if isinstance(line, str) and (masked := mask_spans(line, finder(line))) != line:
                out[i] = {**entry, "unreadable_line": masked}
        return out

    if not journal_path.exists() and not DecisionJournal(journal_path).rejected_path.exists():
        return 0
    return DecisionJournal(journal_path).rewrite(scrub)


@privacy_cli.command("rebuild")
def rebuild(db: DbOption = None) -> None:
    """Rewrite the warehouse file into a new one holding only its live data and swap it in atomically: DuckDB
    leaves updated and deleted values in the file's freed blocks. `privacy retention` does this after every run
    that changed something; use this to finish a rebuild an interrupted run left pending."""
    from lurewatch.settings import get_settings
    from warehouse import WarehouseDamaged, connect
    from warehouse.compact import fault_hook, rebuild_file

    settings = get_settings(db_path=db)
    database = settings.database
    if not database.is_file():
        raise _fail(f"no warehouse at {database}: check --db or LUREWATCH_DB_PATH")
    try:
        fault = fault_hook(settings.fault_retention_point)
        con = connect(database)
    except (ValueError, WarehouseDamaged) as exc:
        raise _fail(str(exc), 1) from exc
    typer.echo(json.dumps(rebuild_file(con, database, fault).as_dict(), ensure_ascii=False))


@privacy_cli.command("pseudonym")
def pseudonym(value: Annotated[str, typer.Argument(help="A phone number, e-mail address, handle or URL")]) -> None:
    """Print the pseudonym a contact value has in pseudonymised ads (to look it up in the warehouse)."""
    from warehouse.pseudonymise import Pseudonymiser, PseudonymKeyError

    try:
        typer.echo(Pseudonymiser.from_env().pseudonym(value))
    except PseudonymKeyError as exc:
        raise _fail(str(exc)) from exc


@privacy_cli.command("history")
def history(db: DbOption = None, limit: Annotated[int, typer.Option(min=1, help="How many runs")] = 20) -> None:
    """The latest retention runs (newest first), one JSON line each."""
    from warehouse import connect
    from warehouse.retention import retention_history

    con = connect(existing_warehouse(_database(db)))
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
