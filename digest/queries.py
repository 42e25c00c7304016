"""The digest's SQL: weekly aggregates over ads, features, scores, clusters and entities.

Every query here returns counts or lexicon phrases; no query selects an ad's URL, text, or any entity value
(contact values are only grouped on, inside SQL). The same queries run on the DuckDB warehouse or on views
over the partitioned Parquet export (:func:`warehouse.parquet.attach_views`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb

from digest.config import Filters, HighRisk, Thresholds
from digest.model import ClusterStats, DigestData, Phrase, TopCluster, WeekCount, WeekPoint
from digest.privacy import scrub
from warehouse.contact_links import bridge_table, contact_bridge

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
CONTACT_KINDS: dict[str, str] = {
    "phone": "phone",
    "email": "email",
    "whatsapp": "messenger",
    "telegram": "messenger",
    "viber": "messenger",
}
CLUSTER_KINDS: tuple[str, ...] = ("template", "phone", "email", "messenger")


class DigestError(RuntimeError):
    """The digest cannot be computed (no champion model, bad week, ...)."""


@dataclass(frozen=True, slots=True)
class DigestQuery:
    week_start: date
    thresholds: Thresholds = field(default_factory=Thresholds)
    filters: Filters = field(default_factory=Filters)
    model_version: str | None = None

    def __post_init__(self) -> None:
        if self.week_start.weekday() != 0:
            raise DigestError(f"a digest week starts on a Monday, not {self.week_start:%A %Y-%m-%d}")


def week_of(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def last_complete_week(today: date) -> date:
    """The Monday of the last full week before ``today`` (a Monday-morning schedule reports the week before)."""
    return week_of(today) - timedelta(days=7)


def _indicators() -> tuple[str, ...]:
    from features.taxonomy import INDICATORS

    for indicator in INDICATORS:
        if not _IDENTIFIER.match(indicator):
            raise DigestError(f"indicator id {indicator!r} cannot be used in SQL")
    return INDICATORS


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    return con.execute(sql, params or {}).fetchall()


def resolve_model(con: duckdb.DuckDBPyConnection, version: str | None) -> tuple[str, float | None]:
    """The model whose scores define "high-risk" (the champion unless named) and its alert threshold."""
    if version is None:
        rows = _rows(con, "SELECT version, params FROM models WHERE status = 'champion' ORDER BY created_at DESC")
        if not rows:
            raise DigestError("no champion model in the registry: train one first (`lurewatch train`)")
    else:
        rows = _rows(con, "SELECT version, params FROM models WHERE version = $v", {"v": version})
        if not rows:
            raise DigestError(f"no model {version!r} in the registry")
    params = json.loads(rows[0][1]) if rows[0][1] else {}
    threshold = params.get("threshold")
    return str(rows[0][0]), None if threshold is None else float(threshold)


def _filter_sql(filters: Filters) -> tuple[str, dict[str, Any]]:
    """The recipient's filters over ``base`` in :func:`_build_scope`. A country filter matches an ad whose
    destination, or any country the ad names (``ad_facts.destinations``), is in the list."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    for column, values in (("language", filters.languages), ("site_id", filters.sites)):
        if values is not None:
            clauses.append(f"list_contains($f_{column}, {column})")
            params[f"f_{column}"] = list(values)
    if filters.countries is not None:
        clauses.append("list_has_any($f_country, list_append(destinations, country))")
        params["f_country"] = list(filters.countries)
    return (" AND ".join(clauses) or "true"), params


def _high_risk_flag(high: HighRisk, model: str, threshold: float | None) -> tuple[str, dict[str, Any]]:
    """SQL for an ad's high-risk flag. ``top_n``: the N best-scored ads of each week *that reach the cut-off*
    (``min_score``, else the model's alert threshold): a week with fewer ads above it flags fewer than N."""
    cut = high.min_score if high.min_score is not None else threshold
    if high.mode == "threshold":
        if cut is None:
            raise DigestError(f"model {model} has no threshold in models.params; set thresholds.high_risk.min_score")
        return "coalesce(score >= $cut, false)", {"cut": cut}
    rank = "row_number() OVER (PARTITION BY week ORDER BY score DESC NULLS LAST, ad_id) <= $top_n"
    if cut is None:  # a model without a threshold: the N best-scored ads, as configured
        return f"(score IS NOT NULL AND {rank})", {"top_n": high.top_n}
    return f"(coalesce(score >= $cut, false) AND {rank})", {"top_n": high.top_n, "cut": cut}


#: An ad's destination: ad_facts' (first named country abroad, else the page's country, else its location's), or
#: the page's country field while the ad has no ad_facts row yet.
_DESTINATION = "CASE WHEN x.ad_id IS NULL THEN a.country ELSE x.destination END"


def _build_scope(
    con: duckdb.DuckDBPyConnection, query: DigestQuery, model: str, threshold: float | None, window_start: date
) -> None:
    """Temp tables: ``_dg_scope`` (every ad in scope up to the digest week, with its week and high-risk flag) and
    ``_dg_window`` (the ads of the reporting window, with their feature vector and evidence)."""
    where, params = _filter_sql(query.filters)
    flag, flag_params = _high_risk_flag(query.thresholds.high_risk, model, threshold)
    params |= flag_params | {"model": model, "week_end": query.week_start + timedelta(days=7)}
    # Where the jobs are said to be: the destination extracted from the ad (ad_facts, computed by `extract`),
    # never the board's own country field alone; an ad without an ad_facts row yet falls back to that field,
    # as ad_facts itself does for an ad that names no country.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _dg_scope AS
        WITH base AS (
            SELECT a.ad_id, a.site_id,
                   coalesce(f.language, a.page_language, 'unknown') AS language,
                   CASE WHEN regexp_matches(upper(trim({_DESTINATION})), '^[A-Z][A-Z]$')
                        THEN upper(trim({_DESTINATION})) ELSE '??' END AS country,
                   coalesce(list_transform(x.destinations, lambda c: upper(c)), CAST([] AS VARCHAR[]))
                       AS destinations,
                   CAST(date_trunc('week', coalesce(a.posted, CAST(a.first_seen AS DATE))) AS DATE) AS week,
                   s.score
            FROM ads a
            LEFT JOIN features f ON f.ad_id = a.ad_id
            LEFT JOIN scores s ON s.ad_id = a.ad_id AND s.model_version = $model
            LEFT JOIN ad_facts x ON x.ad_id = a.ad_id
            WHERE coalesce(a.posted, CAST(a.first_seen AS DATE)) < $week_end
        )
        SELECT * EXCLUDE (destinations), {flag} AS high_risk FROM base WHERE {where}
        """,
        params,
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _dg_window AS
        SELECT s.*, f.vector, f.evidence
        FROM _dg_scope s JOIN features f ON f.ad_id = s.ad_id
        WHERE s.week >= $start
        """,
        {"start": window_start},
    )


def _trend(con: duckdb.DuckDBPyConnection, first_week: date, week: date) -> tuple[WeekPoint, ...]:
    rows = _rows(
        con,
        """
        SELECT w.week, count(s.ad_id), count(s.score), count(*) FILTER (WHERE s.high_risk)
        FROM (SELECT CAST(unnest(generate_series($first::TIMESTAMP, $last::TIMESTAMP, INTERVAL 7 DAY)) AS DATE)
              AS week) w
        LEFT JOIN _dg_scope s ON s.week = w.week
        GROUP BY w.week ORDER BY w.week
        """,
        {"first": first_week, "last": week},
    )
    return tuple(WeekPoint(r[0], int(r[1]), int(r[2]), int(r[3])) for r in rows)


def _coverage(con: duckdb.DuckDBPyConnection, first_week: date, week: date) -> tuple[int, float | None, date | None]:
    """Crawl coverage, over every ad (a recipient's filters do not change what was crawled): the days of the
    digest week with ads first seen, the median of that over the earlier weeks of the window that had any, and the
    last day with an ad first seen up to the end of the week."""
    rows = _rows(
        con,
        """
        SELECT CAST(date_trunc('week', day) AS DATE) AS week, count(*) AS days
        FROM (SELECT DISTINCT CAST(first_seen AS DATE) AS day FROM ads
              WHERE first_seen >= $first AND first_seen < $end)
        GROUP BY 1
        """,
        {"first": first_week, "end": week + timedelta(days=7)},
    )
    days = {r[0]: int(r[1]) for r in rows}
    earlier = sorted(n for w, n in days.items() if w < week)
    usual = None
    if earlier:
        middle = len(earlier) // 2
        usual = float(earlier[middle]) if len(earlier) % 2 else (earlier[middle - 1] + earlier[middle]) / 2
    last = _rows(con, "SELECT max(CAST(first_seen AS DATE)) FROM ads WHERE first_seen < $end",
                 {"end": week + timedelta(days=7)})[0][0]
    return days.get(week, 0), usual, last


def _breakdown(con: duckdb.DuckDBPyConnection, column: str, week: date) -> tuple[WeekCount, ...]:
    rows = _rows(
        con,
        f"""
        SELECT {column}, count(*) FILTER (WHERE week = $cur), count(*) FILTER (WHERE week = $prev)
        FROM _dg_scope WHERE high_risk AND week IN ($cur, $prev)
        GROUP BY 1 ORDER BY 2 DESC, 3 DESC, 1
        """,
        {"cur": week, "prev": week - timedelta(days=7)},
    )
    return tuple(WeekCount(str(r[0]), int(r[1]), int(r[2])) for r in rows)


def _indicator_breakdown(con: duckdb.DuckDBPyConnection, week: date) -> tuple[WeekCount, ...]:
    indicators = _indicators()
    struct = "{" + ", ".join(f'"ind_{i}": "DOUBLE"' for i in indicators) + "}"  # one JSON parse per ad
    columns = ", ".join(
        f"count(*) FILTER (WHERE week = ${w} AND v.ind_{i} > 0)" for i in indicators for w in ("cur", "prev")
    )
    row = _rows(
        con,
        f"""
        SELECT {columns}
        FROM (SELECT week, from_json(vector, '{struct}') AS v FROM _dg_window
              WHERE high_risk AND week IN ($cur, $prev))
        """,
        {"cur": week, "prev": week - timedelta(days=7)},
    )[0]
    counts = [WeekCount(i, int(row[2 * n]), int(row[2 * n + 1])) for n, i in enumerate(indicators)]
    return tuple(sorted(counts, key=lambda c: (-c.current, -c.previous, c.key)))


def _cluster_members_sql() -> str:
    """``_dg_members``: one row per (cluster, ad in scope). Contact clusters are keyed by a hash of the contact
    group and value: the value itself never leaves this statement. A plain value that retention pseudonymised in
    older ads is keyed by its pseudonym (``_dg_bridge``, :mod:`warehouse.contact_links`), so a fresh ad with an old
    ad's phone number grows that number's cluster instead of starting a "new" one."""
    group = "CASE e.kind " + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in CONTACT_KINDS.items()) + " END"
    kinds = ", ".join(f"'{k}'" for k in CONTACT_KINDS)
    return f"""
        CREATE OR REPLACE TEMP TABLE _dg_members AS
        SELECT 'template' AS kind, hash('template', c.cluster_id) AS cluster_key, s.ad_id, s.week, s.high_risk,
               s.site_id, s.language
        FROM ad_clusters c JOIN _dg_scope s ON s.ad_id = c.ad_id
        UNION ALL
        SELECT e.kind, e.cluster_key, s.ad_id, s.week, s.high_risk, s.site_id, s.language
        FROM (SELECT DISTINCT {group} AS kind, hash({group}, coalesce(b.alias, e.value)) AS cluster_key, e.ad_id
              FROM entities e LEFT JOIN _dg_bridge b ON b.value = e.value WHERE e.kind IN ({kinds})) e
        JOIN _dg_scope s ON s.ad_id = e.ad_id
    """


def _clusters(
    con: duckdb.DuckDBPyConnection, week: date, min_size: int, top: int
) -> tuple[tuple[ClusterStats, ...], tuple[TopCluster, ...]]:
    """New clusters (first ad this week) and growing ones (older, with ads added this week), this week and the
    week before, among clusters of at least ``min_size`` ads with at least one high-risk ad."""
    previous = week - timedelta(days=7)
    params = {"w": week, "p": previous, "min": min_size}
    con.register("_dg_bridge", bridge_table(contact_bridge(con, list(CONTACT_KINDS))))
    try:
        con.execute(_cluster_members_sql())
    finally:
        con.unregister("_dg_bridge")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _dg_per AS
        SELECT kind, cluster_key, min(week) AS first_week, min(ad_id) AS first_ad,
               count(*) FILTER (WHERE week <= $w) AS size_w, count(*) FILTER (WHERE week <= $p) AS size_p,
               count(*) FILTER (WHERE week = $w) AS added_w, count(*) FILTER (WHERE week = $p) AS added_p,
               count(*) FILTER (WHERE week = $w AND high_risk) AS high_added_w,
               count(*) FILTER (WHERE week <= $w AND high_risk) AS high_w,
               count(*) FILTER (WHERE week <= $p AND high_risk) AS high_p
        FROM _dg_members GROUP BY kind, cluster_key
        """,
        {"w": week, "p": previous},
    )
    rows = _rows(
        con,
        """
        SELECT kind,
               count(*) FILTER (WHERE ok_w AND first_week = $w),
               count(*) FILTER (WHERE ok_p AND first_week = $p),
               count(*) FILTER (WHERE ok_w AND first_week < $w AND added_w > 0),
               count(*) FILTER (WHERE ok_p AND first_week < $p AND added_p > 0),
               coalesce(sum(added_w) FILTER (WHERE ok_w), 0),
               coalesce(sum(added_p) FILTER (WHERE ok_p), 0),
               coalesce(sum(high_added_w) FILTER (WHERE ok_w), 0)
        FROM (SELECT *, size_w >= $min AND high_w > 0 AS ok_w, size_p >= $min AND high_p > 0 AS ok_p FROM _dg_per)
        GROUP BY kind
        """,
        params,
    )
    stats = {str(r[0]): [int(v) for v in r[1:]] for r in rows}
    zero = [0] * 7
    clusters = tuple(ClusterStats(kind, *stats.get(kind, zero)) for kind in CLUSTER_KINDS)
    tops = _rows(
        con,
        """
        WITH top AS (
            SELECT kind, cluster_key, size_w, added_w, high_w, first_ad FROM _dg_per
            WHERE added_w > 0 AND size_w >= $min AND high_w > 0
            ORDER BY added_w DESC, size_w DESC, high_w DESC, kind, first_ad LIMIT $top
        )
        SELECT t.kind, t.size_w, t.added_w, t.high_w, count(DISTINCT m.site_id), count(DISTINCT m.language)
        FROM top t JOIN _dg_members m ON m.kind = t.kind AND m.cluster_key = t.cluster_key
        GROUP BY t.kind, t.cluster_key, t.size_w, t.added_w, t.high_w, t.first_ad
        ORDER BY t.added_w DESC, t.size_w DESC, t.high_w DESC, t.kind, t.first_ad
        """,
        {"min": min_size, "top": top},
    )
    top_clusters = tuple(TopCluster(str(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5])) for r in tops)
    return clusters, top_clusters


def _phrases(con: duckdb.DuckDBPyConnection, week: date, thresholds: Thresholds) -> tuple[Phrase, ...]:
    emerging = thresholds.emerging
    if emerging.max_phrases == 0:
        return ()
    baseline_start = week - timedelta(days=7 * emerging.baseline_weeks)
    rows = _rows(
        con,
        """
        WITH ev AS (
            SELECT ad_id, week, language,
                   unnest(from_json(evidence, '[{"indicator": "VARCHAR", "text": "VARCHAR"}]')) AS e
            FROM _dg_window WHERE week >= $base AND week <= $w
        ), phrases AS (
            SELECT ad_id, week, language, e.indicator AS indicator,
                   lower(trim(regexp_replace(e.text, '\\s+', ' ', 'g'))) AS phrase
            FROM ev WHERE e.text IS NOT NULL
        )
        SELECT phrase, indicator, list_sort(list_distinct(list(language) FILTER (WHERE week = $w))),
               count(DISTINCT ad_id) FILTER (WHERE week = $w) AS cur,
               count(DISTINCT ad_id) FILTER (WHERE week < $w) AS base
        FROM phrases GROUP BY phrase, indicator
        HAVING cur >= greatest($min_count, 1)
           AND (cur + 1) / (base / $weeks + 1) >= $growth
        ORDER BY (cur + 1) / (base / $weeks + 1) DESC, cur DESC, phrase, indicator
        """,
        {
            "base": baseline_start,
            "w": week,
            "weeks": float(emerging.baseline_weeks),
            "growth": emerging.min_growth,
            "min_count": thresholds.suppress_below,
        },
    )
    merged: dict[tuple[str, str], Phrase] = {}
    for phrase, indicator, languages, current, base in rows:
        clean = scrub(str(phrase))
        if not clean or clean == "[removed]":
            continue
        key = (clean, str(indicator))
        if key in merged:  # two raw phrases that scrub to the same text: keep the first (highest growth)
            continue
        merged[key] = Phrase(clean, str(indicator), tuple(languages or ()), int(current), int(base),
                             emerging.baseline_weeks)
        if len(merged) >= emerging.max_phrases:
            break
    return tuple(merged.values())


def load_digest_data(con: duckdb.DuckDBPyConnection, query: DigestQuery) -> DigestData:
    """Run every digest query for one week and one recipient profile (filters and thresholds)."""
    model, threshold = resolve_model(con, query.model_version)
    week = query.week_start
    thresholds = query.thresholds
    first_week = week - timedelta(days=7 * (thresholds.history_weeks - 1))
    window_start = min(first_week, week - timedelta(days=7 * max(thresholds.emerging.baseline_weeks, 1)))
    _build_scope(con, query, model, threshold, window_start)
    try:
        trend = _trend(con, first_week, week)
        by_week = {p.week: p for p in trend}
        previous = by_week.get(week - timedelta(days=7), WeekPoint(week, 0, 0, 0))
        breakdowns = {
            "indicator": _indicator_breakdown(con, week),
            "country": _breakdown(con, "country", week),
            "site": _breakdown(con, "site_id", week),
            "language": _breakdown(con, "language", week),
        }
        clusters, top_clusters = _clusters(con, week, thresholds.cluster_min_size, thresholds.top_clusters)
        phrases = _phrases(con, week, thresholds)
        days_collected, days_usual, last_collected = _coverage(con, first_week, week)
    finally:
        for table in ("_dg_scope", "_dg_window", "_dg_members", "_dg_per"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
    high = thresholds.high_risk
    return DigestData(
        week_start=week,
        model_version=model,
        mode=high.mode,
        threshold=high.min_score if high.min_score is not None else threshold,  # top_n: its floor
        top_n=high.top_n if high.mode == "top_n" else None,
        ads_current=by_week[week].ads,
        ads_previous=previous.ads,
        high_risk_current=by_week[week].high_risk,
        high_risk_previous=previous.high_risk,
        trend=trend,
        breakdowns=breakdowns,
        clusters=clusters,
        top_clusters=top_clusters,
        phrases=phrases,
        filters={
            "languages": None if query.filters.languages is None else list(query.filters.languages),
            "sites": None if query.filters.sites is None else list(query.filters.sites),
            "countries": None if query.filters.countries is None else list(query.filters.countries),
        },
        days_collected=days_collected,
        days_collected_usual=days_usual,
        last_collected=last_collected,
    )
