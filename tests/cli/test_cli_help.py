"""Help pages are plain and consistent (issue 14): every command's `--help` is rendered; none shows a `<bool>`
type after a flag, `{name}` in its usage line or raw reStructuredText markup, and `--db` has one description."""

from __future__ import annotations

import re
from collections.abc import Iterator

import typer
from typer.testing import CliRunner

from lurewatch.cli import app
from lurewatch.cli_common import DB_HELP


def _command_paths(command: object, path: list[str]) -> Iterator[list[str]]:
    yield path
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _command_paths(sub, [*path, name])


def test_every_help_page_is_plain_and_describes_db_once() -> None:
    paths = list(_command_paths(typer.main.get_command(app), []))
    assert len(paths) > 30  # every command and group, sub-apps included
    runner = CliRunner()
    db_descriptions: set[str] = set()
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "250"})
        assert result.exit_code == 0, (path, result.output)
        page = result.output
        usage = next(line for line in page.splitlines() if "Usage:" in line)
        assert "<bool>" not in page, (path, page)
        assert "{" not in usage and "}" not in usage, (path, usage)
        assert "``" not in page, (path, page)
        for line in page.splitlines():
            if re.search(r"\s--db\s", line):
                db_descriptions.add(re.sub(r"\s+", " ", line.split("<path>", 1)[1].strip(" │")))
    assert db_descriptions == {DB_HELP}
