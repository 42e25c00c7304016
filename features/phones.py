"""Phone-number detection: candidate runs (incl. spaced / spelled-out digits) -> phonenumbers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

REGIONS: tuple[str, ...] = ("LV", "LT", "EE", "FI", "PL", "RU", "GB", "DE", "NO")
NATIONAL_REGIONS: tuple[str, ...] = ("LV", "LT", "EE", "FI", "PL", "RU")

DIGIT_WORDS: dict[str, str] = {}
for _digit, _words in enumerate(
    (
        "zero nulle nulis ноль нуль nolla null",
        "one viens vienas vienetas один jeden yksi üks",
        "two divi du dvi два dwa kaksi kaks",
        "three trīs tris trys три trzy kolme kolm",
        "four četri cetri keturi четыре cztery neljä nelja neli",
        "five pieci penki пять pięć piec viisi viis",
        "six seši sesi šeši шесть sześć szesc kuusi kuus",
        "seven septiņi septini septyni семь siedem seitsemän seitseman seitse",
        "eight astoņi astoni aštuoni astuoni восемь osiem kahdeksan kaheksa",
        "nine deviņi devini devyni девять dziewięć dziewiec yhdeksän yhdeksan üheksa",
    )
):
    for _w in _words.split():
        DIGIT_WORDS[_w] = str(_digit)

_WORD_ALT = "|".join(sorted((re.escape(w) for w in DIGIT_WORDS), key=len, reverse=True))
_TOKEN = rf"(?:\d|(?<![^\W\d_])(?:{_WORD_ALT})(?![^\W\d_]))"
_SEP = r"[ \t\u00a0\-./()]{0,3}"
RUN_RE = re.compile(rf"(?:\+|\b00)?[ (]{{0,2}}{_TOKEN}(?:{_SEP}{_TOKEN}){{6,40}}")
RUN_DIGITS_RE = re.compile(rf"(?:\+|\b00)?[ (]{{0,2}}\d(?:{_SEP}\d){{6,40}}")  # fast path: no digit words
_TOKEN_RE = re.compile(_TOKEN)
WORD_RE = re.compile(r"[^\W\d_]+")  # letter runs (shared with contacts and facts)
_DIGIT_RE = re.compile(r"\d")
MIN_DIGIT_WORDS = 3  # spelled-out digits are only considered when at least this many occur
_DATE_RE = re.compile(r"^\s*(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})\s*$")

_MONEY_AFTER_RE = re.compile(r"\s{0,2}(?:€|\$|£|₽|eur|euro|eiro|zł|zl\b|pln|руб|usd|gbp|nok|sek)")
_MONEY_BEFORE_RE = re.compile(r"(?:€|\$|£|eur|pln)\s{0,2}$")

MIN_DIGITS = 7
MAX_DIGITS = 15


@dataclass(frozen=True, slots=True)
class PhoneMatch:
    e164: str
    region: str
    line_type: str  # "mobile" | "landline" | "other"
    start: int
    end: int


_TYPE_NAMES = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "landline",
}


@lru_cache(maxsize=65536)
def parse_number(digits: str, region: str | None) -> tuple[str, str, str] | None:
    """(E.164, region, line type) when ``digits`` ("+..." or national) is a valid number."""
    try:
        num = phonenumbers.parse(digits, region)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(num):
        return None
    e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    reg = phonenumbers.region_code_for_number(num) or (region or "")
    return e164, reg, _TYPE_NAMES.get(phonenumbers.number_type(num), "other")


def _region_order(default_region: str | None) -> tuple[str, ...]:
    """National-format numbers: the ad's region first, then the Baltic/Nordic/PL/RU regions.

    GB/DE/NO numbering plans accept many digit strings, so without a ``+``/``00`` prefix they
    are only tried when given as ``default_region``.
    """
    if default_region:
        first = default_region.upper()
        return (first, *(r for r in NATIONAL_REGIONS if r != first))
    return NATIONAL_REGIONS


def find_phones(text: str, default_region: str | None = None, *, words: list[str] | None = None) -> list[PhoneMatch]:
    """Valid phone numbers in lower-cased ``text``; offsets refer to ``text``. Not de-duplicated.

    ``words``: the ``WORD_RE`` tokens of ``text`` when the caller has them already.
    """
    regions = _region_order(default_region)
    out: list[PhoneMatch] = []
    if words is None:
        words = WORD_RE.findall(text)
    spelled = sum(1 for w in words if w in DIGIT_WORDS) >= MIN_DIGIT_WORDS
    if not spelled and len(_DIGIT_RE.findall(text)) < MIN_DIGITS:
        return out  # RUN_DIGITS_RE needs at least MIN_DIGITS digits
    for run in (RUN_RE if spelled else RUN_DIGITS_RE).finditer(text):
        run_text = run.group()
        if _DATE_RE.match(run_text):
            continue
        toks = [
            (DIGIT_WORDS.get(m.group(), m.group()), run.start() + m.start(), run.start() + m.end())
            for m in _TOKEN_RE.finditer(run_text)
        ]
        plus_pos = run_text.find("+")
        lead = run.start() + plus_pos if 0 <= plus_pos < 3 else None
        zero_zero = lead is None and run_text.startswith("00")
        for match in _split_run(toks, lead, zero_zero, regions):
            if not _MONEY_AFTER_RE.match(text, match.end) and not _MONEY_BEFORE_RE.search(
                text, max(0, match.start - 4), match.start
            ):
                out.append(match)
    return out


def _split_run(
    toks: list[tuple[str, int, int]], plus_start: int | None, zero_zero: bool, regions: tuple[str, ...]
) -> list[PhoneMatch]:
    """Greedy left-to-right: the longest valid number starting at each token."""
    found: list[PhoneMatch] = []
    i, n = 0, len(toks)
    while i < n:
        intl = i == 0 and (plus_start is not None or zero_zero)
        skip = 2 if (i == 0 and zero_zero) else 0
        hit: tuple[tuple[str, str, str], int] | None = None
        hi = min(n, i + skip + MAX_DIGITS)
        lo = i + skip + MIN_DIGITS - 1
        for region in (None,) if intl else regions:  # region-major: the preferred region wins
            for j in range(hi, lo, -1):
                if j < n and toks[j][1] == toks[j - 1][2]:
                    continue  # would cut a digit group in two
                digits = "".join(t[0] for t in toks[i + skip : j])
                res = parse_number("+" + digits, None) if region is None else parse_number(digits, region)
                if res is not None and (region is None or region == regions[0] or res[2] != "other"):
                    hit = (res, j)
                    break
            if hit is not None:
                break
        if hit is None:
            i += 1
            while i < n and toks[i][1] == toks[i - 1][2]:
                i += 1  # restart at the next digit group
            continue
        (e164, region, line_type), j = hit
        start = plus_start if (i == 0 and plus_start is not None) else toks[i][1]
        found.append(PhoneMatch(e164, region, line_type, start, toks[j - 1][2]))
        i = j
    return found
