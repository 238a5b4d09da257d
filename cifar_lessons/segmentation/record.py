"""The U-Net's run record, its run card and the tables the chapter shows from it."""

from __future__ import annotations

import html
import os
from collections.abc import Mapping
from pathlib import Path

from .. import studies
from ..studies import (
    config_of,
    device,
    machine,
    study_record,
    timing,
)
from .config import COMMITTED, FIGURE, SegmentConfig
from .model import SegmentRun
from .scenes import BACKGROUNDS, SceneData


def score_table(runs: Mapping[str, dict]):
    """One row per (method, where from): pixel accuracy, IoU of each class, mIoU."""
    import pandas as pd

    rows = []
    for label, m in runs.items():
        rows.append(
            {
                "method": label,
                "pixel accuracy": f"{m['pixel_accuracy']:.1%}",
                "IoU background": f"{m['iou_per_class']['background']:.3f}",
                "IoU garment": f"{m['iou_per_class']['garment']:.3f}",
                "mean IoU": f"{m['mean_iou']:.3f}",
            }
        )
    return pd.DataFrame(rows)


def background_table(metrics: Mapping, kinds=BACKGROUNDS, committed: Mapping | None = None):
    """Mean IoU by kind of held-out background, U-Net against Otsu (and the committed run's U-Net)."""
    import pandas as pd

    rows = [
        {"method": "Otsu", **{k: f"{metrics['otsu_miou_by_background'][k]:.2f}" for k in kinds}},
        {"method": "U-Net, this build", **{k: f"{metrics['unet_miou_by_background'][k]:.2f}" for k in kinds}},
    ]
    if committed:
        rows.append(
            {
                "method": "U-Net, full size",
                **{k: f"{committed['unet_miou_by_background'][k]:.2f}" for k in kinds},
            }
        )
    return pd.DataFrame(rows)


def record_figure(rec: Mapping):
    """The committed record's figure of held-out scenes (``predictions.png``), for display in the chapter."""
    from IPython.display import Image, Markdown

    if rec.get("figure") is None:
        return Markdown(
            f"(The figure of `results/{rec['name']}` is not in this copy of the results; "
            "the repository has it.)"
        )
    return Image(filename=str(rec["figure"]))


def save_run(
    out: str | os.PathLike,
    config: SegmentConfig,
    data: SceneData,
    run: SegmentRun,
    figure,
    *,
    made_by: dict,
    run_seconds: float,
    overwrite: bool = False,
) -> Path:
    """Write a committable record (:func:`cifar_lessons.studies.save_run`) and :data:`FIGURE`; no model."""
    record = study_record(
        "segmentation",
        "unet",
        config,
        epochs=run.epochs,
        parameters=run.parameters,
        data={
            **data.source,
            "garments": f"Fashion-MNIST, pixels >= {config.threshold} of 255",
            "backgrounds": list(BACKGROUNDS),
            "n_train": len(data.train),
            "n_val": len(data.val),
            "n_test": len(data.test),
        },
        timing=timing(run.seconds, run_seconds),
        made_by=made_by,
    )
    history = {"history": run.history, "epoch_seconds": [round(t, 2) for t in run.epoch_seconds]}
    path = studies.save_run(out, record, history, run.metrics, overwrite=overwrite, what="held-out scores")
    figure.savefig(path / FIGURE, dpi=72)
    return path


def check_record(path: str | os.PathLike) -> dict:
    """A committed record read back, or a one-line :class:`RecordError` saying what is wrong with it;
    with the path of its figure (``None`` in a copy of the results without figures)."""
    rec = studies.check_record(
        path,
        what="segmentation",
        script="measure_segmentation.py",
        kind={"kind": "segmentation"},
        history="val_miou",
        metrics=("unet", "otsu"),
        scores="held-out scores",
    )
    figure = Path(path) / FIGURE
    return {**rec, "figure": figure if figure.exists() else None}


def committed_run(root: str | os.PathLike | None = None) -> dict | None:
    """The committed full-size record, or ``None`` if not measured yet (an incomplete one is an error)."""
    from ..records.committed import committed_record

    return committed_record(COMMITTED, check_record, root)


def run_card(config: SegmentConfig, source: Mapping, record: Mapping | None = None):
    """This chapter's run card: size, scenes, epochs, garments' source, machine, time; a warning below full
    size."""
    env = machine(record)  # its device goes in the line
    rows = [
        (
            "size",
            f"{config.size_name()}: {config.n_train:,} training scenes, {config.n_val:,} to validate, "
            f"{config.n_test:,} held out, {config.size}&times;{config.size} px, {config.epochs} epochs, "
            f"batch {config.batch_size}, seed {config.seed}",
        ),
        (
            "scenes",
            f"Fashion-MNIST garments (pixels &ge; {config.threshold}) on noise, stripes and "
            "scikit-image's brick, grass and gravel photos; binary masks",
        ),
        ("garments", html.escape(source.get("description", ""))),
    ]
    full = SegmentConfig()
    shortfall = (
        f"{config.n_train:,} training scenes and {config.epochs} epochs instead of "
        f"{full.n_train:,} and {full.epochs} (the committed full-size record, at the "
        "end): the U-Net here is half-trained, and its scores are lower."
    )
    line = [
        config.size_name(),
        f"{config.n_train:,} scenes &times; {config.epochs} epochs",
        "official Fashion-MNIST" if source.get("official") else "Fashion-MNIST copy",
        html.escape(device(env)),
    ]
    return studies.run_card(
        config, source, record, rows, shortfall=shortfall, line=line, data_label="Garments"
    )


def record_card(rec: Mapping):
    """The run card of the committed record (as :func:`committed_run` returns it)."""
    r = rec["record"]
    return run_card(config_of(SegmentConfig, r, filters=tuple), r["data"], {**r, "name": rec["name"]})
