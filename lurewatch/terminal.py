"""Printing attacker-controlled ad text to a terminal without letting it inject escape sequences."""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def safe_text(value: object, limit: int | None = None) -> str:
    """Control, bidi-override and zero-width characters become spaces; optionally truncated with an ellipsis."""
    text = _CONTROL.sub(" ", unicodedata.normalize("NFC", str(value)))
    text = re.sub(r" {2,}", " ", text).strip()
    if limit is not None and len(text) > limit:
        return text[: limit - 1].rstrip() + "…"
    return text
