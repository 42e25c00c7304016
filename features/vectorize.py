"""Turn AdFeatures into the fixed numeric vector (keys == FEATURE_NAMES)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from features.factdata import gazetteer
from features.schema import FEATURE_NAMES, SUPPORTED_LANGUAGES
from features.taxonomy import INDICATORS

if TYPE_CHECKING:
    from features.model import AdFeatures, Contact

MESSENGER_KINDS = frozenset({"whatsapp", "telegram", "viber"})


def is_messenger_only(contacts: list[Contact]) -> bool:
    """True when the ad can only be answered via messengers / free-mail / mobile numbers.

    A messenger or free-mail contact exists and there is no company e-mail, no landline and
    no ordinary (non-shortener) URL.
    """
    has_private = any(c.kind in MESSENGER_KINDS or (c.kind == "email" and c.free_mail) for c in contacts)
    if not has_private:
        return False
    for c in contacts:
        if c.kind == "email" and not c.free_mail:
            return False
        if c.kind == "phone" and c.line_type == "landline":
            return False
        if c.kind == "url" and not c.shortener:
            return False
    return True


def build_vector(f: AdFeatures) -> dict[str, float]:
    counts = f.indicator_counts()
    v: dict[str, float] = dict.fromkeys(FEATURE_NAMES, 0.0)
    for ind in INDICATORS:
        v[f"ind_{ind}"] = float(counts[ind])
    v["n_indicators_distinct"] = float(sum(1 for c in counts.values() if c))
    v["n_evidence"] = float(sum(counts.values()))
    for c in f.contacts:
        if c.kind == "phone":
            v["n_phones"] += 1
            if c.line_type == "mobile":
                v["n_phones_mobile"] += 1
            elif c.line_type == "landline":
                v["n_phones_landline"] += 1
            if c.region is not None and f.language != "en" and c.region != _LANG_REGION.get(f.language):
                v["n_phones_foreign"] += 1
        elif c.kind == "email":
            v["n_emails"] += 1
            if c.free_mail:
                v["n_freemail"] += 1
            else:
                v["n_company_email"] += 1
        elif c.kind in MESSENGER_KINDS:
            v["n_messenger"] += 1
            v[f"n_{c.kind}"] += 1
        elif c.kind == "url":
            v["n_urls"] += 1
            if c.shortener:
                v["n_shortener_urls"] += 1
    v["messenger_only"] = 1.0 if is_messenger_only(f.contacts) else 0.0
    _fact_features(f, v)
    v["n_chars"] = float(f.n_chars)
    v["language_confidence"] = float(f.language_confidence)
    v["n_languages"] = float(len(f.languages))
    if f.languages:
        v["secondary_language_share"] = round(max(0.0, 1.0 - f.languages[0][1]), 3)
    if f.language in SUPPORTED_LANGUAGES:
        v[f"lang_{f.language}"] = 1.0
    return v


def home_countries(language: str) -> tuple[str, ...]:
    """Countries that are "home" for ads in ``language`` (data/places/<lang>.yaml ``home``)."""
    return gazetteer().home.get(language, ())


def _fact_features(f: AdFeatures, v: dict[str, float]) -> None:
    if f.salaries:
        top = max(f.salaries, key=lambda s: s.eur_month)
        v["has_salary"] = 1.0
        v["salary_eur_month"] = round(top.eur_month, 2)
        v["salary_is_range"] = 1.0 if top.qualifier == "range" else 0.0
        v["salary_is_upto"] = 1.0 if top.qualifier == "up_to" else 0.0
    if f.ages:
        lows = [a.min_age for a in f.ages if a.min_age is not None]
        highs = [a.max_age for a in f.ages if a.max_age is not None]
        v["has_age"] = 1.0
        v["min_age"] = float(min(lows)) if lows else 0.0
        v["max_age"] = float(max(highs)) if highs else 0.0
        v["age_range_young"] = 1.0 if highs and max(highs) <= 25 else 0.0
        v["age_minor"] = 1.0 if (lows and min(lows) < 18) or (highs and max(highs) < 18) else 0.0
    if f.destinations:
        countries = {d.country for d in f.destinations}
        home = home_countries(f.language)
        v["n_destinations"] = float(len(countries))
        v["destination_abroad"] = 1.0 if countries - set(home) else 0.0


_LANG_REGION: dict[str, str] = {"lv": "LV", "lt": "LT", "fi": "FI", "et": "EE", "pl": "PL", "ru": "RU"}
