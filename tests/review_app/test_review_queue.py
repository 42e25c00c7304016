"""The review queue: champion-score order, one ad per near-duplicate cluster, filters, search, pagination."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from review_support import Client, ReviewEnv, query

CHAMPION = "(SELECT version FROM models WHERE status = 'champion')"
UNDECIDED = (
    "NOT EXISTS (SELECT 1 FROM labels l WHERE l.ad_id = a.ad_id AND l.label <> 'none' AND l.label_id = "
    "(SELECT max(label_id) FROM labels m WHERE m.ad_id = a.ad_id))"
)


def _all_pages(client: Client, params: dict[str, str]) -> list[int]:
    seen: list[int] = []
    page = 1
    while True:
        response = client.get("/", params={**params, "page": str(page)})
        seen += [int(x) for x in re.findall(r'data-href="/ads/(\d+)', response.text)]
        if 'rel="next"' not in response.text:
            return seen
        page += 1


def _expected(
    db: Path, where: str = "TRUE", params: tuple[object, ...] = (), status: str = UNDECIDED
) -> list[int]:
    """Ground truth computed independently: matching ads by score, the first of each cluster kept."""
    rows = query(
        db,
        f"""
        SELECT a.ad_id, c.cluster_id FROM ads a
        JOIN scores s ON s.ad_id = a.ad_id AND s.model_version = {CHAMPION}
        JOIN features f ON f.ad_id = a.ad_id
        LEFT JOIN ad_clusters c ON c.ad_id = a.ad_id
        WHERE {status} AND {where} ORDER BY s.score DESC, a.ad_id
        """,
        params,
    )
    kept: list[int] = []
    clusters: set[int] = set()
    for ad_id, cluster_id in rows:
        key = int(cluster_id) if cluster_id is not None else int(ad_id)
        if key not in clusters:
            clusters.add(key)
            kept.append(int(ad_id))
    return kept


def test_queue_lists_undecided_ads_by_champion_score_across_pages(shared_env: ReviewEnv) -> None:
    """Every undecided, scored template cluster appears exactly once (by its best ad), highest champion score
    first, spread over pages of the configured size."""
    client = shared_env.logged_in()
    shown = _all_pages(client, {})
    assert shown == _expected(shared_env.db)
    first_page = client.queue_ids()
    assert len(first_page) == shared_env.settings.page_size
    assert f"{len(shown)} clusters" in client.get("/").text


@pytest.mark.parametrize(
    ("params", "where", "args"),
    [
        ({"site": "skelbimai"}, "a.site_id = ?", ("skelbimai",)),
        ({"language": "lv"}, "f.language = ?", ("lv",)),
        (
            {"indicator": "upfront_fee"},
            "list_contains(json_extract_string(f.evidence, '$[*].indicator'), ?)",
            ("upfront_fee",),
        ),
        ({"score_min": "0.5"}, "s.score >= ?", (0.5,)),
        ({"score_max": "0.05"}, "s.score <= ?", (0.05,)),
        (
            {"q": "TELEGRAM"},
            "(a.title ILIKE ? OR a.body ILIKE ? OR coalesce(a.company, '') ILIKE ?)",
            ("%telegram%",) * 3,
        ),
        (
            {"site": "balticjobs", "language": "ru", "score_max": "0.5"},
            "a.site_id = ? AND f.language = ? AND s.score <= ?",
            ("balticjobs", "ru", 0.5),
        ),
    ],
)
def test_filters_select_exactly_the_matching_ads(
    shared_env: ReviewEnv, params: dict[str, str], where: str, args: tuple[object, ...]
) -> None:
    """Site, language, indicator, score range and text search (case-insensitive, also in the body) each keep
    exactly the ads an independent SQL query finds, in score order."""
    expected = _expected(shared_env.db, where, args)
    assert expected, f"fixture data has no ads for {params}"
    assert _all_pages(shared_env.logged_in(), params) == expected


def test_score_range_keeps_ads_between_both_bounds(shared_env: ReviewEnv) -> None:
    """A score range taken from the data (inner half of the undecided ads) keeps exactly the ads inside it."""
    scores = sorted(
        float(r[0])
        for r in query(shared_env.db, f"SELECT s.score FROM scores s JOIN ads a USING (ad_id) WHERE {UNDECIDED}")
    )
    low, high = scores[len(scores) // 4], scores[3 * len(scores) // 4]
    expected = _expected(shared_env.db, "s.score BETWEEN ? AND ?", (low, high))
    assert 2 < len(expected) < len(scores)
    assert _all_pages(shared_env.logged_in(), {"score_min": repr(low), "score_max": repr(high)}) == expected


def test_date_range_and_search_wildcards(shared_env: ReviewEnv) -> None:
    """First-seen date bounds include their day and exclude the others; '%' and '_' in a search are literal."""
    client = shared_env.logged_in()
    seen_day = query(shared_env.db, "SELECT CAST(min(first_seen) AS DATE) FROM ads")[0][0]
    everything = _expected(shared_env.db)
    assert _all_pages(client, {"seen_from": seen_day.isoformat(), "seen_to": seen_day.isoformat()}) == everything
    assert _all_pages(client, {"seen_from": (seen_day + timedelta(days=1)).isoformat()}) == []
    assert _all_pages(client, {"seen_to": (seen_day - timedelta(days=1)).isoformat()}) == []
    for literal in ("%", "_", "\\"):  # LIKE wildcards and the escape character match only themselves
        assert _all_pages(client, {"q": literal}) == _expected(
            shared_env.db, "contains(a.title || a.body || coalesce(a.company, ''), ?)", (literal,)
        )
    junk = client.get("/", params={"seen_from": "not-a-date", "score_min": "7", "page": "x"})
    assert junk.status_code == 200  # junk values are ignored, not an error page: the plain first page
    first_page = [int(x) for x in re.findall(r'data-href="/ads/(\d+)', client.get("/").text)]
    assert first_page and [int(x) for x in re.findall(r'data-href="/ads/(\d+)', junk.text)] == first_page


def test_status_filter_shows_decided_ads(shared_env: ReviewEnv) -> None:
    """Decided ads leave the default queue; the status filter shows them by their latest label."""
    client = shared_env.logged_in()
    lures = _all_pages(client, {"status": "lure"})
    latest_is_lure = (
        "(SELECT label FROM labels l WHERE l.ad_id = a.ad_id ORDER BY decided_at DESC, label_id DESC LIMIT 1) = 'lure'"
    )
    assert lures == _expected(shared_env.db, status=latest_is_lure) and lures
    assert not set(lures) & set(_all_pages(client, {}))


def test_one_ad_per_template_cluster_until_all_are_decided(fresh_env: ReviewEnv) -> None:
    """A near-duplicate cluster shows only its highest-scoring undecided ad, with "+N similar"; deciding it makes
    the next one represent the cluster, and the cluster leaves the queue when every ad in it is decided."""
    alone = "SELECT a.ad_id FROM ads a LEFT JOIN ad_clusters c USING (ad_id) WHERE coalesce(c.cluster_size, 1) = 1"
    singles = {int(r[0]) for r in query(fresh_env.db, alone)}
    members = [ad_id for ad_id in _expected(fresh_env.db) if ad_id in singles][3:6]  # undecided, in score order
    assert len(members) == 3
    cluster_id = min(members)
    with_clusters = (
        "INSERT OR REPLACE INTO ad_clusters (ad_id, cluster_id, cluster_size, method) VALUES (?, ?, 3, 'test')"
    )
    from warehouse import session

    with session(fresh_env.db) as con:
        for ad_id in members:
            con.execute(with_clusters, [ad_id, cluster_id]).fetchall()
    client = fresh_env.logged_in()
    everything = _all_pages(client, {})
    assert members[0] in everything and members[1] not in everything and members[2] not in everything
    assert everything == _expected(fresh_env.db)
    page = client.get("/").text
    assert "+2 similar" in page
    client.decide(members[0], "lure")
    after_one = _all_pages(client, {})
    assert members[1] in after_one and members[0] not in after_one and members[2] not in after_one
    client.decide(members[1], "not_lure")
    client.decide(members[2], "skip")
    assert not set(members) & set(_all_pages(client, {}))
    linked = client.get(f"/ads/{members[0]}").text
    assert linked.count("same template") == 2
