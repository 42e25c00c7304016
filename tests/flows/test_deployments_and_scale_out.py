"""The service and the scale-out, for real:

* ``lurewatch service start`` in a subprocess runs ``prefect server start`` on 127.0.0.1 (temp PREFECT_HOME) and
  serves the deployments; through the Prefect client we check the schedules and the tag concurrency limits, and
  trigger the digest deployment, whose run completes and e-mails the digest to a local SMTP server.
* ``crawl_and_score_scaled`` on a Dask ``LocalCluster`` of two worker processes crawls the fixture sites into
  per-site shards and merges them, extracts features and scores on the workers, and gives exactly what the
  serial ``extract_pending`` / ``score_pending`` give.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import inspect
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import PrefectClient

from digest.mailsink import MailSink, free_port
from digest.synthetic import SyntheticSpec, generate
from lurewatch.cli_service import stop_process, wait_for_api
from warehouse import session

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _service_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        {
            "PREFECT_HOME": str(tmp_path / "prefect"),
            "LUREWATCH_DATA_DIR": str(tmp_path / "data"),
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_UI_ENABLED": "false",
            "PREFECT_RUNNER_POLL_FREQUENCY": "1",
            "PREFECT_LOGGING_LEVEL": "INFO",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
        }
    )
    return env


async def _wait_for(predicate: Any, timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.5)
    raise TimeoutError(f"timed out waiting for {what}")


async def _exercise_service(api_url: str, week: str) -> dict[str, Any]:
    async with PrefectClient(api=api_url) as client:

        async def deployments() -> dict[str, Any] | None:
            found = {}
            for deployment in await client.read_deployments():
                flow = await client.read_flow(deployment.flow_id)
                found[f"{flow.name}/{deployment.name}"] = deployment
            expected = {"crawl_and_score_scaled/daily", "weekly_digest/weekly"}
            if _retrain_available():  # the service registers deployments one by one: wait for all of them
                expected.add("retrain/monthly")
            return found if expected <= set(found) else None

        found = await _wait_for(deployments, 75, "the deployments to be registered")
        schedules = {
            name: [(s.schedule.cron, s.schedule.timezone, s.active) for s in d.schedules] for name, d in found.items()
        }
        limits = {
            tag: (await client.read_concurrency_limit_by_tag(tag)).concurrency_limit
            for tag in ("site:balticjobs", "site:skelbimai", "crawl", "smtp")
        }
        digest = found["weekly_digest/weekly"]
        run = await client.create_flow_run_from_deployment(digest.id, parameters={"week": week})

        async def finished() -> Any:
            current = await client.read_flow_run(run.id)
            return current if current.state is not None and current.state.is_final() else None

        final = await _wait_for(finished, 60, "the digest flow run")
        return {"schedules": schedules, "limits": limits, "state": final.state.type.value,
                "parameters": digest.parameters}


def test_service_start_serves_scheduled_deployments_and_runs_one(tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    with session(db) as con:
        generate(con, SyntheticSpec(ads=3000))
    port = free_port()
    env = _service_env(tmp_path)
    with MailSink() as sink:
        config = tmp_path / "digest.yaml"
        config.write_text(
            json.dumps(
                {
                    "archive_dir": str(tmp_path / "archive"),
                    "smtp": {"host": "127.0.0.1", "port": sink.port, "sender": "lurewatch <d@lurewatch.test>"},
                    "recipients": [{"id": "ngo", "name": "NGO", "emails": ["x@ngo.test"], "formats": ["html", "csv"]}],
                }
            ),
            encoding="utf-8",
        )
        log = (tmp_path / "service.log").open("wb")
        service = subprocess.Popen(
            [sys.executable, "-m", "lurewatch.cli_service", "start", "--port", str(port), "--db", str(db),
             "--digest-config", str(config)],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            api_url = f"http://127.0.0.1:{port}/api"
            wait_for_api(api_url, 60)
            outcome = asyncio.run(_exercise_service(api_url, "2026-11-09"))
            received = sink.wait_for(1, timeout_s=10)
        except BaseException:
            log.flush()
            print((tmp_path / "service.log").read_text(errors="replace")[-6000:])
            raise
        finally:
            os.killpg(service.pid, signal.SIGINT)  # the service stops its own prefect server
            try:
                service.wait(timeout=30)
            except subprocess.TimeoutExpired:
                stop_process(service)
            pid_file = tmp_path / "prefect" / "server.pid"
            if pid_file.exists():  # whatever happened above, no server of ours is left behind
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(int(pid_file.read_text()), signal.SIGKILL)
            log.close()
    assert outcome["schedules"]["crawl_and_score_scaled/daily"] == [("0 3 * * *", "Europe/Riga", True)]
    assert outcome["schedules"]["weekly_digest/weekly"] == [("0 7 * * 1", "Europe/Riga", True)]
    if _retrain_available():  # flows/retrain.py is another team's flow: scheduled whenever it is there
        assert outcome["schedules"]["retrain/monthly"] == [("0 4 1 * *", "Europe/Riga", True)]
    assert outcome["limits"] == {"site:balticjobs": 1, "site:skelbimai": 1, "crawl": 2, "smtp": 1}
    assert outcome["parameters"]["db_path"] == str(db) and outcome["parameters"]["config_path"] == str(config)
    assert outcome["state"] == "COMPLETED"
    assert received[0].rcpt_tos == ("x@ngo.test",)
    assert "2026-W46" in str(received[0].message()["Subject"])
    assert service.returncode is not None


def _retrain_available() -> bool:
    return importlib.util.find_spec("flows.retrain") is not None


# ------------------------------------------------------------------------------------------- scale-out


def _quick_champion(db: Path, models: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The real training code on the fixture labels, with few boosting rounds and one thread (fast and stable
    on a shared machine): scoring on the cluster only needs *a* champion. (The boosting constants are patched
    wherever the pipeline package keeps them.)"""
    from features import FeatureExtractor
    from pipeline.model_registry import register
    from pipeline.train import train
    from pipeline.training_data import warehouse_examples

    for name in ("pipeline.train", "pipeline.fit"):  # those that training imported
        module = sys.modules.get(name)
        if module is None:
            continue
        if hasattr(module, "NUM_ROUNDS"):
            monkeypatch.setattr(module, "NUM_ROUNDS", 25)
        if isinstance(getattr(module, "BASE_PARAMS", None), dict):
            monkeypatch.setitem(module.BASE_PARAMS, "num_threads", 1)
    options = {"folds": 2} if "folds" in inspect.signature(train).parameters else {}
    with session(db) as con:
        model = train(warehouse_examples(con), FeatureExtractor(), **options)
        return register(con, model, models, created_by="test", promote=True)


def _table(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with session(db) as con:
        return con.execute(sql).fetchall()


def test_crawl_extract_and_score_on_a_dask_cluster_match_the_serial_pipeline(
    fixture_servers: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import LocalCluster
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect_dask import DaskTaskRunner

    from fixture_sites import load_ads
    from flows.scale_out import crawl_and_score_scaled, merge_shard
    from pipeline.feature_store import extract_pending
    from pipeline.model_registry import load_champion
    from pipeline.score import score_pending

    db, shards = tmp_path / "main.duckdb", tmp_path / "shards"
    sites = ["darbas-forum", "skelbimai"]  # two sites on two workers (the third would only add time)
    ads = [ad for ad in load_ads() if ad["site"] in sites]
    seed = [(ad["site"], ad["ref"], bool(ad["label"])) for ad in ads if ad["split"] == "train"]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        scaled = crawl_and_score_scaled.with_options(task_runner=DaskTaskRunner(address=cluster.scheduler_address))
        state = scaled(sites=sites, base_urls=fixture_servers.base_urls, db_path=str(db), seed_labels=seed,
                       seed_label_source="fixture", score=False, shard_dir=str(shards), partition_size=100,
                       return_state=True)
        first = state.result()
        version = _quick_champion(db, tmp_path / "models", monkeypatch)
        serial = tmp_path / "serial.duckdb"
        shutil.copy(db, serial)
        second = scaled(sites=[], db_path=str(db), shard_dir=str(shards), partition_size=100)

    # crawl: one shard per site, merged into the warehouse
    assert sorted(c["site"] for c in first["crawls"]) == sites
    assert all(c["status"] == "finished" for c in first["crawls"])
    assert sorted(p.name for p in shards.glob("*.duckdb")) == ["darbas-forum.duckdb", "skelbimai.duckdb"]
    merged = _table(db, "SELECT site_id, external_id FROM ads")
    assert sorted(merged) == sorted((ad["site"], ad["ref"]) for ad in ads)
    assert _table(db, "SELECT count(*) FROM crawl_runs WHERE stats->>'merged_from' IS NOT NULL") == [(2,)]
    assert first["extracted"] == len(ads) and first["labels_imported"] == len(seed)
    assert second["model_version"] == version and second["scored"] == len(ads) and second["extracted"] == 0

    # a retried merge changes nothing
    forum = next(c for c in first["crawls"] if c["site"] == "darbas-forum")
    again = merge_shard(db, forum["shard"], forum["run_id"])
    assert again["run_id"] == forum["merged"]["run_id"] and again["inserted"] == again["updated"] == 0
    assert _table(db, "SELECT count(*) FROM crawl_runs") == [(2,)]

    # the serial pipeline on a copy gives the same features, entities and scores
    with session(serial) as con:
        con.execute("DELETE FROM entities")
        con.execute("DELETE FROM features")
        extract_pending(con)
        model = load_champion(con)
        assert model is not None
        score_pending(con, model)
    features_sql = "SELECT ad_id, language, vector::VARCHAR, evidence::VARCHAR FROM features ORDER BY ad_id"
    entities_sql = "SELECT ad_id, kind, value, start_pos, end_pos FROM entities ORDER BY ALL"
    scores_sql = f"SELECT ad_id, round(score, 12) FROM scores WHERE model_version = '{version}' ORDER BY ad_id"
    for sql in (features_sql, entities_sql, scores_sql):
        assert _table(db, sql) == _table(serial, sql)

    # per-site tags on the crawl tasks (what Prefect's tag concurrency limits act on)
    flow_run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        task_runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    crawl_tags = {run.name: set(run.tags) for run in task_runs if run.name.startswith("crawl-")}
    assert crawl_tags == {f"crawl-{site}": {f"site:{site}", "crawl"} for site in sites}
    workers = {run.name.split("-")[0] for run in task_runs}
    assert {"crawl", "merge", "extract", "write"} <= workers


def test_without_a_cluster_partitions_run_in_the_flow_process(tmp_path: Path) -> None:
    """Prefect's default thread pool: the same flow extracts inline, partition by partition, like the serial code."""
    from datetime import date

    from fixture_sites import load_ads
    from flows.scale_out import crawl_and_score_scaled
    from pipeline.feature_store import extract_pending
    from warehouse.ads import upsert_ads
    from warehouse.records import AdRow

    db, serial = tmp_path / "threads.duckdb", tmp_path / "serial.duckdb"
    rows = [AdRow(site_id=ad["site"], url=f"https://x.example/{ad['ref']}", title=ad["title"], body=ad["body"],
                  external_id=ad["ref"], posted=date.fromisoformat(ad["posted"])) for ad in load_ads()[::12]]
    with session(db) as con:
        upsert_ads(con, rows, None)
    shutil.copy(db, serial)
    result = crawl_and_score_scaled(sites=[], db_path=str(db), score=False, partition_size=10,
                                    shard_dir=str(tmp_path / "shards"))
    with session(serial) as con:
        extract_pending(con)
    sql = "SELECT ad_id, language, vector::VARCHAR, evidence::VARCHAR FROM features ORDER BY ad_id"
    assert result["extracted"] == len(rows) and _table(db, sql) == _table(serial, sql)


def test_every_scaled_task_has_retries_and_a_timeout() -> None:
    from flows import scale_out

    tasks = [scale_out.crawl_shard_task, scale_out.merge_shard_task, scale_out.extract_partition_task,
             scale_out.write_features_task, scale_out.score_partition_task, scale_out.write_scores_task]
    for task in tasks:
        policy = scale_out.TASK_POLICIES[task.name]
        assert task.retries == policy["retries"] >= 1 and task.timeout_seconds == policy["timeout_seconds"]
    assert scale_out.TASK_POLICIES["ensure-champion"]["timeout_seconds"] == 4 * 3600
