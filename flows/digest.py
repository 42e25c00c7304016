"""The weekly NGO digest as a Prefect flow: per recipient, query → render + archive → e-mail.

Each step is a task with its own retries and timeout; delivery is tagged ``smtp`` (a tag concurrency limit keeps
the mail server from being flooded). Re-running the flow for a week renders nothing new when the inputs did not
change (same fingerprint) and sends nothing twice.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from digest.archive import ArchivedDigest
from digest.config import DigestConfig, Recipient, default_config_path, load_config
from digest.delivery import Delivery
from digest.model import DigestData
from digest.queries import last_complete_week
from lurewatch.settings import get_settings


@task(name="digest-query", retries=2, retry_delay_seconds=30, timeout_seconds=900, cache_policy=NO_CACHE,
      task_run_name="digest-query-{recipient.id}")
def digest_query_task(db_path: str, recipient: Recipient, week: date, parquet_root: str | None) -> DigestData:
    from digest.service import compute

    return compute(db_path, recipient, week, parquet_root=parquet_root)


@task(name="digest-render", retries=1, retry_delay_seconds=10, timeout_seconds=900, cache_policy=NO_CACHE,
      task_run_name="digest-render-{recipient.id}")
def digest_render_task(db_path: str, config: DigestConfig, recipient: Recipient, data: DigestData) -> ArchivedDigest:
    from digest.service import build

    return build(db_path, config, recipient, data)


@task(name="digest-deliver", retries=3, retry_delay_seconds=[10, 60, 300], timeout_seconds=180,
      cache_policy=NO_CACHE, tags=["smtp"], task_run_name="digest-deliver-{recipient.id}")
def digest_deliver_task(db_path: str, config: DigestConfig, recipient: Recipient, digest: ArchivedDigest) -> Delivery:
    from digest.service import deliver

    return deliver(db_path, config, recipient, digest)


@flow(name="weekly_digest", log_prints=True)
def weekly_digest(
    config_path: str | None = None,
    db_path: str | None = None,
    week: date | None = None,
    recipients: list[str] | None = None,
    deliver: bool = True,
    parquet_root: str | None = None,
) -> dict[str, Any]:
    """Build, archive and e-mail the digest of ``week`` (default: the last complete week) for every recipient.

    ``parquet_root`` reads the numbers from a partitioned Parquet export instead of the DuckDB file (the archive
    records still go to the warehouse).
    """
    settings = get_settings(db_path=db_path)
    database = str(settings.database)
    path = Path(config_path) if config_path else default_config_path(settings.data_dir)
    if not path.exists():
        raise FileNotFoundError(
            f"no digest config at {path}: copy digest/recipients.example.yaml there (or pass config_path)"
        )
    config = load_config(path)
    chosen = [config.recipient(r) for r in recipients] if recipients else list(config.recipients)
    week_start = week or last_complete_week(date.today())
    logger = get_run_logger()
    digests: list[dict[str, Any]] = []
    failures: list[str] = []
    for recipient in chosen:
        data = digest_query_task(database, recipient, week_start, parquet_root)
        digest = digest_render_task(database, config, recipient, data)
        entry: dict[str, Any] = {
            "recipient": recipient.id,
            "digest_id": digest.digest_id,
            "fingerprint": digest.fingerprint,
            "folder": str(digest.folder),
            "files": [f.name for f in digest.files],
            "reused": digest.reused,
            "delivery": None,
        }
        if deliver and recipient.emails:
            try:
                result = digest_deliver_task(database, config, recipient, digest)
                entry["delivery"] = result.status
            except Exception as exc:  # every recipient gets its chance before the flow fails
                logger.error("delivery to %s failed: %s", recipient.id, exc)
                entry["delivery"] = "failed"
                failures.append(recipient.id)
        logger.info("digest %s for %s: %s", week_start, recipient.id, entry)
        digests.append(entry)
    if failures:
        raise RuntimeError(f"digest delivery failed for {failures}")
    return {"week": week_start.isoformat(), "database": database, "digests": digests}
