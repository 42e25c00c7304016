"""Printing attacker-controlled ad text to a terminal without letting it inject escape sequences."""

from __future__ import annotations

import re
import sys
import unicodedata
from typing import Any

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def safe_text(value: object, limit: int | None = None) -> str:
    """Control, bidi-override and zero-width characters become spaces; optionally truncated with an ellipsis."""
    text = _CONTROL.sub(" ", unicodedata.normalize("NFC", str(value)))
    text = re.sub(r" {2,}", " ", text).strip()
    if limit is not None and len(text) > limit:
        return text[: limit - 1].rstrip() + "…"
    return text


class Progress:
    """Progress of one long step on stderr: a ``rich`` bar when stderr is a terminal, nothing otherwise
    (cron, pipes and log files stay quiet). Use as a context manager; ``update`` may be called often."""

    def __init__(self, description: str, total: float | None = None, *, enabled: bool | None = None) -> None:
        self.description = description
        self.total = total
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            columns = [TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn()]
            self._bar = RichProgress(*columns, console=Console(stderr=True), transient=True)
            self._bar.__enter__()
            self._task = self._bar.add_task(_markup_safe(self.description), total=self.total)
        return self

    def update(self, completed: float, *, total: float | None = None, description: str | None = None) -> None:
        if self._bar is None:
            return
        extra: dict[str, Any] = {} if description is None else {"description": _markup_safe(description)}
        self._bar.update(self._task, completed=completed, total=total if total is not None else self.total, **extra)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def _markup_safe(text: str) -> str:
    from rich.markup import escape

    return escape(safe_text(text))
