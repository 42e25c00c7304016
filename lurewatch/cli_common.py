"""What every ``lurewatch`` command shares: the ``--db`` option, one-line errors, the warehouse checks.

- :class:`LurewatchTyper` is the root app: an ordinary mistake (a bad option value, a missing file, an unknown
  site) ends in one ``error: ...`` line on stderr and a non-zero exit, never a traceback or a boxed panel.
  Tracebacks of real bugs never show local variables (they may hold ad text with contacts).
- :func:`existing_warehouse` is for commands that only read: a wrong ``--db`` is refused instead of silently
  creating a new, empty warehouse. :func:`warehouse_for_writing` is for commands that write: they may create one,
  and say so.
- Importing this module makes help pages plain: no ``<bool>`` type after a flag, arguments in the usage line
  as ``NAME`` / ``[NAME]`` instead of ``{name}``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer import _click as click  # typer >= 0.29 ships its own copy of click: its exceptions are these
from typer.core import TyperArgument, TyperOption
from typer.exceptions import Abort

from lurewatch.terminal import safe_text

DB_HELP = "Warehouse file (default: $LUREWATCH_DB_PATH, else <data dir>/lurewatch.duckdb)"
DbOption = Annotated[Path | None, typer.Option("--db", help=DB_HELP)]

EXIT_USAGE = 2


def error_line(message: str) -> None:
    """Print one ``error: ...`` line on stderr (the message is made terminal-safe and kept on one line)."""
    typer.secho(f"error: {safe_text(message)}", fg="red", err=True)


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print ``message`` as one error line and return the exit to raise: ``raise fail("...")``."""
    error_line(message)
    return typer.Exit(code)


def note(message: str) -> None:
    """A one-line notice on stderr (stdout stays machine-readable)."""
    typer.echo(safe_text(message), err=True)


def existing_warehouse(path: Path) -> Path:
    """``path`` if a warehouse is there; otherwise one error line and exit 2 (nothing is created)."""
    if not path.is_file():
        what = "is not a file" if path.exists() else "does not exist"
        raise fail(
            f"no warehouse at {path} ({what}): check --db or LUREWATCH_DB_PATH; `lurewatch crawl`, "
            "`lurewatch train` or `lurewatch demo` create one"
        )
    return path


def warehouse_for_writing(path: Path) -> Path:
    """``path``, creating a new warehouse there (and saying so on stderr) if there is none yet."""
    if path.exists() and not path.is_file():
        raise fail(f"{path} is not a warehouse file (a folder?): check --db or LUREWATCH_DB_PATH")
    if not path.exists():
        from warehouse import connect

        try:
            connect(path).close()
        except OSError as error:
            raise fail(f"cannot create a warehouse at {path}: {error.strerror or error}") from error
        note(f"created a new warehouse at {path}")
    return path


class LurewatchTyper(typer.Typer):
    """The root app: click's usage errors and :class:`warehouse.WarehouseBusy` become one line on stderr."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("pretty_exceptions_show_locals", False)  # locals may hold ad text with contacts
        super().__init__(**kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from warehouse import WarehouseBusy, WarehouseDamaged

        command = typer.main.get_command(self)
        try:
            result = command.main(*args, **{**kwargs, "standalone_mode": False})
        except click.exceptions.NoArgsIsHelpError as usage:  # the help page was printed when it was raised
            sys.exit(usage.exit_code)
        except click.exceptions.ClickException as problem:
            context = getattr(problem, "ctx", None)
            where = f"{context.command_path}: " if context is not None else ""
            error_line(f"{where}{problem.format_message()}")
            sys.exit(problem.exit_code)
        except Abort:
            error_line("aborted")
            sys.exit(1)
        except WarehouseBusy as busy:
            error_line(f"the warehouse is busy: {busy}; try again when the other lurewatch command has finished")
            sys.exit(1)
        except WarehouseDamaged as damaged:  # the message says what is damaged and how to recover
            error_line(str(damaged))
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


def _flag_type(self: TyperOption, ctx: click.Context) -> str | None:
    """A flag takes no value: show no ``<bool>`` type after it."""
    return None if self.is_flag else _original_display_type_rich(self, ctx)


def _usage_name(self: TyperArgument) -> str:
    """``NAME`` (required) or ``[NAME]`` (optional) in the usage line, as in every other command-line tool."""
    name = self.display_name_raw.upper()
    name = name if self.required else f"[{name}]"
    return name + ("..." if self.nargs != 1 else "")


_original_display_type_rich = TyperOption.display_type_rich
TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign]
TyperArgument._usage_display_name = _usage_name  # type: ignore[method-assign]
