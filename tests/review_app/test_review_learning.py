"""The "teach the model" review mode (/learn) and the administrators' model report (/admin/models), over real HTTP on
a warehouse built by the real crawl-and-score flow with a real LightGBM champion."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

import pytest
from review_support import ADMIN, ReviewEnv, prepare, query, running

from review_app.learning import Candidate, pick_diverse

ROW = re.compile(r'<tr data-ad="(\d+)" data-cluster="(\d+)" data-language="([^"]*)" data-site="([^"]*)" '
                 r'data-distance="([0-9.]+)"')


@pytest.fixture(scope="module")
def env(review_template: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReviewEnv]:
    settings = prepare(review_template, tmp_path_factory.mktemp("review-learning"))  # type: ignore[arg-type]
    with running(settings) as running_env:
        yield running_env


def _items(html: str) -> list[tuple[int, int, str, str, float]]:
    return [(int(a), int(c), lang, site, float(d)) for a, c, lang, site, d in ROW.findall(html)]


def _distance(score: float, threshold: float) -> float:
    def logit(p: float) -> float:
        p = min(max(p, 1e-9), 1 - 1e-9)
        return math.log(p / (1 - p))

    return abs(logit(score) - logit(threshold))


def test_learning_mode_asks_for_uncertain_ads_one_per_cluster_spread_over_languages(env: ReviewEnv) -> None:
    client = env.logged_in()
    page = client.get("/learn")
    assert page.status_code == 200, page.text
    assert "20 %" in page.text and "<b>10</b> of 50 ads a week" in page.text  # the stated share of the budget
    items = _items(page.text)
    assert len(items) == 10
    clusters = [c for _, c, _, _, _ in items]
    assert len(set(clusters)) == len(clusters), "one ad per near-duplicate cluster"
    assert len({lang for _, _, lang, _, _ in items}) >= 3, "the batch spreads over languages"
    # ground truth computed here: every undecided, scored ad and its distance to the threshold on the log-odds scale
    threshold = float(query(env.db, "SELECT threshold FROM models WHERE status = 'champion'")[0][0])
    rows = query(env.db, """
        SELECT a.ad_id, s.score, coalesce(c.cluster_id, a.ad_id) FROM ads a
        JOIN scores s ON s.ad_id = a.ad_id AND s.model_version = (SELECT version FROM models WHERE status='champion')
        LEFT JOIN ad_clusters c ON c.ad_id = a.ad_id
        WHERE NOT EXISTS (SELECT 1 FROM labels l WHERE l.ad_id = a.ad_id)""")
    distance = {int(ad): _distance(float(score), threshold) for ad, score, _ in rows}
    ordered = sorted(distance.values())
    for ad_id, _, _, _, shown in items:
        assert ad_id in distance, "only undecided ads"
        assert abs(distance[ad_id] - shown) < 1e-3
    # the first pick is the most uncertain ad of all; the batch is far nearer the threshold than a typical ad
    assert abs(items[0][4] - ordered[0]) < 1e-3
    median_all = ordered[len(ordered) // 2]
    assert max(d for *_, d in items) < median_all
    assert sum(d for *_, d in items) / len(items) < sum(ordered) / len(ordered)


def test_a_decided_cluster_leaves_the_learning_batch(env: ReviewEnv) -> None:
    client = env.logged_in()
    before = _items(client.get("/learn").text)
    ad_id, cluster = before[0][0], before[0][1]
    assert client.decide(ad_id, "lure").status_code == 303
    after = _items(client.get("/learn").text)
    assert cluster not in {c for _, c, _, _, _ in after}
    assert len(after) == 10
    assert "1 lure / not-lure decision this week" in client.get("/learn").text


def test_learning_share_is_a_setting(review_template: object, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("review-share")
    settings = prepare(review_template, folder, learning_share=0.1)  # type: ignore[arg-type]
    with running(settings) as other:
        page = other.logged_in().get("/learn")
    assert "<b>5</b> of 50 ads a week" in page.text
    assert len(_items(page.text)) == 5


def test_diverse_pick_prefers_another_language_over_a_slightly_nearer_ad() -> None:
    """Pure selection rule: with equal distances the pick alternates languages and sites; a much nearer ad wins."""
    pool = [Candidate(i, 0.05, 0.1 * i, f"ad {i}", "site-a", "lv", i, 1) for i in range(1, 5)]
    pool.append(Candidate(10, 0.05, 0.3, "ad 10", "site-b", "et", 10, 1))
    picked = pick_diverse(pool, 3)
    assert [c.ad_id for c in picked] == [1, 10, 2]


def test_model_report_is_for_administrators_only(env: ReviewEnv) -> None:
    analyst = env.logged_in()
    assert analyst.get("/admin/models").status_code == 403
    assert analyst.get("/admin/models/report").status_code == 403
    assert 'href="/admin/models"' not in analyst.get("/").text


def test_administrators_get_the_champion_report_and_a_chosen_versions(env: ReviewEnv) -> None:
    admin = env.logged_in(ADMIN)
    listing = admin.get("/admin/models")
    assert listing.status_code == 200
    version = str(query(env.db, "SELECT version FROM models WHERE status = 'champion'")[0][0])
    assert f"/admin/models/{version}/report" in listing.text
    assert 'href="/admin/models"' in admin.get("/").text
    page = admin.get("/admin/models/report")
    assert page.status_code == 200, page.text
    for section in ("summary", "curves", "confusion", "languages", "sites", "features", "training-data", "champion"):
        assert f'<section id="{section}">' in page.text
    assert version in page.text
    assert '<link rel="stylesheet" href="/admin/models/report.css">' in page.text and "<style>" not in page.text
    assert page.text.count('class="series"') >= 2  # PR curve and calibration curve, drawn as inline SVG
    assert admin.get("/admin/models/report.css").headers["content-type"].startswith("text/css")
    same = admin.get(f"/admin/models/{version}/report")
    assert same.status_code == 200 and version in same.text
    assert admin.get("/admin/models/m-no-such-model/report").status_code == 404
    assert admin.get("/admin/models/%3Cscript%3E/report").status_code in (400, 404)
