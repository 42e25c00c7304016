"""A synthetic warehouse generated in DuckDB with SQL alone: ads, features, scores, entities, clusters, facts.

Used by the digest benchmark (1M ads) and tests. Deterministic: every "random" draw is a hash of the ad id and
a salt. About 8% of ads are lures (high scores, several indicators, shared contacts, template clusters, more
of them towards the end of the period, bound for a few destination countries); some lure evidence phrases only
appear, or grow, in the last weeks; a few evidence texts carry contact details on purpose (to test scrubbing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

MODEL_VERSION = "synthetic-champion"
SITES = ("balticjobs", "skelbimai", "darbas-forum", "tori-ee", "praca-pl")
LANGUAGES = ("en", "lv", "lt", "fi", "et", "pl", "ru")
HOME_COUNTRIES = ("LV", "LT", "EE", "FI", "PL")
DESTINATIONS = ("DE", "NO", "GB", "NL", "AE", "SE", "IE", "ES")
#: (indicator, share of lures showing it, phrases)
INDICATOR_PHRASES: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("unrealistic_pay", 0.55, ("earn up to 4000 eur", "easy money", "high salary from day one")),
    ("no_requirements", 0.6, ("no experience needed", "no language required", "everyone accepted")),
    ("travel_housing_paid", 0.5, ("free accommodation", "tickets paid by employer", "housing provided")),
    ("vague_abroad", 0.45, ("work in europe", "job in scandinavia", "details by phone")),
    ("messenger_contact", 0.6, ("write on whatsapp", "telegram only", "send a dm")),
    ("upfront_fee", 0.25, ("registration fee", "pay for visa", "deposit for documents")),
    ("appearance_requirements", 0.3, ("girls 18-25", "attractive appearance", "send photos")),
    ("adult_adjacent_work", 0.25, ("hostess wanted", "webcam model", "vip clients")),
    ("urgency_secrecy", 0.4, ("urgent departure", "only today", "confidentiality guaranteed")),
    ("targets_minors", 0.08, ("from 16 years", "pocket money for students", "no parental consent")),
)
#: Phrases that only appear in the last two weeks (one indicator each): the "emerging" ones.
EMERGING_PHRASES: tuple[tuple[str, str], ...] = (
    ("travel_housing_paid", "flat in oslo included"),
    ("messenger_contact", "signal chat only"),
)
#: Evidence texts with contact details in them: never to appear unscrubbed in a digest.
LEAKY_PHRASES: tuple[tuple[str, str], ...] = (
    ("messenger_contact", "write on telegram @fastjobs_recruiter"),
    ("messenger_contact", "whatsapp +371 2000 1234"),
    ("messenger_contact", "cv to jobs.abroad@mail.example"),
    ("vague_abroad", "details at https://fastjobs.example/apply"),
)


@dataclass(frozen=True, slots=True)
class SyntheticSpec:
    ads: int = 10_000
    weeks: int = 12
    last_week: date = date(2026, 11, 9)  # a Monday: the last generated week
    lure_share: float = 0.08
    seed: int = 7

    @property
    def first_day(self) -> date:
        return self.last_week - timedelta(days=7 * (self.weeks - 1))


def _u(salt: int, seed: int) -> str:
    """SQL for a deterministic uniform draw in [0, 1) per ad (column ``i``)."""
    return f"((hash(i * 1000003 + {salt * 7919 + seed * 104729}) % 1000000) / 1000000.0)"


def _list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def generate(con: duckdb.DuckDBPyConnection, spec: SyntheticSpec = SyntheticSpec()) -> dict[str, int]:
    """Fill an empty, migrated warehouse. Returns the row count per table."""
    if con.execute("SELECT count(*) FROM ads").fetchall()[0][0]:
        raise ValueError("the synthetic generator needs an empty warehouse")
    seed = spec.seed
    days = spec.weeks * 7
    lure = f"({_u(1, seed)} < {spec.lure_share} * (0.6 + 0.8 * day / {days}))"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _syn AS
        SELECT i, day, {lure} AS lure,
               {_list(SITES)}[1 + CAST(floor({_u(2, seed)} * {len(SITES)}) AS INT)] AS site,
               {_list(LANGUAGES)}[1 + CAST(floor({_u(3, seed)} * {len(LANGUAGES)}) AS INT)] AS lang,
               {_u(4, seed)} AS r_score, {_u(5, seed)} AS r_country, {_u(6, seed)} AS r_contact,
               {_u(7, seed)} AS r_template,
               {lure} AND day >= {days - 21} AND {_u(8, seed)} < 0.3 AS fresh, day // 7 AS week_no
        FROM (SELECT i, CAST(floor(sqrt({_u(0, seed)}) * {days}) AS INT) AS day FROM range(1, {spec.ads + 1}) t(i))
        """
    )
    first = spec.first_day.isoformat()
    con.execute(
        f"""
        INSERT INTO ads (ad_id, site_id, url, external_id, title, body, company, location, country, salary_text,
                         contact_text, page_language, posted, first_seen, last_seen, content_hash)
        SELECT i, site, 'https://' || site || '.example/ad/' || i, 'ext-' || i,
               CASE WHEN lure THEN 'Work abroad, high pay #' ELSE 'Job offer #' END || i,
               'Synthetic ad body ' || i || '. Call +371 2' || lpad(CAST(i % 9999999 AS VARCHAR), 7, '0'),
               CASE WHEN lure THEN NULL ELSE 'Company ' || (i % 5000) END, 'City ' || (i % 300),
               CASE WHEN lure THEN {_list(DESTINATIONS)}[1 + CAST(floor(r_country * {len(DESTINATIONS)}) AS INT)]
                    ELSE {_list(HOME_COUNTRIES)}[1 + CAST(floor(r_country * {len(HOME_COUNTRIES)}) AS INT)] END,
               NULL, NULL, lang,
               DATE '{first}' + day,
               CAST(DATE '{first}' + day AS TIMESTAMP) + INTERVAL 9 HOUR,
               CAST(DATE '{first}' + day AS TIMESTAMP) + INTERVAL 9 HOUR,
               md5(CAST(i AS VARCHAR))
        FROM _syn
        """
    )
    vector_parts = []
    evidence_parts = []
    for n, (indicator, share, phrases) in enumerate(INDICATOR_PHRASES):
        hit = f"(CASE WHEN lure THEN {_u(20 + n, seed)} < {share} ELSE {_u(20 + n, seed)} < 0.015 END)"
        con.execute(f"ALTER TABLE _syn ADD COLUMN ind_{indicator} BOOLEAN")
        con.execute(f"UPDATE _syn SET ind_{indicator} = {hit}")
        vector_parts.append(f"'\"ind_{indicator}\": ' || CAST(ind_{indicator} AS INT) || '.0'")
        phrase = f"{_list(phrases)}[1 + CAST(floor({_u(40 + n, seed)} * {len(phrases)}) AS INT)]"
        evidence_parts.append(
            f"CASE WHEN ind_{indicator} THEN [{{'indicator': '{indicator}', 'start': 0, 'end': 1, "
            f"'text': {phrase}, 'pattern': lang || '-{indicator}-001'}}] ELSE [] END"
        )
    emerging = [
        f"CASE WHEN lure AND day >= {days - 14} AND {_u(60 + n, seed)} < {0.25 + 0.15 * n} "
        f"THEN [{{'indicator': '{indicator}', 'start': 0, 'end': 1, 'text': '{text}', "
        f"'pattern': lang || '-{indicator}-900'}}] ELSE [] END"
        for n, (indicator, text) in enumerate(EMERGING_PHRASES)
    ]
    leaky = [  # the first two only in the last week: they are "emerging" and must come out scrubbed
        f"CASE WHEN lure AND {_u(70 + n, seed)} < 0.2 {f'AND day >= {days - 7}' if n < 2 else ''} "
        f"THEN [{{'indicator': '{indicator}', 'start': 0, 'end': 1, 'text': '{text}', "
        f"'pattern': lang || '-{indicator}-950'}}] ELSE [] END"
        for n, (indicator, text) in enumerate(LEAKY_PHRASES)
    ]
    indicator_count = " + ".join(f"CAST(ind_{i} AS INT)" for i, _, _ in INDICATOR_PHRASES)
    con.execute(
        f"""
        INSERT INTO features (ad_id, content_hash, extractor_version, language, language_confidence, vector, evidence)
        SELECT i, md5(CAST(i AS VARCHAR)), 'synthetic', lang, 0.99,
               CAST('{{' || {" || ', ' || ".join(vector_parts)} || ', "n_indicators_distinct": '
                    || ({indicator_count}) || '.0}}' AS JSON),
               CAST(to_json(list_concat({", ".join([*evidence_parts, *emerging, *leaky])})) AS JSON)
        FROM _syn
        """
    )
    con.execute(
        f"""
        INSERT INTO scores (ad_id, model_version, score, content_hash)
        SELECT i, '{MODEL_VERSION}',
               CASE WHEN lure THEN 0.55 + 0.45 * r_score ELSE 0.5 * r_score * r_score END,
               md5(CAST(i AS VARCHAR))
        FROM _syn
        """
    )
    con.execute(
        """
        INSERT INTO models (version, created_by, path, status, training_fingerprint, feature_names, metrics, params)
        VALUES ($v, 'synthetic', '/nonexistent', 'champion', 'synthetic', '[]', '{}', $params)
        """,
        {"v": MODEL_VERSION, "params": json.dumps({"threshold": 0.5})},
    )
    # Contacts: lures draw from small pools (shared numbers and handles: contact clusters), others are unique.
    con.execute(
        f"""
        INSERT INTO entities (ad_id, kind, value, raw, start_pos, end_pos, free_mail)
        SELECT i, 'phone',
               '+3712' || lpad(CAST(CASE WHEN fresh THEN 900000 + week_no * 1000 + CAST(r_contact * 20 AS INT)
                                         WHEN lure THEN CAST(r_contact * {max(spec.ads // 400, 5)} AS INT)
                                         ELSE 1000000 + i END AS VARCHAR), 7, '0'),
               'raw', 0, 12, NULL FROM _syn
        UNION ALL
        SELECT i, 'email',
               CASE WHEN lure THEN 'recruiter' || CAST(r_contact * {max(spec.ads // 300, 5)} AS INT) || '@mail.example'
                    ELSE 'hr' || (i % 5000) || '@company' || (i % 5000) || '.example' END,
               'raw', 0, 12, lure FROM _syn WHERE lure OR i % 3 = 0
        UNION ALL
        SELECT i, CASE WHEN r_contact < 0.5 THEN 'telegram' ELSE 'whatsapp' END,
               CASE WHEN r_contact < 0.5 THEN '@recruit_' || CAST(r_template * {max(spec.ads // 500, 5)} AS INT)
                    ELSE '+3712' || lpad(CAST(CAST(r_template * {max(spec.ads // 500, 5)} AS INT) AS VARCHAR), 7, '0')
               END,
               'raw', 0, 12, NULL FROM _syn WHERE lure
        UNION ALL
        SELECT i, 'url', 'https://apply-' || (i % 97) || '.example/form', 'raw', 0, 12, NULL FROM _syn WHERE lure
        """
    )
    # Template clusters: lures copy one of a few hundred templates (near-duplicate text).
    con.execute(
        f"""
        INSERT INTO ad_clusters (ad_id, cluster_id, cluster_size, method)
        SELECT i, min(i) OVER (PARTITION BY t), count(*) OVER (PARTITION BY t), 'synthetic'
        FROM (SELECT i, CASE WHEN fresh THEN 1000000 + week_no * 1000 + CAST(r_template * 20 AS INT)
                             ELSE CAST(r_template * {max(spec.ads // 250, 5)} AS INT) END AS t
              FROM _syn WHERE lure)
        QUALIFY count(*) OVER (PARTITION BY t) >= 2
        """
    )
    # Facts as `extract` flattens them: lures name their destination abroad, other ads name no country (their
    # destination is the page's own country field, as pipeline/cross_ad_features.py does).
    con.execute(
        """
        INSERT INTO ad_facts (ad_id, language, destinations, destination, city, category, posted_on)
        SELECT a.ad_id, a.page_language, CASE WHEN s.lure THEN [a.country] ELSE CAST([] AS VARCHAR[]) END,
               a.country, a.location, a.page_language || ':' || a.country, a.posted
        FROM ads a JOIN _syn s ON s.i = a.ad_id
        """
    )
    con.execute("DROP TABLE _syn")
    return {
        table: int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
        for table in ("ads", "features", "scores", "entities", "ad_clusters", "ad_facts")
    }
