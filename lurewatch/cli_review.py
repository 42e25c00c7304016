"""``lurewatch review ...`` (the analysts' web app) and ``lurewatch users ...`` (its accounts).

Mount in :mod:`lurewatch.cli` with ``app.add_typer(review_cli, name="review")`` and
``app.add_typer(users_cli, name="users")``; ``python -m lurewatch.cli_review`` runs both on their own.
"""

from __future__ import annotations

import errno
import sys
from pathlib import Path
from typing import Annotated

import typer

from lurewatch.cli_common import DbOption, LurewatchTyper, fail
from lurewatch.terminal import safe_text
from review_app.settings import ReviewSettings

review_cli = typer.Typer(add_completion=False, no_args_is_help=True, help="The analysts' review web app.")
users_cli = typer.Typer(add_completion=False, no_args_is_help=True, help="Accounts of the review web app.")

AuthDbOption = Annotated[
    Path | None, typer.Option("--auth-db", help="Account store (default: <db>.review-auth.sqlite3)")
]


def _settings(db: Path | None, auth_db: Path | None = None, **extra: object) -> ReviewSettings:
    overrides = {"db_path": db, "auth_db_path": auth_db, **extra}
    return ReviewSettings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]


def _auth_db(db: Path | None, auth_db: Path | None) -> tuple[Path, ReviewSettings]:
    from review_app.authdb import initialise

    settings = _settings(db, auth_db)
    initialise(settings.auth_database)
    return settings.auth_database, settings


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        line = sys.stdin.readline()
        return line.removesuffix("\n").removesuffix("\r")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@review_cli.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0: any free port, printed on start)")] = 8000,
    db: DbOption = None,
    auth_db: AuthDbOption = None,
    insecure_cookies: Annotated[
        bool, typer.Option(help="Allow the session cookie over plain HTTP (local use without TLS only)")
    ] = False,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated reverse proxies whose X-Forwarded-For/-Proto are trusted (client IPs for rate "
            "limiting); default LUREWATCH_REVIEW_TRUSTED_PROXIES, empty: none"
        ),
    ] = None,
) -> None:
    """Serve the review app (put it behind an HTTPS reverse proxy unless it is only used on this machine)."""
    from review_app.server import serve as run_server

    settings = _settings(db, auth_db, **({"cookie_secure": False} if insecure_cookies else {}))

    def ready(url: str) -> None:
        typer.echo(f"lurewatch review listening on {url} (warehouse {settings.database})")
        if settings.cookie_secure:
            typer.echo(
                "session cookies are Secure: browse through HTTPS (or pass --insecure-cookies for local HTTP)",
                err=True,
            )
        sys.stdout.flush()

    try:
        run_server(settings, host, port, log_level=log_level, on_ready=ready, forwarded_allow_ips=forwarded_allow_ips)
    except OSError as error:
        if error.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
        raise fail(f"cannot listen on {host}:{port}: {error.strerror} (another server there? try --port)") from error


@review_cli.command("replay-journal")
def replay_journal(db: DbOption = None) -> None:
    """Write decisions waiting in the local journal into the warehouse (the app also does this by itself)."""
    from review_app.journal import DecisionJournal
    from review_app.store import ReviewWarehouse

    settings = _settings(db)
    journal = DecisionJournal(settings.journal)
    waiting = len(journal.pending())
    if not ReviewWarehouse(settings.database, journal).try_replay(settings.read_lock_timeout_s):
        typer.echo(f"warehouse busy: {waiting} decision(s) still waiting in {settings.journal}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{waiting} journaled decision(s) written to {settings.database}")


@users_cli.command("create")
def create(
    name: Annotated[str, typer.Argument(help="User name (lower-case letters, digits, . _ -)")],
    role: Annotated[str, typer.Option(help="analyst or admin")] = "analyst",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin")] = False,
    db: DbOption = None,
    auth_db: AuthDbOption = None,
) -> None:
    """Create an account; the password is prompted for (twice) or read from stdin."""
    from review_app.users import ROLES, UserError, create_user

    if role not in ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(ROLES)}", param_hint="--role")
    store, settings = _auth_db(db, auth_db)
    try:
        user = create_user(
            store, name, _read_password(password_stdin), role, created_by="cli", hasher=settings.password_hasher()
        )
    except UserError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"created {user.role} {user.username}")


@users_cli.command("list")
def list_accounts(db: DbOption = None, auth_db: AuthDbOption = None) -> None:
    """List accounts."""
    from review_app.users import list_users

    for user in list_users(_auth_db(db, auth_db)[0]):
        typer.echo(f"{safe_text(user.username):<32}{user.role:<9}{'active' if user.active else 'disabled'}")


@users_cli.command("set-password")
def set_user_password(
    name: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin")] = False,
    db: DbOption = None,
    auth_db: AuthDbOption = None,
) -> None:
    """Set a new password (ends the user's sessions)."""
    from review_app.users import UserError, set_password

    store, settings = _auth_db(db, auth_db)
    try:
        set_password(store, name, _read_password(password_stdin), settings.password_hasher())
    except UserError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"password of {safe_text(name)} changed")


def _set_active(name: str, active: bool, db: Path | None, auth_db: Path | None) -> None:
    from review_app.users import UserError, set_active

    try:
        set_active(_auth_db(db, auth_db)[0], name, active)
    except UserError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"{safe_text(name)} {'enabled' if active else 'disabled'}")


@users_cli.command("disable")
def disable(name: str, db: DbOption = None, auth_db: AuthDbOption = None) -> None:
    """Disable an account and end its sessions."""
    _set_active(name, False, db, auth_db)


@users_cli.command("enable")
def enable(name: str, db: DbOption = None, auth_db: AuthDbOption = None) -> None:
    """Enable a disabled account."""
    _set_active(name, True, db, auth_db)


app = LurewatchTyper(add_completion=False, no_args_is_help=True, help="lurewatch review app and accounts.")
app.add_typer(review_cli, name="review")
app.add_typer(users_cli, name="users")

if __name__ == "__main__":
    app()
