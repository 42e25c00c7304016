"""The digest in the recipient's language: gettext catalogues (``digest/locales``) and Babel's CLDR formats.

Locales: ``en`` (the source strings), ``lv`` (fully translated), ``lt``, ``et``, ``fi`` and ``pl`` (headings,
chart labels and the explanations translated; any string a catalogue lacks falls back to English). Country and
language names, numbers, percentages and dates come from CLDR through Babel, so they are in the locale's own
words and format in every locale (``12 345`` and ``2026. gada 9. novembris`` in Latvian, ``12,345`` in English).

Catalogues are the ``.po`` files themselves, compiled in memory on first use (no ``.mo`` build step). To add a
string: mark it (``_()`` where it is defined, ``lang.gettext()`` where it is shown, ``{{ _("...") }}`` in
templates), then::

    .venv/bin/pybabel extract -F digest/locales/babel.cfg -k _ -k gettext -k t --no-location --omit-header \
        -o digest/locales/digest.pot .
    .venv/bin/pybabel update -i digest/locales/digest.pot -d digest/locales -D digest --no-fuzzy-matching

and translate the new ``msgstr`` lines; ``tests/digest/test_digest_locales.py`` fails while ``lv`` misses one.
"""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

from babel import Locale
from babel.dates import format_date, format_datetime, format_interval
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent, get_minus_sign_symbol, get_plus_sign_symbol
from babel.support import NullTranslations, Translations

LocaleCode = Literal["en", "lv", "lt", "et", "fi", "pl"]
SUPPORTED_LOCALES: tuple[str, ...] = get_args(LocaleCode)
#: Locales whose catalogue holds every string of the digest (the others fall back to English for some).
FULLY_TRANSLATED: tuple[str, ...] = ("en", "lv")
LOCALES_DIR = Path(__file__).with_name("locales")
DOMAIN = "digest"

#: English names as the digest always showed them (CLDR's English differs for a few, e.g. "Czechia").
_ENGLISH_COUNTRIES: dict[str, str] = {"TR": "Türkiye", "CZ": "Czechia", "GB": "United Kingdom", "US": "United States"}


def catalogue_path(locale: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=16)
def translations(locale: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``locale`` (English: no translation)."""
    path = catalogue_path(locale)
    if locale == "en" or not path.is_file():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def _(message: str) -> str:
    """Mark a string for translation where it is defined; :meth:`Lang.gettext` translates it where it is shown."""
    return message


@dataclass(frozen=True, slots=True)
class Lang:
    """Everything locale-dependent the digest shows: words, numbers, dates and names."""

    code: str = "en"

    def __post_init__(self) -> None:
        if self.code not in SUPPORTED_LOCALES:
            raise ValueError(f"digest locale {self.code!r} is not one of {', '.join(SUPPORTED_LOCALES)}")

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.code)

    def gettext(self, message: str, **values: object) -> str:
        text = translations(self.code).gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: object) -> str:
        text = translations(self.code).ngettext(singular, plural, n)
        return text % ({"num": self.number(n)} | values)

    def number(self, n: int | float, *, sign: bool = False, digits: int = 0) -> str:
        text = format_decimal(abs(n) if sign else n, format="#,##0" + ("." + "0" * digits if digits else ""),
                              locale=self.code)
        if not sign:
            return text
        if n == 0:
            return "±" + text
        return (get_plus_sign_symbol(self.code) if n > 0 else get_minus_sign_symbol(self.code)) + text

    def percent(self, x: float, *, sign: bool = False, digits: int = 0) -> str:
        value = round(abs(x) if sign else x, digits + 2)
        text = format_percent(value, locale=self.code, decimal_quantization=not digits)
        if not sign or round(x * 100) == 0:
            return text
        return (get_plus_sign_symbol(self.code) if x > 0 else get_minus_sign_symbol(self.code)) + text

    def date(self, day: date, fmt: str = "long") -> str:
        return format_date(day, fmt, locale=self.code)

    def datetime(self, moment: datetime) -> str:
        return format_datetime(moment, "medium", locale=self.code)

    def date_range(self, first: date, last: date) -> str:
        return format_interval(first, last, "yMMMd", locale=self.code)

    def country(self, code: str) -> str:
        if code == "??":
            return self.gettext("Not stated")
        if self.code == "en" and code in _ENGLISH_COUNTRIES:
            return _ENGLISH_COUNTRIES[code]
        return self.locale.territories.get(code, code)

    def language(self, code: str) -> str:
        if code == "unknown":
            return self.gettext("Unknown")
        name = self.locale.languages.get(code, code)
        return name[:1].upper() + name[1:]
