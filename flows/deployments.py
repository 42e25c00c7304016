"""lurewatch as a service: Prefect deployments with schedules, tag concurrency limits, and serving them.

=====================  ==========================  =====================================  ===========================
deployment             flow                        schedule (Europe/Riga by default)      what it does
=====================  ==========================  =====================================  ===========================
crawl-and-score/daily  ``crawl_and_score_scaled``  ``0 3 * * *``  every day 03:00        crawl every site, extract,
                                                                                          score new ads
weekly-digest/weekly   ``weekly_digest``           ``0 7 * * 1``  Mondays 07:00          NGO digest of the week
                                                                                          before, archived + e-mailed
retrain/monthly        ``retrain``                 ``0 4 1 * *``  1st of the month 04:00  retrain and evaluate
=====================  ==========================  =====================================  ===========================

Every task has its retries and timeout (``flows.scale_out.TASK_POLICIES``, ``flows.digest``); tag concurrency
limits (:func:`concurrency_limits`) allow one crawl per site at a time (``site:<name>``), ``crawl_limit`` crawls
at once on the machine (``crawl``) and one SMTP conversation at a time (``smtp``).

``lurewatch service start`` runs ``prefect server start`` on 127.0.0.1 and serves these deployments
(:func:`serve_service`); see ``lurewatch/cli_service.py``.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prefect.schedules import Cron
from prefect.types.entrypoint import EntrypointType

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment
    from prefect.flows import Flow


TIMEZONE = "Europe/Riga"


@dataclass(frozen=True, slots=True)
class ServiceOptions:
    db_path: str | None = None
    digest_config: str | None = None
    dask_address: str | None = None  # run extraction and scoring on this Dask scheduler
    timezone: str = TIMEZONE
    crawl_cron: str = "0 3 * * *"  # daily
    digest_cron: str = "0 7 * * 1"  # weekly, Monday morning: the week before
    retrain_cron: str = "0 4 1 * *"  # monthly
    per_site_limit: int = 1
    crawl_limit: int = 2
    smtp_limit: int = 1


def _sync(deployment: RunnerDeployment | Coroutine[Any, Any, RunnerDeployment]) -> RunnerDeployment:
    """``to_deployment`` is typed sync-or-async; called outside an event loop it returns the deployment."""
    if inspect.iscoroutine(deployment):
        return asyncio.run(deployment)
    return deployment  # type: ignore[return-value]


def _parameters(flow: Flow[..., Any], **candidates: Any) -> dict[str, Any]:
    """The candidate parameters the flow accepts and that are set."""
    accepted = inspect.signature(flow.fn).parameters
    return {k: v for k, v in candidates.items() if k in accepted and v is not None}


def crawl_deployment(options: ServiceOptions) -> RunnerDeployment:
    from flows.scale_out import crawl_and_score_scaled, dask_runner

    flow = crawl_and_score_scaled
    if options.dask_address:
        flow = flow.with_options(task_runner=dask_runner(options.dask_address))
    return _sync(flow.to_deployment(
        name="daily",
        schedules=[Cron(options.crawl_cron, timezone=options.timezone)],
        parameters=_parameters(flow, db_path=options.db_path),
        tags=["lurewatch", "crawl"],
        description="Crawl every configured site (in parallel, into shards), extract lure features, score new ads.",
        entrypoint_type=EntrypointType.MODULE_PATH,
    ))


def digest_deployment(options: ServiceOptions) -> RunnerDeployment:
    from flows.digest import weekly_digest

    return _sync(weekly_digest.to_deployment(
        name="weekly",
        schedules=[Cron(options.digest_cron, timezone=options.timezone)],
        parameters=_parameters(weekly_digest, db_path=options.db_path, config_path=options.digest_config),
        tags=["lurewatch", "digest"],
        description="The NGO digest of the last complete week: archived, then e-mailed to every recipient.",
        entrypoint_type=EntrypointType.MODULE_PATH,
    ))


def retrain_deployment(options: ServiceOptions) -> RunnerDeployment:
    from flows.retrain import retrain

    return _sync(retrain.to_deployment(
        name="monthly",
        schedules=[Cron(options.retrain_cron, timezone=options.timezone)],
        parameters=_parameters(retrain, db_path=options.db_path),
        tags=["lurewatch", "retrain"],
        description="Retrain the scorer on the latest labels and evaluate it against the champion.",
        entrypoint_type=EntrypointType.MODULE_PATH,
    ))


def build_deployments(options: ServiceOptions) -> list[RunnerDeployment]:
    return [crawl_deployment(options), digest_deployment(options), retrain_deployment(options)]


def concurrency_limits(options: ServiceOptions, sites: list[str]) -> dict[str, int]:
    """Tag -> limit: one crawl per site at a time, ``crawl_limit`` crawls on the machine, one SMTP session."""
    from flows.scale_out import CRAWL_TAG, PER_SITE_TAG

    limits = {PER_SITE_TAG.format(site=site): options.per_site_limit for site in sites}
    limits[CRAWL_TAG] = options.crawl_limit
    limits["smtp"] = options.smtp_limit
    return limits


async def apply_concurrency_limits(limits: dict[str, int]) -> None:
    """Create or update the tag concurrency limits on the Prefect API in use."""
    from prefect import get_client

    async with get_client() as client:
        for tag, limit in sorted(limits.items()):
            await client.create_concurrency_limit(tag=tag, concurrency_limit=limit)


def configured_sites() -> list[str]:
    from crawlers.site_config import load_site_configs

    return sorted(load_site_configs())


def serve_service(options: ServiceOptions, *, limit: int | None = 4) -> None:
    """Register the deployments and their concurrency limits with the Prefect API, then run their flows when
    they are due (blocks until interrupted). ``limit``: flow runs at once."""
    from prefect import serve

    asyncio.run(apply_concurrency_limits(concurrency_limits(options, configured_sites())))
    serve(*build_deployments(options), limit=limit, pause_on_shutdown=False)
