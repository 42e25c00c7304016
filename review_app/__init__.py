"""The analysts' review web app: a risk-ranked queue of ads, evidence, decisions with an audit trail, exports."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from review_app.app import create_app
    from review_app.settings import ReviewSettings

__all__ = ["ReviewSettings", "create_app"]


def __getattr__(name: str) -> Any:
    # Lazy, so the CLI can read settings without importing FastAPI and the model code.
    if name == "create_app":
        from review_app.app import create_app

        return create_app
    if name == "ReviewSettings":
        from review_app.settings import ReviewSettings

        return ReviewSettings
    raise AttributeError(f"module 'review_app' has no attribute {name!r}")
