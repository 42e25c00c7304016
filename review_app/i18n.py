"""The app's interface languages: gettext catalogues (``review_app/locales/<lang>/LC_MESSAGES/messages.po``,
compiled with Babel when this module is imported, no build step), the language of each request, and language
names in full.

The language of a request: ``?lang=lv`` (remembered in the ``lurewatch_lang`` cookie), else that cookie, else the
browser's ``Accept-Language`` when it names a language the app has, else English. Templates call ``_()`` (Jinja's
i18n extension, new-style: the result is escaped like any other value); the translations in force are the
request's, kept in a context variable while the page renders. Ad text is never translated: glosses of highlighted
phrases and indicators are English (:func:`review_app.indicators.gloss`), whatever the interface language.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from starlette.requests import Request

LOCALES_DIR = Path(__file__).with_name("locales")
DOMAIN = "messages"
DEFAULT_LOCALE = "en"
LOCALES: dict[str, str] = {"en": "English", "lv": "Latviešu"}  # offered in the language switch, in their own names
COOKIE = "lurewatch_lang"
COOKIE_MAX_AGE_S = 365 * 24 * 3600

_current: ContextVar[str] = ContextVar("review_locale", default=DEFAULT_LOCALE)


class CatalogueError(RuntimeError):
    """A catalogue that is missing or cannot be read."""


def catalogue_path(locale: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(locale: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``locale`` (English: the messages as written)."""
    path = catalogue_path(locale)
    if not path.exists():
        if locale == DEFAULT_LOCALE:
            return gettext.NullTranslations()
        raise CatalogueError(f"no catalogue for {locale!r} at {path}")
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def load_all() -> None:
    """Compile every catalogue now (at app start), so a broken one stops the app instead of a page."""
    for locale in LOCALES:
        translations(locale)


def current_locale() -> str:
    return _current.get()


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    token = _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current.reset(token)


def gettext_(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext_(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def _accepted(header: str) -> str | None:
    """The first language of an ``Accept-Language`` header that the app has (quality order)."""
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        choices.append((-quality, index, tag.strip().lower().split("-")[0]))
    for _, _, tag in sorted(choices):
        if tag in LOCALES:
            return tag
    return None


def request_locale(request: Request) -> str:
    """The interface language of a request: query parameter, cookie, Accept-Language, English."""
    for value in (request.query_params.get("lang"), request.cookies.get(COOKIE)):
        if value in LOCALES:
            return str(value)
    return _accepted(request.headers.get("accept-language", "")[:500]) or DEFAULT_LOCALE


def chosen_by_query(request: Request) -> str | None:
    """The language a request asks for with ``?lang=`` (to be remembered in the cookie), if it is one we have."""
    value = request.query_params.get("lang")
    return str(value) if value in LOCALES else None


@cache
def _language_names(locale: str) -> dict[str, str]:
    try:
        return dict(Locale.parse(locale).languages)
    except (UnknownLocaleError, ValueError):
        return {}


def language_name(code: str | None, locale: str | None = None) -> str:
    """A language in full in the interface language ("lv" -> "Latvian"; in the Latvian interface "Latviešu");
    the code itself if it is not a language Babel knows, "Unknown" for none."""
    if not code:
        return gettext_("Unknown")
    names = _language_names(locale or current_locale())
    name = names.get(code) or _language_names(DEFAULT_LOCALE).get(code)
    return name[:1].upper() + name[1:] if name else code
