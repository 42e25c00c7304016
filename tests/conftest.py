"""Suite-wide setup: Prefect runs locally with a throw-away home and no telemetry; fixture sites on loopback."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

# Prefect reads its settings when first used: configure it before any test module imports a flow.
_PREFECT_HOME = tempfile.mkdtemp(prefix="lurewatch-prefect-")
os.environ.update(
    {
        "PREFECT_HOME": _PREFECT_HOME,
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_UI_ENABLED": "false",
    }
)


@pytest.fixture(scope="session")
def fixture_servers() -> Iterator[Any]:
    """The three bundled fixture sites on ephemeral 127.0.0.1 ports for the whole session."""
    from fixture_sites import FixtureSites

    with FixtureSites() as sites:
        yield sites
