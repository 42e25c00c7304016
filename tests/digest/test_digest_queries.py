"""The digest's numbers on a small hand-made warehouse where every expected count is known."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from digest.config import Emerging, Filters, HighRisk, Thresholds
from digest.queries import DigestError, DigestQuery, last_complete_week, load_digest_data, week_of
from warehouse import session

W = date(2026, 11, 9)  # the digest week (a Monday)
P = W - timedelta(days=7)  # the week before
BASELINE = [W - timedelta(days=7 * n) for n in range(1, 5)]


class Builder:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.next_id = 1
        con.execute(
            "INSERT INTO models (version, created_by, path, status, training_fingerprint, feature_names, metrics, "
            "params) VALUES ('m1', 't', '/x', 'champion', 'f', '[]', '{}', ?)",
            [json.dumps({"threshold": 0.5})],
        )

    def ad(
        self,
        *,
        week: date,
        score: float,
        site: str = "site-a",
        lang: str = "lv",
        country: str | None = "DE",
        indicators: Sequence[str] = (),
        phrases: Sequence[tuple[str, str]] = (),
        contacts: Sequence[tuple[str, str]] = (),
        cluster: int | None = None,
        posted: bool = True,
    ) -> int:
        ad_id = self.next_id
        self.next_id += 1
        day = week + timedelta(days=ad_id % 7)
        self.con.execute(
            "INSERT INTO ads (ad_id, site_id, url, title, body, country, page_language, posted, first_seen, last_seen, "
            "content_hash) VALUES (?, ?, ?, 't', 'b', ?, ?, ?, ?, ?, 'h')",
            [ad_id, site, f"https://{site}.example/{ad_id}", country, lang, day if posted else None,
             datetime.combine(day, datetime.min.time()), datetime.combine(day, datetime.min.time())],
        )
        vector = {f"ind_{i}": (1.0 if i in indicators else 0.0) for i in ("upfront_fee", "vague_abroad")}
        evidence = [{"indicator": ind, "start": 0, "end": 1, "text": text, "pattern": "x"} for ind, text in phrases]
        self.con.execute(
            "INSERT INTO features (ad_id, content_hash, extractor_version, language, vector, evidence) "
            "VALUES (?, 'h', 'v', ?, ?, ?)",
            [ad_id, lang, json.dumps(vector), json.dumps(evidence)],
        )
        self.con.execute("INSERT INTO scores (ad_id, model_version, score, content_hash) VALUES (?, 'm1', ?, 'h')",
                         [ad_id, score])
        for kind, value in contacts:
            self.con.execute(
                "INSERT INTO entities (ad_id, kind, value, raw, start_pos, end_pos) VALUES (?, ?, ?, ?, 0, 1)",
                [ad_id, kind, value, value],
            )
        if cluster is not None:
            self.con.execute("INSERT INTO ad_clusters (ad_id, cluster_id, cluster_size, method) VALUES (?, ?, 0, 't')",
                             [ad_id, cluster])
        return ad_id


@pytest.fixture(scope="module")
def hand_made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("handmade") / "wh.duckdb"
    with session(path) as con:
        b = Builder(con)
        # site-a (lv, DE): 6 high-risk ads this week (4 with upfront_fee), 2 low; 3 high-risk last week
        for n in range(6):
            b.ad(week=W, score=0.9 - n / 100, indicators=["upfront_fee"] if n < 4 else [],
                 phrases=[("travel_housing_paid", "Free  Flat")] if n < 5 else [("travel_housing_paid", "free flat")])
        for _ in range(2):
            b.ad(week=W, score=0.2, indicators=["upfront_fee", "vague_abroad"])
        for _ in range(3):
            b.ad(week=P, score=0.8)
        # site-b (ru, no country): 2 high-risk this week (one without a posted date), 4 last week
        b.ad(week=W, score=0.7, site="site-b", lang="ru", country=None, indicators=["vague_abroad"])
        b.ad(week=W, score=0.6, site="site-b", lang="ru", country=None, posted=False)
        for _ in range(4):
            b.ad(week=P, score=0.75, site="site-b", lang="ru", country=None)
        # phrases: "no experience" grows too little; a contact-bearing phrase grows a lot (must come out scrubbed)
        for week in BASELINE:
            b.ad(week=week, score=0.1, phrases=[("no_requirements", "no experience")])
        for _ in range(2):
            b.ad(week=W, score=0.1, phrases=[("no_requirements", "no experience")])
        for _ in range(5):
            b.ad(week=W, score=0.1, phrases=[("messenger_contact", "call +371 2000 1234 now")])
        # clusters: 100 grows (1 ad last week, 2 this week); 200 is new; 300 is new but has no high-risk ad
        b.ad(week=P, score=0.9, site="site-c", cluster=100)
        b.ad(week=W, score=0.1, site="site-c", cluster=100)
        b.ad(week=W, score=0.95, site="site-c", cluster=100)
        b.ad(week=W, score=0.97, site="site-c", cluster=200)
        b.ad(week=W, score=0.1, site="site-c", cluster=200)
        b.ad(week=W, score=0.1, site="site-c", cluster=300)
        b.ad(week=W, score=0.1, site="site-c", cluster=300)
        # contacts: a phone shared by two ads this week (one high-risk): new; an e-mail seen last week: growing
        b.ad(week=W, score=0.1, site="site-d", contacts=[("phone", "+37120001234")])
        b.ad(week=W, score=0.99, site="site-d", contacts=[("phone", "+37120001234"), ("email", "x@y.example")])
        b.ad(week=P, score=0.1, site="site-d", contacts=[("email", "x@y.example")])
    return path


@pytest.fixture
def con(hand_made: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with session(hand_made) as connection:
        yield connection


def _counts(data: object, dimension: str) -> dict[str, tuple[int, int]]:
    return {c.key: (c.current, c.previous) for c in data.breakdowns[dimension]}  # type: ignore[attr-defined]


def test_high_risk_by_champion_threshold_with_week_over_week(con: duckdb.DuckDBPyConnection) -> None:
    data = load_digest_data(con, DigestQuery(W))
    assert data.model_version == "m1" and data.threshold == 0.5 and data.mode == "threshold"
    # this week: 6 (a) + 2 (b) + 1 (c, 0.95) + 1 (c, 0.97) + 1 (d, 0.99); last week: 3 (a) + 4 (b) + 1 (c)
    assert (data.high_risk_current, data.high_risk_previous) == (11, 8)
    assert _counts(data, "site") == {"site-a": (6, 3), "site-b": (2, 4), "site-c": (2, 1), "site-d": (1, 0)}
    assert _counts(data, "language")["ru"] == (2, 4)
    assert _counts(data, "country")["??"] == (2, 4)  # no country stated
    indicators = _counts(data, "indicator")
    assert indicators["upfront_fee"] == (4, 0)  # the two low-scored ads with the indicator do not count
    assert indicators["vague_abroad"] == (1, 0)
    trend = {p.week: p for p in data.trend}
    assert len(data.trend) == 8 and trend[W].high_risk == 11 and trend[P].high_risk == 8
    assert trend[W].ads == data.ads_current == 25 and trend[W].scored == 25


def test_top_n_mode_and_explicit_cut_off(con: duckdb.DuckDBPyConnection) -> None:
    top = load_digest_data(con, DigestQuery(W, Thresholds(high_risk=HighRisk(mode="top_n", top_n=5))))
    assert (top.high_risk_current, top.high_risk_previous) == (5, 5)
    assert top.threshold == 0.5 and top.top_n == 5  # top_n's floor: the champion's alert threshold
    assert _counts(top, "site")["site-a"][0] == 2  # 0.99, 0.97, 0.95 (c, d) then 0.90, 0.89 (a)
    strict = load_digest_data(con, DigestQuery(W, Thresholds(high_risk=HighRisk(min_score=0.855))))
    assert strict.threshold == 0.855 and strict.high_risk_current == 5 + 3  # a: 0.90..0.86; c: 0.95, 0.97; d
    on_the_cut = load_digest_data(con, DigestQuery(W, Thresholds(high_risk=HighRisk(min_score=0.7))))
    assert on_the_cut.high_risk_current == 6 + 1 + 2 + 1  # site-b's 0.7 sits exactly on the cut and counts (>=)


def test_top_n_flags_only_ads_that_reach_the_threshold_not_every_ad_of_the_recipient(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Issue 14: `high_risk: mode: top_n` with a recipient whose weeks hold fewer than N ads flagged every one of
    them (the chart equalled all the recipient's ads). In a week where only some ads score above the alert
    threshold, only those count, however large N is."""
    query = DigestQuery(W, Thresholds(high_risk=HighRisk(mode="top_n", top_n=100)), Filters(languages=("lv",)))
    top = load_digest_data(con, query)
    assert top.ads_current == 23  # every lv ad of the week (site-b's two are ru)
    # above 0.5: site-a's six, site-c's 0.95 and 0.97, site-d's 0.99; not the 14 ads scored 0.1-0.2
    assert top.high_risk_current == 9 and top.high_risk_previous == 3 + 1
    trend = {p.week: p for p in top.trend}
    assert all(p.high_risk < p.ads for p in trend.values() if p.ads)  # never "every ad", in any week
    capped = load_digest_data(con, DigestQuery(W, Thresholds(high_risk=HighRisk(mode="top_n", top_n=3, min_score=0.1))))
    assert capped.high_risk_current == 3 and capped.threshold == 0.1  # N still caps a busy week


def test_filters_restrict_every_number(con: duckdb.DuckDBPyConnection) -> None:
    data = load_digest_data(con, DigestQuery(W, filters=Filters(languages=("ru",))))
    assert (data.high_risk_current, data.high_risk_previous) == (2, 4)
    assert set(_counts(data, "site")) == {"site-b"}
    assert data.filters["languages"] == ["ru"]
    germany = load_digest_data(con, DigestQuery(W, filters=Filters(countries=("de",))))
    assert germany.high_risk_current == 6 + 3  # site-a, and site-c/d (also DE)


def test_new_and_growing_clusters_count_only_clusters_with_high_risk_ads(con: duckdb.DuckDBPyConnection) -> None:
    data = load_digest_data(con, DigestQuery(W))
    clusters = {c.kind: c for c in data.clusters}
    assert (clusters["template"].new_current, clusters["template"].growing_current) == (1, 1)  # 200 new, 100 grows
    assert clusters["template"].ads_added_current == 4 and clusters["template"].high_risk_added_current == 2
    assert (clusters["phone"].new_current, clusters["phone"].growing_current) == (1, 0)
    assert (clusters["email"].new_current, clusters["email"].growing_current) == (0, 1)
    assert clusters["template"].new_previous == 0 and clusters["messenger"].new_current == 0
    assert [(t.kind, t.size, t.added) for t in data.top_clusters][:2] == [("template", 3, 2), ("phone", 2, 2)]


def test_emerging_phrases_grow_against_the_baseline_and_are_scrubbed(con: duckdb.DuckDBPyConnection) -> None:
    data = load_digest_data(con, DigestQuery(W, Thresholds(emerging=Emerging(min_growth=2.0))))
    phrases = {p.phrase: p for p in data.phrases}
    assert set(phrases) == {"free flat", "call [removed] now"}  # "no experience": 3 / (1 + 1) < 2
    assert phrases["free flat"].current == 6 and phrases["free flat"].baseline_total == 0  # whitespace and case folded
    assert phrases["free flat"].languages == ("lv",)
    relaxed = load_digest_data(con, DigestQuery(W, Thresholds(suppress_below=2, emerging=Emerging(min_growth=1.5))))
    assert "no experience" in {p.phrase for p in relaxed.phrases}


def test_weeks_and_errors(con: duckdb.DuckDBPyConnection) -> None:
    assert week_of(date(2026, 11, 15)) == W and last_complete_week(date(2026, 11, 16)) == W
    assert last_complete_week(date(2026, 11, 22)) == W
    with pytest.raises(DigestError, match="Monday"):
        DigestQuery(date(2026, 11, 10))
    with pytest.raises(DigestError, match="no model"):
        load_digest_data(con, DigestQuery(W, model_version="nope"))
    con.execute("UPDATE models SET status = 'retired'")
    try:
        with pytest.raises(DigestError, match="no champion"):
            load_digest_data(con, DigestQuery(W))
    finally:
        con.execute("UPDATE models SET status = 'champion'")


def test_same_results_give_the_same_data_hash(con: duckdb.DuckDBPyConnection) -> None:
    first = load_digest_data(con, DigestQuery(W))
    assert load_digest_data(con, DigestQuery(W)).data_hash() == first.data_hash()
    assert load_digest_data(con, DigestQuery(P)).data_hash() != first.data_hash()


def test_a_contact_cluster_keeps_growing_across_the_retention_boundary(
    hand_made: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Retention pseudonymised last week's e-mail; this week's ad still has it in clear. With the key configured
    the e-mail cluster still counts as growing (not as a new cluster), exactly as before retention; without a key
    the two halves cannot be matched: this week's half is a one-ad cluster, below the minimum size, so the growing
    cluster drops out of the digest (which still builds)."""
    from warehouse.pseudonymise import KEY_ENV, KEY_FILE_ENV, Pseudonymiser

    db = tmp_path / "retained.duckdb"
    db.write_bytes(hand_made.read_bytes())
    key = "digest-bridge-test-key-" + "0123456789abcdef" * 2
    alias = Pseudonymiser(key.encode()).pseudonym("x@y.example")
    with session(db) as con:
        con.execute("UPDATE entities SET value = ?, raw = ? WHERE value = 'x@y.example' AND ad_id IN "
                    "(SELECT ad_id FROM ads WHERE posted < ?)", [alias, alias, W]).fetchall()
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    monkeypatch.setenv(KEY_ENV, key)
    with session(db) as con:
        bridged = {c.kind: c for c in load_digest_data(con, DigestQuery(W)).clusters}
    monkeypatch.delenv(KEY_ENV)
    with session(db) as con:
        unbridged = {c.kind: c for c in load_digest_data(con, DigestQuery(W)).clusters}
    assert (bridged["email"].new_current, bridged["email"].growing_current) == (0, 1)
    assert (unbridged["email"].new_current, unbridged["email"].growing_current) == (0, 0)
    assert (bridged["phone"].new_current, bridged["phone"].growing_current) == (1, 0)
