"""Choosing a page's character encoding when the site does not say it, or says it wrong.

Scrapy (via w3lib) trusts, in order: a byte-order mark, the ``Content-Type`` charset, a ``<meta>``
declaration, then sniffs (ASCII, UTF-8, else charset-normalizer). That misreads what Baltic-region sites
actually serve: charset-normalizer calls short Latvian/Lithuanian windows-1257 text "cp1250" (``ārzemēs``
comes out as ``ârzemçs``), and a declared charset is taken on faith even when the bytes contradict it
(a windows-1251 page sent as ``charset=utf-8`` turns into U+FFFD soup).

:func:`choose_encoding` keeps a BOM and any declaration the bytes agree with, and otherwise decides by
letter statistics: strictly valid multi-byte UTF-8 wins outright; among the legacy code pages of the region
(windows-1257 Baltic, windows-1251 Cyrillic, windows-1250 Central European, windows-1252 Western) the one
whose decoding reads like words - Cyrillic words, or Latin words with the diacritics these languages use -
rather than mixed-script, symbol-laden mojibake wins.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom, resolve_encoding

#: Legacy code pages tried when a page's bytes are not UTF-8, in tie-break order.
LEGACY_CANDIDATES: tuple[str, ...] = ("cp1257", "cp1251", "cp1250", "cp1252")
#: Bytes of the body sampled for statistics (the decision is the same for the rest of the page).
SAMPLE_BYTES = 128 * 1024

_EXPECTED_LATIN = frozenset(
    "āčēģīķļņšūž"  # Latvian
    "ąęėįųū"  # Lithuanian (+ č š ū ž)
    "õäöü"  # Estonian (+ š ž)
    "ćłńóśźż"  # Polish (+ ą ę)
    "åéàèíúý"  # Finnish/Swedish, and loanwords
    "ß"
)
_EXPECTED_LATIN = frozenset(_EXPECTED_LATIN | {c.upper() for c in _EXPECTED_LATIN if c != "ß"})
_NEUTRAL_SYMBOLS = frozenset("\u00a0„“”«»‘’‚–—…€£$¥№°·•§©®™±½¼¾²³′″\u2009\u202f")


@dataclass(frozen=True, slots=True)
class EncodingChoice:
    """The encoding to decode a page with and why (``bom``, ``forced``, ``declared``, ``detected``,
    ``corrected`` - declared but contradicted by the bytes - or ``fallback``)."""

    encoding: str
    reason: str


def _is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u04ff"


def _word_score(word: str) -> int:
    cyrillic = latin_ascii = latin_other = unexpected = 0
    for ch in word:
        if _is_cyrillic(ch):
            cyrillic += 1
        elif ch.isascii():
            latin_ascii += 1
        elif ch in _EXPECTED_LATIN:
            latin_other += 1
        else:
            unexpected += 1
    if cyrillic and (latin_ascii or latin_other or unexpected):
        return -2  # mixed scripts inside one word: mojibake
    if cyrillic:
        return 1 if cyrillic > 1 else 0  # one-letter words (в, с, и) also come from stray symbols
    if unexpected:
        return -unexpected
    if latin_other and latin_other > 0.6 * (latin_ascii + latin_other):
        return -1  # a "word" made mostly of diacritics is a misdecoded Cyrillic/other word
    return 1 if latin_other else 0


@dataclass(frozen=True, slots=True)
class Plausibility:
    """Evidence that a decoding reads like the region's languages: ``good`` believable words with non-ASCII
    letters; ``bad`` mixed-script words, unexpected letters, stray symbols and undecodable bytes."""

    good: int
    bad: int

    @property
    def score(self) -> int:
        return self.good - self.bad


_NON_ASCII_TOKEN = re.compile(r"[A-Za-z\u0080-\U0010ffff]*[\u0080-\U0010ffff][A-Za-z\u0080-\U0010ffff]*")


def plausibility(text: str) -> Plausibility:
    """Score ``text`` word by word (only words with non-ASCII letters and non-ASCII symbols count)."""
    good = bad = 0

    def add(value: int) -> None:
        nonlocal good, bad
        if value > 0:
            good += value
        else:
            bad -= value

    for token in _NON_ASCII_TOKEN.findall(text):  # ASCII-only stretches are skipped in C
        word: list[str] = []
        for ch in token:
            if ch.isalpha():
                word.append(ch)
                continue
            if word:
                add(_word_score("".join(word)))
                word.clear()
            if ch in _NEUTRAL_SYMBOLS or ch.isspace():
                continue
            if ch == "\ufffd" or unicodedata.category(ch) in {"Cc", "Co", "Cn"}:
                add(-3)
            else:
                add(-1)
        if word:
            add(_word_score("".join(word)))
    return Plausibility(good, bad)


def _strict_utf8(sample: bytes, complete: bool) -> bool:
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A sample cut inside a multi-byte sequence fails only at its very end.
        return not complete and exc.reason == "unexpected end of data" and exc.start >= len(sample) - 3
    return True


def _mostly_utf8(sample: bytes) -> bool:
    """UTF-8 with a few corrupt bytes (garbage in an otherwise UTF-8 page): far more well-formed multi-byte
    characters than broken sequences. Legacy text read as UTF-8 is nearly all broken sequences."""
    decoded = sample.decode("utf-8", errors="replace")
    broken = decoded.count("\ufffd")
    wellformed = sum(1 for ch in decoded if ord(ch) > 127) - broken
    return wellformed > 0 and wellformed >= 2 * broken


def _score(sample: bytes, encoding: str) -> Plausibility:
    return plausibility(sample.decode(encoding, errors="replace"))


def _best_legacy(sample: bytes, preferred: str | None) -> tuple[str, Plausibility]:
    candidates = [preferred] if preferred else []
    candidates += [c for c in LEGACY_CANDIDATES if c != preferred]
    scored = [(c, _score(sample, c)) for c in candidates]
    return max(scored, key=lambda item: item[1].score)  # max() keeps the first of equals: tie-break order


def _normalise(label: str | None) -> str | None:
    if not label:
        return None
    resolved = resolve_encoding(label)
    if resolved is None:
        return None
    return codecs.lookup(resolved).name


def _single_byte(encoding: str) -> bool:
    try:
        return len(codecs.encode("\u00e9\u0436\u0101", encoding, errors="replace")) == 3
    except LookupError:  # pragma: no cover - resolve_encoding already checked the name
        return False


def choose_encoding(
    body: bytes, content_type: str | None, *, force: str | None = None, fallback: str | None = None
) -> EncodingChoice:
    """The encoding to decode ``body`` with (see the module docstring for the rules)."""
    if force:
        return EncodingChoice(_normalise(force) or force, "forced")
    bom_encoding, _ = read_bom(body)
    if bom_encoding is not None:
        return EncodingChoice(_normalise(bom_encoding) or bom_encoding, "bom")
    sample = body[:SAMPLE_BYTES]
    complete = len(body) <= SAMPLE_BYTES
    declared = _normalise(http_content_type_encoding(content_type) if content_type else None)
    declared = declared or _normalise(html_body_declared_encoding(sample))
    preferred = _normalise(fallback)
    if sample.isascii():
        return EncodingChoice(declared or preferred or "utf-8", "declared" if declared else "detected")
    valid_utf8 = _strict_utf8(sample, complete)
    if declared is not None:
        if declared in {"utf-8", "ascii"}:
            if valid_utf8 or _mostly_utf8(sample):
                return EncodingChoice("utf-8", "declared")
            encoding, fit = _best_legacy(sample, preferred)
            # Switch only to a code page that reads like language; else it is UTF-8 with garbage in it.
            return EncodingChoice(encoding, "corrected") if fit.score > 0 else EncodingChoice("utf-8", "declared")
        if not _single_byte(declared):
            return EncodingChoice(declared, "declared")  # multi-byte East Asian etc.: trust it
        if valid_utf8:
            # Legacy text is practically never valid multi-byte UTF-8: the declaration is stale.
            return EncodingChoice("utf-8", "corrected")
        declared_fit = _score(sample, declared)
        if declared_fit.bad == 0:
            return EncodingChoice(declared, "declared")
        encoding, fit = _best_legacy(sample, preferred)
        if fit.score > declared_fit.score and fit.bad < declared_fit.bad:
            return EncodingChoice(encoding, "corrected")
        return EncodingChoice(declared, "declared")
    if valid_utf8 or _mostly_utf8(sample):
        return EncodingChoice("utf-8", "detected")
    encoding, fit = _best_legacy(sample, preferred)
    if fit.score <= 0 and preferred:
        return EncodingChoice(preferred, "fallback")
    return EncodingChoice(encoding, "detected")
