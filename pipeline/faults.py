"""The documented fault points of the pipeline, for tests that prove one failing ad stops nothing else.

Set ``LUREWATCH_FAULT_EXTRACT_MARKER`` (or ``LUREWATCH_FAULT_SCORE_MARKER``) to a string, and feature extraction (or
scoring) raises :class:`InjectedFault` for every ad whose text contains it, exactly where a real bug would raise:
inside the batch, so the whole batch fails first and the per-ad isolation has to find the culprit. Unset (the
default), the checks cost one ``None`` test per batch. Never set them in production.
"""

from __future__ import annotations

from collections.abc import Iterable


class InjectedFault(RuntimeError):
    """A failure planted on purpose through a fault marker setting."""


def check(stage: str, texts: Iterable[str], marker: str | None) -> None:
    """Raise :class:`InjectedFault` if ``marker`` is set and occurs in any of ``texts``."""
    if not marker:
        return
    if any(marker in text for text in texts):
        raise InjectedFault(f"fault injected into {stage} (LUREWATCH_FAULT_{stage.upper()}_MARKER is set)")
