"""Run records: one folder per run that says exactly what was computed, from what, and how.

Taught in chapter 6 (takeaways), and used by chapters 3-5 to share one run. A record holds
``record.json`` (configuration, data source and its sha256, weights, environment, timing),
``history.json``, ``metrics.json`` (once evaluated), ``model.keras`` and, once evaluated,
``predictions.npz``. A record is written into a temporary sibling folder and renamed into
place, so a crash never leaves a half-written record where a reader would find it.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np

from .errors import RecordError

RECORD_FILES = ("record.json", "history.json", "model.keras")


def environment() -> dict:
    """Package versions and the device, so a figure can be traced to the machine that made it."""
    import tensorflow as tf

    versions = {}
    for pkg in ("cifar-lessons", "tensorflow", "keras", "numpy", "scikit-learn"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        device = f"GPU: {details.get('device_name', gpus[0].name)}"
    else:
        device = f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    return {"python": platform.python_version(), "packages": versions, "device": device,
            "platform": platform.platform()}


@dataclass
class RunRecord:
    """A run record loaded back from disk. The model is loaded only when asked for."""

    path: Path
    record: dict
    history: dict
    metrics: dict | None

    @property
    def config(self) -> dict:
        return self.record["config"]

    @property
    def data(self) -> dict:
        return self.record["data"]

    @property
    def weights(self) -> dict:
        return self.record["weights"]

    def load_model(self):
        import keras

        return keras.models.load_model(self.path / "model.keras")

    def predictions(self) -> np.ndarray:
        path = self.path / "predictions.npz"
        if not path.exists():
            raise RecordError(f"record {self.path} has no predictions (it was not evaluated)")
        with np.load(path) as f:
            return f["probabilities"]


def check_free(out: str | os.PathLike, overwrite: bool = False) -> Path:
    """Refuse an existing output folder unless ``overwrite``; call this before a long run."""
    out = Path(out)
    if out.exists() and not overwrite:
        raise RecordError(f"output folder {out} already exists; choose another or pass --overwrite")
    if out.exists() and not out.is_dir():
        raise RecordError(f"output path {out} exists and is not a folder")
    return out


def save_record(
    out: str | os.PathLike,
    *,
    record: dict,
    history: dict,
    model,
    metrics: dict | None = None,
    probabilities: np.ndarray | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a record atomically: into a temporary sibling folder, then renamed into place."""
    out = check_free(out, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {**record, "written": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        (tmp / "record.json").write_text(json.dumps(record, indent=2))
        (tmp / "history.json").write_text(json.dumps(history, indent=2))
        if metrics is not None:
            (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2))
        if probabilities is not None:
            np.savez_compressed(tmp / "predictions.npz", probabilities=probabilities.astype(np.float32))
        _save_without_optimizer(model, tmp / "model.keras")
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / out.name)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _save_without_optimizer(model, path: Path) -> None:
    """Save architecture and weights only: Adam's two moment copies would triple the file
    (about 290 MB instead of 95 MB for ResNet50), and every phase recompiles anyway."""
    import keras

    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    clone.save(path)


def load_record(path: str | os.PathLike) -> RunRecord:
    """Read a record back; a missing or incomplete folder gets a clear :class:`RecordError`."""
    path = Path(path)
    if not path.is_dir():
        raise RecordError(f"no run record at {path}")
    missing = [f for f in RECORD_FILES if not (path / f).exists()]
    if missing:
        raise RecordError(f"run record {path} is incomplete: missing {', '.join(missing)}")
    try:
        record = json.loads((path / "record.json").read_text())
        history = json.loads((path / "history.json").read_text())
        metrics_path = path / "metrics.json"
        metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else None
    except json.JSONDecodeError as exc:
        raise RecordError(f"run record {path} is corrupt: {exc}") from exc
    return RunRecord(path=path, record=record, history=history, metrics=metrics)


def find_records(root: str | os.PathLike) -> list[RunRecord]:
    """Every complete, evaluated record below ``root`` (for results tables), oldest first."""
    root = Path(root)
    found = []
    for rec in sorted(root.rglob("record.json")) if root.is_dir() else []:
        if rec.parent.name.startswith("."):
            continue
        try:
            r = load_record(rec.parent)
        except RecordError:
            continue
        if r.metrics is not None:
            found.append(r)
    return sorted(found, key=lambda r: r.record.get("written", ""))
