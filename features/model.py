"""Result data types of feature extraction."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from features.taxonomy import INDICATORS

_INDICATOR_SET = frozenset(INDICATORS)


@dataclass(frozen=True, slots=True)
class Evidence:
    indicator: str  # taxonomy id, e.g. "upfront_fee", or a fact kind: "salary" | "age" | "destination"
    start: int  # character offsets into the ad text given to extract()
    end: int
    text: str  # text[start:end]
    pattern: str  # lexicon pattern id ("lv-upfront_fee-003"); for facts "<kind>:<value>" ("destination:NO")


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


@dataclass(frozen=True, slots=True)
class Salary:
    start: int
    end: int
    text: str
    amount_min: float | None  # as written, in ``currency`` per ``period``
    amount_max: float | None
    currency: str  # ISO 4217
    period: str  # hour | day | shift | week | month | year
    period_stated: bool  # False: assumed (month, or hour for tiny amounts)
    qualifier: str  # exact | range | from | up_to
    eur_month_min: float | None
    eur_month_max: float | None

    @property
    def eur_month(self) -> float:
        """The highest stated amount in EUR per month (upper end of a range, the "up to" amount)."""
        value = self.eur_month_max if self.eur_month_max is not None else self.eur_month_min
        return float(value or 0.0)

    def label(self) -> str:
        lo, hi = self.eur_month_min, self.eur_month_max
        if self.qualifier == "range":
            return f"{lo:.0f}-{hi:.0f} EUR/month"
        if self.qualifier == "from":
            return f">={lo:.0f} EUR/month"
        if self.qualifier == "up_to":
            return f"<={hi:.0f} EUR/month"
        return f"{hi:.0f} EUR/month"


@dataclass(frozen=True, slots=True)
class AgeRange:
    start: int
    end: int
    text: str
    min_age: int | None
    max_age: int | None

    def label(self) -> str:
        if self.min_age is not None and self.max_age is not None:
            return str(self.min_age) if self.min_age == self.max_age else f"{self.min_age}-{self.max_age}"
        if self.min_age is not None:
            return f">={self.min_age}"
        return f"<={self.max_age}"


@dataclass(frozen=True, slots=True)
class Destination:
    start: int
    end: int
    text: str
    country: str  # ISO 3166-1 alpha-2
    city: str | None = None  # canonical English city name when a city was named

    def label(self) -> str:
        return self.country if self.city is None else f"{self.country}:{self.city}"


@dataclass(slots=True)
class AdFeatures:
    language: str
    language_confidence: float
    evidence: list[Evidence]
    contacts: list[Contact]
    n_chars: int = 0  # length of the ad text (set by the extractor)
    # [(language, share of the text)], primary language first; [] for empty text
    languages: list[tuple[str, float]] = field(default_factory=list)
    salaries: list[Salary] = field(default_factory=list)
    ages: list[AgeRange] = field(default_factory=list)
    destinations: list[Destination] = field(default_factory=list)

    def lure_evidence(self) -> list[Evidence]:
        """Evidence of the taxonomy indicators only (without the salary/age/destination facts)."""
        return [e for e in self.evidence if e.indicator in _INDICATOR_SET]

    def fact_evidence(self) -> list[Evidence]:
        """Evidence of the facts: indicator "salary" | "age" | "destination", pattern "<kind>:<value>"."""
        return [e for e in self.evidence if e.indicator not in _INDICATOR_SET]

    def indicator_counts(self) -> dict[str, int]:
        """Evidence count per indicator, every taxonomy id present (0 when absent)."""
        counts = Counter(e.indicator for e in self.evidence)
        return {i: counts.get(i, 0) for i in INDICATORS}

    def vector(self) -> dict[str, float]:
        """Numeric features keyed exactly by FEATURE_NAMES (in that order)."""
        from features.vectorize import build_vector  # local: vectorize imports this module

        return build_vector(self)
