"""Model files on disk plus their registry rows in DuckDB; exactly one champion scores new ads.

Status changes are events (``model_events``), so the history of champions can be walked back:
:func:`rollback` retires the current champion (``rolled_back``) and restores the one promoted before it.
"""

from __future__ import annotations

import getpass
import json
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from pipeline.model_files import load_model, save_model
from pipeline.scoring_model import LoadedModel, ScoringModel

__all__ = [
    "LoadedModel",
    "ModelRow",
    "champion_version",
    "current_user",
    "identical_version",
    "list_models",
    "load",
    "load_champion",
    "register",
    "reject",
    "rollback",
    "set_champion",
]


@dataclass(frozen=True)
class ModelRow:
    version: str
    status: str
    created_at: datetime
    created_by: str
    promoted_at: datetime | None
    training_fingerprint: str
    n_train: int | None
    threshold: float | None
    expected_precision: float | None
    parent_version: str | None
    metrics: dict[str, Any]


def current_user(settings: object | None = None) -> str:
    """Who is acting: ``settings.user`` when the settings define one, else the OS user."""
    configured = getattr(settings, "user", None)
    if configured:
        return str(configured)
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def json_safe(value: Any) -> Any:
    """NaN -> null, numpy scalars -> Python numbers, recursively (DuckDB JSON rejects NaN)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def _event(con: duckdb.DuckDBPyConnection, version: str, event: str, actor: str, details: dict[str, Any]) -> None:
    con.execute(
        "INSERT INTO model_events (version, event, actor, details) VALUES (?, ?, ?, ?)",
        [version, event, actor, json.dumps(json_safe(details))],
    )


def _new_version(con: duckdb.DuckDBPyConnection, fingerprint: str) -> str:
    base = f"m{datetime.now():%Y%m%d%H%M%S}-{fingerprint[:8]}"
    taken = {r[0] for r in con.execute("SELECT version FROM models WHERE version LIKE ?", [base + "%"]).fetchall()}
    version, n = base, 1
    while version in taken:
        n += 1
        version = f"{base}-{n}"
    return version


def _stored_params(model: ScoringModel) -> dict[str, Any]:
    """The parameters as the registry stores them (the model's, plus its alert threshold)."""
    return dict(json_safe({**model.params, "threshold": model.threshold}))


def identical_version(con: duckdb.DuckDBPyConnection, model: ScoringModel) -> str | None:
    """A registered version trained on exactly the same data (training fingerprint) with the same parameters (the
    alert threshold included), or None. Registering such a model again would only add an identical row."""
    wanted = json.loads(json.dumps(_stored_params(model)))
    rows = con.execute(
        "SELECT version, params FROM models WHERE training_fingerprint = ? ORDER BY created_at, version",
        [model.fingerprint],
    ).fetchall()
    for version, params in rows:
        if params is not None and json.loads(params) == wanted:
            return str(version)
    return None


def register(
    con: duckdb.DuckDBPyConnection,
    model: ScoringModel,
    models_dir: Path,
    *,
    created_by: str,
    promote: bool,
    parent_version: str | None = None,
) -> str:
    """Write the model files and its registry row (a challenger); ``promote`` makes it the champion at once.

    Promotion after a fair comparison is :func:`pipeline.champion.decide`; ``promote=True`` is for the first
    model and for an operator who overrides the comparison.
    """
    version = _new_version(con, model.fingerprint)
    folder = models_dir / version
    save_model(model, folder)
    budget = model.metrics.get("threshold", {})
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            """
            INSERT INTO models (version, created_by, path, status, training_fingerprint, feature_names, metrics,
                                params, threshold, review_budget, expected_precision, n_train, label_watermark,
                                parent_version)
            VALUES (?, ?, ?, 'challenger', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                version,
                created_by,
                str(folder.resolve()),
                model.fingerprint,
                json.dumps(model.structured_names),
                json.dumps(json_safe(model.metrics)),
                json.dumps(_stored_params(model)),
                model.threshold,
                budget.get("review_budget"),
                json_safe(budget.get("expected_precision")),
                len(model.training_keys),
                model.label_watermark,
                parent_version,
            ],
        )
        _event(con, version, "registered", created_by, {"fingerprint": model.fingerprint})
        if promote:
            _make_champion(con, version, created_by, {"reason": "promoted on registration"})
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    model.version = version
    return version


def _make_champion(con: duckdb.DuckDBPyConnection, version: str, actor: str, details: dict[str, Any]) -> None:
    """Inside a transaction: retire the current champion (if another) and promote ``version``."""
    current = champion_version(con)
    if current == version:
        return
    if current is not None:
        con.execute("UPDATE models SET status = 'retired' WHERE version = ?", [current])
        _event(con, current, "retired", actor, {"replaced_by": version})
    con.execute("UPDATE models SET status = 'champion', promoted_at = now() WHERE version = ?", [version])
    _event(con, version, "promoted", actor, {**details, "previous_champion": current})


def set_champion(con: duckdb.DuckDBPyConnection, version: str, actor: str, reason: str) -> None:
    _require(con, version)
    con.execute("BEGIN TRANSACTION")
    try:
        _make_champion(con, version, actor, {"reason": reason})
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def reject(con: duckdb.DuckDBPyConnection, version: str, actor: str, reason: str) -> None:
    """A challenger that lost its comparison: kept on disk and in the registry, never scores new ads."""
    _require(con, version)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("UPDATE models SET status = 'rejected' WHERE version = ? AND status = 'challenger'", [version])
        _event(con, version, "rejected", actor, {"reason": reason})
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def rollback(con: duckdb.DuckDBPyConnection, actor: str) -> tuple[str, str]:
    """Put the previous champion back. Returns ``(rolled_back_version, restored_version)``.

    The previous champion is the most recently promoted model other than the current one that was not
    itself rolled back; rolling back twice therefore walks two steps back.
    """
    current = champion_version(con)
    if current is None:
        raise LookupError("no champion to roll back")
    rows = con.execute(
        """
        SELECT e.version FROM model_events e JOIN models m USING (version)
        WHERE e.event = 'promoted' AND e.version <> ? AND m.status <> 'rolled_back'
        ORDER BY e.event_id DESC LIMIT 1
        """,
        [current],
    ).fetchall()
    if not rows:
        raise LookupError(f"{current} is the only model that was ever champion: nothing to roll back to")
    previous = str(rows[0][0])
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("UPDATE models SET status = 'rolled_back' WHERE version = ?", [current])
        _event(con, current, "rolled_back", actor, {"restored": previous})
        con.execute("UPDATE models SET status = 'champion', promoted_at = now() WHERE version = ?", [previous])
        _event(con, previous, "promoted", actor, {"reason": f"rollback of {current}", "previous_champion": current})
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return current, previous


def _require(con: duckdb.DuckDBPyConnection, version: str) -> Path:
    rows = con.execute("SELECT path FROM models WHERE version = ?", [version]).fetchall()
    if not rows:
        raise LookupError(f"no model {version!r} in the registry")
    return Path(rows[0][0])


def load(con: duckdb.DuckDBPyConnection, version: str) -> ScoringModel:
    folder = _require(con, version)
    metrics = json.loads(con.execute("SELECT metrics FROM models WHERE version = ?", [version]).fetchall()[0][0])
    return load_model(folder, version=version, metrics=metrics)


def champion_version(con: duckdb.DuckDBPyConnection) -> str | None:
    rows = con.execute("SELECT version FROM models WHERE status = 'champion'").fetchall()
    return str(rows[0][0]) if rows else None


def load_champion(con: duckdb.DuckDBPyConnection) -> ScoringModel | None:
    version = champion_version(con)
    return load(con, version) if version else None


def list_models(con: duckdb.DuckDBPyConnection) -> list[ModelRow]:
    rows = con.execute(
        """
        SELECT version, status, created_at, created_by, promoted_at, training_fingerprint, n_train, threshold,
               expected_precision, parent_version, metrics
        FROM models ORDER BY created_at, version
        """
    ).fetchall()
    return [ModelRow(*r[:10], json.loads(r[10]) if r[10] else {}) for r in rows]
