"""Reliability, security and data-protection tests: a bounded hypothesis profile, one realistic warehouse per
session (the real crawl_and_score flow over the fixture sites, ~60 s, copied for every test that changes it), a
quick warehouse of the fixture ads (no crawl, no model) and a throw-away pseudonymisation key."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from rel_support import build_flow_warehouse, build_quick_warehouse

settings.register_profile(
    "reliability",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    print_blob=True,
)
settings.register_profile("reliability-deep", parent=settings.get_profile("reliability"), max_examples=2000)
settings.load_profile(os.environ.get("LUREWATCH_HYPOTHESIS_PROFILE", "reliability"))


@pytest.fixture(scope="session")
def flow_warehouse(tmp_path_factory: pytest.TempPathFactory, fixture_servers: Any) -> Path:
    """The fixture sites crawled, extracted, cross-ad featured, labelled and scored by the real flow (read-only:
    copy it with :func:`warehouse_copy` before changing anything)."""
    return build_flow_warehouse(tmp_path_factory.mktemp("rel-flow"), fixture_servers.base_urls)


@pytest.fixture(scope="session")
def quick_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 371 fixture ads written directly (no crawl) with real features and entities; 60% of them last seen
    100 days ago (read-only)."""
    return build_quick_warehouse(tmp_path_factory.mktemp("rel-quick") / "quick.duckdb")


@pytest.fixture
def pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """A test key in the environment (never a real one: keys are never committed)."""
    key = "test-only-key-" + "0123456789abcdef" * 3
    monkeypatch.setenv("LUREWATCH_PSEUDONYM_KEY", key)
    monkeypatch.delenv("LUREWATCH_PSEUDONYM_KEY_FILE", raising=False)
    return key


@pytest.fixture
def copy_db(tmp_path: Path) -> Iterator[Any]:
    """``copy_db(path)``: a private copy of a session warehouse in this test's folder."""

    def _copy(source: Path, name: str = "lurewatch.duckdb") -> Path:
        target = tmp_path / "copies" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return target

    yield _copy
