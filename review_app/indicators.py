"""Lure indicators as the app shows them: titles from the taxonomy, one colour class each, readable feature names."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from features.taxonomy import load_taxonomy

PALETTE_SIZE = 10  # colour classes ind-c0 .. ind-c9 in static/app.css
CONTACT_CLASS = "hl-contact"
# Evidence that records a fact rather than a lure indicator (features/facts.py): one neutral colour.
FACTS = {"salary": "Stated pay", "age": "Stated age", "destination": "Destination"}
FACT_DESCRIPTION = "A fact stated in the ad; not a lure indicator by itself."

_FEATURE_LABELS = {
    "n_indicators_distinct": "Number of different lure indicators",
    "n_evidence": "Number of lure phrases",
    "n_phones": "Phone numbers",
    "n_phones_mobile": "Mobile phone numbers",
    "n_phones_landline": "Landline phone numbers",
    "n_phones_foreign": "Foreign phone numbers",
    "n_emails": "E-mail addresses",
    "n_freemail": "Free-mail addresses",
    "n_company_email": "Company e-mail addresses",
    "n_messenger": "Messenger contacts",
    "n_whatsapp": "WhatsApp contacts",
    "n_telegram": "Telegram contacts",
    "n_viber": "Viber contacts",
    "messenger_only": "Messenger-only contact",
    "n_urls": "Links",
    "n_shortener_urls": "Short links",
    "n_chars": "Ad length",
    "language_confidence": "Language-detection confidence",
    "wording (hashed word and character n-grams)": "Wording (word and character patterns)",
    "text:char-ngrams": "Character patterns of the wording",
}


@dataclass(frozen=True, slots=True)
class IndicatorInfo:
    id: str
    title: str
    description: str
    css_class: str


@cache
def catalog() -> dict[str, IndicatorInfo]:
    """Every taxonomy indicator in taxonomy order, each with a stable colour class."""
    return {
        item.id: IndicatorInfo(item.id, item.title, item.description, f"ind-c{index % PALETTE_SIZE}")
        for index, item in enumerate(load_taxonomy())
    }


def info(indicator: str) -> IndicatorInfo:
    """Known indicators from the taxonomy; anything else (an older extractor's id) gets a neutral colour."""
    known = catalog().get(indicator)
    if known:
        return known
    if indicator in FACTS:
        return IndicatorInfo(indicator, FACTS[indicator], FACT_DESCRIPTION, "ind-fact")
    return IndicatorInfo(indicator, indicator.replace("_", " ").capitalize(), "", "ind-other")


def ordered(indicators: list[str]) -> list[str]:
    """Distinct ids, lure indicators first in taxonomy order, then anything else (facts such as salary) by name."""
    known = list(catalog())
    distinct = list(dict.fromkeys(indicators))
    return sorted(distinct, key=lambda i: (0, known.index(i), "") if i in catalog() else (1, 0, i))


def feature_label(feature: str) -> str:
    if feature.startswith("ind_"):
        return info(feature.removeprefix("ind_")).title
    if feature in _FEATURE_LABELS:
        return _FEATURE_LABELS[feature]
    if feature.startswith("text:"):
        return f"Wording: “{feature.removeprefix('text:')}”"
    if feature.startswith("lang_"):
        return f"Language: {feature.removeprefix('lang_')}"
    return feature


def gloss(indicator: str) -> str:
    """An English gloss of a highlighted phrase, from the taxonomy: the lexicons know what each entry signals (its
    indicator), so one gloss per indicator, e.g. "Phrase signalling: upfront fees — Fees or deposits charged...\""""
    meta = info(indicator)
    if indicator in FACTS:
        return f"{meta.title}: a fact stated in the ad (not a lure indicator by itself)"
    title = meta.title[:1].lower() + meta.title[1:]
    return f"Phrase signalling: {title}" + (f" — {meta.description}" if meta.description else "")


def phrase_language(pattern: str | None) -> str | None:
    """The language of a lexicon phrase, from its pattern id ("lv-upfront_fee-003" -> "lv"); None for facts."""
    head, sep, _ = (pattern or "").partition("-")
    return head if sep and 2 <= len(head) <= 3 and head.isalpha() and head.islower() else None
