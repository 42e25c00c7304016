"""CSV cells that a spreadsheet would run as a formula are neutralised (OWASP CSV injection).

Every CSV lurewatch writes (case exports, digest tables, scored files) passes its cells through here:
ad text, titles and even country fields are attacker-controlled.
"""

from __future__ import annotations

from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """Prefix a quote to a cell a spreadsheet would treat as a formula."""
    return "'" + cell if cell.startswith(FORMULA_TRIGGERS) else cell


def neutralise_value(value: Any) -> Any:
    """Strings are neutralised; numbers and other values pass unchanged."""
    return neutralise(value) if isinstance(value, str) else value
