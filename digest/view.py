"""From query results to what a recipient sees: labels, small counts suppressed, week-over-week changes.

Templates, charts and CSV files are fed from a :class:`DigestView` only, never from the raw
:class:`~digest.model.DigestData`, so no exact small count can reach any output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from digest.config import Recipient
from digest.i18n import Lang, _
from digest.model import ADDITIVE_DIMENSIONS, DigestData, WeekCount
from digest.privacy import Cell, cell, suppress_column
from digest.stats import is_clear_change

#: English names (the digest's own wording); other locales take CLDR's names through :class:`digest.i18n.Lang`.
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
    "template": _("Near-duplicate text template"),
    "phone": _("Shared phone number"),
    "email": _("Shared e-mail address"),
    "messenger": _("Shared messenger account"),
}
DIMENSION_TITLES: dict[str, str] = {
    "indicator": _("Lure indicator"),
    "country": _("Destination country"),
    "site": _("Site"),
    "language": _("Ad language"),
}
#: The built-in title (config.Profile.title): translated when a recipient keeps it.
DEFAULT_TITLE = _("Weekly recruitment-lure digest")
#: The lexicon's indicator titles (features/taxonomy), marked here so that the catalogues carry them.
INDICATOR_TITLES: tuple[str, ...] = (
    _("Unrealistic pay"), _("No requirements"), _("Travel / housing paid or arranged"), _("Vague work abroad"),
    _("Messenger-only contact"), _("Upfront fees"), _("Age / gender / appearance requirements"),
    _("Adult-adjacent work"), _("Urgency / secrecy"), _("Targets minors"),
)


def indicator_titles(lang: Lang | None = None) -> dict[str, str]:
    from features.taxonomy import load_taxonomy

    lang = lang or Lang()
    return {i.id: lang.gettext(i.title) for i in load_taxonomy()}


def iso_week_label(week_start: date) -> str:
    year, number, _weekday = week_start.isocalendar()
    return f"{year}-W{number:02d}"


def week_range_label(week_start: date, lang: Lang | None = None) -> str:
    """``9–15 November 2026`` in the recipient's locale (CLDR interval format)."""
    return (lang or Lang()).date_range(week_start, week_start + timedelta(days=6))


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    label: str
    current: Cell
    previous: Cell
    change: str
    #: False: the change is within week-to-week noise (exact Poisson test, digest.stats); None: not tested
    #: (a count is suppressed, or nothing changed).
    clear: bool | None = None


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
    clear: bool | None = None  # as Row.clear


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
    lang: Lang = field(default_factory=Lang)
    #: What "high-risk" means, in words an NGO reads without knowing the model (the model version is in
    #: ``model_version``, for the technically minded).
    rule_explained: str = ""
    #: Reasons to read this week's numbers with care: an incomplete week, fewer crawl days than usual.
    warnings: tuple[str, ...] = ()

    @property
    def locale(self) -> str:
        return self.lang.code

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
                    (breakdown.dimension, "label", "this_week", "previous_week", "change", "clear_change"),
                    tuple((r.key, r.label, r.current.csv, r.previous.csv, r.change,
                           "" if r.clear is None else ("yes" if r.clear else "no")) for r in breakdown.rows),
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


def _label(dimension: str, key: str, indicators: dict[str, str], lang: Lang) -> str:
    if dimension == "indicator":
        return indicators.get(key, key)
    if dimension == "country":
        return COUNTRY_NAMES.get(key, key) if lang.code == "en" else lang.country(key)
    if dimension == "language":
        return LANGUAGE_NAMES.get(key, key) if lang.code == "en" else lang.language(key)
    return key


def _change(current: Cell, previous: Cell, lang: Lang) -> tuple[str, bool | None]:
    """Week-over-week change as text, and whether it is more than noise. A dash when either side is suppressed
    (the change would reveal it)."""
    if current.value is None or previous.value is None:
        return "–", None
    clear = is_clear_change(current.value, previous.value)
    if previous.value == 0:
        return (lang.gettext("new") if current.value else "0"), (clear if current.value else None)
    delta = current.value - previous.value
    if delta == 0:
        return "±0", None
    return f"{lang.number(delta, sign=True)} ({lang.percent(delta / previous.value, sign=True)})", clear


def _breakdown(
    dimension: str, counts: tuple[WeekCount, ...], k: int, indicators: dict[str, str], lang: Lang
) -> Breakdown:
    additive = dimension in ADDITIVE_DIMENSIONS
    current = suppress_column([c.current for c in counts], k, additive=additive, fmt=lang.number)
    previous = suppress_column([c.previous for c in counts], k, additive=additive, fmt=lang.number)
    rows: list[Row] = []
    folded = 0
    for count, now, before in zip(counts, current, previous, strict=True):
        if dimension != "indicator" and now.suppressed and before.suppressed:
            folded += 1
            continue
        change, clear = _change(now, before, lang)
        rows.append(Row(count.key, _label(dimension, count.key, indicators, lang), now, before, change, clear))
    return Breakdown(dimension, lang.gettext(DIMENSION_TITLES[dimension]), tuple(rows), folded, additive)


def _rule(data: DigestData, lang: Lang) -> str:
    """What "high-risk" means, for readers who do not know the model."""
    scale = lang.gettext(
        "A computer model reads every ad (its wording, pay, contact details, and whether the same text or contact "
        "appears in other ads) and gives it a score from 0 (an ordinary job ad) to 1 (almost certainly a "
        "recruitment lure)."
    )
    if data.threshold is None:
        flagged = lang.gettext("Each week, the %(n)s ads with the highest scores count as high-risk.",
                               n=lang.number(data.top_n or 0))
    else:
        score = lang.number(data.threshold, digits=3)
        chance = lang.percent(data.threshold, digits=1)
        if data.mode == "top_n":
            flagged = lang.gettext(
                "Each week, the %(n)s ads with the highest scores count as high-risk, if they score at least "
                "%(score)s (roughly a %(chance)s or higher chance of being a lure); a quieter week has fewer.",
                n=lang.number(data.top_n or 0), score=score, chance=chance)
        else:
            flagged = lang.gettext(
                "Ads scoring %(score)s or more count as high-risk: roughly a %(chance)s or higher chance of being "
                "a lure. This is the level at which analysts are asked to check an ad.",
                score=score, chance=chance)
    caveat = lang.gettext("A high score is a reason to look closer, not proof.")
    return f"{scale} {flagged} {caveat}"


def _short_rule(data: DigestData, lang: Lang) -> str:
    if data.mode == "top_n":
        return lang.gettext("the %(n)s highest-scored ads of each week", n=lang.number(data.top_n or 0))
    return lang.gettext("score of at least %(score)s", score=lang.number(data.threshold or 0.0, digits=3))


def _filters(data: DigestData, lang: Lang) -> str:
    names = {"languages": lang.gettext("languages"), "sites": lang.gettext("sites"),
             "countries": lang.gettext("countries")}
    label = {"languages": lambda v: lang.language(v) if lang.code != "en" else LANGUAGE_NAMES.get(v, v),
             "countries": lambda v: lang.country(v) if lang.code != "en" else COUNTRY_NAMES.get(v, v),
             "sites": lambda v: v}
    parts = [f"{names.get(name, name)}: {', '.join(label.get(name, str)(v) for v in values)}"
             for name, values in data.filters.items() if values is not None]
    return "; ".join(parts) if parts else lang.gettext("all sites, languages and countries")


def _warnings(data: DigestData, lang: Lang) -> tuple[str, ...]:
    warnings: list[str] = []
    if data.last_collected is None or data.last_collected < data.week_start:
        warnings.append(lang.gettext(
            "This week is not complete: no ads had been collected for it yet. Its numbers will still change."))
    elif data.week_incomplete:
        warnings.append(lang.gettext(
            "This week is not complete: ads had been collected only up to %(day)s. Its numbers will still grow.",
            day=lang.date(data.last_collected)))
    if data.short_coverage and data.days_collected_usual is not None:
        warnings.append(lang.gettext(
            "The crawl collected ads on %(days)s of the 7 days of this week (usually %(usual)s). Fewer ads than "
            "usual may be a gap in collection, not a real drop.",
            days=lang.number(data.days_collected),
            usual=lang.number(data.days_collected_usual, digits=0 if data.days_collected_usual % 1 == 0 else 1)))
    return tuple(warnings)


def _growth(current: int, baseline_total: int, weeks: int, k: int, lang: Lang) -> tuple[str, str]:
    if k > 0 and baseline_total < k:
        return lang.gettext("<%(k)s in %(weeks)s wk", k=k, weeks=weeks), lang.gettext("new")
    per_week = baseline_total / weeks
    return lang.number(per_week, digits=1), "×" + lang.number((current + 1) / (per_week + 1), digits=1)


def build_view(data: DigestData, recipient: Recipient, *, generated_at: datetime | None = None) -> DigestView:
    lang = Lang(recipient.locale)
    k = recipient.thresholds.suppress_below
    indicators = indicator_titles(lang)

    def count(n: int) -> Cell:
        return cell(n, k, fmt=lang.number)

    high_now, high_before = count(data.high_risk_current), count(data.high_risk_previous)
    ads_now, ads_before = count(data.ads_current), count(data.ads_previous)
    clusters = tuple(
        ClusterRow(
            c.kind,
            lang.gettext(CLUSTER_KIND_LABELS.get(c.kind, c.kind)),
            count(c.new_current),
            count(c.new_previous),
            count(c.growing_current),
            count(c.growing_previous),
            count(c.ads_added_current),
            count(c.high_risk_added_current),
        )
        for c in data.clusters
    )
    new_clusters = sum(c.new_current for c in data.clusters)
    growing_clusters = sum(c.growing_current for c in data.clusters)
    phrases = []
    for p in data.phrases:
        baseline, growth = _growth(p.current, p.baseline_total, p.baseline_weeks, k, lang)
        phrases.append(
            PhraseRow(p.phrase, indicators.get(p.indicator, p.indicator),
                      ", ".join(_label("language", x, indicators, lang) for x in p.languages), count(p.current),
                      baseline, growth)
        )
    high_change, high_clear = _change(high_now, high_before, lang)
    ads_change, ads_clear = _change(ads_now, ads_before, lang)
    kpis = (
        Kpi(lang.gettext("High-risk ads"), high_now, high_change, lang.gettext("vs previous week"),
            clear=high_clear),
        Kpi(lang.gettext("Ads published"), ads_now, ads_change, lang.gettext("in scope this week"), clear=ads_clear),
        Kpi(lang.gettext("New clusters"), count(new_clusters),
            lang.gettext("%(n)s growing", n=count(growing_clusters).text),
            lang.gettext("templates and shared contacts with high-risk ads")),
        Kpi(lang.gettext("Emerging phrases"), cell(len(data.phrases), 0, fmt=lang.number), "",
            lang.gettext("lexicon matches on the rise"), counts_people=False),
    )
    return DigestView(
        title=lang.gettext(recipient.title),
        recipient_id=recipient.id,
        recipient_name=recipient.name,
        week_start=data.week_start,
        iso_week=iso_week_label(data.week_start),
        week_label=week_range_label(data.week_start, lang),
        generated_at=lang.datetime(generated_at or datetime.now()),
        model_version=data.model_version,
        high_risk_rule=_short_rule(data, lang),
        k=k,
        filters=_filters(data, lang),
        kpis=kpis,
        trend=tuple(
            TrendPoint(p.week, lang.gettext("W%(n)s", n=f"{p.week.isocalendar()[1]:02d}"), count(p.ads),
                       count(p.high_risk))
            for p in data.trend
        ),
        breakdowns={name: _breakdown(name, counts, k, indicators, lang) for name, counts in data.breakdowns.items()},
        clusters=clusters,
        top_clusters=tuple(
            TopClusterRow(n, lang.gettext(CLUSTER_KIND_LABELS.get(t.kind, t.kind)), count(t.size), count(t.added),
                          count(t.high_risk), t.sites, t.languages)
            for n, t in enumerate(data.top_clusters, start=1)
        ),
        phrases=tuple(phrases),
        baseline_weeks=recipient.thresholds.emerging.baseline_weeks,
        lang=lang,
        rule_explained=_rule(data, lang),
        warnings=_warnings(data, lang),
    )
