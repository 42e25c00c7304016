"""Load the data files behind the fact extractors (built once per process).

* ``data/fx_eur.yaml``        fixed EUR rates, currency spellings, period -> month factors
* ``data/facts/<lang>.yaml``  words around pay and age statements (salary/cost words, periods,
                              "from"/"up to", age units and cues, experience words)
* ``data/places/<lang>.yaml`` gazetteer: country and city forms -> ISO 3166-1 alpha-2, the language's
                              home countries and its "language" words ("valoda", "kieli")

All languages' words are merged into one table: ads mix languages, and a Latvian ad quoting a salary
"в месяц" should still be understood. A language without data files simply adds nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from features.schema import SUPPORTED_LANGUAGES
from features.textnorm import fold
from features.wordtable import WordTable

DATA_DIR = Path(__file__).with_name("data")
FX_PATH = DATA_DIR / "fx_eur.yaml"
FACTS_DIR = DATA_DIR / "facts"
PLACES_DIR = DATA_DIR / "places"
MIN_PLACE_STEM = 5

# roles in data/facts/<lang>.yaml with a list of forms
FACT_LIST_ROLES: tuple[str, ...] = (
    "salary",
    "cost",
    "gross_net",
    "connectors",
    "from",
    "up_to",
    "from_after",
    "up_to_after",
    "age_unit",
    "age_cue",
    "person",
    "older",
    "younger",
    "negation",
    "experience",
    "not_age_after",
    "per_rate",
)
# roles with {period: [forms]}
FACT_PERIOD_ROLES: tuple[str, ...] = ("period", "period_before")
PERIODS: tuple[str, ...] = ("hour", "day", "shift", "week", "month", "year")


@dataclass(frozen=True)
class FxTable:
    eur_per_unit: dict[str, float]
    aliases: dict[str, str]  # lower-case spelling -> ISO 4217 code
    period_to_month: dict[str, float]
    plausible: tuple[float, float]
    as_of: str

    def to_eur_month(self, amount: float, currency: str, period: str) -> float:
        return amount * self.eur_per_unit[currency] * self.period_to_month[period]


@dataclass(frozen=True)
class FactVocab:
    words: WordTable  # role -> value ("1", or the period for period roles)
    default_currency: dict[str, str]  # language -> currency assumed when an amount has none
    currency_re: re.Pattern[str]  # a currency spelling (group "cur") right at a position
    currency_before_re: re.Pattern[str]  # a currency spelling ending a window (group "cur")


@dataclass(frozen=True)
class Gazetteer:
    words: WordTable  # roles: "country" -> ISO code, "city" -> "ISO:Name", "multi" -> "1"
    multi: dict[str, list[tuple[tuple[str, ...], str, str | None]]]  # first word -> (rest, ISO, city)
    tails: WordTable  # last words of multi-word names ("york"): an ad without one cannot name such a place
    home: dict[str, tuple[str, ...]]  # language -> home countries
    language_words: WordTable


def _load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping")
    _check_strings(data, path)
    return data


def _check_strings(node: Any, path: Path) -> None:
    """Word lists must hold strings: YAML reads a bare no / on / yes as a boolean (quote them: "no")."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, bool):
                raise ValueError(f"{path}: key {key!r} was read as a boolean; quote it")
            _check_strings(value, path)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, bool):
                raise ValueError(f'{path}: list item {item!r} was read as a boolean; quote it (e.g. "no")')
            if isinstance(item, (dict, list)):
                _check_strings(item, path)


def _lang_files(directory: Path) -> list[tuple[str, Path]]:
    return [(lang, directory / f"{lang}.yaml") for lang in SUPPORTED_LANGUAGES if (directory / f"{lang}.yaml").exists()]


@cache
def fx_table(path: Path = FX_PATH) -> FxTable:
    data = _load_yaml(path)
    rates: dict[str, float] = {}
    aliases: dict[str, str] = {}
    for code, spec in data["currencies"].items():
        rates[str(code)] = float(spec["eur_per_unit"])
        aliases[str(code).lower()] = str(code)
        for alias in spec.get("aliases", []):
            key = str(alias).lower()
            if key in aliases and aliases[key] != code:
                raise ValueError(f"{path}: currency spelling {alias!r} used for {aliases[key]} and {code}")
            aliases[key] = str(code)
    # The salary regexes match a spelling without its trailing dot ("1000р", "2000 р."): look those up too.
    for key, code in list(aliases.items()):
        aliases.setdefault(key.rstrip("."), code)
    factors = {str(k): float(v) for k, v in data["period_to_month"].items()}
    missing = set(PERIODS) - set(factors)
    if missing:
        raise ValueError(f"{path}: period_to_month lacks {sorted(missing)}")
    lo, hi = data["plausible_eur_month"]
    return FxTable(rates, aliases, factors, (float(lo), float(hi)), str(data.get("as_of", "")))


def _currency_alternation(aliases: dict[str, str]) -> str:
    spellings = sorted({a.rstrip(".") for a in aliases}, key=len, reverse=True)
    return "|".join(re.escape(s) for s in spellings if s)


@cache
def fact_vocab() -> FactVocab:
    table = WordTable()
    defaults: dict[str, str] = {}
    for lang, path in _lang_files(FACTS_DIR):
        data = _load_yaml(path)
        defaults[lang] = str(data.get("default_currency", "EUR"))
        for role in FACT_LIST_ROLES:
            for form in data.get(role) or []:
                table.add(str(form), role)
        for role in FACT_PERIOD_ROLES:
            for period, forms in (data.get(role) or {}).items():
                if period not in PERIODS:
                    raise ValueError(f"{path}: unknown period {period!r}")
                for form in forms:
                    table.add(str(form), role, str(period))
    for spelling, code in fx_table().aliases.items():
        word = spelling.rstrip(".")
        if word.isalpha():
            table.add(word, "currency", code)
    alternation = _currency_alternation(fx_table().aliases)
    currency_re = re.compile(rf"[ \u00a0]?(?P<cur>{alternation})\.?(?![^\W\d_])", re.IGNORECASE)
    before_re = re.compile(rf"(?<![^\W\d_])(?P<cur>{alternation})\.?[ \u00a0]?$", re.IGNORECASE)
    return FactVocab(table, defaults, currency_re, before_re)


@cache
def gazetteer() -> Gazetteer:
    words = WordTable(min_stem=MIN_PLACE_STEM)
    tails = WordTable()
    language_words = WordTable()
    multi: dict[str, list[tuple[tuple[str, ...], str, str | None]]] = {}
    home: dict[str, tuple[str, ...]] = {}

    def add(form: str, iso: str, city: str | None, path: Path) -> None:
        parts = form.split()
        if not parts:
            raise ValueError(f"{path}: empty place form for {iso}")
        if len(parts) > 1:
            raw = parts[0].startswith("=")
            first = parts[0][1:].lower() if raw else fold(parts[0])
            rest = tuple(p.lstrip("=") for p in parts[1:])
            multi.setdefault(first, []).append((rest, iso, city))
            words.add(parts[0], "multi")
            tails.add(parts[-1], "tail")
            return
        if city is None:
            words.add(form, "country", iso)
        else:
            words.add(form, "city", f"{iso}:{city}")

    for lang, path in _lang_files(PLACES_DIR):
        data = _load_yaml(path)
        home[lang] = tuple(str(c) for c in data.get("home") or ())
        for form in data.get("language_words") or []:
            language_words.add(str(form), "language")
        for iso, forms in (data.get("countries") or {}).items():
            _check_iso(str(iso), path)
            for form in forms:
                add(str(form), str(iso), None, path)
        for iso, cities in (data.get("cities") or {}).items():
            _check_iso(str(iso), path)
            for city, forms in cities.items():
                for form in forms:
                    add(str(form), str(iso), str(city), path)
    return Gazetteer(words, multi, tails, home, language_words)


def _check_iso(code: str, path: Path) -> None:
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise ValueError(f"{path}: {code!r} is not an ISO 3166-1 alpha-2 code")
