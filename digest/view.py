"""From query results to what a recipient sees: labels, small counts suppressed, week-over-week changes.

Templates, charts and CSV files are fed from a :class:`DigestView` only, never from the raw
:class:`~digest.model.DigestData`, so no exact small count can reach any output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from digest.config import Recipient
from digest.model import ADDITIVE_DIMENSIONS, DigestData, WeekCount
from digest.privacy import Cell, cell, change_text, suppress_column

LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "lv": "Latvian",
    "lt": "Lithuanian",
    "fi": "Finnish",
    "et": "Estonian",
    "pl": "Polish",
    "ru": "Russian",
    "unknown": "Unknown",
}
COUNTRY_NAMES: dict[str, str] = {
    "??": "Not stated",
    "AE": "United Arab Emirates",
    "AT": "Austria",
    "BE": "Belgium",
    "BY": "Belarus",
    "CY": "Cyprus",
    "CZ": "Czechia",
    "DE": "Germany",
    "DK": "Denmark",
    "EE": "Estonia",
    "ES": "Spain",
    "FI": "Finland",
    "FR": "France",
    "GB": "United Kingdom",
    "GR": "Greece",
    "IE": "Ireland",
    "IL": "Israel",
    "IS": "Iceland",
    "IT": "Italy",
    "JP": "Japan",
    "LT": "Lithuania",
    "LV": "Latvia",
    "NL": "Netherlands",
    "NO": "Norway",
    "PL": "Poland",
    "PT": "Portugal",
    "RU": "Russia",
    "SE": "Sweden",
    "TR": "Türkiye",
    "UA": "Ukraine",
    "US": "United States",
}
CLUSTER_KIND_LABELS: dict[str, str] = {
    "template": "Near-duplicate text template",
    "phone": "Shared phone number",
    "email": "Shared e-mail address",
    "messenger": "Shared messenger account",
}
DIMENSION_TITLES: dict[str, str] = {
    "indicator": "Lure indicator",
    "country": "Destination country",
    "site": "Site",
    "language": "Ad language",
}


def indicator_titles() -> dict[str, str]:
    from features.taxonomy import load_taxonomy

    return {i.id: i.title for i in load_taxonomy()}


def iso_week_label(week_start: date) -> str:
    year, number, _ = week_start.isocalendar()
    return f"{year}-W{number:02d}"


def week_range_label(week_start: date) -> str:
    end = week_start + timedelta(days=6)
    if week_start.month == end.month:
        return f"{week_start.day}–{end.day} {end:%B %Y}"
    if week_start.year == end.year:
        return f"{week_start.day} {week_start:%B} – {end.day} {end:%B %Y}"
    return f"{week_start.day} {week_start:%B %Y} – {end.day} {end:%B %Y}"


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    label: str
    current: Cell
    previous: Cell
    change: str


@dataclass(frozen=True, slots=True)
class Breakdown:
    dimension: str
    title: str
    rows: tuple[Row, ...]
    folded: int  # rows left out because both weeks were suppressed
    additive: bool


@dataclass(frozen=True, slots=True)
class Kpi:
    label: str
    value: Cell
    change: str
    note: str = ""
    counts_people: bool = True  # False: a count of phrases, not of ads, clusters or contacts (never suppressed)


@dataclass(frozen=True, slots=True)
class TrendPoint:
    week: date
    label: str
    ads: Cell
    high_risk: Cell


@dataclass(frozen=True, slots=True)
class ClusterRow:
    kind: str
    label: str
    new_current: Cell
    new_previous: Cell
    growing_current: Cell
    growing_previous: Cell
    ads_added: Cell
    high_risk_added: Cell


@dataclass(frozen=True, slots=True)
class TopClusterRow:
    rank: int
    label: str
    size: Cell
    added: Cell
    high_risk: Cell
    sites: int
    languages: int


@dataclass(frozen=True, slots=True)
class PhraseRow:
    phrase: str
    indicator: str
    languages: str
    current: Cell
    baseline: str
    growth: str


@dataclass(frozen=True, slots=True)
class CsvTable:
    name: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass
class DigestView:
    title: str
    recipient_id: str
    recipient_name: str
    week_start: date
    iso_week: str
    week_label: str
    generated_at: str
    model_version: str
    high_risk_rule: str
    k: int
    filters: str
    kpis: tuple[Kpi, ...]
    trend: tuple[TrendPoint, ...]
    breakdowns: dict[str, Breakdown]
    clusters: tuple[ClusterRow, ...]
    top_clusters: tuple[TopClusterRow, ...]
    phrases: tuple[PhraseRow, ...]
    baseline_weeks: int
    charts: dict[str, str] = field(default_factory=dict)
    fingerprint: str = ""

    def csv_tables(self) -> list[CsvTable]:
        """The digest's tables as shown (suppressed cells as ``<k``), one CSV file each."""
        tables = [
            CsvTable(
                "weekly_trend",
                ("week_start", "iso_week", "ads", "high_risk_ads"),
                tuple((p.week.isoformat(), iso_week_label(p.week), p.ads.csv, p.high_risk.csv) for p in self.trend),
            )
        ]
        for breakdown in self.breakdowns.values():
            tables.append(
                CsvTable(
                    f"high_risk_by_{breakdown.dimension}",
                    (breakdown.dimension, "label", "this_week", "previous_week", "change"),
                    tuple((r.key, r.label, r.current.csv, r.previous.csv, r.change) for r in breakdown.rows),
                )
            )
        tables.append(
            CsvTable(
                "clusters",
                ("kind", "new_this_week", "new_previous_week", "growing_this_week", "growing_previous_week",
                 "ads_added_this_week", "high_risk_ads_added_this_week"),
                tuple(
                    (c.kind, c.new_current.csv, c.new_previous.csv, c.growing_current.csv,
                     c.growing_previous.csv, c.ads_added.csv, c.high_risk_added.csv)
                    for c in self.clusters
                ),
            )
        )
        tables.append(
            CsvTable(
                "emerging_phrases",
                ("phrase", "indicator", "languages", "ads_this_week", f"ads_per_week_previous_{self.baseline_weeks}",
                 "growth"),
                tuple((p.phrase, p.indicator, p.languages, p.current.csv, p.baseline, p.growth) for p in self.phrases),
            )
        )
        return tables


def _label(dimension: str, key: str, indicators: dict[str, str]) -> str:
    if dimension == "indicator":
        return indicators.get(key, key)
    if dimension == "country":
        return COUNTRY_NAMES.get(key, key)
    if dimension == "language":
        return LANGUAGE_NAMES.get(key, key)
    return key


def _breakdown(dimension: str, counts: tuple[WeekCount, ...], k: int, indicators: dict[str, str]) -> Breakdown:
    additive = dimension in ADDITIVE_DIMENSIONS
    current = suppress_column([c.current for c in counts], k, additive=additive)
    previous = suppress_column([c.previous for c in counts], k, additive=additive)
    rows: list[Row] = []
    folded = 0
    for count, now, before in zip(counts, current, previous, strict=True):
        if dimension != "indicator" and now.suppressed and before.suppressed:
            folded += 1
            continue
        rows.append(Row(count.key, _label(dimension, count.key, indicators), now, before, change_text(now, before)))
    return Breakdown(dimension, DIMENSION_TITLES[dimension], tuple(rows), folded, additive)


def _rule(data: DigestData) -> str:
    if data.mode == "top_n":
        return f"the {data.top_n} highest-scored ads of each week (model {data.model_version})"
    return f"score ≥ {data.threshold:.3f} (model {data.model_version})"


def _filters(data: DigestData) -> str:
    parts = [f"{name}: {', '.join(values)}" for name, values in data.filters.items() if values is not None]
    return "; ".join(parts) if parts else "all sites, languages and countries"


def _growth(current: int, baseline_total: int, weeks: int, k: int) -> tuple[str, str]:
    if k > 0 and baseline_total < k:
        return f"<{k} in {weeks} wk", "new"
    per_week = baseline_total / weeks
    return f"{per_week:.1f}", f"×{(current + 1) / (per_week + 1):.1f}"


def build_view(data: DigestData, recipient: Recipient, *, generated_at: datetime | None = None) -> DigestView:
    k = recipient.thresholds.suppress_below
    indicators = indicator_titles()
    high_now, high_before = cell(data.high_risk_current, k), cell(data.high_risk_previous, k)
    ads_now, ads_before = cell(data.ads_current, k), cell(data.ads_previous, k)
    clusters = tuple(
        ClusterRow(
            c.kind,
            CLUSTER_KIND_LABELS.get(c.kind, c.kind),
            cell(c.new_current, k),
            cell(c.new_previous, k),
            cell(c.growing_current, k),
            cell(c.growing_previous, k),
            cell(c.ads_added_current, k),
            cell(c.high_risk_added_current, k),
        )
        for c in data.clusters
    )
    new_clusters = sum(c.new_current for c in data.clusters)
    growing_clusters = sum(c.growing_current for c in data.clusters)
    phrases = []
    for p in data.phrases:
        baseline, growth = _growth(p.current, p.baseline_total, p.baseline_weeks, k)
        phrases.append(
            PhraseRow(p.phrase, indicators.get(p.indicator, p.indicator),
                      ", ".join(LANGUAGE_NAMES.get(x, x) for x in p.languages), cell(p.current, k), baseline, growth)
        )
    kpis = (
        Kpi("High-risk ads", high_now, change_text(high_now, high_before), "vs previous week"),
        Kpi("Ads published", ads_now, change_text(ads_now, ads_before), "in scope this week"),
        Kpi("New clusters", cell(new_clusters, k), f"{cell(growing_clusters, k).text} growing",
            "templates and shared contacts with high-risk ads"),
        Kpi("Emerging phrases", cell(len(data.phrases), 0), "", "lexicon matches on the rise", counts_people=False),
    )
    return DigestView(
        title=recipient.title,
        recipient_id=recipient.id,
        recipient_name=recipient.name,
        week_start=data.week_start,
        iso_week=iso_week_label(data.week_start),
        week_label=week_range_label(data.week_start),
        generated_at=(generated_at or datetime.now()).strftime("%Y-%m-%d %H:%M"),
        model_version=data.model_version,
        high_risk_rule=_rule(data),
        k=k,
        filters=_filters(data),
        kpis=kpis,
        trend=tuple(
            TrendPoint(p.week, f"W{p.week.isocalendar()[1]:02d}", cell(p.ads, k), cell(p.high_risk, k))
            for p in data.trend
        ),
        breakdowns={name: _breakdown(name, counts, k, indicators) for name, counts in data.breakdowns.items()},
        clusters=clusters,
        top_clusters=tuple(
            TopClusterRow(n, CLUSTER_KIND_LABELS.get(t.kind, t.kind), cell(t.size, k), cell(t.added, k),
                          cell(t.high_risk, k), t.sites, t.languages)
            for n, t in enumerate(data.top_clusters, start=1)
        ),
        phrases=tuple(phrases),
        baseline_weeks=recipient.thresholds.emerging.baseline_weeks,
    )
