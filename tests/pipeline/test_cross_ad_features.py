"""Cross-ad features on a small real warehouse: shared contacts, template clusters, posting velocity, salary z."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from pipeline.cross_ad_features import (
    CROSS_AD_DEFAULTS,
    CROSS_AD_FEATURE_NAMES,
    compute_cross_ad_features,
    cross_ad_vectors,
)
from pipeline.feature_store import extract_pending
from warehouse import connect
from warehouse.ads import upsert_ads
from warehouse.pseudonymise import KEY_ENV, KEY_FILE_ENV, Pseudonymiser, is_pseudonym
from warehouse.records import AdRow
from warehouse.retention import apply_retention

DAY0 = date(2026, 11, 2)

TEMPLATE = (
    "Darbs Norvēģijā zivju pārstrādes rūpnīcā jaunām meitenēm 18-25 gadi. Pieredze nav nepieciešama, valodas "
    "zināšanas nav obligātas. Pelni līdz {pay} EUR mēnesī, bezmaksas dzīvesvieta un ceļa izdevumi tiek apmaksāti. "
    "Izbraukšana jau nākamnedēļ, vietu skaits ierobežots. Raksti tikai WhatsApp {phone}."
)
ORDINARY: list[tuple[str, str, str]] = [  # (title, body, city): six unrelated everyday ads with a salary
    (
        "Noliktavas darbinieks",
        "SIA Alfa meklē noliktavas darbinieku preču pieņemšanai un komplektēšanai. Darbs maiņās pēc grafika. "
        "Atalgojums {pay} EUR mēnesī bruto. CV: cv@alfa.lv",
        "Rīga",
    ),
    (
        "Pārdevējs-konsultants",
        "Veikalu tīkls aicina pārdevēju-konsultantu. Klientu apkalpošana, kases darbs, preču izvietošana plauktos. "
        "Alga {pay} EUR mēnesī, apmaksātas apmācības. Pieteikties: darbs@beta.lv",
        "Jelgava",
    ),
    (
        "C kategorijas šoferis",
        "Loģistikas uzņēmums meklē C kategorijas autovadītāju kravu piegādēm pa Latviju, 95. koda apliecība obligāta. "
        "Piedāvājam {pay} EUR mēnesī un dienas naudu. Tālr. 67123456",
        "Ventspils",
    ),
    (
        "Pavārs restorānā",
        "Restorāns vecpilsētā gaida pavāru ar pieredzi karstajā cehā. Ēdināšana darba laikā, draudzīgs kolektīvs. "
        "Samaksa {pay} EUR mēnesī pēc nodokļu nomaksas. Rakstiet uz info@gamma.lv",
        "Valmiera",
    ),
    (
        "Grāmatvedis",
        "Būvniecības uzņēmums pieņems darbā grāmatvedi ar augstāko izglītību ekonomikā un Horizon zināšanām. "
        "Atalgojums {pay} EUR mēnesī, veselības apdrošināšana. CV sūtīt: personals@delta.lv",
        "Ogre",
    ),
    (
        "Elektriķis",
        "Meklējam sertificētu elektriķi ēku elektroinstalāciju montāžai un apkopei. Darba apģērbs un instrumenti. "
        "Alga {pay} EUR mēnesī, virsstundas apmaksātas. Zvanīt 26000000 darba dienās.",
        "Rēzekne",
    ),
]


def _ads() -> list[AdRow]:
    lure_phone = "+371 2914 5678"
    ads = [
        # one lure template, three sites, three cities, the same number (twice as WhatsApp, once as a phone)
        AdRow(
            "site-a",
            "https://a.example/1",
            "Darbs Norvēģijā meitenēm",
            TEMPLATE.format(pay=3000, phone=lure_phone),
            location="Rīga",
            posted=DAY0,
        ),
        AdRow(
            "site-b",
            "https://b.example/7",
            "Darbs Norvēģijā meitenēm!",
            TEMPLATE.format(pay=3500, phone="29145678"),
            location="Daugavpils",
            posted=DAY0 + timedelta(days=2),
        ),
        AdRow(
            "site-c",
            "https://c.example/x",
            "Norvēģija – darbs meitenēm",
            TEMPLATE.format(pay=5000, phone=lure_phone),
            location="Liepāja",
            posted=DAY0 + timedelta(days=5),
        ),
        # another text with the same number, three weeks later: linked, but outside the 7-day window
        AdRow(
            "site-a",
            "https://a.example/2",
            "Hostese Vācijā",
            "Meklējam hostesi naktsklubā Vācijā, alga 4000 EUR mēnesī. Zvani +37129145678.",
            location="Rīga",
            posted=DAY0 + timedelta(days=20),
        ),
    ]
    for i, (title, body, city) in enumerate(ORDINARY):
        ads.append(
            AdRow(
                "site-b",
                f"https://b.example/o{i}",
                title,
                body.format(pay=1100 + 80 * i),
                location=city,
                posted=DAY0 + timedelta(days=i),
            )
        )
    return ads


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once per module; tests that write use a copy."""
    path = tmp_path_factory.mktemp("cross_ad") / "lw.duckdb"
    con = connect(path)
    try:
        upsert_ads(con, _ads(), run_id=None, seen_at=datetime(2026, 11, 24, 12, 0))
        assert extract_pending(con) == 10
        assert compute_cross_ad_features(con) == 10
    finally:
        con.close()
    return path


def _ids(con) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {url: ad_id for ad_id, url in con.execute("SELECT ad_id, url FROM ads").fetchall()}


def test_template_cluster_written_to_ad_clusters(warehouse: Path) -> None:
    con = connect(warehouse)
    try:
        ids = _ids(con)
        rows = con.execute("SELECT ad_id, cluster_id, cluster_size, method FROM ad_clusters ORDER BY ad_id").fetchall()
        clusters = {ad_id: (cluster, size) for ad_id, cluster, size, _ in rows}
        template = [ids["https://a.example/1"], ids["https://b.example/7"], ids["https://c.example/x"]]
        assert {clusters[i] for i in template} == {(min(template), 3)}
        assert all(size == 1 for ad_id, (_, size) in clusters.items() if ad_id not in template)
        assert len(rows) == 10 and rows[0][3].startswith("minhash-lsh:")
    finally:
        con.close()


def test_shared_contacts_sites_and_cities(warehouse: Path) -> None:
    con = connect(warehouse)
    try:
        ids = _ids(con)
        vec = cross_ad_vectors(con, list(ids.values()))
        first = vec[ids["https://a.example/1"]]
        # the other 3 ads with +37129145678 (as WhatsApp, phone, or both), on 3 sites, in 3 cities
        assert (first["shared_contact_ads"], first["shared_contact_sites"], first["shared_contact_cities"]) == (3, 3, 3)
        ordinary = vec[ids["https://b.example/o0"]]
        assert (ordinary["shared_contact_ads"], ordinary["shared_contact_sites"]) == (0, 1)
        assert ordinary["cluster_size"] == 1
    finally:
        con.close()


def test_posting_velocity_counts_the_last_seven_days(warehouse: Path) -> None:
    con = connect(warehouse)
    try:
        ids = _ids(con)
        vec = cross_ad_vectors(con, list(ids.values()))
        assert vec[ids["https://a.example/1"]]["contact_velocity_7d"] == 1  # the first of the burst
        assert vec[ids["https://b.example/7"]]["contact_velocity_7d"] == 2
        third = vec[ids["https://c.example/x"]]
        assert (third["contact_velocity_7d"], third["cluster_velocity_7d"], third["posting_velocity_7d"]) == (3, 3, 3)
        assert vec[ids["https://a.example/2"]]["contact_velocity_7d"] == 1  # 20 days later: alone in its window
    finally:
        con.close()


def test_salary_z_against_peer_group(warehouse: Path) -> None:
    """The lure pays far above ordinary Latvian ads; peers are language + destination (lv:NO falls back to lv)."""
    con = connect(warehouse)
    try:
        ids = _ids(con)
        facts = dict(con.execute("SELECT ad_id, category FROM ad_facts").fetchall())
        assert facts[ids["https://a.example/1"]] == "lv:NO"
        assert facts[ids["https://b.example/o0"]] == "lv:LV"
        groups = dict(con.execute("SELECT ad_id, salary_group FROM ad_cross_features").fetchall())
        assert groups[ids["https://b.example/o0"]] == "lv:LV"  # 6 salaried peers
        assert groups[ids["https://c.example/x"]] == "lang:lv"  # lv:NO has only 3: language fallback
        vec = cross_ad_vectors(con, list(ids.values()))
        assert vec[ids["https://c.example/x"]]["salary_z"] > 1.0
        assert abs(vec[ids["https://b.example/o2"]]["salary_z"]) < 1.0
        stored = con.execute(
            "SELECT salary_eur_month, min_age, max_age, destinations, destination, city FROM ad_facts WHERE ad_id = ?",
            [ids["https://c.example/x"]],
        ).fetchall()
        assert stored == [(5000.0, 18, 25, ["NO"], "NO", "Liepaja")]
    finally:
        con.close()


def test_rerun_is_idempotent_and_picks_up_new_ads(warehouse: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(warehouse, copy)
    con = connect(copy)
    try:
        snapshot = "SELECT * EXCLUDE (computed_at) FROM {} ORDER BY ad_id"
        before = {
            t: con.execute(snapshot.format(t)).fetchall() for t in ("ad_facts", "ad_clusters", "ad_cross_features")
        }
        assert compute_cross_ad_features(con) == 10
        after = {t: con.execute(snapshot.format(t)).fetchall() for t in before}
        assert after == before
        row = AdRow(
            "site-d",
            "https://d.example/9",
            "Darbs Norvēģijā meitenēm",
            TEMPLATE.format(pay=2800, phone="+371 2914 5678"),
            location="Rīga",
            posted=DAY0 + timedelta(days=6),
        )
        upsert_ads(con, [row], run_id=None)
        assert extract_pending(con) == 1
        assert compute_cross_ad_features(con) == 11
        ids = _ids(con)
        vec = cross_ad_vectors(con, [ids["https://d.example/9"], ids["https://a.example/1"]])
        assert vec[ids["https://d.example/9"]]["cluster_size"] == 4
        assert vec[ids["https://a.example/1"]]["shared_contact_ads"] == 4
        assert vec[ids["https://a.example/1"]]["shared_contact_sites"] == 4
    finally:
        con.close()


def test_vectors_have_fixed_keys_and_defaults(warehouse: Path) -> None:
    con = connect(warehouse)
    try:
        some = next(iter(_ids(con).values()))
        vec = cross_ad_vectors(con, [some, 10_000_000])
        assert all(tuple(v) == CROSS_AD_FEATURE_NAMES for v in vec.values())
        assert vec[10_000_000] == CROSS_AD_DEFAULTS
        assert all(isinstance(x, float) for x in vec[some].values())
        assert cross_ad_vectors(con, []) == {}
    finally:
        con.close()


def test_empty_warehouse(tmp_path: Path) -> None:
    con = connect(tmp_path / "empty.duckdb")
    try:
        assert compute_cross_ad_features(con) == 0
        assert con.execute("SELECT count(*) FROM ad_clusters").fetchall() == [(0,)]
    finally:
        con.close()


CROSS_COLUMNS = "ad_id, shared_contact_ads, shared_contact_sites, shared_contact_cities, contact_velocity_7d"
OLD_URLS = ("https://a.example/1", "https://b.example/7")


def _pseudonymise_two_lures(path: Path, key: Pseudonymiser) -> duckdb.DuckDBPyConnection:
    """The first two ads of the lure burst last seen in June, then a real retention run (30 days) with ``key``."""
    con = connect(path)
    con.execute("UPDATE ads SET last_seen = TIMESTAMP '2026-06-01 08:00' WHERE url IN (SELECT unnest(?))",
                [list(OLD_URLS)])
    apply_retention(con, 30, pseudonymiser=key, now=datetime(2026, 11, 24, 13, 0))
    old = con.execute("SELECT e.value FROM entities e JOIN ads a USING (ad_id) WHERE a.url IN (SELECT unnest(?))",
                      [list(OLD_URLS)]).fetchall()
    assert old and all(is_pseudonym(v) for (v,) in old)
    return con


def test_shared_contacts_link_fresh_ads_with_pseudonymised_ones(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After retention pseudonymised two of the four ads with +37129145678, the contact features (ads, sites and
    cities sharing a contact, contact velocity) are exactly what they were with every number in clear: the fresh
    ads' number is bridged to the old ads' pseudonym, with the key from the caller or from the environment."""
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(warehouse, copy)
    key = Pseudonymiser(b"cross-ad-test-key-" + b"7" * 20)
    query = f"SELECT {CROSS_COLUMNS} FROM ad_cross_features ORDER BY ad_id"
    con = connect(copy)
    try:
        before = con.execute(query).fetchall()
    finally:
        con.close()
    con = _pseudonymise_two_lures(copy, key)
    try:
        ids = _ids(con)
        assert compute_cross_ad_features(con, pseudonymiser=key) == 10
        assert con.execute(query).fetchall() == before
        fresh = cross_ad_vectors(con, [ids["https://c.example/x"]])[ids["https://c.example/x"]]
        assert (fresh["shared_contact_ads"], fresh["shared_contact_sites"], fresh["contact_velocity_7d"]) == (3, 3, 3)
        monkeypatch.setenv(KEY_ENV, key.key.decode())
        monkeypatch.delenv(KEY_FILE_ENV, raising=False)
        assert compute_cross_ad_features(con) == 10
        assert con.execute(query).fetchall() == before
    finally:
        con.close()


def test_without_a_key_pseudonymised_ads_link_only_among_themselves(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No key configured: nothing fails, links are made on stored values as before (old ads with old ads through
    equal pseudonyms, fresh ads with fresh ads through equal numbers, no old-fresh pairs)."""
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(warehouse, copy)
    con = _pseudonymise_two_lures(copy, Pseudonymiser(b"cross-ad-test-key-" + b"7" * 20))
    try:
        ids = _ids(con)
        assert compute_cross_ad_features(con) == 10
        vec = cross_ad_vectors(con, list(ids.values()))
        for url, other in (*zip(OLD_URLS, reversed(OLD_URLS), strict=True),
                           ("https://c.example/x", "https://a.example/2"), ("https://a.example/2", "https://c.example/x")):
            assert vec[ids[url]]["shared_contact_ads"] == 1, (url, other)
        assert vec[ids["https://b.example/o0"]]["shared_contact_ads"] == 0
    finally:
        con.close()
