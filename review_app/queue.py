"""The review queue: ads ranked by the champion's score, one per near-duplicate cluster, with filters.

A cluster (``ad_clusters``; an ad without a row is its own cluster) is represented by its highest-scoring ad
among those matching the filters (by default: not decided yet), shown with "+N similar".
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

import duckdb
from markupsafe import Markup

from features.phones import NATIONAL_REGIONS, parse_number
from review_app.decisions import LABELS, NO_LABEL
from review_app.highlight import SEARCH_SPAN, Span, snippet, spans_from_evidence
from review_app.indicators import ordered
from warehouse.records import ad_text

STATUSES: tuple[str, ...] = ("undecided", *LABELS, "all")
MAX_QUERY_CHARS = 200
MIN_PHONE_DIGITS = 5  # a query with at least this many digits (and nothing but digits, spaces, + - . / ( )) is
# also looked up among the extracted phone numbers by its digits: "29140327" finds "+371 2914 0327"
_PHONE_QUERY = re.compile(r"^[\d\s+\-./()]+$")
MAX_SEARCH_MARKS = 50  # literal matches marked per snippet


def phone_terms(q: str) -> tuple[str, list[str]] | None:
    """For a query that looks like a phone number: its digits (matched inside stored E.164 numbers) and the E.164
    numbers it is in a national format of the Baltic/Nordic/PL/RU plans (:func:`features.phones.parse_number`)."""
    if not _PHONE_QUERY.match(q):
        return None
    digits = re.sub(r"\D", "", q)
    if len(digits) < MIN_PHONE_DIGITS:
        return None
    stripped = q.strip()
    if stripped.startswith(("+", "00")):  # international: one reading
        parsed = [parse_number("+" + (digits[2:] if stripped.startswith("00") else digits), None)]
    else:  # national: every plan it is valid in
        parsed = [parse_number(digits, region) for region in NATIONAL_REGIONS]
    return digits, sorted({number[0] for number in parsed if number})


def contact_query(q: str) -> tuple[str, list[Any]]:
    """SQL (a condition on ``entities`` rows) and parameters: contacts whose normalised value matches ``q``.

    Stored values are normalised by extraction (:mod:`features.contacts`: E.164 numbers, lower-cased e-mails,
    ``@handle``s), so a phone number is found however the ad or the analyst spaced it, and an e-mail or handle
    in any case."""
    clauses = ["contains(lower(value), ?)"]
    params: list[Any] = [re.sub(r"\s+", "", q).lower()]
    phone = phone_terms(q)
    if phone is not None:
        digits, numbers = phone
        clauses.append(
            "(kind IN ('phone', 'whatsapp', 'viber') AND contains(regexp_replace(value, '[^0-9]', '', 'g'), ?))"
        )
        params.append(digits)
        if numbers:
            clauses.append("value IN (SELECT unnest(?::VARCHAR[]))")
            params.append(numbers)
    return "(" + " OR ".join(clauses) + ")", params


def _text(value: str | None, limit: int = 100) -> str | None:
    clean = (value or "").strip()
    return clean[:limit] or None


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _score(value: str | None) -> float | None:
    try:
        number = float(value) if value not in (None, "") else None
    except ValueError:
        return None
    return None if number is None or not 0.0 <= number <= 1.0 else number


@dataclass(frozen=True, slots=True)
class QueueFilters:
    status: str = "undecided"
    site: str | None = None
    language: str | None = None
    indicator: str | None = None
    seen_from: date | None = None
    seen_to: date | None = None
    score_min: float | None = None
    score_max: float | None = None
    q: str | None = None
    page: int = 1

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> QueueFilters:
        """Lenient: a value that does not parse is ignored, never an error page."""
        status = params.get("status") or "undecided"
        try:
            page = max(1, min(int(params.get("page") or 1), 100_000))
        except ValueError:
            page = 1
        return cls(
            status=status if status in STATUSES else "undecided",
            site=_text(params.get("site")),
            language=_text(params.get("language"), 10),
            indicator=_text(params.get("indicator")),
            seen_from=_date(params.get("seen_from")),
            seen_to=_date(params.get("seen_to")),
            score_min=_score(params.get("score_min")),
            score_max=_score(params.get("score_max")),
            q=_text(params.get("q"), MAX_QUERY_CHARS),
            page=page,
        )

    def params(self, *, page: int | None = None, with_page: bool = True) -> dict[str, str]:
        values: dict[str, str] = {}
        defaults = QueueFilters()
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "page":
                continue
            if value is not None and value != getattr(defaults, item.name):
                values[item.name] = value.isoformat() if isinstance(value, date) else str(value)
        chosen = self.page if page is None else page
        if with_page and chosen != 1:
            values["page"] = str(chosen)
        return values

    def query(self, *, page: int | None = None, with_page: bool = True) -> str:
        return urlencode(self.params(page=page, with_page=with_page))

    def first_page(self) -> QueueFilters:
        return replace(self, page=1)

    @property
    def active(self) -> bool:
        return bool(self.params(with_page=False))


@dataclass(slots=True)
class QueueItem:
    ad_id: int
    score: float
    title: str
    site_id: str
    url: str
    language: str | None
    first_seen: datetime
    last_seen: datetime
    status: str
    cluster_id: int
    similar: int  # other ads in the cluster
    similar_open: int  # other ads in the cluster that match the filters (e.g. still undecided)
    indicators: list[str] = field(default_factory=list)
    snippet: Markup = field(default_factory=Markup)
    rank: int = 0  # position in the queue under the current filters (1: the riskiest)
    contact_match: bool = False  # the search matched one of its extracted contacts


@dataclass(frozen=True, slots=True)
class Threshold:
    """Where the champion's alert threshold falls in the queue under the current filters."""

    score: float
    above: int  # clusters (queue entries) scoring at or above it


@dataclass(slots=True)
class QueuePage:
    items: list[QueueItem]
    total: int
    page: int
    page_size: int
    threshold: Threshold | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def threshold_index(self) -> int | None:
        """Before which item of this page the threshold line goes (``len(items)``: after the last item, shown on
        the last page only); None when it is not on this page."""
        if self.threshold is None:
            return None
        index = self.threshold.above - (self.page - 1) * self.page_size
        if 0 <= index < len(self.items) or (index == len(self.items) and self.page >= self.pages):
            return index
        return None


def _where(filters: QueueFilters) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if filters.status == "undecided":
        clauses.append("status = 'undecided'")
    elif filters.status != "all":
        clauses.append("status = ?")
        params.append(filters.status)
    for column, value in (("site_id", filters.site), ("language", filters.language)):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    if filters.indicator:
        clauses.append("list_contains(indicators, ?)")
        params.append(filters.indicator)
    if filters.seen_from:
        clauses.append("CAST(first_seen AS DATE) >= ?")
        params.append(filters.seen_from)
    if filters.seen_to:
        clauses.append("CAST(first_seen AS DATE) <= ?")
        params.append(filters.seen_to)
    if filters.score_min is not None:
        clauses.append("score >= ?")
        params.append(filters.score_min)
    if filters.score_max is not None:
        clauses.append("score <= ?")
        params.append(filters.score_max)
    if filters.q:
        escaped = filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        columns = ("title", "body", "coalesce(company, '')")
        contacts, contact_params = contact_query(filters.q)
        clauses.append(
            "(" + " OR ".join(f"{column} ILIKE ? ESCAPE '\\'" for column in columns)
            + f" OR ad_id IN (SELECT ad_id FROM entities WHERE {contacts}))"
        )
        params += [f"%{escaped}%"] * len(columns) + contact_params
    return (" AND ".join(clauses) or "TRUE"), params


_CANDIDATES = f"""
WITH latest AS (
    SELECT ad_id, label FROM (
        SELECT ad_id, label, row_number() OVER (PARTITION BY ad_id ORDER BY decided_at DESC, label_id DESC) AS rn
        FROM labels
    ) WHERE rn = 1
),
base AS (
    SELECT a.ad_id, s.score, a.title, a.body, a.company, a.site_id, a.url, f.language, a.first_seen, a.last_seen,
           CASE WHEN l.label IS NULL OR l.label = '{NO_LABEL}' THEN 'undecided' ELSE l.label END AS status,
           coalesce(c.cluster_id, a.ad_id) AS cluster_id,
           coalesce(c.cluster_size, 1) AS cluster_size,
           coalesce(json_extract_string(f.evidence, '$[*].indicator'), []) AS indicators,
           f.evidence
    FROM ads a
    JOIN scores s ON s.ad_id = a.ad_id AND s.model_version = ?
    LEFT JOIN features f ON f.ad_id = a.ad_id
    LEFT JOIN ad_clusters c ON c.ad_id = a.ad_id
    LEFT JOIN latest l ON l.ad_id = a.ad_id
),
matching AS (
    SELECT * FROM base WHERE {{where}}
),
ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY cluster_id ORDER BY score DESC, ad_id) AS rank_in_cluster,
           count(*) OVER (PARTITION BY cluster_id) AS matching_in_cluster
    FROM matching
)
"""

_COLUMNS = (
    "ad_id, score, title, body, site_id, url, language, first_seen, last_seen, status, cluster_id, "
    "cluster_size, matching_in_cluster, indicators, evidence"
)


def search_spans(text: str, q: str | None, limit: int = MAX_SEARCH_MARKS) -> list[Span]:
    """The literal (case-insensitive) occurrences of the searched phrase in ``text``, as spans to mark."""
    if not q:
        return []
    found = re.finditer(re.escape(q), text, re.IGNORECASE)
    return [Span(m.start(), m.end(), SEARCH_SPAN) for _, m in zip(range(limit), found, strict=False)]


def _item(row: tuple[Any, ...], focus: str | None, rank: int = 0,
          contact_spans: list[tuple[int, int]] | None = None) -> QueueItem:
    (ad_id, score, title, body, site_id, url, language, first_seen, last_seen, status, cluster_id, cluster_size,
     matching, indicators, evidence) = row
    offset = len(ad_text(title, body)) - len(body)  # evidence offsets count the title and blank line too
    spans = [
        Span(s.start - offset, s.end - offset, s.indicator)
        for s in spans_from_evidence(json.loads(evidence) if evidence else [])
    ]
    marks = search_spans(body, focus)
    matched = [Span(start - offset, end - offset, SEARCH_SPAN) for start, end in contact_spans or []]
    marks += [s for s in matched if s.end > 0]
    anchor = min((s.start for s in marks), default=None)
    return QueueItem(
        ad_id=int(ad_id),
        score=float(score),
        title=title,
        site_id=site_id,
        url=url,
        language=language,
        first_seen=first_seen,
        last_seen=last_seen,
        status=status,
        cluster_id=int(cluster_id),
        similar=max(int(cluster_size), int(matching)) - 1,
        similar_open=int(matching) - 1,
        indicators=ordered(list(indicators or [])),
        snippet=snippet(body, spans + marks, anchor=anchor),
        rank=rank,
        contact_match=bool(matched),
    )


def _contact_spans(
    con: duckdb.DuckDBPyConnection, ad_ids: list[int], q: str | None
) -> dict[int, list[tuple[int, int]]]:
    """Where the contacts matching the search sit in each ad's text (offsets into title, blank line, body)."""
    if not q or not ad_ids:
        return {}
    condition, params = contact_query(q)
    rows = con.execute(
        f"SELECT ad_id, start_pos, end_pos FROM entities WHERE ad_id IN (SELECT unnest(?::BIGINT[])) AND {condition}",
        [ad_ids, *params],
    ).fetchall()
    found: dict[int, list[tuple[int, int]]] = {}
    for ad_id, start, end in rows:
        found.setdefault(int(ad_id), []).append((int(start), int(end)))
    return found


def queue_page(
    con: duckdb.DuckDBPyConnection,
    model_version: str,
    filters: QueueFilters,
    page_size: int,
    threshold: float | None = None,
) -> QueuePage:
    """One page of the queue; with the model's alert ``threshold``, how many entries score at or above it."""
    where, params = _where(filters)
    cut = 2.0 if threshold is None else threshold  # 2.0: no score is above it
    offset = (filters.page - 1) * page_size
    rows = con.execute(
        _CANDIDATES.format(where=where)
        + f"SELECT {_COLUMNS}, count(*) FILTER (WHERE score >= ?) OVER () AS above, count(*) OVER () AS total "
        "FROM ranked WHERE rank_in_cluster = 1 ORDER BY score DESC, ad_id LIMIT ? OFFSET ?",
        [model_version, *params, cut, page_size, offset],
    ).fetchall()
    total = int(rows[0][-1]) if rows else 0
    above = int(rows[0][-2]) if rows else 0
    if not rows and filters.page > 1:  # past the end (e.g. after deciding the last ads): count only
        total, above = (
            int(v)
            for v in con.execute(
                _CANDIDATES.format(where=where)
                + "SELECT count(*), count(*) FILTER (WHERE score >= ?) FROM ranked WHERE rank_in_cluster = 1",
                [model_version, *params, cut],
            ).fetchall()[0]
        )
    matches = _contact_spans(con, [int(row[0]) for row in rows], filters.q)
    items = [
        _item(row[:-2], filters.q, offset + n + 1, matches.get(int(row[0]))) for n, row in enumerate(rows)
    ]
    marker = Threshold(threshold, above) if threshold is not None else None
    return QueuePage(items, total, filters.page, page_size, marker)


def neighbour(
    con: duckdb.DuckDBPyConnection,
    model_version: str,
    filters: QueueFilters,
    score: float,
    ad_id: int,
    *,
    forward: bool = True,
) -> int | None:
    """The queue entry after (or before) position (score, ad_id) under the same filters."""
    where, params = _where(filters)
    if forward:
        position = "(score < ? OR (score = ? AND ad_id > ?))"
        order = "score DESC, ad_id"
    else:
        position = "(score > ? OR (score = ? AND ad_id < ?))"
        order = "score ASC, ad_id DESC"
    rows = con.execute(
        _CANDIDATES.format(where=where)
        + f"SELECT ad_id FROM ranked WHERE rank_in_cluster = 1 AND ad_id <> ? AND {position} ORDER BY {order} LIMIT 1",
        [model_version, *params, ad_id, score, score, ad_id],
    ).fetchall()
    return int(rows[0][0]) if rows else None


def filter_choices(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Values offered in the filter drop-downs."""
    sites = [r[0] for r in con.execute("SELECT DISTINCT site_id FROM ads ORDER BY 1").fetchall()]
    languages = [r[0] for r in con.execute("SELECT DISTINCT language FROM features ORDER BY 1").fetchall()]
    return {"sites": sites, "languages": languages}
