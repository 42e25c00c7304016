"""Fixed feature-vector layout shared by the extractor and the scorer."""

from __future__ import annotations

from features.taxonomy import INDICATORS

SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "lv", "lt", "fi", "et", "pl", "ru")

CONTACT_FEATURES: tuple[str, ...] = (
    "n_phones",
    "n_phones_mobile",
    "n_phones_landline",
    "n_phones_foreign",
    "n_emails",
    "n_freemail",
    "n_company_email",
    "n_messenger",
    "n_whatsapp",
    "n_telegram",
    "n_viber",
    "messenger_only",
    "n_urls",
    "n_shortener_urls",
)

# Structured facts (features.facts); 0.0 when the ad states nothing of the kind.
FACT_FEATURES: tuple[str, ...] = (
    "has_salary",
    "salary_eur_month",  # highest advertised pay in EUR per month (upper end of a range, "up to" amount)
    "salary_is_range",
    "salary_is_upto",
    "has_age",
    "min_age",
    "max_age",
    "age_range_young",  # an upper age limit <= 25
    "age_minor",  # a lower (or upper) age limit below 18
    "n_destinations",  # distinct countries named (countries and cities)
    "destination_abroad",  # a named country outside the home countries of the ad's language
)

# Mixed-language ads (features.langmix).
LANGUAGE_MIX_FEATURES: tuple[str, ...] = (
    "n_languages",
    "secondary_language_share",  # share of the text not in the primary language
)

FEATURE_NAMES: tuple[str, ...] = (
    *(f"ind_{i}" for i in INDICATORS),
    "n_indicators_distinct",
    "n_evidence",
    *CONTACT_FEATURES,
    *FACT_FEATURES,
    "n_chars",
    "language_confidence",
    *LANGUAGE_MIX_FEATURES,
    *(f"lang_{code}" for code in SUPPORTED_LANGUAGES),
)
