"""Shared fixtures for features tests (real spaCy pipelines, no mocks)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from features import FeatureExtractor  # noqa: E402


@pytest.fixture(scope="session")
def fx() -> FeatureExtractor:
    """One extractor for the whole session (pipelines are cached per language)."""
    return FeatureExtractor()
