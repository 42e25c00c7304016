"""Mixed-language ads: primary language, other languages with their share, and where they are.

Baltic ads often carry a second language: a Latvian ad with a Russian paragraph, an Estonian ad with an
English summary. :func:`detect_mix` splits the text into lines and decides a language per line, cheaply:

* a line that is mostly Cyrillic is Russian (the only Cyrillic language supported);
* the Latin-script part gets one lingua call on a prefix (exactly what :func:`detect_language` does for a
  single-script ad, so single-language results do not change);
* a Latin line is re-identified with lingua only when its letters do not fit that language: it contains
  letters the language does not use ("ł" in a Latvian ad), or it is a long ASCII-only line in an ad
  whose other lines use the language's diacritics (an English paragraph in a Latvian ad), or it has
  diacritics in an English ad. Most ads therefore cost no extra lingua call.

Lines shorter than ``MIN_LINE_CHARS`` (contacts, headings) take the language of the line before them.
Shares are fractions of the characters of the text's lines; ``segments`` are the character spans of
runs of lines in a language other than the primary one (the extractor runs those languages' lexicons
on them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from features.language import (
    FALLBACK_LANGUAGE,
    SAMPLE_CHARS,
    detect_language,
    get_detector,
    lingua_to_iso,
)

MIN_LINE_CHARS = 25  # shorter lines inherit the language of the line before
LONG_ASCII_LINE = 60  # an ASCII-only line this long in a diacritics language is checked
LINE_SAMPLE_CHARS = 200
LINE_CYRILLIC = 0.3  # a line with at least this share of Cyrillic letters is Russian (names, HTML are Latin)
MIN_LINE_CONFIDENCE = 0.5  # a re-identified line keeps the ad's language below this lingua confidence
_CYRILLIC_RE = re.compile(r"[\u0400-\u04ff]")
_LETTER_RE = re.compile(r"[^\W\d_]")

# Non-ASCII letters each Latin-script language uses natively (lower case).
NATIVE_LETTERS: dict[str, frozenset[str]] = {
    "en": frozenset(),
    "lv": frozenset("āčēģīķļņšūž"),
    "lt": frozenset("ąčęėįšųūž"),
    "et": frozenset("äöõüšž"),
    "fi": frozenset("äöåšž"),
    "pl": frozenset("ąćęłńóśźż"),
}


@dataclass(frozen=True, slots=True)
class LanguageMix:
    primary: str
    confidence: float
    shares: list[tuple[str, float]] = field(default_factory=list)  # primary first, then by share
    segments: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, lang) not primary


@dataclass(slots=True)
class _Line:
    start: int
    end: int
    weight: int
    script: str  # "cyr" | "lat" | "short"
    ascii: bool
    letters: frozenset[str]  # non-ASCII lower-case letters
    lang: str = ""


def _lines(text: str) -> list[_Line]:
    out: list[_Line] = []
    pos = 0
    for raw in text.split("\n"):
        start, end = pos, pos + len(raw)
        pos = end + 1
        stripped = raw.strip()
        if not stripped:
            continue
        weight = len(stripped)
        if raw.isascii():
            script = "lat" if weight >= MIN_LINE_CHARS else "short"
            out.append(_Line(start, end, weight, script, True, frozenset()))
            continue
        letters = frozenset(c for c in set(raw.lower()) if not c.isascii() and c.isalpha())
        if weight < MIN_LINE_CHARS:
            script = "short"
        elif _CYRILLIC_RE.search(raw):
            n_letters = len(_LETTER_RE.findall(raw)) or 1
            script = "cyr" if len(_CYRILLIC_RE.findall(raw)) / n_letters >= LINE_CYRILLIC else "lat"
        else:
            script = "lat"
        out.append(_Line(start, end, weight, script, False, letters))
    return out


def _detect_sample(sample: str) -> tuple[str, float]:
    values = get_detector().compute_language_confidence_values(sample[:LINE_SAMPLE_CHARS])
    if not values or values[0].value <= 0.0:
        return FALLBACK_LANGUAGE, 0.0
    return lingua_to_iso(values[0].language), float(values[0].value)


def _needs_check(line: _Line, lang: str, ad_uses_native: bool) -> bool:
    native = NATIVE_LETTERS.get(lang)
    if native is None:
        return False
    if line.ascii:
        return bool(native) and ad_uses_native and line.weight >= LONG_ASCII_LINE
    foreign = {c for c in line.letters if not _CYRILLIC_RE.match(c)} - native
    return bool(foreign)


def detect_mix(text: str, lang: str | None = None) -> LanguageMix:
    """Primary language (``lang`` when given), its confidence, language shares and foreign segments."""
    lines = _lines(text)
    long_lines = [ln for ln in lines if ln.script != "short"]
    if not long_lines:
        if lang is not None:
            return LanguageMix(lang, 1.0, [(lang, 1.0)])
        code, conf = detect_language(text)
        return LanguageMix(code, conf, [(code, 1.0)] if conf > 0 else [])
    cyr = [ln for ln in long_lines if ln.script == "cyr"]
    lat = [ln for ln in long_lines if ln.script == "lat"]
    latin_lang: str | None = None
    conf: float
    if lang is not None:
        primary, conf = lang, 1.0
        if lat:
            latin_lang = lang if lang != "ru" else _detect_sample(_join(text, lat))[0]
    elif not cyr:
        primary, conf = detect_language(text)
        latin_lang = primary
    elif not lat:
        primary, conf = detect_language(text)
    else:
        latin_lang, latin_conf = _detect_sample(_join(text, lat))
        cyr_weight = sum(ln.weight for ln in cyr)
        lat_weight = sum(ln.weight for ln in lat)
        if cyr_weight >= lat_weight:
            primary, conf = "ru", cyr_weight / (cyr_weight + lat_weight)
        else:
            primary, conf = latin_lang, latin_conf
    for ln in cyr:
        ln.lang = "ru"
    if lat and latin_lang is not None:
        ad_uses_native = any(ln.letters & NATIVE_LETTERS.get(latin_lang, frozenset()) for ln in lat)
        for ln in lat:
            ln.lang = latin_lang
            if _needs_check(ln, latin_lang, ad_uses_native):
                code, line_conf = _detect_sample(text[ln.start : ln.end].strip())
                if line_conf >= MIN_LINE_CONFIDENCE:
                    ln.lang = code
    previous = primary
    for ln in lines:
        if ln.script == "short" or not ln.lang:
            ln.lang = previous
        previous = ln.lang
    shares = _shares(lines, primary)
    if lang is None and len(shares) > 1 and shares[1][1] > shares[0][1]:
        # a re-identified language covers most of the ad: it is the primary one, its share the confidence
        primary, conf = shares[1][0], shares[1][1]
        shares = _shares(lines, primary)
    return LanguageMix(primary, conf, shares, _segments(lines, primary))


def _join(text: str, lines: list[_Line]) -> str:
    out: list[str] = []
    size = 0
    for ln in lines:
        out.append(text[ln.start : ln.end])
        size += ln.end - ln.start
        if size >= SAMPLE_CHARS:
            break
    return "\n".join(out)[:SAMPLE_CHARS]


def _shares(lines: list[_Line], primary: str) -> list[tuple[str, float]]:
    weights: dict[str, int] = {}
    for ln in lines:
        weights[ln.lang] = weights.get(ln.lang, 0) + ln.weight
    total = sum(weights.values()) or 1
    others = sorted(((c, w) for c, w in weights.items() if c != primary), key=lambda cw: (-cw[1], cw[0]))
    out = [(primary, round(weights.get(primary, 0) / total, 3))]
    out += [(c, round(w / total, 3)) for c, w in others]
    return out


def _segments(lines: list[_Line], primary: str) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    previous = primary
    for ln in lines:
        if ln.lang != primary:
            if previous == ln.lang:
                out[-1] = (out[-1][0], ln.end, ln.lang)
            else:
                out.append((ln.start, ln.end, ln.lang))
        previous = ln.lang
    return out
