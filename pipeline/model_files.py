"""A model's files: ``model.lgb`` (trees), ``text_model.npz`` (ridge weights), ``text_idf.npy``,
``training_keys.npy`` (content keys of the training texts, to keep evaluations off them) and ``meta.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from pipeline.calibration import Calibrator
from pipeline.scoring_model import ScoringModel
from pipeline.text_model import LinearTextModel
from pipeline.text_vectorizer import CONFIG, TextWeights

FORMAT = 2


def save_model(model: ScoringModel, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=False)
    model.booster.save_model(str(folder / "model.lgb"))
    model.text_model.save(folder / "text_model.npz")
    np.save(folder / "text_idf.npy", model.text_weights.idf)
    np.save(folder / "training_keys.npy", np.asarray(model.training_keys, dtype=np.int64))
    meta: dict[str, Any] = {
        "format": FORMAT,
        "structured_names": model.structured_names,
        "text_columns": np.asarray(model.text_columns).tolist(),
        "text_vectorizer": CONFIG,
        "calibrator": model.calibrator.to_dict(),
        "threshold": model.threshold,
        "params": model.params,
        "fingerprint": model.fingerprint,
        "label_watermark": model.label_watermark,
    }
    (folder / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")


def load_model(folder: Path, *, version: str | None = None, metrics: dict[str, Any] | None = None) -> ScoringModel:
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT:
        raise ValueError(f"{folder}: model format {meta.get('format')} is not {FORMAT}; retrain it")
    if meta["text_vectorizer"] != CONFIG:
        raise ValueError(f"{folder}: trained with text settings {meta['text_vectorizer']}, code has {CONFIG}")
    return ScoringModel(
        booster=lgb.Booster(model_file=str(folder / "model.lgb")),
        text_model=LinearTextModel.load(folder / "text_model.npz"),
        text_weights=TextWeights(np.load(folder / "text_idf.npy")),
        structured_names=list(meta["structured_names"]),
        text_columns=np.asarray(meta["text_columns"], dtype=np.int64),
        calibrator=Calibrator.from_dict(meta["calibrator"]),
        threshold=float(meta["threshold"]),
        params=dict(meta["params"]),
        fingerprint=str(meta["fingerprint"]),
        metrics=metrics or {},
        training_keys=np.load(folder / "training_keys.npy"),
        label_watermark=int(meta["label_watermark"]),
        version=version,
    )
