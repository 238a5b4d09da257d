"""The detector's run record and run card: written once at full size, shown by every build."""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path

from .. import studies
from ..studies import (
    config_of,
    study_record,
    timing,
)
from .config import COMMITTED, DetectorConfig
from .model import DetectorRun


def record_dict(
    config: DetectorConfig,
    source: Mapping,
    run: DetectorRun,
    *,
    made_by: dict | None = None,
    run_seconds: float | None = None,
) -> dict:
    """What ``record.json`` says: configuration, scenes, machine, time, what made it."""
    return study_record(
        "detection",
        "small CNN from scratch, grid head",
        config,
        epochs=run.epochs,
        parameters=run.parameters,
        data={
            **dict(source),
            "scenes": f"Fashion-MNIST garments pasted on {config.canvas}x{config.canvas} textured canvases",
            "n_train": config.n_train,
            "n_test": config.n_test,
        },
        timing=timing(run.seconds, run_seconds),
        made_by=made_by,
    )


def save_run(
    out,
    config: DetectorConfig,
    source: Mapping,
    run: DetectorRun,
    *,
    made_by: dict,
    run_seconds: float,
    overwrite: bool = False,
) -> Path:
    """Write a committable record (:func:`cifar_lessons.studies.save_run`): record, history, metrics, no
    model."""
    record = record_dict(config, source, run, made_by=made_by, run_seconds=run_seconds)
    history = {"history": run.history, "epoch_seconds": [round(t, 2) for t in run.epoch_seconds]}
    return studies.save_run(out, record, history, run.metrics, overwrite=overwrite, what="held-out mAP")


def check_record(path) -> dict:
    """A committed record read back, or a one-line :class:`RecordError` saying what is wrong."""
    return studies.check_record(
        path,
        what="detection",
        script="measure_detection.py",
        kind={"kind": "detection"},
        history="loss",
        metrics=("map50",),
        scores="mAP",
    )


def committed_run(root=None) -> dict | None:
    """The committed full-size record, or ``None`` where not measured yet (a broken one is an error)."""
    from ..records.committed import committed_record

    return committed_record(COMMITTED, check_record, root)


def run_card(config: DetectorConfig, source: Mapping, record: Mapping | None = None):
    """The chapter's run card: size, scenes, model, data, machine; a warning off full size."""
    rows = [
        (
            "size",
            f"{config.size_name()}: {config.n_train:,} training scenes, {config.n_test:,} held-out scenes, "
            f"{config.epochs} epochs"
            + (" (new scenes every epoch)" if config.fresh_scenes else "")
            + f", batch {config.batch_size}, seed {config.seed}",
        ),
        (
            "scenes",
            f"{config.min_objects}&ndash;{config.max_objects} Fashion-MNIST garments, "
            f"{config.min_size}&ndash;"
            f"{config.max_size} px, on {config.canvas}&times;{config.canvas} textured canvases",
        ),
        (
            "model",
            f"small CNN trained from scratch (no pretrained weights), stride {config.stride}: "
            f"{config.grid}&times;{config.grid} grid",
        ),
        ("data", html.escape(source["description"])),
    ]
    full = DetectorConfig()
    shortfall = (
        f"{config.n_train:,} training scenes and {config.epochs} epochs instead of "
        f"{full.n_train:,} and {full.epochs} (the committed full-size record, near the "
        "end): the detector here is half-trained, and its mAP is lower."
    )
    line = [
        config.size_name(),
        f"{config.n_train:,} scenes, {config.epochs} epochs",
        "small CNN from scratch",
    ]
    return studies.run_card(config, source, record, rows, shortfall=shortfall, line=line)


def record_card(rec: Mapping):
    """The run card of the committed record (as :func:`committed_run` returns it)."""
    r = rec["record"]
    return run_card(config_of(DetectorConfig, r), r["data"], {**r, "name": rec["name"]})
