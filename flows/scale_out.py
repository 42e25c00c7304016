"""crawl-and-score for more than one core or machine: the same steps as ``flows.crawl_and_score``, with every
task's retries and timeout set, per-site tags for Prefect's tag concurrency limits, and the heavy steps as many
small tasks that a task runner spreads out (``prefect-dask``'s ``DaskTaskRunner`` for a Dask cluster, Prefect's
thread pool otherwise).

DuckDB has a single writer, so only this flow's own process ever writes the warehouse:

* **crawl**: one task per site (tagged ``site:<name>`` and ``crawl``) crawls into that site's own DuckDB shard
  (``<shard_dir>/<site>.duckdb``, kept between runs so conditional requests keep working); the parent merges each
  shard's ads of that run into the warehouse as the crawls finish.
* **features / scores**: the parent reads pending ads in partitions; ``extract-partition`` / ``score-partition``
  tasks compute on the workers and return plain results; the parent writes each partition as it arrives.

Tasks called directly (merge, read, write, labels, champion) run in the flow's process; ``.submit()``-ed ones run
on the task runner. Run it on a Dask cluster with :func:`run_on_dask` (or ``with_options(task_runner=...)``).
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed

from crawlers.run import crawl_site
from lurewatch.settings import get_settings
from warehouse import session
from warehouse.ads import write_crawl_batch
from warehouse.records import AdRow, ad_text

# Workers import this module to run its tasks: spaCy, LightGBM and the training code are imported only where
# they are used (extraction and scoring tasks, the parent's champion step), not at the top.

#: Retries and timeouts of every task of the scaled-out crawl-and-score (seconds).
TASK_POLICIES: dict[str, dict[str, Any]] = {
    "crawl-site-shard": {"retries": 2, "retry_delay_seconds": [30, 300], "timeout_seconds": 2 * 3600},
    "merge-shard": {"retries": 2, "retry_delay_seconds": [10, 60], "timeout_seconds": 1800},
    "extract-partition": {"retries": 2, "retry_delay_seconds": [5, 30], "timeout_seconds": 1800},
    "write-features": {"retries": 2, "retry_delay_seconds": [5, 30], "timeout_seconds": 900},
    "cross-ad-features": {"retries": 1, "retry_delay_seconds": 10, "timeout_seconds": 1800},
    "score-partition": {"retries": 2, "retry_delay_seconds": [5, 30], "timeout_seconds": 900},
    "write-scores": {"retries": 2, "retry_delay_seconds": [5, 30], "timeout_seconds": 900},
    "import-seed-labels": {"retries": 1, "retry_delay_seconds": 10, "timeout_seconds": 600},
    "ensure-champion": {"retries": 0, "timeout_seconds": 4 * 3600},
}
PER_SITE_TAG = "site:{site}"
CRAWL_TAG = "crawl"
DEFAULT_PARTITION_SIZE = 500

_local = threading.local()


def _extractor() -> Any:
    """One FeatureExtractor per worker thread (spaCy and lingua are loaded once per worker, not per task)."""
    if getattr(_local, "extractor", None) is None:
        from features import FeatureExtractor

        _local.extractor = FeatureExtractor()
    return _local.extractor


# ---------------------------------------------------------------------------------------------- crawling


@task(name="crawl-site-shard", cache_policy=NO_CACHE, task_run_name="crawl-{site}",
      **TASK_POLICIES["crawl-site-shard"])
def crawl_shard_task(site: str, shard_path: str, base_url: str | None) -> dict[str, Any]:
    """Crawl one site into its own shard file (on whichever worker runs this). The crawl subprocess gets the
    task's time limit (a sync task's Prefect timeout cannot interrupt a running subprocess)."""
    limit = float(TASK_POLICIES["crawl-site-shard"]["timeout_seconds"])
    summary = crawl_site(site, Path(shard_path), base_url=base_url, timeout_s=limit)
    return {**asdict(summary), "shard": shard_path}


def merge_shard(db_path: Path | str, shard_path: Path | str, shard_run_id: int) -> dict[str, int]:
    """Copy what one shard crawl run saw into the warehouse: its ``crawl_runs`` row (new id; ``stats.merged_from``
    names the shard run, so merging it again changes nothing), the ads it inserted, updated or confirmed (the same
    upsert as a direct crawl, with the page texts it snapshotted) and its removals."""
    with session(db_path) as con:
        con.execute(f"ATTACH '{Path(shard_path).as_posix()}' AS shard (READ_ONLY)")
        try:
            run = con.execute(
                "SELECT started_at, last_seen_max FROM (SELECT started_at FROM shard.crawl_runs WHERE run_id = $r), "
                "(SELECT max(last_seen) AS last_seen_max FROM shard.ads WHERE last_run_id = $r)",
                {"r": shard_run_id},
            ).fetchall()
            if not run:
                raise LookupError(f"{shard_path} has no crawl run {shard_run_id}")
            started_at, seen_at = run[0]
            origin = f"{Path(shard_path).resolve()}#{shard_run_id}"
            merged_before = con.execute(
                "SELECT run_id FROM crawl_runs WHERE stats->>'merged_from' = $o", {"o": origin}
            ).fetchall()
            if merged_before:  # a retried merge: same run row, and the upsert below changes nothing twice
                new_run = int(merged_before[0][0])
            else:
                new_run = int(
                    con.execute(
                        """
                        INSERT INTO crawl_runs BY NAME
                        SELECT * EXCLUDE (run_id, stats),
                               json_merge_patch(coalesce(stats, '{}'), json_object('merged_from', $o)) AS stats
                        FROM shard.crawl_runs WHERE run_id = $r
                        RETURNING run_id
                        """,
                        {"r": shard_run_id, "o": origin},
                    ).fetchall()[0][0]
                )
            ads = con.execute(
                """
                SELECT site_id, url, title, body, external_id, company, location, country, salary_text,
                       contact_text, page_language, posted
                FROM shard.ads WHERE last_run_id = $r ORDER BY ad_id
                """,
                {"r": shard_run_id},
            ).fetchall()
            page_texts = dict(
                con.execute(
                    "SELECT a.url, arg_max(s.page_text, s.fetched_at) FROM shard.ad_snapshots s "
                    "JOIN shard.ads a ON a.ad_id = s.ad_id WHERE s.run_id = $r GROUP BY a.url",
                    {"r": shard_run_id},
                ).fetchall()
            )
            removed = con.execute(
                "SELECT url, removed_at FROM shard.ads WHERE removed_at IS NOT NULL AND removed_at >= $t",
                {"t": started_at},
            ).fetchall()
        finally:
            con.execute("DETACH shard")
        rows = [
            AdRow(site_id=r[0], url=r[1], title=r[2], body=r[3], external_id=r[4], company=r[5], location=r[6],
                  country=r[7], salary_text=r[8], contact_text=r[9], page_language=r[10], posted=r[11])
            for r in ads
        ]
        result = write_crawl_batch(
            con, rows, run_id=new_run, seen_at=seen_at or datetime.now(), page_texts=page_texts
        )
        for url, removed_at in removed:
            con.execute(
                "UPDATE ads SET removed_at = $t WHERE url = $u AND removed_at IS NULL", {"t": removed_at, "u": url}
            )
    return {"run_id": new_run, "ads": len(rows), "inserted": result.inserted, "updated": result.updated,
            "removed": len(removed)}


@task(name="merge-shard", cache_policy=NO_CACHE, task_run_name="merge-{site}", **TASK_POLICIES["merge-shard"])
def merge_shard_task(db_path: str, site: str, shard_path: str, shard_run_id: int) -> dict[str, int]:
    return merge_shard(db_path, shard_path, shard_run_id)


# ---------------------------------------------------------------------------------------------- features

FeatureRow = tuple[int, str, str, str]  # ad_id, title, body, content_hash


def read_feature_partitions(db_path: Path | str, size: int) -> list[list[FeatureRow]]:
    from pipeline.feature_store import pending_rows

    with session(db_path) as con:
        rows = pending_rows(con)
    return [list(rows[start : start + size]) for start in range(0, len(rows), size)]


@task(name="extract-partition", cache_policy=NO_CACHE, **TASK_POLICIES["extract-partition"])
def extract_partition_task(rows: list[FeatureRow]) -> tuple[list[FeatureRow], list[Any], list[Any]]:
    """Lure features of one partition of ads (runs on a worker; reads and writes nothing): ``(rows extracted, their
    features, failures)``; an ad that raises is a failure, the others go on (``feature_store.extract_batch``)."""
    from pipeline.feature_store import extract_batch

    return extract_batch(_extractor(), rows)


@task(name="write-features", cache_policy=NO_CACHE, **TASK_POLICIES["write-features"])
def write_features_task(
    db_path: str, rows: list[FeatureRow], result: tuple[list[FeatureRow], list[Any], list[Any]]
) -> int:
    """Store a partition's features and record its failures (table ``ad_failures``, retried next run)."""
    from pipeline.feature_store import extractor_version, store_features
    from warehouse.ad_failures import record_failures

    done, found, failed = result
    with session(db_path) as con:
        if done:
            store_features(con, done, list(found))
        record_failures(con, "extract", extractor_version(), failed, [r[0] for r in done])
    return len(done)


# ---------------------------------------------------------------------------------------------- scores

ScoreItem = tuple[int, str, dict[str, float], str]  # ad_id, ad text, lure + cross-ad features, content_hash

PENDING_SCORES_SQL = """
SELECT a.ad_id, a.title, a.body, a.content_hash, f.vector
FROM ads a JOIN features f USING (ad_id)
LEFT JOIN scores s ON s.ad_id = a.ad_id AND s.model_version = ?
WHERE s.ad_id IS NULL OR s.content_hash <> a.content_hash
ORDER BY a.ad_id
"""


def read_score_partitions(db_path: Path | str, model_version: str, size: int) -> list[list[ScoreItem]]:
    """Ads without an up-to-date score from ``model_version``, with everything a worker needs to score them:
    the cross-ad features (shared contacts, template clusters, ...) are read here, where the warehouse is."""
    from pipeline.cross_ad_features import cross_ad_vectors

    with session(db_path) as con:
        rows = con.execute(PENDING_SCORES_SQL, [model_version]).fetchall()
        items: list[ScoreItem] = []
        for start in range(0, len(rows), size):
            batch = rows[start : start + size]
            cross = cross_ad_vectors(con, [int(r[0]) for r in batch])
            items += [
                (int(r[0]), ad_text(r[1], r[2]), {**json.loads(r[4]), **cross.get(int(r[0]), {})}, str(r[3]))
                for r in batch
            ]
    return [items[start : start + size] for start in range(0, len(items), size)]


@task(name="score-partition", cache_policy=NO_CACHE, **TASK_POLICIES["score-partition"])
def score_partition_task(model: Any, items: list[ScoreItem]) -> list[tuple[int, float, str]]:
    """Scores of one partition by ``model`` (the champion as ``pipeline.model_registry.load_champion`` gives it;
    runs on a worker; reads and writes nothing)."""
    from pipeline.score import predict

    scores = predict(model, [item[1] for item in items], [item[2] for item in items])
    return [(item[0], float(s), item[3]) for item, s in zip(items, scores, strict=True)]


@task(name="write-scores", cache_policy=NO_CACHE, **TASK_POLICIES["write-scores"])
def write_scores_task(db_path: str, model_version: str, results: list[tuple[int, float, str]]) -> int:
    table = pa.table(
        {
            "ad_id": pa.array([r[0] for r in results], pa.int64()),
            "score": pa.array([r[1] for r in results], pa.float64()),
            "content_hash": pa.array([r[2] for r in results], pa.string()),
        }
    )
    with session(db_path) as con:
        con.register("_partition_scores", table)
        try:
            con.execute(
                "INSERT OR REPLACE INTO scores (ad_id, model_version, score, content_hash) "
                "SELECT ad_id, ?, score, content_hash FROM _partition_scores",
                [model_version],
            )
        finally:
            con.unregister("_partition_scores")
    return len(results)


# ---------------------------------------------------------------------------------------------- the flow


@flow(name="crawl_and_score_scaled", log_prints=True)
def crawl_and_score_scaled(
    sites: list[str] | None = None,
    base_urls: dict[str, str] | None = None,
    db_path: str | None = None,
    seed_labels: list[tuple[str, str, bool]] | None = None,
    seed_label_source: str = "seed",
    train_if_no_model: bool = True,
    score: bool = True,
    shard_dir: str | None = None,
    partition_size: int = DEFAULT_PARTITION_SIZE,
) -> dict[str, Any]:
    """Crawl sites in parallel into shards and merge them, extract features and score in partitions on the task
    runner's workers. ``sites=None``: every configured site; ``sites=[]``: no crawl (extract and score only)."""
    from crawlers.site_config import load_site_configs
    from flows.crawl_and_score import cross_ad_task, ensure_champion_task, import_seed_labels_task
    from pipeline.model_registry import load_champion

    logger = get_run_logger()
    settings = get_settings(db_path=db_path)
    database = str(settings.database)
    shards = Path(shard_dir) if shard_dir else settings.data_dir / "shards"
    shards.mkdir(parents=True, exist_ok=True)
    chosen = sorted(load_site_configs()) if sites is None else list(sites)

    crawl_futures = [
        crawl_shard_task.with_options(tags={PER_SITE_TAG.format(site=site), CRAWL_TAG}).submit(
            site, str(shards / f"{site}.duckdb"), (base_urls or {}).get(site)
        )
        for site in chosen
    ]
    site_of = {id(future): site for future, site in zip(crawl_futures, chosen, strict=True)}
    crawls: list[dict[str, Any]] = []
    failed: list[str] = []
    for future in as_completed(crawl_futures):
        site = site_of[id(future)]
        try:
            summary = future.result()
        except Exception as exc:  # one site down must not stop the others: report it, fail the run at the end
            logger.error("crawl of %s failed: %s", site, exc)
            failed.append(site)
            continue
        if summary.get("run_id") is not None:
            summary["merged"] = merge_shard_task(database, site, summary["shard"], int(summary["run_id"]))
        crawls.append(summary)
    crawls.sort(key=lambda c: str(c["site"]))

    extracted = 0
    partitions = read_feature_partitions(database, partition_size)
    if _spread_out():
        extract_futures = [extract_partition_task.submit(rows) for rows in partitions]
        rows_of = {id(future): rows for future, rows in zip(extract_futures, partitions, strict=True)}
        for done in as_completed(extract_futures):  # the parent writes each partition as soon as it is ready
            extracted += write_features_task(database, rows_of[id(done)], done.result())
    else:  # no cluster: one extractor, in this process (threads would each load their own models, for no gain)
        for rows in partitions:
            extracted += write_features_task(database, rows, extract_partition_task(rows))
    cross_ad_task.with_options(**TASK_POLICIES["cross-ad-features"])(database)  # clusters, shared contacts: all ads

    imported = import_seed_labels_task.with_options(**TASK_POLICIES["import-seed-labels"])(
        database, seed_labels, seed_label_source
    ) if seed_labels else 0

    version: str | None = None
    scored = 0
    if score:
        version = ensure_champion_task.with_options(**TASK_POLICIES["ensure-champion"])(
            database, settings, train_if_no_model
        )
        with session(database) as con:
            model = load_champion(con)
        if model is None or model.version != version:
            raise RuntimeError(f"champion changed while scoring (expected {version})")
        score_partitions = read_score_partitions(database, version, partition_size)
        if _spread_out():
            score_futures = [score_partition_task.submit(model, part) for part in score_partitions]
            for scored_part in as_completed(score_futures):
                scored += write_scores_task(database, version, scored_part.result())
        else:
            for part in score_partitions:
                scored += write_scores_task(database, version, score_partition_task(model, part))
    if failed:
        raise RuntimeError(f"crawls failed for {failed} (the other sites were merged, extracted and scored)")
    return {
        "database": database,
        "crawls": crawls,
        "extracted": extracted,
        "labels_imported": imported,
        "model_version": version,
        "scored": scored,
    }


def _spread_out() -> bool:
    """Whether this flow run's task runner spreads tasks over other processes (Dask), not threads of this one."""
    from prefect.context import FlowRunContext
    from prefect.task_runners import ThreadPoolTaskRunner

    context = FlowRunContext.get()
    return context is not None and not isinstance(context.task_runner, ThreadPoolTaskRunner)


def dask_runner(address: str | None = None, n_workers: int = 2, threads_per_worker: int = 1) -> Any:
    """A ``DaskTaskRunner`` on an existing scheduler (``address``), or on a local cluster of worker processes."""
    from prefect_dask import DaskTaskRunner

    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": n_workers,
            "threads_per_worker": threads_per_worker,
            "processes": True,
            "dashboard_address": None,
        }
    )


def run_on_dask(address: str | None = None, n_workers: int = 2, **parameters: Any) -> dict[str, Any]:
    """Run :func:`crawl_and_score_scaled` with its tasks on a Dask cluster."""
    scaled = crawl_and_score_scaled.with_options(task_runner=dask_runner(address, n_workers))
    return scaled(**parameters)

