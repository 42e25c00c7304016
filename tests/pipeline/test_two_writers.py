"""Issue 12, item 14: two writers. A long extraction commits in batches and lets go of the warehouse between them,
so `lurewatch score` (another process) gets through meanwhile; a warehouse that stays busy is one line, not a
traceback."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb

from features import FeatureExtractor
from fixture_sites import load_ads
from pipeline.feature_store import ExtractionRun, extract_pending, extract_pending_at
from pipeline.model_registry import register
from pipeline.scoring_model import ScoringModel
from tests.pipeline.test_ad_failure_isolation import lurewatch
from warehouse import session
from warehouse.ads import upsert_ads
from warehouse.records import AdRow


def _rows(copy: int) -> list[AdRow]:
    return [
        AdRow(a["site"], f"http://127.0.0.1/{a['site']}/{a['ref']}/{copy}", a["title"], f"{a['body']}\n\n#{copy}",
              external_id=f"{a['ref']}-{copy}")
        for a in load_ads()
    ]


def test_score_gets_through_between_the_batches_of_a_long_extraction(
    tmp_path: Path, small_model: ScoringModel, extractor: FeatureExtractor
) -> None:
    """An extraction of 1,113 pending ads in batches of 100 runs in a thread (1,484 if a concurrent edit of
    features/ changed the extractor version under the test); after its first committed batch it
    waits until `lurewatch score` (a separate process, which must open the warehouse to load the champion, read
    and store scores) has finished. Score exits 0 having scored the ads extracted so far, and the extraction then
    completes every remaining batch. An extraction holding the warehouse for its whole run would leave the score
    command waiting and failing with "busy" instead."""
    db = tmp_path / "lw.duckdb"
    with session(db) as con:
        upsert_ads(con, _rows(0), run_id=None)
        extract_pending(con, extractor)
        register(con, small_model, tmp_path / "models", created_by="test", promote=True)
        upsert_ads(con, [row for copy in (1, 2, 3) for row in _rows(copy)], run_id=None)
    first_batch = threading.Event()
    score_done = threading.Event()
    calls: list[tuple[int, int]] = []
    result: list[ExtractionRun | BaseException] = []

    def between_batches(done: int, total: int) -> None:
        calls.append((done, total))
        if len(calls) == 1:
            first_batch.set()
            assert score_done.wait(timeout=400), "lurewatch score did not finish while extraction was between batches"

    def long_extraction() -> None:
        try:
            result.append(extract_pending_at(db, extractor, batch_size=100, progress=between_batches))
        except BaseException as error:  # reported by the main thread
            result.append(error)
            first_batch.set()

    worker = threading.Thread(target=long_extraction)
    worker.start()
    try:
        assert first_batch.wait(timeout=400) and not result, result
        score = lurewatch(["score", "--db", str(db)], tmp_path, LUREWATCH_LOCK_TIMEOUT_S="300")
        with session(db) as con:  # the extraction is still paused between its batches
            featured_meanwhile = con.execute("SELECT count(*) FROM features").fetchall()[0][0]
    finally:
        score_done.set()
        worker.join(timeout=600)
    assert score.returncode == 0, score.stderr
    # the 371 extracted before + the first committed batch of 100 (371 if the extractor changed under the test)
    assert featured_meanwhile in (371, 471) and f"scored {featured_meanwhile} ads" in score.stdout, score.stdout
    assert len(result) == 1 and isinstance(result[0], ExtractionRun), result
    pending = result[0].pending
    assert pending in (1113, 1484) and result[0].extracted == pending and not result[0].failures
    assert calls[0] == (100, pending) and calls[-1] == (pending, pending) and len(calls) == -(-pending // 100)
    with session(db) as con:
        assert con.execute("SELECT count(*) FROM features").fetchall() == [(1484,)]
        assert con.execute("SELECT count(*) FROM scores").fetchall() == [(featured_meanwhile,)]


def test_a_warehouse_that_stays_busy_is_one_line_and_a_non_zero_exit(
    tmp_path: Path, small_model: ScoringModel, extractor: FeatureExtractor
) -> None:
    """While another process holds the warehouse beyond LUREWATCH_LOCK_TIMEOUT_S, `lurewatch score` and
    `lurewatch extract` print one error line saying the warehouse is busy and exit 1: no traceback."""
    db = tmp_path / "lw.duckdb"
    with session(db) as con:
        upsert_ads(con, _rows(0)[:20], run_id=None)
        register(con, small_model, tmp_path / "models", created_by="test", promote=True)
    holder = duckdb.connect(str(db))  # this process holds the file lock
    try:
        for command in (["score", "--db", str(db)], ["extract", "--db", str(db)]):
            busy = lurewatch(command, tmp_path, LUREWATCH_LOCK_TIMEOUT_S="0.5")
            assert busy.returncode == 1, (command, busy.stdout, busy.stderr)
            lines = [line for line in busy.stderr.splitlines() if line.strip()]
            assert len(lines) == 1 and lines[0].startswith("error: ") and "busy" in lines[0], busy.stderr
            assert "Traceback" not in busy.stderr + busy.stdout
    finally:
        holder.close()
