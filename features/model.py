"""Result data types of feature extraction."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from features.taxonomy import INDICATORS


@dataclass(frozen=True, slots=True)
class Evidence:
    indicator: str  # taxonomy id, e.g. "upfront_fee"
    start: int  # character offsets into the ad text given to extract()
    end: int
    text: str  # text[start:end]
    pattern: str  # id of the lexicon pattern that matched (e.g. "lv-upfront_fee-003")


@dataclass(frozen=True, slots=True)
class Contact:
    kind: str  # "phone" | "email" | "whatsapp" | "telegram" | "viber" | "url"
    value: str  # E.164 for numbers, lower-cased e-mail, "@handle" for telegram, URL for url
    start: int
    end: int
    raw: str
    free_mail: bool | None = None  # e-mails only
    line_type: str | None = None  # phones only: "mobile" | "landline" | "other"
    region: str | None = None  # phones only: ISO region of the number
    shortener: bool | None = None  # urls only: link-shortener domain (bit.ly, tinyurl, ...)


@dataclass(slots=True)
class AdFeatures:
    language: str
    language_confidence: float
    evidence: list[Evidence]
    contacts: list[Contact]
    n_chars: int = 0  # length of the ad text (set by the extractor)

    def indicator_counts(self) -> dict[str, int]:
        """Evidence count per indicator, every taxonomy id present (0 when absent)."""
        counts = Counter(e.indicator for e in self.evidence)
        return {i: counts.get(i, 0) for i in INDICATORS}

    def vector(self) -> dict[str, float]:
        """Numeric features keyed exactly by FEATURE_NAMES (in that order)."""
        from features.vectorize import build_vector  # local: vectorize imports this module

        return build_vector(self)
