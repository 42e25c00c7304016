"""Model files on disk plus their registry rows in DuckDB; exactly one champion scores new ads."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import lightgbm as lgb
import numpy as np

from pipeline.train import TrainedModel


@dataclass
class LoadedModel:
    version: str
    booster: lgb.Booster
    structured_names: list[str]
    text_columns: np.ndarray
    threshold: float
    metrics: dict[str, Any]


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


def register(
    con: duckdb.DuckDBPyConnection, model: TrainedModel, models_dir: Path, *, created_by: str, promote: bool
) -> str:
    """Write the model files and its registry row; ``promote`` makes it the champion."""
    version = f"m{datetime.now():%Y%m%d%H%M%S}-{model.fingerprint[:8]}"
    folder = models_dir / version
    folder.mkdir(parents=True, exist_ok=False)
    model.booster.save_model(str(folder / "model.lgb"))
    meta = {
        "structured_names": model.structured_names,
        "text_columns": model.text_columns.tolist(),
        "threshold": model.threshold,
        "params": model.params,
    }
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    con.execute("BEGIN TRANSACTION")
    try:
        if promote:
            con.execute("UPDATE models SET status = 'retired' WHERE status = 'champion'")
        con.execute(
            """
            INSERT INTO models (version, created_by, path, status, training_fingerprint, feature_names, metrics, params)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                version,
                created_by,
                str(folder),
                "champion" if promote else "challenger",
                model.fingerprint,
                json.dumps(model.structured_names),
                json.dumps(_json_safe(model.metrics)),
                json.dumps({**model.params, "threshold": model.threshold}),
            ],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return version


def load(con: duckdb.DuckDBPyConnection, version: str) -> LoadedModel:
    rows = con.execute("SELECT path, metrics FROM models WHERE version = ?", [version]).fetchall()
    if not rows:
        raise LookupError(f"no model {version!r} in the registry")
    folder = Path(rows[0][0])
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    return LoadedModel(
        version=version,
        booster=lgb.Booster(model_file=str(folder / "model.lgb")),
        structured_names=list(meta["structured_names"]),
        text_columns=np.asarray(meta["text_columns"], dtype=np.int64),
        threshold=float(meta["threshold"]),
        metrics=json.loads(rows[0][1]),
    )


def champion_version(con: duckdb.DuckDBPyConnection) -> str | None:
    rows = con.execute("SELECT version FROM models WHERE status = 'champion'").fetchall()
    return str(rows[0][0]) if rows else None


def load_champion(con: duckdb.DuckDBPyConnection) -> LoadedModel | None:
    version = champion_version(con)
    return load(con, version) if version else None
