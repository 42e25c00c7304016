"""Turn AdFeatures into the fixed numeric vector (keys == FEATURE_NAMES)."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
    v["n_evidence"] = float(len(f.evidence))
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
    v["n_chars"] = float(f.n_chars)
    v["language_confidence"] = float(f.language_confidence)
    if f.language in SUPPORTED_LANGUAGES:
        v[f"lang_{f.language}"] = 1.0
    return v


_LANG_REGION: dict[str, str] = {"lv": "LV", "lt": "LT", "fi": "FI", "et": "EE", "pl": "PL", "ru": "RU"}
