"""The main job: crawl sites, extract lure features, make sure a champion model exists, score new ads."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task

from crawlers.run import crawl_site
from crawlers.site_config import load_site_configs
from features import FeatureExtractor
from lurewatch.settings import Settings, get_settings
from pipeline.cross_ad_features import compute_cross_ad_features
from pipeline.feature_store import extract_pending_at
from pipeline.label_import import import_labels
from pipeline.model_registry import champion_version, load_champion
from pipeline.reference_data import reference_examples
from pipeline.retraining import read_training_set, register_and_decide, train_challenger
from pipeline.score import score_pending_at
from warehouse import connect, session

CRAWL_TIMEOUT_S = 1800


@task(name="crawl-site", retries=1, retry_delay_seconds=5, task_run_name="crawl-{site}", tags=["crawl"])
def crawl_site_task(site: str, db_path: str, base_url: str | None) -> dict[str, Any]:
    # The subprocess enforces the time limit: Prefect cannot interrupt a running synchronous task.
    summary = crawl_site(site, Path(db_path), base_url=base_url, timeout_s=CRAWL_TIMEOUT_S)
    get_run_logger().info("crawled %s: %s", site, summary)
    return asdict(summary)


@task(name="extract-features", retries=1, timeout_seconds=3600)
def extract_task(db_path: str) -> int:
    """Features of new or changed ads, committed in batches (the warehouse is free between them); an ad that fails
    is recorded in ad_failures and retried next run, the others go on."""
    settings = get_settings(db_path=db_path)
    run = extract_pending_at(
        db_path, FeatureExtractor(), fault_marker=settings.fault_extract_marker, lock_timeout_s=settings.lock_timeout_s
    )
    if run.failures:
        get_run_logger().warning("%d ads failed extraction; first: %s", len(run.failures), run.failures[0].error)
    return run.extracted


@task(name="cross-ad-features", retries=1, timeout_seconds=1800)
def cross_ad_task(db_path: str) -> int:
    """Shared contacts, near-duplicate template clusters, posting velocity, salary z-scores (all ads)."""
    con = connect(db_path)
    try:
        return compute_cross_ad_features(con)
    finally:
        con.close()


@task(name="import-seed-labels")
def import_seed_labels_task(db_path: str, labels: list[tuple[str, str, bool]], source: str) -> int:
    con = connect(db_path)
    try:
        return import_labels(con, labels, source=source, analyst=f"{source}-import")
    finally:
        con.close()


@task(name="ensure-champion")
def ensure_champion_task(db_path: str, settings: Settings, allow_training: bool) -> str:
    """Return the champion model version, training a first model if there is none.

    The warehouse is open only to read the training set and to register the model, never while it trains,
    so the review app and crawls can use it meanwhile. The frozen evaluation rows stay out of training.
    """
    with session(db_path) as con:
        version = champion_version(con)
    if version is not None:
        return version
    if not allow_training:
        raise RuntimeError("no champion model in the registry: run `lurewatch train` first")
    extractor = FeatureExtractor()
    reference = reference_examples(settings.training_corpus_dir, settings.shared_data_dir)
    data = read_training_set(Path(db_path), settings.emscad_train_csv, reference=reference)
    model = train_challenger(data, extractor, seed=settings.random_seed, folds=5, review_budget=settings.review_budget,
                             weekly_volume=settings.weekly_volume, prevalence=settings.prevalence)
    report = register_and_decide(
        Path(db_path), model, data, extractor, models_dir=settings.models, actor="crawl_and_score"
    )
    if not report.promoted:
        raise RuntimeError(f"first model {report.version} was not promoted: {report.reason}")
    return report.version


@task(name="score-ads", retries=1, timeout_seconds=1800)
def score_task(db_path: str, model_version: str) -> int:
    settings = get_settings(db_path=db_path)
    with session(db_path, lock_timeout_s=settings.lock_timeout_s) as con:
        model = load_champion(con)
    if model is None or model.version != model_version:
        raise RuntimeError(f"champion changed while scoring (expected {model_version})")
    run = score_pending_at(
        db_path, model, fault_marker=settings.fault_score_marker, lock_timeout_s=settings.lock_timeout_s
    )
    if run.failures:
        get_run_logger().warning("%d ads failed scoring; first: %s", len(run.failures), run.failures[0].error)
    return run.scored


@flow(name="crawl_and_score", log_prints=True)
def crawl_and_score(
    sites: list[str] | None = None,
    base_urls: dict[str, str] | None = None,
    db_path: str | None = None,
    seed_labels: list[tuple[str, str, bool]] | None = None,
    seed_label_source: str = "seed",
    train_if_no_model: bool = True,
) -> dict[str, Any]:
    """Crawl (one site after another: the warehouse has a single writer), extract, score.

    ``sites`` defaults to the sites named in ``base_urls`` when given (a run against local copies of sites),
    else every configured site. ``seed_labels`` are ``(site, external_id, is_lure)`` ground truth imported
    before a first model is trained.
    """
    settings = get_settings(db_path=db_path)
    database = str(settings.database)
    chosen = sites or sorted(base_urls or load_site_configs())
    crawls = [
        crawl_site_task.with_options(tags={"crawl", f"site:{site}"})(site, database, (base_urls or {}).get(site))
        for site in chosen
    ]
    extracted = extract_task(database)
    cross_ad_task(database)
    imported = import_seed_labels_task(database, seed_labels, seed_label_source) if seed_labels else 0
    version = ensure_champion_task(database, settings, train_if_no_model)
    scored = score_task(database, version)
    return {
        "database": database,
        "crawls": crawls,
        "extracted": extracted,
        "labels_imported": imported,
        "model_version": version,
        "scored": scored,
    }
