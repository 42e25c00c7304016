"""Cross-ad features, computed in DuckDB after feature extraction.

One lure is rarely one ad: the same recruiter posts a template on several sites and in several cities, with
the same phone number, in bursts. :func:`compute_cross_ad_features` recomputes, for every ad in the warehouse:

* ``ad_facts`` (migration 0006): salary, ages, destinations and city flattened from ``features`` (the
  extractor's ``vector`` and its ``salary``/``age``/``destination`` evidence), the ad's posting day and its
  salary peer group (``category``: ``ads.category`` when the crawler stores one, else
  ``<language>:<destination country>``);
* ``ad_clusters`` (migration 0003): near-duplicate template clusters from
  :func:`features.near_duplicates.cluster_ids` over ``ad_text(title, body)``;
* ``ad_cross_features`` (migration 0006): how many other ads, sites and cities share a contact value
  (``entities.value`` of phones, e-mails and messenger handles: a number given as "WhatsApp" in one ad and
  as a phone in another links them; so does a fresh ad's number and the pseudonym retention gave it in an old ad,
  see :mod:`warehouse.contact_links`); the cluster size; posting velocity (ads with the same contact / in the
  same cluster posted in the 7 days up to the ad's own posting day, so the value of an old ad does not change
  as time passes); and the z-score of ln(salary) against the ad's peer group (falling back to all ads of
  its language, then to all ads, when a group has fewer than ``MIN_SALARY_GROUP`` salaried ads).

Everything is recomputed in one transaction, so a re-run on unchanged data writes identical rows and a failed
run leaves the previous rows. :func:`cross_ad_vectors` reads the stored features for the scorer in the fixed
order of :data:`CROSS_AD_FEATURE_NAMES`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import duckdb
import numpy as np
import pyarrow as pa

from features import near_duplicates
from features.factdata import gazetteer
from features.facts import extract_destinations
from warehouse.contact_links import LINKING_KINDS, bridge_table, contact_bridge
from warehouse.pseudonymise import Pseudonymiser
from warehouse.records import ad_text

CROSS_AD_FEATURE_NAMES: tuple[str, ...] = (
    "shared_contact_ads",
    "shared_contact_sites",
    "shared_contact_cities",
    "cluster_size",
    "contact_velocity_7d",
    "cluster_velocity_7d",
    "posting_velocity_7d",
    "salary_z",
)
# What an ad without a row (never computed) looks like: a unique ad with no links and no known pay.
CROSS_AD_DEFAULTS: dict[str, float] = {**dict.fromkeys(CROSS_AD_FEATURE_NAMES, 0.0), "cluster_size": 1.0}

VELOCITY_DAYS = 7
MIN_SALARY_GROUP = 5


def _has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = ? AND column_name = ?", [table, column]
    ).fetchall()
    return bool(rows[0][0])


def _home_table() -> pa.Table:
    pairs = [(lang, iso) for lang, homes in sorted(gazetteer().home.items()) for iso in homes]
    return pa.table(
        {
            "language": pa.array([p[0] for p in pairs], pa.string()),
            "country": pa.array([p[1] for p in pairs], pa.string()),
        }
    )


def _location_table(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """Crawled ``ads.location`` strings -> canonical city and country when the gazetteer knows the place, else
    the trimmed lower-case string and no country."""
    locations = [r[0] for r in con.execute("SELECT DISTINCT location FROM ads WHERE location IS NOT NULL").fetchall()]
    cities: list[str | None] = []
    countries: list[str | None] = []
    for loc in locations:
        places = extract_destinations(loc)
        city = next((d.city for d in places if d.city), None)
        cities.append(city or loc.strip().lower() or None)
        countries.append(places[0].country if places else None)
    return pa.table(
        {
            "location": pa.array(locations, pa.string()),
            "city": pa.array(cities, pa.string()),
            "country": pa.array(countries, pa.string()),
        }
    )


def _clusters(con: duckdb.DuckDBPyConnection, threshold: float) -> pa.Table:
    rows = con.execute("SELECT ad_id, title, body FROM ads ORDER BY ad_id").fetchall()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    clusters = near_duplicates.cluster_ids([ad_text(r[1], r[2]) for r in rows], threshold, keys=ids)
    sizes = near_duplicates.cluster_sizes(clusters) if len(ids) else np.array([], dtype=np.int64)
    return pa.table(
        {
            "ad_id": pa.array(ids, pa.int64()),
            "cluster_id": pa.array(np.asarray(clusters, dtype=np.int64), pa.int64()),
            "cluster_size": pa.array(np.asarray(sizes, dtype=np.int32), pa.int32()),
        }
    )


# @CATEGORY@ is replaced by ads.category (when the column exists) or NULL.
_FACTS_SQL = """
WITH ev AS (
    SELECT ad_id, e.pattern AS pattern, e.start AS pos
    FROM (
        SELECT ad_id, unnest(from_json(evidence, '[{"indicator":"VARCHAR","pattern":"VARCHAR","start":"INTEGER"}]'))
            AS e
        FROM features
    )
    WHERE e.indicator = 'destination'
),
places AS (
    SELECT ad_id,
           list(split_part(pattern, ':', 2) ORDER BY pos) AS countries,
           list(split_part(pattern, ':', 3) ORDER BY pos) FILTER (WHERE split_part(pattern, ':', 3) <> '') AS cities
    FROM ev GROUP BY ad_id
),
base AS (
    SELECT a.ad_id, f.language,
           CAST(json_extract(f.vector, '$.salary_eur_month') AS DOUBLE) AS salary,
           CAST(json_extract(f.vector, '$.min_age') AS DOUBLE) AS min_age,
           CAST(json_extract(f.vector, '$.max_age') AS DOUBLE) AS max_age,
           coalesce(p.countries, CAST([] AS VARCHAR[])) AS countries,
           p.cities,
           CASE WHEN length(trim(a.country)) = 2 THEN upper(trim(a.country)) END AS page_country,
           l.city AS location_city,
           l.country AS location_country,
           @CATEGORY@ AS page_category,
           coalesce(a.posted, CAST(a.first_seen AS DATE)) AS posted_on
    FROM ads a
    LEFT JOIN features f USING (ad_id)
    LEFT JOIN places p USING (ad_id)
    LEFT JOIN _cross_locations l ON l.location = a.location
),
dest AS (
    SELECT b.*,
           list_filter(b.countries, lambda c: NOT list_contains(coalesce(h.homes, CAST([] AS VARCHAR[])), c)) AS abroad
    FROM base b
    LEFT JOIN (SELECT language, list(country) AS homes FROM _cross_home GROUP BY language) h USING (language)
)
SELECT ad_id, language,
       CASE WHEN salary > 0 THEN salary END AS salary,
       CASE WHEN min_age > 0 THEN CAST(min_age AS INTEGER) END AS min_age,
       CASE WHEN max_age > 0 THEN CAST(max_age AS INTEGER) END AS max_age,
       countries,
       coalesce(abroad[1], page_country, location_country, countries[1]) AS destination,
       coalesce(location_city, cities[1]) AS city,
       coalesce(
           page_category,
           coalesce(language, '-') || ':' || coalesce(abroad[1], page_country, location_country, countries[1], '-')
       ) AS category,
       posted_on
FROM dest
"""

_FACTS_INSERT = """
INSERT INTO ad_facts (ad_id, language, salary_eur_month, min_age, max_age, destinations, destination, city,
                      category, posted_on, computed_at)
SELECT ad_id, language, salary, min_age, max_age,
       list_filter(countries, lambda c, i: NOT list_contains(countries[:i - 1], c)),
       destination, city, category, posted_on, $at
FROM (@FACTS@)
"""

_CROSS_SQL = """
WITH contacts AS (
    SELECT DISTINCT e.ad_id, e.value FROM entities e JOIN ads a USING (ad_id)
    WHERE e.kind IN (SELECT unnest($kinds))
),
pairs AS (  -- (ad, one of its contact values, an ad with that contact), the ad itself included
    SELECT c1.ad_id, c1.value, c2.ad_id AS other FROM contacts c1 JOIN contacts c2 USING (value)
    UNION ALL  -- a plain value of a fresh ad, an old ad holding its pseudonym
    SELECT c1.ad_id, c1.value, c2.ad_id FROM contacts c1
    JOIN _cross_bridge b ON b.value = c1.value JOIN contacts c2 ON c2.value = b.alias
    UNION ALL  -- a pseudonym of an old ad, a fresh ad holding the plain value behind it
    SELECT c1.ad_id, c1.value, c2.ad_id FROM contacts c1
    JOIN _cross_bridge b ON b.alias = c1.value JOIN contacts c2 ON c2.value = b.value
),
linked AS (  -- every (ad, ad sharing a contact with it), itself included
    SELECT DISTINCT ad_id, other FROM pairs
),
shared AS (
    SELECT l.ad_id,
           count(DISTINCT l.other) - 1 AS n_ads,
           count(DISTINCT a.site_id) AS n_sites,
           count(DISTINCT f.city) AS n_cities
    FROM linked l JOIN ads a ON a.ad_id = l.other JOIN ad_facts f ON f.ad_id = l.other
    GROUP BY l.ad_id
),
contact_velocity AS (
    SELECT ad_id, max(n) AS n FROM (
        SELECT p.ad_id, p.value, count(DISTINCT p.other) AS n
        FROM pairs p
        JOIN ad_facts f1 ON f1.ad_id = p.ad_id
        JOIN ad_facts f2 ON f2.ad_id = p.other
        WHERE f2.posted_on <= f1.posted_on AND f2.posted_on > f1.posted_on - INTERVAL {days} DAY
        GROUP BY p.ad_id, p.value
    ) GROUP BY ad_id
),
cluster_velocity AS (
    SELECT k1.ad_id, count(*) AS n
    FROM ad_clusters k1
    JOIN ad_facts f1 ON f1.ad_id = k1.ad_id
    JOIN ad_clusters k2 ON k2.cluster_id = k1.cluster_id
    JOIN ad_facts f2 ON f2.ad_id = k2.ad_id
    WHERE f2.posted_on <= f1.posted_on AND f2.posted_on > f1.posted_on - INTERVAL {days} DAY
    GROUP BY k1.ad_id
),
salaried AS (
    SELECT ad_id, category, coalesce(language, '-') AS language, ln(salary_eur_month) AS x
    FROM ad_facts WHERE salary_eur_month > 0
),
stats AS (
    SELECT ad_id, x,
           category, count(*) OVER (PARTITION BY category) AS n_c,
           avg(x) OVER (PARTITION BY category) AS m_c, stddev_samp(x) OVER (PARTITION BY category) AS s_c,
           'lang:' || language AS lang_group, count(*) OVER (PARTITION BY language) AS n_l,
           avg(x) OVER (PARTITION BY language) AS m_l, stddev_samp(x) OVER (PARTITION BY language) AS s_l,
           count(*) OVER () AS n_a, avg(x) OVER () AS m_a, stddev_samp(x) OVER () AS s_a
    FROM salaried
),
salary_z AS (
    SELECT ad_id,
           CASE WHEN n_c >= {min_group} AND s_c > 0 THEN (x - m_c) / s_c
                WHEN n_l >= {min_group} AND s_l > 0 THEN (x - m_l) / s_l
                WHEN n_a >= {min_group} AND s_a > 0 THEN (x - m_a) / s_a END AS z,
           CASE WHEN n_c >= {min_group} AND s_c > 0 THEN category
                WHEN n_l >= {min_group} AND s_l > 0 THEN lang_group
                WHEN n_a >= {min_group} AND s_a > 0 THEN 'all' END AS grp
    FROM stats
)
SELECT a.ad_id,
       coalesce(s.n_ads, 0), coalesce(s.n_sites, 0), coalesce(s.n_cities, 0),
       coalesce(k.cluster_size, 1),
       coalesce(cv.n, 0), coalesce(kv.n, 1), greatest(coalesce(cv.n, 0), coalesce(kv.n, 1)),
       round(z.z, 6), z.grp
FROM ads a
LEFT JOIN shared s USING (ad_id)
LEFT JOIN ad_clusters k USING (ad_id)
LEFT JOIN contact_velocity cv USING (ad_id)
LEFT JOIN cluster_velocity kv USING (ad_id)
LEFT JOIN salary_z z USING (ad_id)
"""


def compute_cross_ad_features(
    con: duckdb.DuckDBPyConnection,
    *,
    threshold: float = near_duplicates.DEFAULT_THRESHOLD,
    computed_at: datetime | None = None,
    pseudonymiser: Pseudonymiser | None = None,
) -> int:
    """Recompute ``ad_facts``, ``ad_clusters`` and ``ad_cross_features`` for every ad, atomically.

    Run after :func:`pipeline.feature_store.extract_pending` (ads without features get NULL facts and still
    get cluster and contact features). Returns the number of ads with a cross-feature row.

    Contacts pseudonymised by retention are linked to the same plain contacts of fresh ads when the warehouse holds
    pseudonyms and a key is available: ``pseudonymiser``, else ``LUREWATCH_PSEUDONYM_KEY`` /
    ``LUREWATCH_PSEUDONYM_KEY_FILE`` (:func:`warehouse.contact_links.contact_bridge`). Without a key, contacts are
    linked on their stored values only, as before.
    """
    at = computed_at or datetime.now()
    category = "CAST(a.category AS VARCHAR)" if _has_column(con, "ads", "category") else "CAST(NULL AS VARCHAR)"
    helpers = {
        "_cross_home": _home_table(),
        "_cross_locations": _location_table(con),
        "_cross_clusters": _clusters(con, threshold),
        "_cross_bridge": bridge_table(contact_bridge(con, LINKING_KINDS, pseudonymiser=pseudonymiser)),
    }
    for name, table in helpers.items():
        con.register(name, table)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("DELETE FROM ad_cross_features")
            con.execute("DELETE FROM ad_facts")
            con.execute("DELETE FROM ad_clusters")
            facts = _FACTS_SQL.replace("@CATEGORY@", category)
            con.execute(_FACTS_INSERT.replace("@FACTS@", facts), {"at": at})
            con.execute(
                """
                INSERT INTO ad_clusters (ad_id, cluster_id, cluster_size, method, computed_at)
                SELECT ad_id, cluster_id, cluster_size, $method, $at FROM _cross_clusters
                """,
                {"method": near_duplicates.method_name(threshold), "at": at},
            )
            cross = _CROSS_SQL.format(days=VELOCITY_DAYS, min_group=MIN_SALARY_GROUP)
            rows = con.execute(
                f"""
                INSERT INTO ad_cross_features (ad_id, shared_contact_ads, shared_contact_sites, shared_contact_cities,
                    cluster_size, contact_velocity_7d, cluster_velocity_7d, posting_velocity_7d, salary_z,
                    salary_group, computed_at)
                SELECT *, $at FROM ({cross})
                RETURNING ad_id
                """,
                {"kinds": list(LINKING_KINDS), "at": at},
            ).fetchall()
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    finally:
        for name in helpers:
            con.unregister(name)
    return len(rows)


def cross_ad_vectors(con: duckdb.DuckDBPyConnection, ad_ids: Sequence[int]) -> dict[int, dict[str, float]]:
    """Stored cross-ad features per ad, keys exactly :data:`CROSS_AD_FEATURE_NAMES` (in order).

    ``salary_z`` is 0.0 when the ad states no pay; ads never computed get :data:`CROSS_AD_DEFAULTS`.
    """
    ids = sorted({int(i) for i in ad_ids})
    out = {i: dict(CROSS_AD_DEFAULTS) for i in ids}
    if not ids:
        return out
    columns = ", ".join(CROSS_AD_FEATURE_NAMES)
    rows = con.execute(
        f"SELECT ad_id, {columns} FROM ad_cross_features WHERE ad_id IN (SELECT unnest(?))", [ids]
    ).fetchall()
    for row in rows:
        out[int(row[0])] = {
            name: float(v) if v is not None else 0.0 for name, v in zip(CROSS_AD_FEATURE_NAMES, row[1:], strict=True)
        }
    return out


def cross_ad_summary(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Counts for logs: ads, ads in a multi-ad cluster, ads sharing a contact, ads with a salary z-score."""
    row = con.execute(
        """
        SELECT count(*), count(*) FILTER (WHERE cluster_size > 1), count(*) FILTER (WHERE shared_contact_ads > 0),
               count(salary_z)
        FROM ad_cross_features
        """
    ).fetchall()[0]
    return {"ads": int(row[0]), "clustered_ads": int(row[1]), "linked_ads": int(row[2]), "salary_z": int(row[3])}
