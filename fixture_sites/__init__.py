"""Bundled fixture job-ad sites (balticjobs, skelbimai, darbas-forum) served locally for crawler tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fixture_sites.server import FixtureSites, load_ads

__all__ = ["FixtureSites", "load_ads"]


def __getattr__(name: str) -> Any:
    # Imported lazily so that ``python -m fixture_sites.server`` does not import the module twice.
    if name in __all__:
        from fixture_sites import server

        return getattr(server, name)
    raise AttributeError(f"module 'fixture_sites' has no attribute {name!r}")
