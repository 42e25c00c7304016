"""What the digest queries return: aggregates only (counts, lexicon phrases), never an ad, URL or contact."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

#: Bump when the meaning of the numbers or the rendering changes, so archived fingerprints change with it.
DIGEST_FORMAT_VERSION = "2"

DIMENSIONS: tuple[str, ...] = ("indicator", "country", "site", "language")
#: Dimensions whose rows partition the high-risk total (each ad has exactly one value): secondary suppression.
ADDITIVE_DIMENSIONS: frozenset[str] = frozenset({"country", "site", "language"})


@dataclass(frozen=True, slots=True)
class WeekCount:
    """One row of a breakdown: high-risk ads with ``key`` in the digest week and in the week before."""

    key: str
    current: int
    previous: int


@dataclass(frozen=True, slots=True)
class WeekPoint:
    week: date
    ads: int
    scored: int
    high_risk: int


@dataclass(frozen=True, slots=True)
class ClusterStats:
    """New and growing clusters of one kind (template, phone, email, messenger) in the digest and previous week.

    Only clusters with at least one high-risk ad count: a company's shared HR address is not news."""

    kind: str
    new_current: int
    new_previous: int
    growing_current: int
    growing_previous: int
    ads_added_current: int
    ads_added_previous: int
    high_risk_added_current: int


@dataclass(frozen=True, slots=True)
class TopCluster:
    """An anonymous growing cluster: only sizes and spreads, no identifier, no member."""

    kind: str
    size: int
    added: int
    high_risk: int
    sites: int
    languages: int


@dataclass(frozen=True, slots=True)
class Phrase:
    """A lexicon match (already scrubbed) and the number of ads it was found in."""

    phrase: str
    indicator: str
    languages: tuple[str, ...]
    current: int
    baseline_total: int
    baseline_weeks: int

    @property
    def baseline_per_week(self) -> float:
        return self.baseline_total / self.baseline_weeks

    @property
    def growth(self) -> float:
        return (self.current + 1) / (self.baseline_per_week + 1)


@dataclass(frozen=True, slots=True)
class DigestData:
    week_start: date
    model_version: str
    mode: str
    threshold: float | None
    top_n: int | None
    ads_current: int
    ads_previous: int
    high_risk_current: int
    high_risk_previous: int
    trend: tuple[WeekPoint, ...]
    breakdowns: dict[str, tuple[WeekCount, ...]]
    clusters: tuple[ClusterStats, ...]
    top_clusters: tuple[TopCluster, ...]
    phrases: tuple[Phrase, ...]
    filters: dict[str, list[str] | None] = field(default_factory=dict)
    #: Days of the digest week on which the crawl collected ads (any site, any language), and the median of the
    #: same count over the earlier weeks of the trend that had any ads (None: no earlier week to compare with).
    days_collected: int = 7
    days_collected_usual: float | None = None
    #: The last day on which the crawl collected an ad, up to the end of the digest week (None: never).
    last_collected: date | None = None

    @property
    def week_end(self) -> date:
        """Exclusive end of the digest week."""
        return self.week_start + timedelta(days=7)

    @property
    def previous_week(self) -> date:
        return self.week_start - timedelta(days=7)

    @property
    def week_incomplete(self) -> bool:
        """The crawl had not reached the week's last day (Sunday) when the numbers were read."""
        return self.last_collected is None or self.last_collected < self.week_start + timedelta(days=6)

    @property
    def short_coverage(self) -> bool:
        """The crawl collected ads on fewer days of the week than it usually does."""
        return self.days_collected_usual is not None and self.days_collected < self.days_collected_usual

    def to_jsonable(self) -> dict[str, Any]:
        data = asdict(self)
        if data["threshold"] is not None:
            data["threshold"] = round(float(data["threshold"]), 9)
        return data

    def canonical_json(self) -> str:
        return json.dumps(self.to_jsonable(), sort_keys=True, default=str, ensure_ascii=False, separators=(",", ":"))

    def data_hash(self) -> str:
        """Hash of the query results: equal for equal results, whatever the storage they were read from."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()
