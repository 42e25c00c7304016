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

FEATURE_NAMES: tuple[str, ...] = (
    *(f"ind_{i}" for i in INDICATORS),
    "n_indicators_distinct",
    "n_evidence",
    *CONTACT_FEATURES,
    "n_chars",
    "language_confidence",
    *(f"lang_{code}" for code in SUPPORTED_LANGUAGES),
)
