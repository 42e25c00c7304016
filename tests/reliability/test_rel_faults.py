"""A failing machine: each writer of the warehouse is SIGKILLed in the middle of its work (no cleanup, no atexit, like a
power cut). Afterwards the warehouse is consistent - every unit of work is all there or not there at all (DuckDB
transactions + WAL) - and running the job again finishes it without duplicating anything."""

from __future__ import annotations

import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from rel_support import (
    ANALYSTS,
    Analyst,
    Progress,
    ReviewProcess,
    build_quick_warehouse,
    create_accounts,
    fixture_rows,
    query,
)

from crawlers.run import crawl_site
from warehouse import session

# Prepended to every child below: a real DuckDB connection with a fault point inside one batch's write. The child
# prints ``inside write`` there and stops for good; the test SIGKILLs it at that moment.
STALLING_CONNECTION = textwrap.dedent(
    """
    import time

    import pyarrow as pa


    class StallingConnection:
        def __init__(self, con, *, before=None, streaming=None):
            self._con, self._before, self._streaming = con, before, streaming

        def _stall(self):
            print("inside write", flush=True)
            time.sleep(600)

        def execute(self, sql, *args, **kwargs):
            if self._before is not None and self._before in sql:
                self._stall()  # the statements before this one, in the same transaction, have run
            return self._con.execute(sql, *args, **kwargs)

        def register(self, name, data):
            if name == self._streaming:  # the statement reading this table stalls after its first rows
                batches = data.to_batches(max_chunksize=max(1, data.num_rows // 2))

                def stream():
                    yield batches[0]
                    self._stall()
                    yield from batches[1:]

                data = pa.RecordBatchReader.from_batches(data.schema, stream())
            return self._con.register(name, data)

        def __getattr__(self, name):
            return getattr(self._con, name)
    """
)

CRAWL_CHILD = STALLING_CONNECTION + textwrap.dedent(
    """
    import sys
    from crawlers import pipelines, run

    original = pipelines.write_crawl_batch
    calls = 0

    def write(con, *args, **kwargs):
        global calls
        calls += 1
        if calls == 2:  # the second batch: its ads are inserted, then it stops before their snapshots
            con = StallingConnection(con, before="INSERT INTO ad_snapshots")
        result = original(con, *args, **kwargs)
        print("committed", result.inserted, flush=True)
        return result

    pipelines.write_crawl_batch = write
    sys.exit(run.main(sys.argv[1:]))
    """
)


def test_killed_crawl_keeps_whole_batches_and_a_rerun_completes_without_duplicates(
    fixture_servers: Any, tmp_path: Path
) -> None:
    """A crawl writing 10-ad batches is SIGKILLed inside the write of its second batch (the batch's ads inserted,
    their snapshots not yet): only the first batch is visible, each ad with its snapshot and page validators, and
    the run stays 'running'. The next crawl marks it failed, stores every ad of the site exactly once and adds no
    second snapshot for an ad that did not change."""
    db, log = tmp_path / "crawl.duckdb", tmp_path / "crawl.log"
    site, expected = "balticjobs", 165
    crawl = Progress(
        [sys.executable, "-c", CRAWL_CHILD, "--site", site, "--db", str(db), "--base-url",
         fixture_servers.base_urls[site], "--batch-size", "10", "--log-file", str(log)],
        env={"LUREWATCH_CRAWL_DELAY_S": "0.05"},
    )
    try:
        first_batch = int(crawl.wait_for(r"^committed \d+").split()[1])
        crawl.wait_for(r"^inside write")
    finally:
        crawl.kill()
    with session(db) as con:
        ads, without_snapshot, runs, orphans = con.execute(
            """SELECT (SELECT count(*) FROM ads),
                      (SELECT count(*) FROM ads a
                       WHERE NOT EXISTS (SELECT 1 FROM ad_snapshots s WHERE s.ad_id = a.ad_id)),
                      (SELECT list(status) FROM crawl_runs),
                      (SELECT count(*) FROM crawl_pages p WHERE NOT EXISTS (SELECT 1 FROM ads a WHERE a.url = p.ad_url))
            """
        ).fetchall()[0]
    assert 0 < ads == first_batch < expected  # nothing of the second batch, though its INSERT INTO ads had run
    assert without_snapshot == 0 and orphans == 0 and runs == ["running"]

    summary = crawl_site(site, db, fixture_servers.base_urls[site])
    assert summary.status == "finished" and summary.complete
    with session(db) as con:
        total, urls, statuses, max_snapshots = con.execute(
            """SELECT count(*), count(DISTINCT url), (SELECT list(status ORDER BY run_id) FROM crawl_runs),
                      (SELECT max(n) FROM (SELECT count(*) AS n FROM ad_snapshots GROUP BY ad_id))
               FROM ads"""
        ).fetchall()[0]
    assert total == urls == expected
    assert statuses == ["failed", "finished"] and max_snapshots == 1


EXTRACT_CHILD = STALLING_CONNECTION + textwrap.dedent(
    """
    import sys
    from pipeline import feature_store
    from warehouse import connect

    original = feature_store.store_features
    calls = 0

    def store(con, *args, **kwargs):
        global calls
        calls += 1
        if calls == 3:  # the third batch: its features are inserted, then it stops before its entities
            con = StallingConnection(con, before="INSERT INTO entities")
        original(con, *args, **kwargs)
        print("stored", flush=True)

    feature_store.store_features = store
    con = connect(sys.argv[1])
    feature_store.extract_pending(con, batch_size=int(sys.argv[2]))
    print("done", flush=True)
    """
)


def test_killed_feature_extraction_keeps_whole_batches_and_resumes(tmp_path: Path) -> None:
    """Extraction over 1,484 ads in batches of 100 is SIGKILLed inside the write of its third batch (its features
    inserted, its entities not yet): features and entities exist for the two committed batches only (no ad has
    entities without features). Re-running extracts exactly the rest; every ad has one feature row and no entity is
    duplicated."""
    db = build_quick_warehouse(tmp_path / "extract.duckdb", old_share=0.0, extract=False)
    with session(db) as con:
        from warehouse.ads import upsert_ads

        upsert_ads(con, [row for row, _ in fixture_rows(4)[371:]], None)
        total = con.execute("SELECT count(*) FROM ads").fetchall()[0][0]
    assert total == 4 * 371
    child = Progress([sys.executable, "-c", EXTRACT_CHILD, str(db), "100"])
    try:
        child.wait_for(r"^stored")
        child.wait_for(r"^stored")
        child.wait_for(r"^inside write")
    finally:
        child.kill()
    features, stray = query(
        db, "SELECT (SELECT count(*) FROM features), (SELECT count(*) FROM entities e WHERE NOT EXISTS "
        "(SELECT 1 FROM features f WHERE f.ad_id = e.ad_id))"
    )[0]
    assert features == 200 and stray == 0  # the third batch's features, inserted before the kill, are not there

    from pipeline.feature_store import extract_pending

    with session(db) as con:
        assert extract_pending(con, batch_size=500) == total - features
        rows, distinct_ads, entities, distinct_entities = con.execute(
            """SELECT (SELECT count(*) FROM features), (SELECT count(DISTINCT ad_id) FROM features),
                      (SELECT count(*) FROM entities),
                      (SELECT count(*) FROM (SELECT DISTINCT ad_id, kind, value, start_pos FROM entities))"""
        ).fetchall()[0]
        assert extract_pending(con) == 0
    assert rows == distinct_ads == total and entities == distinct_entities > 1000


SCORE_CHILD = STALLING_CONNECTION + textwrap.dedent(
    """
    import sys
    from pipeline import score
    from pipeline.model_registry import load_champion
    from warehouse import connect

    original = score.store_scores
    calls = 0

    def store(con, *args, **kwargs):
        global calls
        calls += 1
        if calls == 3:  # the third batch: its INSERT into scores stops after reading its first rows
            con = StallingConnection(con, streaming="_new_scores")
        original(con, *args, **kwargs)
        print("stored", flush=True)

    score.store_scores = store
    con = connect(sys.argv[1])
    con.execute("DELETE FROM scores").fetchall()
    score.score_pending(con, load_champion(con), batch_size=int(sys.argv[2]))
    print("done", flush=True)
    """
)


def test_killed_scoring_keeps_whole_batches_and_resumes(flow_warehouse: Path, copy_db: Any) -> None:
    """Scoring in batches of 40 is SIGKILLed inside the INSERT of its third batch (half of its rows already read by
    DuckDB): exactly the two committed batches of scores, each for the champion version and the ad's current text;
    re-running scores exactly the rest."""
    from pipeline.model_registry import load_champion
    from pipeline.score import score_pending

    db = copy_db(flow_warehouse)
    child = Progress([sys.executable, "-c", SCORE_CHILD, str(db), "40"])
    try:
        child.wait_for(r"^stored")
        child.wait_for(r"^stored")
        child.wait_for(r"^inside write")
    finally:
        child.kill()
    with session(db) as con:
        scored, stale = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE s.content_hash <> a.content_hash) "
            "FROM scores s JOIN ads a USING (ad_id)"
        ).fetchall()[0]
        total = con.execute("SELECT count(*) FROM features").fetchall()[0][0]
        assert scored == 80 < total and stale == 0
        model = load_champion(con)
        assert model is not None
        assert score_pending(con, model) == total - scored
        assert con.execute("SELECT count(*), count(DISTINCT ad_id) FROM scores").fetchall() == [(total, total)]


RETENTION_CHILD = textwrap.dedent(
    """
    import sys, time
    from warehouse import connect, retention
    from warehouse.pseudonymise import Pseudonymiser

    original = retention._mask_snapshots

    def mask_then_stall(*args, **kwargs):
        done = original(*args, **kwargs)
        print("snapshots masked, not committed", done, flush=True)
        time.sleep(120)  # killed here: ads, entities, evidence and snapshots changed, nothing committed
        return done

    retention._mask_snapshots = mask_then_stall
    con = connect(sys.argv[1])
    retention.apply_retention(con, 30, pseudonymiser=Pseudonymiser(b"k" * 40))
    """
)


def test_killed_retention_run_changes_nothing_and_reruns_cleanly(quick_warehouse: Path, copy_db: Any) -> None:
    """The retention job is one transaction: killed after rewriting every table it touches (analysts' notes
    included) but before COMMIT, the warehouse is exactly as before (no half-pseudonymised ad or note, no run
    recorded); the next run does all of it."""
    from warehouse.pseudonymise import Pseudonymiser
    from warehouse.retention import apply_retention

    db = copy_db(quick_warehouse)
    with session(db) as con:  # notes that repeat a contact of an ad retention will process
        con.execute(
            "INSERT INTO labels (ad_id, label, source, analyst, note) SELECT e.ad_id, 'lure', 'analyst', 'ana', "
            "'called ' || min(e.raw) || ', no answer' FROM entities e JOIN ads a USING (ad_id) "
            "WHERE a.last_seen < now() - INTERVAL 30 DAY GROUP BY e.ad_id ORDER BY e.ad_id LIMIT 40").fetchall()
    dump = ("SELECT (SELECT list(md5(title || body || coalesce(contact_text, '')) ORDER BY ad_id) FROM ads), "
            "(SELECT list(value ORDER BY entity_id) FROM entities), "
            "(SELECT list(md5(page_text) ORDER BY ad_id, fetched_at) FROM ad_snapshots), "
            "(SELECT list(md5(evidence::VARCHAR) ORDER BY ad_id) FROM features), "
            "(SELECT list(note ORDER BY label_id) FROM labels), "
            "(SELECT count(*) FROM retention_runs)")
    before = query(db, dump)
    child = Progress([sys.executable, "-c", RETENTION_CHILD, str(db)])
    try:
        child.wait_for(r"^snapshots masked, not committed [1-9]")
    finally:
        child.kill()
    assert query(db, dump) == before
    with session(db) as con:
        report = apply_retention(con, 30, pseudonymiser=Pseudonymiser(b"k" * 40))
    assert report.ads > 100 and report.snapshots > 100 and report.notes == 40
    assert query(db, dump) != before
    notes = query(db, "SELECT note FROM labels WHERE analyst = 'ana'")
    assert len(notes) == 40 and all(n.startswith("called pz1_") and n.endswith(", no answer") for (n,) in notes)


def test_killed_review_app_loses_no_acknowledged_decision(flow_warehouse: Path, copy_db: Any) -> None:
    """Four analysts post decisions as fast as they can; the app (uvicorn, its own process) is SIGKILLed in the middle
    of it. After a restart (which replays the fsync'd journal) every decision that was acknowledged (303) is in the
    warehouse exactly once, nothing else is, and the audit trail is whole."""
    db = copy_db(flow_warehouse)
    create_accounts(db, ANALYSTS[:4], admin=False)
    ad_ids = [row[0] for row in query(db, "SELECT ad_id FROM ads ORDER BY ad_id")]
    app = ReviewProcess(db, {"LUREWATCH_REVIEW_DECISION_LOCK_TIMEOUT_S": "1"})
    acknowledged: list[tuple[str, int, str]] = []
    failed: list[str] = []  # transport errors once the app was killed: expected
    unexpected: list[str] = []  # anything else (a refused login, a 500, an error before the kill): a failure
    lock = threading.Lock()
    killed = threading.Event()

    def analyst(index: int) -> None:
        name, password = ANALYSTS[index]
        client = Analyst(app.url, timeout_s=120)  # generous: a slow answer on a loaded machine is no failure
        try:
            login = client.login(name, password)
            if login.status_code != 303:
                with lock:
                    unexpected.append(f"{name} login: HTTP {login.status_code}")
                return
            for n, ad_id in enumerate(ad_ids[index::4][:60]):
                label = ("lure", "not_lure", "unsure")[n % 3]
                try:
                    response = client.decide(ad_id, label, note=f"{name} {n}")
                except httpx.TransportError as error:  # the app died under us (or is dying)
                    with lock:
                        (failed if killed.is_set() else unexpected).append(
                            f"{name}: {type(error).__name__}")
                    return
                with lock:
                    if response.status_code == 303:
                        acknowledged.append((name, ad_id, label))
                    else:
                        unexpected.append(f"{name} decision: HTTP {response.status_code}")
                        return
        except Exception as error:  # reported in the main thread, where asserts fail the test
            with lock:
                expected = isinstance(error, httpx.TransportError) and killed.is_set()  # killed while logging in
                (failed if expected else unexpected).append(f"{name}: {type(error).__name__}: {error}")
        finally:
            client.close()

    threads = [threading.Thread(target=analyst, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 120
    while len(acknowledged) < 30 and time.monotonic() < deadline and any(t.is_alive() for t in threads):
        time.sleep(0.01)
    killed.set()  # from here on a transport error is the kill, not a failure
    app.kill()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert unexpected == []
    assert len(acknowledged) >= 30 and failed, (len(acknowledged), failed)

    restarted = ReviewProcess(db)
    restarted.stop()
    rows = query(db, "SELECT analyst, ad_id, label, event_id, action FROM labels WHERE source = 'analyst'")
    stored = Counter((r[0], r[1], r[2]) for r in rows)
    assert all(stored[item] == 1 for item in acknowledged), "an acknowledged decision was lost or duplicated"
    assert len(rows) == len({r[3] for r in rows}) and all(r[4] == "decide" for r in rows)
    assert len(rows) - len(acknowledged) <= 4  # at most the requests in flight when the app died
    journal = db.with_name(db.name + ".review-journal.jsonl")
    assert not journal.exists() or journal.stat().st_size == 0
    assert query(db, "SELECT count(*) FROM labels l WHERE NOT EXISTS (SELECT 1 FROM ads a WHERE a.ad_id = l.ad_id)") \
        == [(0,)]
