"""End to end: the crawl_and_score Prefect flow over the fixture sites on 127.0.0.1 into a real DuckDB file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from fixture_sites import load_ads
from flows.crawl_and_score import crawl_and_score
from pipeline.metrics import precision_at_k
from warehouse import connect


@pytest.fixture(scope="module")
def flow_run(fixture_servers: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """One real run of the flow, trained on the fixture 'train' split plus EMSCAD."""
    db = tmp_path_factory.mktemp("flow") / "lurewatch.duckdb"
    seed = [(ad["site"], ad["ref"], bool(ad["label"])) for ad in load_ads() if ad["split"] == "train"]
    result = crawl_and_score(
        sites=sorted(fixture_servers.base_urls),
        base_urls=fixture_servers.base_urls,
        db_path=str(db),
        seed_labels=seed,
        seed_label_source="fixture",
    )
    return result, db


def _scored(db: Path) -> list[tuple[str, str, float]]:
    con = connect(db)
    try:
        return con.execute("SELECT a.site_id, a.external_id, s.score FROM scores s JOIN ads a USING (ad_id)").fetchall()
    finally:
        con.close()


def test_every_fixture_ad_is_crawled_extracted_and_scored_once(flow_run: tuple[dict[str, Any], Path]) -> None:
    """All bundled ads reach the warehouse exactly once, each with features, entities and one score."""
    result, db = flow_run
    expected = {(ad["site"], ad["ref"]) for ad in load_ads()}
    scored = _scored(db)
    assert {(site, ref) for site, ref, _ in scored} == expected
    assert len(scored) == len(expected)
    assert all(crawl["status"] == "finished" for crawl in result["crawls"])
    con = connect(db)
    try:
        assert con.execute("SELECT count(*) FROM features").fetchall()[0][0] == len(expected)
        assert con.execute("SELECT count(*) FROM entities WHERE kind = 'phone'").fetchall()[0][0] > 50
        assert con.execute("SELECT count(*) FROM models WHERE status = 'champion'").fetchall()[0][0] == 1
    finally:
        con.close()


def test_lures_rank_above_ordinary_ads_on_held_out_templates(flow_run: tuple[dict[str, Any], Path]) -> None:
    """On ads whose templates the model never trained on, lures come first (precision@k, average precision)."""
    _, db = flow_run
    truth = {(ad["site"], ad["ref"]): ad for ad in load_ads()}
    held_out = [
        (truth[(site, ref)]["label"], score)
        for site, ref, score in _scored(db)
        if truth[(site, ref)]["split"] == "eval"
    ]
    labels = np.array([label for label, _ in held_out])
    scores = np.array([score for _, score in held_out])
    lures = int(labels.sum())
    assert lures >= 8
    assert precision_at_k(labels, scores, lures) >= 0.7
    assert average_precision_score(labels, scores) >= 0.8


def test_top_20_of_the_whole_crawl_are_mostly_lures(flow_run: tuple[dict[str, Any], Path]) -> None:
    """What the analyst sees first: precision@20 over every crawled ad."""
    _, db = flow_run
    truth = {(ad["site"], ad["ref"]): ad["label"] for ad in load_ads()}
    scored = _scored(db)
    assert precision_at_k([truth[(s, r)] for s, r, _ in scored], [score for *_, score in scored], 20) >= 0.9


def test_rerun_adds_nothing_and_keeps_the_champion(flow_run: tuple[dict[str, Any], Path], fixture_servers: Any) -> None:
    """Running the flow again on unchanged sites re-uses the model and duplicates no ad, feature or score."""
    first, db = flow_run
    second = crawl_and_score(
        sites=sorted(fixture_servers.base_urls), base_urls=fixture_servers.base_urls, db_path=str(db)
    )
    assert second["model_version"] == first["model_version"]
    assert second["extracted"] == 0 and second["scored"] == 0
    assert all(crawl["inserted"] == 0 for crawl in second["crawls"])
