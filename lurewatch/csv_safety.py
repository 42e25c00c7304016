"""CSV cells that a spreadsheet would run as a formula are neutralised (OWASP CSV injection).

Every CSV lurewatch writes (case exports, digest tables, scored files) passes its cells through here:
ad text, titles and even country fields are attacker-controlled.
"""

from __future__ import annotations

import unicodedata
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def starts_a_formula(cell: str) -> bool:
    """Whether a spreadsheet could run ``cell`` as a formula: it starts with a trigger, also in a compatibility
    form that Unicode NFKC folds to one (full-width ``＝＋－＠``, small ``﹦﹢﹣﹫``, as East Asian input
    methods type them and some spreadsheets convert them)."""
    if not cell:
        return False
    return cell.startswith(FORMULA_TRIGGERS) or unicodedata.normalize("NFKC", cell[0]).startswith(FORMULA_TRIGGERS)


def neutralise(cell: str) -> str:
    """Prefix a quote to a cell a spreadsheet would treat as a formula."""
    return "'" + cell if starts_a_formula(cell) else cell


def neutralise_value(value: Any) -> Any:
    """Strings are neutralised; numbers and other values pass unchanged."""
    return neutralise(value) if isinstance(value, str) else value
