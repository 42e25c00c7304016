"""Everything the ad page and a case export show about one ad, read in one warehouse session.

Linked ads (and each contact's count of other ads) are ads with a contact of the same kind and value; across the
retention boundary a fresh ad's plain contact also matches the pseudonym an old ad's contact was given, and the
other way round (:mod:`warehouse.contact_links`; the key: the one passed to :func:`load_ad`, else the environment's).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import duckdb
from markupsafe import Markup

from pipeline.explain import Reason, explain_ads
from pipeline.model_registry import LoadedModel
from review_app.decisions import NO_LABEL, HistoryRow, current_label, history
from review_app.highlight import Span, highlight, spans_from_evidence
from review_app.indicators import feature_label, ordered, phrase_language
from warehouse.contact_links import LINKING_KINDS, bridge_key, pseudonym_bridge
from warehouse.pseudonymise import Pseudonymiser, is_pseudonym
from warehouse.records import ad_text

MAX_LINKED = 200


@dataclass(slots=True)
class Contact:
    kind: str
    value: str
    raw: str
    start: int
    end: int
    free_mail: bool | None
    other_ads: int  # other ads carrying the same value


@dataclass(slots=True)
class LinkedAd:
    ad_id: int
    site_id: str
    url: str
    title: str
    first_seen: datetime
    last_seen: datetime
    score: float | None
    status: str
    reasons: list[str] = field(default_factory=list)  # e.g. "phone +37120000000", "same template"


@dataclass(frozen=True, slots=True)
class ReasonView:
    """One reason for the score as the page and the export show it."""

    feature: str
    title: str  # readable; includes the ad's value when the pipeline words it that way
    value: str  # the ad's value of the feature when the title does not already say it
    contribution: float  # log-odds added to (or, if negative, taken from) the score
    evidence: list[str]


def reason_view(reason: Reason, values: dict[str, float]) -> ReasonView:
    label = str(getattr(reason, "label", "") or "")
    value = getattr(reason, "value", None)
    if value is None:
        value = values.get(reason.feature)
    shown = "" if label or value is None else f"{float(value):g}"
    return ReasonView(
        reason.feature, label or feature_label(reason.feature), shown, float(reason.contribution), list(reason.evidence)
    )


@dataclass(slots=True)
class AdDetail:
    ad_id: int
    site_id: str
    url: str
    external_id: str | None
    title: str
    body: str
    company: str | None
    location: str | None
    country: str | None
    salary_text: str | None
    contact_text: str | None
    page_language: str | None
    posted: date | None
    first_seen: datetime
    last_seen: datetime
    last_run_id: int | None
    content_hash: str
    language: str | None
    language_confidence: float | None
    evidence: list[dict[str, Any]]
    score: float | None
    model_version: str | None
    cluster_id: int
    cluster_size: int
    status: str
    contacts: list[Contact]
    linked: list[LinkedAd]
    history: list[HistoryRow]
    reasons: list[ReasonView] = field(default_factory=list)
    site_base_url: str | None = None
    feature_values: dict[str, float] = field(default_factory=dict)
    linked_total: int = 0  # linked ads in all (``linked`` holds the first MAX_LINKED)

    @property
    def text(self) -> str:
        return ad_text(self.title, self.body)

    def spans(self, with_contacts: bool = True) -> list[Span]:
        spans = spans_from_evidence(self.evidence)
        if with_contacts:
            spans += [Span(c.start, c.end, f"contact:{c.kind}") for c in self.contacts]
        return spans

    @property
    def highlighted_text(self) -> Markup:
        return highlight(self.text, self.spans())

    @property
    def reasons_up(self) -> list[ReasonView]:
        """Reasons that raise the score (most first)."""
        return [r for r in self.reasons if r.contribution > 0]

    @property
    def reasons_down(self) -> list[ReasonView]:
        """Reasons that pull the score down (strongest first)."""
        return sorted((r for r in self.reasons if r.contribution < 0), key=lambda r: r.contribution)

    @property
    def phrases(self) -> list[tuple[str, str, str | None]]:
        """Distinct highlighted phrases (indicator, phrase, lexicon language), in text order, for the glossary."""
        seen: dict[tuple[str, str], str | None] = {}
        for item in self.evidence:
            key = (str(item.get("indicator", "")), " ".join(str(item.get("text", "")).split())[:200])
            if key[1] and key not in seen:
                seen[key] = phrase_language(str(item.get("pattern") or ""))
        return [(indicator, phrase, language) for (indicator, phrase), language in seen.items()]

    @property
    def indicator_counts(self) -> dict[str, int]:
        """Evidence spans per indicator, lure indicators first."""
        counts = Counter(str(item.get("indicator", "")) for item in self.evidence)
        return {name: counts[name] for name in ordered(list(counts))}


Bridge = Sequence[tuple[str, str]]  # (plain value, its pseudonym) pairs: see warehouse.contact_links

# What each contact of the ad matches in other ads: its own value and, across the retention boundary, its
# pseudonym (a plain value) or the plain values behind it (a pseudonym). Parameters: bridge values, bridge
# aliases, ad id.
_MATCHES = """
bridge AS (SELECT unnest(?::VARCHAR[]) AS value, unnest(?::VARCHAR[]) AS alias),
mine AS (SELECT entity_id, ad_id, kind, value FROM entities WHERE ad_id = ?),
matches AS (
    SELECT entity_id, ad_id, kind, value, value AS match FROM mine
    UNION
    SELECT m.entity_id, m.ad_id, m.kind, m.value, b.alias FROM mine m JOIN bridge b ON b.value = m.value
    UNION
    SELECT m.entity_id, m.ad_id, m.kind, m.value, b.value FROM mine m JOIN bridge b ON b.alias = m.value
)
"""


def _bridge(con: duckdb.DuckDBPyConnection, ad_id: int, pseudonymiser: Pseudonymiser | None) -> list[tuple[str, str]]:
    """The bridge pairs that can link this ad across the retention boundary: its plain values whose pseudonym an
    old ad holds, and (when this ad is pseudonymised itself) the plain values of other ads behind its pseudonyms.
    Empty without pseudonymised contacts of the ad's kinds in the warehouse, or without a key."""
    rows = con.execute("SELECT DISTINCT kind, value FROM entities WHERE ad_id = ?", [ad_id]).fetchall()
    key = bridge_key(con, sorted({str(r[0]) for r in rows}), pseudonymiser)
    if key is None:
        return []
    plain = [(str(r[0]), str(r[1])) for r in rows if not is_pseudonym(str(r[1]))]
    pseudonymised = [(str(r[0]), str(r[1])) for r in rows if is_pseudonym(str(r[1]))]
    bridge: list[tuple[str, str]] = []
    if plain:  # a fresh ad: its own values, pseudonymised (a few) and looked up
        bridge += pseudonym_bridge(con, key, sorted({k for k, _ in plain}), plain=[v for _, v in plain])
    if pseudonymised:  # an old ad: every distinct plain value of its kinds is pseudonymised once
        bridge += pseudonym_bridge(con, key, sorted({k for k, _ in pseudonymised}),
                                   targets=[v for _, v in pseudonymised])
    return sorted(set(bridge))


def _contacts(con: duckdb.DuckDBPyConnection, ad_id: int, bridge: Bridge = ()) -> list[Contact]:
    rows = con.execute(
        f"""
        WITH {_MATCHES},
        others AS (
            SELECT k.entity_id, count(DISTINCT o.ad_id) AS n
            FROM matches k JOIN entities o ON o.kind = k.kind AND o.value = k.match AND o.ad_id <> k.ad_id
            GROUP BY k.entity_id
        )
        SELECT e.kind, e.value, e.raw, e.start_pos, e.end_pos, e.free_mail, coalesce(n.n, 0) AS other_ads
        FROM entities e LEFT JOIN others n USING (entity_id)
        WHERE e.ad_id = ? ORDER BY e.start_pos, e.kind
        """,
        [[b[0] for b in bridge], [b[1] for b in bridge], ad_id, ad_id],
    ).fetchall()
    return [Contact(r[0], r[1], r[2], int(r[3]), int(r[4]), r[5], int(r[6])) for r in rows]


def _linked(
    con: duckdb.DuckDBPyConnection, ad_id: int, cluster_id: int, model_version: str | None, bridge: Bridge = ()
) -> tuple[list[LinkedAd], int]:
    """The first MAX_LINKED linked ads (oldest first) and how many there are in all."""
    rows = con.execute(
        f"""
        WITH {_MATCHES},
        links AS (
            SELECT o.ad_id, k.kind || ' ' || k.value AS reason
            FROM matches k JOIN entities o ON o.kind = k.kind AND o.value = k.match AND o.ad_id <> k.ad_id
            WHERE k.kind IN (SELECT unnest(?::VARCHAR[]))
            UNION
            SELECT c.ad_id, 'same template' AS reason FROM ad_clusters c
            WHERE c.cluster_id = ? AND c.ad_id <> ?
        ),
        latest AS (
            SELECT ad_id, label FROM (
                SELECT ad_id, label,
                       row_number() OVER (PARTITION BY ad_id ORDER BY decided_at DESC, label_id DESC) AS rn
                FROM labels WHERE ad_id IN (SELECT ad_id FROM links)
            ) WHERE rn = 1
        )
        SELECT a.ad_id, a.site_id, a.url, a.title, a.first_seen, a.last_seen, s.score,
               CASE WHEN l.label IS NULL OR l.label = '{NO_LABEL}' THEN 'undecided' ELSE l.label END,
               list(DISTINCT k.reason ORDER BY k.reason), count(*) OVER () AS total
        FROM links k JOIN ads a ON a.ad_id = k.ad_id
        LEFT JOIN scores s ON s.ad_id = a.ad_id AND s.model_version = ?
        LEFT JOIN latest l ON l.ad_id = a.ad_id
        GROUP BY ALL
        ORDER BY a.first_seen, a.ad_id
        LIMIT {MAX_LINKED}
        """,
        [[b[0] for b in bridge], [b[1] for b in bridge], ad_id, list(LINKING_KINDS), cluster_id, ad_id,
         model_version],
    ).fetchall()
    linked = [
        LinkedAd(int(r[0]), r[1], r[2], r[3], r[4], r[5], None if r[6] is None else float(r[6]), r[7], list(r[8]))
        for r in rows
    ]
    return linked, int(rows[0][9]) if rows else 0


def load_ad(
    con: duckdb.DuckDBPyConnection,
    ad_id: int,
    model: LoadedModel | None,
    *,
    explain_top: int = 8,
    pseudonymiser: Pseudonymiser | None = None,
    with_reasons: bool = True,
) -> AdDetail | None:
    """The ad, its contacts and linked ads, its decisions and (with a model and ``with_reasons``) the reasons for
    its score (the ad page computes those outside the warehouse session: :mod:`review_app.ad_page`).

    ``pseudonymiser``: the key that links this ad's contacts with contacts pseudonymised by retention (and back);
    ``None`` takes it from ``LUREWATCH_PSEUDONYM_KEY`` / ``LUREWATCH_PSEUDONYM_KEY_FILE``, and without any key links
    are made on stored values only. It is only looked up when the warehouse holds pseudonymised contacts.
    """
    model_version = model.version if model else None
    rows = con.execute(
        """
        SELECT a.ad_id, a.site_id, a.url, a.external_id, a.title, a.body, a.company, a.location, a.country,
               a.salary_text, a.contact_text, a.page_language, a.posted, a.first_seen, a.last_seen, a.last_run_id,
               a.content_hash, f.language, f.language_confidence, f.evidence, s.score,
               coalesce(c.cluster_id, a.ad_id), coalesce(c.cluster_size, 1), st.base_url, f.vector
        FROM ads a
        LEFT JOIN features f ON f.ad_id = a.ad_id
        LEFT JOIN scores s ON s.ad_id = a.ad_id AND s.model_version = ?
        LEFT JOIN ad_clusters c ON c.ad_id = a.ad_id
        LEFT JOIN sites st ON st.site_id = a.site_id
        WHERE a.ad_id = ?
        """,
        [model_version, ad_id],
    ).fetchall()
    if not rows:
        return None
    r = rows[0]
    label = current_label(con, ad_id)
    bridge = _bridge(con, ad_id, pseudonymiser)
    linked, linked_total = _linked(con, ad_id, int(r[21]), model_version, bridge)
    detail = AdDetail(
        ad_id=int(r[0]),
        site_id=r[1],
        url=r[2],
        external_id=r[3],
        title=r[4],
        body=r[5],
        company=r[6],
        location=r[7],
        country=r[8],
        salary_text=r[9],
        contact_text=r[10],
        page_language=r[11],
        posted=r[12],
        first_seen=r[13],
        last_seen=r[14],
        last_run_id=r[15],
        content_hash=r[16],
        language=r[17],
        language_confidence=r[18],
        evidence=json.loads(r[19]) if r[19] else [],
        score=None if r[20] is None else float(r[20]),
        model_version=model_version if r[20] is not None else None,
        cluster_id=int(r[21]),
        cluster_size=int(r[22]),
        status=label or "undecided",
        contacts=_contacts(con, ad_id, bridge),
        linked=linked,
        linked_total=linked_total,
        history=history(con, ad_id),
        site_base_url=r[23],
        feature_values={str(k): float(v) for k, v in json.loads(r[24]).items()} if r[24] else {},
    )
    if with_reasons and model is not None and r[19] is not None:
        explained = explain_ads(con, model, [ad_id], top=explain_top).get(ad_id, [])
        detail.reasons = [reason_view(reason, detail.feature_values) for reason in explained]
    return detail
