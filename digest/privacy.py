"""Keeping personal data out of digests: scrubbing contact-like text and suppressing small counts.

The digest queries only ever select aggregates, so the only free text that reaches a digest is lexicon
evidence (the phrase that matched a lure pattern). Lexicon matches are not personal data, but a pattern can
match next to a number or a handle, so every phrase is scrubbed here before it is shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

REDACTED = "[removed]"
#: A count hidden only so that a suppressed neighbour cannot be worked out from the total.
HIDDEN = "•"

_PATTERNS: tuple[re.Pattern[str], ...] = (
    # e-mail addresses (also "name [at] domain" obfuscations)
    re.compile(r"(?i)[\w.+-]+\s*(?:@|\[at\]|\(at\))\s*[\w-]+(?:\s*(?:\.|\[dot\]|\(dot\))\s*[\w-]+)+"),
    # URLs and bare domains with a path or a well-known TLD
    re.compile(r"(?i)\b(?:https?://|www\.)\S+"),
    re.compile(r"(?i)\b(?:t\.me|wa\.me|bit\.ly|tinyurl\.com|vk\.com|instagram\.com|facebook\.com)/\S*"),
    re.compile(r"(?i)\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|info|biz|eu|lv|lt|ee|fi|pl|ru|ua|by|de|uk|io|me)\b(?:/\S*)?"),
    # messenger handles: @name
    re.compile(r"(?<![\w@])@[A-Za-z0-9_.]{3,}"),
    # phone numbers: 6+ digits, possibly separated by spaces, dots, dashes, slashes or brackets
    re.compile(r"\+?\(?\d(?:[\s().\-/]{0,3}\d){5,}"),
)


def scrub(text: str) -> str:
    """Replace anything that looks like a phone number, e-mail address, handle or URL with ``[removed]``."""
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return re.sub(r"(?:\[removed\]\s*){2,}", REDACTED + " ", text).strip()


def looks_personal(text: str) -> bool:
    return scrub(text) != text.strip()


@dataclass(frozen=True, slots=True)
class Cell:
    """A count as shown: ``value`` is None when it was suppressed (``text`` is then ``"<k"``)."""

    text: str
    value: int | None

    @property
    def suppressed(self) -> bool:
        return self.value is None

    @property
    def csv(self) -> str:
        """Plain digits for spreadsheets (``1751``), or the suppression mark."""
        return self.text if self.value is None else str(self.value)


def grouped(number: int, sign: bool = False) -> str:
    """``12 345`` (a space between thousands, as in the Baltic languages), ``+1 234`` with ``sign``."""
    return (f"{number:+,}" if sign else f"{number:,}").replace(",", " ")


def cell(count: int, k: int, fmt: Callable[[int], str] = grouped) -> Cell:
    """A count below ``k`` (zero included) becomes ``"<k"``; ``k == 0`` shows everything. ``fmt`` writes the
    number (the recipient's locale, :meth:`digest.i18n.Lang.number`)."""
    if k > 0 and count < k:
        return Cell(f"<{k}", None)
    return Cell(fmt(count), count)


def suppress_column(
    counts: Sequence[int], k: int, *, additive: bool, fmt: Callable[[int], str] = grouped
) -> list[Cell]:
    """Suppress a column of counts.

    ``additive`` columns partition a total that is shown elsewhere (e.g. high-risk ads by site): if exactly one
    cell were hidden, the total minus the visible cells would give it away, so the smallest visible non-zero
    cell is hidden too (secondary suppression).
    """
    cells = [cell(c, k, fmt) for c in counts]
    if not additive or k <= 0:
        return cells
    hidden = [i for i, c in enumerate(cells) if c.suppressed and counts[i] > 0]
    if len(hidden) == 1:
        visible = sorted((counts[i], i) for i, c in enumerate(cells) if not c.suppressed and counts[i] > 0)
        if visible:
            index = visible[0][1]
            cells[index] = Cell(HIDDEN, None)
    return cells


def change_text(current: Cell, previous: Cell) -> str:
    """Week-over-week change, or a dash when either side is suppressed (the change would reveal it)."""
    if current.value is None or previous.value is None:
        return "–"
    if previous.value == 0:
        return "new" if current.value else "0"
    delta = current.value - previous.value
    if delta == 0:
        return "±0"
    return f"{grouped(delta, sign=True)} ({delta / previous.value:+.0%})"
