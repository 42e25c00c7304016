"""The app and the pipeline share one DuckDB file (one process at a time): no decision and no crawled ad may be
lost, whoever holds the file and for however long."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from review_support import PROJECT_ROOT, AppProcess, Client, Template, prepare, query

from fixture_sites import FixtureSites, load_ads
from flows.crawl_and_score import crawl_and_score

FAST_JOURNAL = {
    "LUREWATCH_REVIEW_DECISION_LOCK_TIMEOUT_S": "0.5",
    "LUREWATCH_REVIEW_READ_LOCK_TIMEOUT_S": "1",
    "LUREWATCH_REVIEW_REPLAY_INTERVAL_S": "0.3",
}

HOLDER = """
import sys
from warehouse import connect
con = connect(sys.argv[1])
con.execute("INSERT INTO labels (ad_id, label, source, analyst) VALUES (?, 'unsure', 'import', 'holder')",
            [int(sys.argv[2])]).fetchall()
print("holding", flush=True)
sys.stdin.readline()  # hold the file until the test says so
con.close()
"""


def _hold(db: Path, ad_id: int) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db), str(ad_id)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    return holder


def _release(holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.write("go\n")
    holder.stdin.flush()
    assert holder.wait(timeout=30) == 0


def _analyst_rows(db: Path) -> list[tuple[Any, ...]]:
    return query(
        db,
        "SELECT ad_id, label, previous_label, action FROM labels WHERE source = 'analyst' "
        "ORDER BY decided_at, label_id",
    )


def test_decisions_while_another_process_holds_the_file_survive_a_crash(review_template: Path, tmp_path: Path) -> None:
    """While another process holds the warehouse, decisions and an undo are answered at once from the fsync'd
    journal (pages say "busy"); the app is then killed (SIGKILL). After the holder lets go, a restarted app
    replays the journal at startup, in order: every decision is in DuckDB with the right previous values, next to
    the holder's own write."""
    settings = prepare(review_template, tmp_path / "held")
    app = AppProcess(settings, FAST_JOURNAL)
    try:
        client = app.env().logged_in()
        token = client.session_token()
        a, b, holder_ad = client.queue_ids()[:3]
        holder = _hold(settings.database, holder_ad)
        try:
            posted = [
                client.post(f"/ads/{a}/decision", {"csrf_token": token, "label": "lure", "note": "first"}),
                client.post(f"/ads/{b}/decision", {"csrf_token": token, "label": "not_lure"}),
                client.post(f"/ads/{a}/decision", {"csrf_token": token, "label": "unsure"}),
                client.post("/undo", {"csrf_token": token}),
            ]
            # Answered while the holder still has the file (it lets go only in the finally below): from the journal.
            assert [r.status_code for r in posted] == [303] * 4
            busy = client.get("/")
            assert busy.status_code == 503 and busy.headers["retry-after"] == "5"
            assert "kept safe in the local journal" in busy.text
            journal = [json.loads(line) for line in settings.journal.read_text(encoding="utf-8").splitlines()]
            assert [(e["action"], e["ad_id"], e["label"]) for e in journal] == [
                ("decide", a, "lure"),
                ("decide", b, "not_lure"),
                ("decide", a, "unsure"),
                ("undo", a, None),
            ]
            app.kill()
        finally:
            _release(holder)
        assert _analyst_rows(settings.database) == []  # nothing reached DuckDB before the restart

        app = AppProcess(settings, FAST_JOURNAL)  # startup replays the journal before serving
        assert settings.journal.read_text(encoding="utf-8") == ""
        assert _analyst_rows(settings.database) == [
            (a, "lure", None, "decide"),
            (b, "not_lure", None, "decide"),
            (a, "unsure", "lure", "decide"),
            (a, "lure", "unsure", "undo"),
        ]
        assert query(settings.database, "SELECT count(*) FROM labels WHERE analyst = 'holder'")[0][0] == 1
        assert query(settings.database, "SELECT note FROM labels WHERE event_id = ?", [journal[0]["event_id"]]) == [
            ("first",)
        ]
    finally:
        app.stop()


def _extra_ads(folder: Path, count: int) -> tuple[Path, list[dict[str, Any]]]:
    """The fixture ads plus ``count`` new ones (reposted copies with new ids), so the flow has ads to insert."""
    ads = load_ads()
    extra = []
    for number, ad in enumerate(ads[:: len(ads) // count][:count]):
        prefix = ad["ref"].split("-")[0]
        extra.append({**ad, "ref": f"{prefix}-{9000 + number:04d}", "title": ad["title"] + " (reposted)"})
    path = folder / "ads.jsonl"
    path.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in [*ads, *extra]), encoding="utf-8")
    return path, [*ads, *extra]


def test_crawl_and_score_flow_and_analysts_write_at_the_same_time(review_build: Template, tmp_path: Path) -> None:
    """The real crawl_and_score flow (crawler subprocesses, feature extraction, scoring) runs on the warehouse
    while an analyst keeps deciding through the running app: afterwards every crawled ad (old and new) has
    features and a score, and every acknowledged decision and undo is in the audit trail, in order."""
    settings = prepare(review_build.db, tmp_path / "flow")
    ads_path, all_ads = _extra_ads(tmp_path, 24)
    # A decision waits at most 50 ms for the file: every moment the flow writes, decisions go to the journal.
    app = AppProcess(settings, {**FAST_JOURNAL, "LUREWATCH_REVIEW_DECISION_LOCK_TIMEOUT_S": "0.05"})
    client: Client = app.env().logged_in()
    token = client.session_token()
    targets = client.queue_ids({"page": "1"}) + client.queue_ids({"page": "2"})
    done = threading.Event()
    acknowledged: list[tuple[int, str, str]] = []
    refused: list[str] = []  # any answer but 303, checked in the main thread (an assert here would only warn)
    journaled = 0

    def analyst() -> None:
        nonlocal journaled
        labels = ("lure", "not_lure", "unsure", "skip")
        for number, ad_id in enumerate(targets):
            if done.is_set() and number >= 6:
                return
            label = labels[number % 4]
            response = client.post(f"/ads/{ad_id}/decision", {"csrf_token": token, "label": label, "next_hint": ""})
            if response.status_code != 303:
                refused.append(f"decision on {ad_id}: HTTP {response.status_code}")
                return
            acknowledged.append((ad_id, label, "decide"))
            journaled += response.headers["location"] == "/"  # the next ad could not be looked up: journaled
            if number % 5 == 4:
                undo = client.post("/undo", {"csrf_token": token})
                if undo.status_code != 303:
                    refused.append(f"undo on {ad_id}: HTTP {undo.status_code}")
                    return
                acknowledged.append((ad_id, "undo", "undo"))
            time.sleep(0.15)

    worker = threading.Thread(target=analyst)
    try:
        with FixtureSites(ads_path, ports=review_build.site_ports) as sites:
            worker.start()
            result = crawl_and_score(base_urls=sites.base_urls, db_path=str(settings.database))
            done.set()
            worker.join(timeout=120)
        assert not worker.is_alive()
        assert refused == []
        assert sum(crawl["inserted"] for crawl in result["crawls"]) == 24
        deadline = time.monotonic() + 30
        while settings.journal.exists() and settings.journal.read_text(encoding="utf-8"):
            assert time.monotonic() < deadline, "journal was not replayed"
            time.sleep(0.2)
    finally:
        done.set()
        app.stop()

    expected = {(ad["site"], ad["ref"]) for ad in all_ads}
    stored = query(
        settings.database,
        "SELECT a.site_id, a.external_id, f.ad_id IS NOT NULL, s.ad_id IS NOT NULL FROM ads a "
        "LEFT JOIN features f USING (ad_id) "
        "LEFT JOIN scores s ON s.ad_id = a.ad_id AND s.model_version = (SELECT version FROM models "
        "WHERE status = 'champion')",
    )
    assert {(site, ref) for site, ref, *_ in stored} == expected and len(stored) == len(expected)
    assert all(has_features and has_score for _, _, has_features, has_score in stored)

    rows = _analyst_rows(settings.database)
    assert len(acknowledged) >= 10
    assert [(ad_id, action) for ad_id, _, _, action in rows] == [(ad_id, action) for ad_id, _, action in acknowledged]
    assert [label for _, label, _, action in rows if action == "decide"] == [
        label for _, label, action in acknowledged if action == "decide"
    ]
    assert not settings.journal.with_name(settings.journal.name.replace(".jsonl", ".rejected.jsonl")).exists()
    print(f"{len(acknowledged)} decisions/undos during the flow, {journaled} of them journaled while it wrote")
