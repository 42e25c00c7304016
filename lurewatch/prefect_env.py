"""Prefect configuration for a self-contained install: project-local home, no telemetry."""

from __future__ import annotations

import os

from lurewatch.settings import Settings


def configure_prefect(settings: Settings) -> None:
    """Must run before Prefect is first used. Explicit PREFECT_* variables from the operator win."""
    home = settings.data_dir / "prefect"
    home.mkdir(parents=True, exist_ok=True)
    defaults = {
        "PREFECT_HOME": str(home),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_UI_ENABLED": "false",
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
