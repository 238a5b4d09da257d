"""Grad-CAM's figures (chapter 8, Where the classifier looks): images above or beside their overlays.

They import TensorFlow (the overlay's colour map is drawn by :func:`cifar_lessons.gradcam.method.overlay`);
the recipe's figures, in :mod:`cifar_lessons.display.plots`, need none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .method import overlay


def grad_cam_grid(
    images: np.ndarray,
    heatmaps: np.ndarray,
    titles: Sequence[str] | None = None,
    alpha: float = 0.4,
    columns: int = 8,
    size: float = 1.6,
) -> Figure:
    """Each image above its Grad-CAM overlay, ``columns`` images a row (Where the classifier looks).

    ``images`` are the raw ``uint8`` pictures (not the preprocessed ones the model took) and
    ``heatmaps`` what :func:`cifar_lessons.gradcam.method.grad_cam` returned for them; the titles go
    above each pair, e.g. "cat (dog 0.91)".
    """
    images, heatmaps = np.asarray(images), np.asarray(heatmaps)
    if len(images) != len(heatmaps) or (titles is not None and len(titles) != len(images)):
        raise ValueError("one heatmap (and one title, if any) per image")
    n = len(images)
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    painted = overlay(images, heatmaps, alpha=alpha)
    fig, axes = plt.subplots(
        2 * rows, columns, figsize=(size * columns, 2 * size * rows + 0.3 * rows), squeeze=False
    )
    for ax in axes.flat:
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_visible(False)
    for i in range(n):
        top, bottom = axes[2 * (i // columns), i % columns], axes[2 * (i // columns) + 1, i % columns]
        for ax, picture in ((top, images[i]), (bottom, painted[i])):
            ax.set_visible(True)
            ax.imshow(picture, interpolation="nearest")
        if titles is not None:
            top.set_title(titles[i], fontsize=9)
    fig.tight_layout()
    plt.close(fig)
    return fig


def grad_cam_rows(
    images: np.ndarray,
    maps: Mapping[str, np.ndarray],
    titles: Sequence[str] | None = None,
    alpha: float = 0.45,
    size: float = 1.35,
    title: str | None = None,
) -> Figure:
    """Images in the top row, and under each one a row of overlays per named set of maps (Where the
    classifier looks): e.g. the map of the predicted class, then of the true class.

    ``maps`` is an ordered mapping from a row label to heatmaps, one per image; the labels go on the
    left of their rows.
    """
    images = np.asarray(images)
    if any(len(m) != len(images) for m in maps.values()) or (
        titles is not None and len(titles) != len(images)
    ):
        raise ValueError("one heatmap per image in every row (and one title, if any, per image)")
    n, rows = len(images), 1 + len(maps)
    fig, axes = plt.subplots(
        rows, n, figsize=(size * n + 1.0, size * rows + (0.6 if titles else 0.2)), squeeze=False
    )
    pictures = [images] + [overlay(images, np.asarray(m), alpha=alpha) for m in maps.values()]
    labels = ["image"] + list(maps)
    for r in range(rows):
        for i in range(n):
            ax = axes[r, i]
            ax.imshow(pictures[r][i], interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            if i == 0:
                ax.set_ylabel(labels[r], fontsize=10)
            if r == 0 and titles is not None:
                ax.set_title(titles[i], fontsize=9)  # "pred: automobile 100%" fits one column
    if title:
        fig.suptitle(title, fontsize=12)
    fig.tight_layout()
    plt.close(fig)
    return fig
