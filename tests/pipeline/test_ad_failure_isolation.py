"""Issue 12, item 3: one ad whose extraction (or scoring) raises must not stop the pipeline.

The failing ads are planted through the documented fault points (``LUREWATCH_FAULT_EXTRACT_MARKER`` /
``LUREWATCH_FAULT_SCORE_MARKER``, :mod:`pipeline.faults`): the real ``lurewatch`` command runs in its own process
with the setting in its environment; nothing is monkeypatched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from features import FeatureExtractor
from fixture_sites import load_ads
from lurewatch.settings import PROJECT_ROOT
from pipeline.feature_store import extract_pending
from pipeline.model_registry import register
from pipeline.scoring_model import ScoringModel
from warehouse import session
from warehouse.ads import upsert_ads
from warehouse.records import AdRow

EXTRACT_POISON = "zz-extract-poison-zz"
SCORE_POISON = "zz-score-poison-zz"


def _ads(poison: dict[int, str], count: int | None = None) -> list[AdRow]:
    ads = load_ads()[:count] if count else load_ads()
    return [
        AdRow(a["site"], f"http://127.0.0.1/{a['site']}/{a['ref']}", a["title"],
              a["body"] + (f" {poison[i]}" if i in poison else ""), external_id=a["ref"])
        for i, a in enumerate(ads)
    ]


def _ad_ids(db: Path, marker: str) -> list[int]:
    with session(db) as con:
        return [int(r[0]) for r in con.execute(
            "SELECT ad_id FROM ads WHERE contains(body, ?) ORDER BY ad_id", [marker]).fetchall()]


def lurewatch(args: list[str], data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The real command in its own process, settings through the environment."""
    child = {k: v for k, v in os.environ.items() if not k.startswith("LUREWATCH_")}
    child.update({"LUREWATCH_DATA_DIR": str(data_dir), "LUREWATCH_MODELS_DIR": str(data_dir / "models"), **env})
    return subprocess.run(
        [sys.executable, "-m", "lurewatch.cli", *args], capture_output=True, text=True, env=child, cwd=PROJECT_ROOT,
        timeout=600, check=False,
    )


def test_poison_ads_are_recorded_and_every_other_ad_is_extracted_and_scored(
    tmp_path: Path, small_model: ScoringModel
) -> None:
    """Two ads that fail extraction (in different batches) and one that fails scoring: `lurewatch extract` and
    `lurewatch score` finish (exit 0), store every other ad, say "N ads failed ..." with the errors, record them in
    ad_failures, and `lurewatch crawl-health` counts them. After the "fix" (fault points off) the next runs pick the
    failed ads up and the failures are gone."""
    db = tmp_path / "lw.duckdb"
    with session(db) as con:
        upsert_ads(con, _ads({5: EXTRACT_POISON, 250: EXTRACT_POISON, 100: SCORE_POISON}), run_id=None)
        register(con, small_model, tmp_path / "models", created_by="test", promote=True)
    poisoned, score_poisoned = _ad_ids(db, EXTRACT_POISON), _ad_ids(db, SCORE_POISON)
    assert len(poisoned) == 2 and len(score_poisoned) == 1
    faults = {"LUREWATCH_FAULT_EXTRACT_MARKER": EXTRACT_POISON, "LUREWATCH_FAULT_SCORE_MARKER": SCORE_POISON}

    extract = lurewatch(["extract", "--db", str(db), "--batch-size", "50"], tmp_path, **faults)
    assert extract.returncode == 0, extract.stderr
    assert "features extracted for 369 ads" in extract.stdout
    assert "2 ads failed extraction" in extract.stderr and "InjectedFault" in extract.stderr
    assert all(f"ad {ad_id}:" in extract.stderr for ad_id in poisoned)
    assert "Traceback" not in extract.stderr
    assert "cross-ad features computed for 371 ads" in extract.stdout

    score = lurewatch(["score", "--db", str(db)], tmp_path, **faults)
    assert score.returncode == 0, score.stderr
    assert "scored 368 ads" in score.stdout
    assert "1 ads failed scoring" in score.stderr and f"ad {score_poisoned[0]}:" in score.stderr

    with session(db) as con:
        featured = {int(r[0]) for r in con.execute("SELECT ad_id FROM features").fetchall()}
        scored = {int(r[0]) for r in con.execute("SELECT ad_id FROM scores").fetchall()}
        failures = con.execute("SELECT ad_id, stage, error, attempts FROM ad_failures ORDER BY ad_id").fetchall()
        every = {int(r[0]) for r in con.execute("SELECT ad_id FROM ads").fetchall()}
    assert featured == every - set(poisoned)  # ads after the poison ones, in its batch and later batches
    assert scored == featured - set(score_poisoned)
    assert sorted((r[0], r[1]) for r in failures) == sorted(
        [(poisoned[0], "extract"), (poisoned[1], "extract"), (score_poisoned[0], "score")])
    assert all(r[2].startswith("InjectedFault: fault injected into") and r[3] == 1 for r in failures)

    health = lurewatch(["crawl-health", "--db", str(db)], tmp_path)
    assert health.returncode == 0, health.stderr
    assert "2 ads failed extraction, 1 failed scoring" in health.stdout

    again = lurewatch(["extract", "--db", str(db)], tmp_path, **faults)  # still broken: retried, counted again
    assert again.returncode == 0 and "2 ads failed extraction" in again.stderr
    with session(db) as con:
        assert con.execute("SELECT max(attempts) FROM ad_failures WHERE stage = 'extract'").fetchall() == [(2,)]

    fixed = lurewatch(["extract", "--db", str(db)], tmp_path)  # the "code fix": the fault points are off
    assert fixed.returncode == 0 and "failed" not in fixed.stderr
    rescored = lurewatch(["score", "--db", str(db)], tmp_path)
    assert rescored.returncode == 0 and "scored 3 ads" in rescored.stdout and "failed" not in rescored.stderr
    with session(db) as con:
        assert con.execute("SELECT count(*) FROM ad_failures").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM scores").fetchall() == [(371,)]
    health = lurewatch(["crawl-health", "--db", str(db)], tmp_path)
    assert "no ad failed feature extraction or scoring" in health.stdout


def test_the_other_ads_of_a_failing_batch_get_the_same_features_as_without_the_failure(
    tmp_path: Path, extractor: FeatureExtractor
) -> None:
    """When a batch raises, its ads are redone one by one: the ads that do not fail get exactly the features and
    entities a clean run gives them (and the failing one none)."""
    clean, poisoned = tmp_path / "clean.duckdb", tmp_path / "poisoned.duckdb"
    for db, poison in ((clean, {}), (poisoned, {7: EXTRACT_POISON})):
        with session(db) as con:
            upsert_ads(con, _ads(poison, count=40), run_id=None)
            assert extract_pending(con, extractor, batch_size=40, fault_marker=EXTRACT_POISON) == 40

    def stored(db: Path) -> tuple[dict[int, tuple[str, str]], list[tuple[object, ...]]]:
        with session(db) as con:
            feats = {int(r[0]): (json.dumps(json.loads(r[1]), sort_keys=True), r[2]) for r in con.execute(
                "SELECT ad_id, vector, language FROM features").fetchall()}
            entities = con.execute("SELECT ad_id, kind, value, start_pos FROM entities ORDER BY ALL").fetchall()
        return feats, entities

    clean_features, clean_entities = stored(clean)
    poisoned_features, poisoned_entities = stored(poisoned)
    bad = _ad_ids(poisoned, EXTRACT_POISON)[0]
    assert set(poisoned_features) == set(clean_features) - {bad}
    assert poisoned_features == {k: v for k, v in clean_features.items() if k != bad}
    assert poisoned_entities == [e for e in clean_entities if e[0] != bad]
