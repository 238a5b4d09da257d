"""The segmentation chapter's figures (chapter 10): training curves and scenes beside their masks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .classical import otsu_masks
from .model import SegmentRun, per_scene_iou
from .scenes import SceneData


def segmentation_curves(
    histories: Mapping[str, dict], metrics: Sequence[str] = ("loss", "accuracy", "miou")
) -> Figure:
    """Loss, pixel accuracy and mean IoU, training against validation, one row per run (chapter Segmentation).

    ``histories`` maps a row's title (say "this build, quick") to a Keras history dict with
    ``loss``, ``accuracy``, ``miou`` and their ``val_`` twins.
    """
    names = {"loss": "loss (cross-entropy per pixel)", "accuracy": "pixel accuracy", "miou": "mean IoU"}
    fig, axes = plt.subplots(
        len(histories), len(metrics), figsize=(4.2 * len(metrics), 3.4 * len(histories) + 0.2), squeeze=False
    )
    for row, (title, hist) in zip(axes, histories.items()):
        epochs = np.arange(1, len(hist["loss"]) + 1)
        for ax, metric in zip(row, metrics):
            ax.plot(epochs, hist[metric], "o-", color="tab:blue", label="training")
            if f"val_{metric}" in hist:
                ax.plot(epochs, hist[f"val_{metric}"], "s-", color="tab:orange", lw=2, label="validation")
            ax.set_title(f"{names.get(metric, metric)}\n{title}", fontsize=14)
            ax.set_xlabel("epoch", fontsize=13)
            ax.tick_params(labelsize=12)
            ax.xaxis.get_major_locator().set_params(integer=True)
            ax.grid(alpha=0.3)
        row[-1].legend(fontsize=12, loc="lower right")
    fig.tight_layout()
    plt.close(fig)
    return fig


def segmentation_grid(
    images: np.ndarray,
    rows: Mapping[str, np.ndarray],
    titles: Sequence[str] | None = None,
    size: float = 1.7,
    title: str | None = None,
) -> Figure:
    """Scenes in the top row and, under each, its masks, one row per key (chapter Segmentation).

    ``rows`` maps a row's name ("true mask", "U-Net", "Otsu") to masks of the scenes' shape; a
    mask is drawn white on black. ``titles`` go above the scenes (e.g. each scene's IoU).
    """
    images = np.asarray(images)
    n = len(images)
    fig, axes = plt.subplots(
        1 + len(rows),
        n,
        figsize=(size * n + 1.4, size * (1 + len(rows)) + 0.4 + (0.3 if title else 0)),
        squeeze=False,
    )
    for c in range(n):
        axes[0, c].imshow(images[c], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        if titles is not None:
            axes[0, c].set_title(titles[c], fontsize=13)
        for r, masks in enumerate(rows.values(), 1):
            axes[r, c].imshow(np.asarray(masks[c]), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    for ax in axes.flat:
        ax.set_xticks([]), ax.set_yticks([])
    for r, label in enumerate(["scene", *rows]):
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=14)
    if title:
        fig.suptitle(title, fontsize=15)
    fig.tight_layout()
    plt.close(fig)
    return fig


def examples(pred: np.ndarray, target: np.ndarray, good: int = 4, worst: int = 4) -> list[int]:
    """Indices of scenes to show: ``good`` typical ones (spread over the better half) and the ``worst``."""
    iou = per_scene_iou(pred, target)
    order = np.argsort(iou, kind="stable")  # worst first
    better_half = order[len(order) // 2 :]
    picks = better_half[np.linspace(0, len(better_half) - 1, good).astype(int)] if good else []
    return [int(i) for i in picks] + [int(i) for i in order[:worst]]


def predictions_figure(
    data: SceneData, run: SegmentRun, good: int = 4, worst: int = 4, title: str | None = None
):
    """Held-out scenes with their true, U-Net and Otsu masks: ``good`` typical ones, then the ``worst``."""
    picks = examples(run.predictions, data.test.masks, good, worst)
    iou = per_scene_iou(run.predictions, data.test.masks)
    titles = [f"{'worst' if k >= good else 'good'}: IoU {iou[i]:.2f}" for k, i in enumerate(picks)]
    otsu = otsu_masks(data.test.images[picks])
    return segmentation_grid(
        data.test.images[picks],
        {"true mask": data.test.masks[picks], "U-Net": run.predictions[picks], "Otsu": otsu},
        titles,
        title=title,
    )
