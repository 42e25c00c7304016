"""``lurewatch labels ...``: labelled data in and out of the warehouse.

```
lurewatch labels import FILE [--source NAME] [--skip-bad] [--db PATH]   # CSV / JSONL: text or ad_id, label, source
lurewatch labels export OUT --source NAME [--notes] [--db PATH]         # analysts' decisions, contacts pseudonymised
```

Mounted in :mod:`lurewatch.cli`. Rules of the file format and of the import: :mod:`pipeline.label_import`; of the
export: :mod:`pipeline.label_export`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lurewatch.cli_common import DbOption, error_line, existing_warehouse, fail, note
from lurewatch.terminal import safe_text

labels_cli = typer.Typer(add_completion=False, no_args_is_help=True,
                         help="Labelled data: import a partner's decisions, export ours without contacts.")


def _database(db: Path | None) -> Path:
    from lurewatch.settings import get_settings

    return existing_warehouse(get_settings(db_path=db).database)


@labels_cli.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="CSV (header row) or JSONL: text or ad_id, label, source, lang, note")],
    source: Annotated[
        str | None, typer.Option("--source", help="Source name for rows that give none (e.g. the partner NGO)")
    ] = None,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Import the good rows of a file with bad rows (default: none)")
    ] = False,
    db: DbOption = None,
) -> None:
    """Import labels from a file, recorded with their source: training uses them as "imported (<source>)".
    Every bad row is named (line and problem); a file with bad rows imports nothing unless --skip-bad."""
    from pipeline.label_import import (
        MAX_ERRORS_SHOWN,
        LabelFileError,
        check_ad_ids,
        import_label_file,
        read_label_file,
        source_problem,
    )
    from pipeline.model_registry import current_user
    from warehouse import session

    database = _database(db)
    if source is not None and (problem := source_problem(source.strip())) is not None:
        raise fail(f"--source: {problem}")
    try:
        parsed = read_label_file(file, source.strip() if source else None)
    except LabelFileError as error:
        raise fail(str(error)) from error
    with session(database) as con:
        check_ad_ids(con, parsed)
        if parsed.errors and not (skip_bad and parsed.rows):
            for message in parsed.errors[:MAX_ERRORS_SHOWN]:
                typer.echo(f"{safe_text(file.name)}: {safe_text(message, 300)}", err=True)
            if len(parsed.errors) > MAX_ERRORS_SHOWN:
                typer.echo(f"... and {len(parsed.errors) - MAX_ERRORS_SHOWN} more bad rows", err=True)
            what = "nothing imported (fix them, or --skip-bad to import the good rows)" if not skip_bad else (
                "no good rows, nothing imported")
            error_line(f"{len(parsed.errors)} bad rows of {parsed.rows_read} in {file}: {what}")
            raise typer.Exit(1)
        result = import_label_file(con, parsed, imported_by=current_user())
    for message in parsed.errors[:MAX_ERRORS_SHOWN]:
        note(f"skipped {file.name}: {message}")
    sources = ", ".join(f"{name} {n:,}" for name, n in result.sources.items())
    typer.echo(
        f"import {result.import_id} from {safe_text(file.name)}: {result.rows_read:,} rows read, "
        f"{result.texts_new + result.ads_new:,} new labels ({result.texts_new:,} texts, {result.ads_new:,} ads); "
        f"{result.already_present:,} already present, {result.analyst_kept:,} ads already decided by an analyst "
        f"here (the analyst's decision stands), {result.skipped_bad:,} bad rows skipped; sources: {sources}"
    )
    typer.echo("`lurewatch train` uses them (origin \"imported (<source>)\" in its label lines)")


@labels_cli.command("export")
def export_file(
    out: Annotated[Path, typer.Argument(help="Where to write: .csv or .jsonl (the format follows the name)")],
    source: Annotated[
        str, typer.Option("--source", help="Your organisation's name, as the partner's `labels import` records it")
    ],
    notes: Annotated[
        bool, typer.Option("--notes", help="Include the analysts' notes (scrubbed like the texts; default: left out)")
    ] = False,
    db: DbOption = None,
) -> None:
    """Export the analysts' decisions (latest lure / not-lure per ad) for another NGO: ad text with every contact
    replaced by its keyed pseudonym, no ids, URLs or names. Needs the pseudonymisation key."""
    from pipeline.label_export import ExportError, export_decisions, export_format
    from pipeline.label_import import source_problem
    from warehouse import session
    from warehouse.pseudonymise import Pseudonymiser, PseudonymKeyError

    database = _database(db)
    if (problem := source_problem(source.strip())) is not None:
        raise fail(f"--source: {problem}")
    try:
        export_format(out)
        pseudonymiser = Pseudonymiser.from_env()
    except ExportError as error:
        raise fail(str(error)) from error
    except PseudonymKeyError as error:
        raise fail(f"no export without contacts pseudonymised: {error}") from error
    with session(database) as con:
        try:
            result = export_decisions(con, out, pseudonymiser, source=source.strip(), notes=notes)
        except OSError as error:
            raise fail(f"{out}: {error.strerror or error}") from error
    typer.echo(f"exported {result.rows:,} decisions ({result.lures:,} lures) to {out}; {result.contacts_replaced:,} "
               f"contacts replaced by pseudonyms (key {pseudonymiser.key_id})")
