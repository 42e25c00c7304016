"""``lurewatch doctor``: is the warehouse file intact?

Verifies the checksum of every block of the DuckDB file (headers, data, indexes, free blocks) and reads every column
of every table once, holding the warehouse lock (as a reader) meanwhile. A damaged file is marked, so every writer
refuses it (see :mod:`warehouse.integrity`); a clean result removes the mark. Exit status 0: intact; 1: damaged
(one line saying what and how to recover); 2: no warehouse there.
"""

from __future__ import annotations

import json
import time

import typer

from lurewatch.cli_common import DbOption
from lurewatch.terminal import safe_text


def _fail(message: str, code: int) -> typer.Exit:
    typer.secho(f"error: {safe_text(message)}", fg="red", err=True)
    return typer.Exit(code)


def doctor(db: DbOption = None) -> None:
    """Check the warehouse file for damage: every block's checksum, every table read once. Exit 1 if damaged."""
    from lurewatch.settings import get_settings
    from warehouse import WarehouseBusy, WarehouseDamaged, connect
    from warehouse.compact import rebuild_pending
    from warehouse.integrity import RECOVERY, diagnose

    database = get_settings(db_path=db).database
    if not database.is_file():
        raise _fail(f"no warehouse at {database} (check --db or LUREWATCH_DB_PATH)", 2)
    started = time.monotonic()
    con = None
    try:
        con = connect(database, read_only=True)
    except WarehouseDamaged:
        con = None  # DuckDB refuses even to open it: the block check below says where
    except WarehouseBusy as exc:
        busy = f"the warehouse is busy: {exc}; try again when the other lurewatch command has finished"
        raise _fail(busy, 1) from exc
    try:
        diagnosis = diagnose(database, con)
    finally:
        if con is not None:
            con.close()
    if con is None and not diagnosis.findings:
        diagnosis.findings.append("DuckDB cannot open it")
    if diagnosis.damaged:
        first = "; ".join(diagnosis.findings[:3])
        more = f" and {len(diagnosis.findings) - 3} more" if len(diagnosis.findings) > 3 else ""
        raise _fail(
            f"the warehouse {database} is damaged ({len(diagnosis.findings)} problem(s): {first}{more}); "
            f"lurewatch will not write to it; {RECOVERY}",
            1,
        )
    typer.echo(json.dumps({
        "warehouse": str(database), "intact": True, "tables_read": diagnosis.tables, "bytes": database.stat().st_size,
        "rebuild_pending": rebuild_pending(database), "seconds": round(time.monotonic() - started, 3),
    }))


app = typer.Typer(add_completion=False)
app.command("doctor")(doctor)

if __name__ == "__main__":
    app()
