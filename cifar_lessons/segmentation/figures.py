"""The segmentation chapter's figures (chapter 10): the U-Net's shape, training curves and scenes beside
their masks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .classical import otsu_masks
from .config import SegmentConfig
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


def unet_shape(config: SegmentConfig | None = None, channels: int = 1, num_classes: int = 2) -> Figure:
    """The U-Net of :func:`cifar_lessons.segmentation.model.unet` as its letter U (the chapter Segmentation).

    Read from ``config`` (:class:`~cifar_lessons.segmentation.config.SegmentConfig`; its defaults without
    one): the input size, the channels of each level (``filters``) and of the bottleneck. Down the left,
    the encoder: two 3x3 convolutions per level, then a 2x2 max-pool halves the map. Up the right, the
    decoder: a 2x2 transposed convolution doubles it, the skip connection concatenates the encoder's
    map of the same size, two 3x3 convolutions follow. Each block is labelled ``side x side x channels``;
    its height grows with the map's side, its width with the channels.
    """
    from matplotlib.patches import FancyArrowPatch, Rectangle

    config = config or SegmentConfig()
    filters, size = tuple(config.filters), config.size
    levels = len(filters)
    fig, ax = plt.subplots(figsize=(11, 6.4))
    enc_colour, dec_colour, skip_colour = "#a8dadc", "#ffd6a5", "#e76f51"

    def block(x, level, channels_here, colour, text):
        side = size // 2**level
        height = 0.8 + 2.2 * side / size
        width = 0.25 + 0.9 * np.log2(channels_here) / np.log2(max(config.bottleneck, 2))
        y = -1.6 * level
        ax.add_patch(
            Rectangle(
                (x - width / 2, y - height / 2),
                width,
                height,
                facecolor=colour,
                edgecolor="#333333",
                linewidth=1.2,
            )
        )
        ax.text(x, y + height / 2 + 0.08, text, ha="center", va="bottom", fontsize=9)
        return x, y, width, height

    def arrow(start, end, colour="#333333", style="-|>", **kw):
        ax.add_patch(
            FancyArrowPatch(
                start,
                end,
                arrowstyle=style,
                mutation_scale=13,
                color=colour,
                linewidth=1.6,
                shrinkA=2,
                shrinkB=2,
                **kw,
            )
        )

    STEP = 1.5  # noqa: N806 (a constant of the drawing)
    x_in = 0.0
    inp = block(x_in, 0, max(channels, 1), "#eeeeee", f"input\n{size}x{size}x{channels}")
    encoder, decoder = [], []
    for level, f in enumerate(filters):
        side = size // 2**level
        encoder.append(block(1.6 + STEP * level, level, f, enc_colour, f"{side}x{side}x{f}"))
    bottom = block(
        1.6 + STEP * levels,
        levels,
        config.bottleneck,
        "#cdb4db",
        f"{size // 2**levels}x{size // 2**levels}x{config.bottleneck}\nbottleneck",
    )
    for level in reversed(range(levels)):
        side = size // 2**level
        x = 1.6 + STEP * levels + STEP * (levels - level)
        decoder.append(block(x, level, filters[level], dec_colour, f"{side}x{side}x{filters[level]}"))
    decoder = decoder[::-1]  # by level, like the encoder
    out = block(
        decoder[0][0] + 1.6, 0, num_classes, "#b7e4c7", f"output\n{size}x{size}x{num_classes}\nsoftmax"
    )
    arrow((inp[0] + inp[2] / 2, inp[1]), (encoder[0][0] - encoder[0][2] / 2, encoder[0][1]))
    path = encoder + [bottom]
    for a, b in zip(path, path[1:]):  # max-pool down
        arrow((a[0], a[1] - a[3] / 2), (b[0] - b[2] / 2, b[1]), connectionstyle="angle,angleA=-90,angleB=180")
    up = [bottom] + decoder[::-1]
    for a, b in zip(up, up[1:]):  # transposed convolution up
        arrow(
            (a[0] + a[2] / 2, a[1]),
            (b[0], b[1] - b[3] / 2),
            colour="#457b9d",
            connectionstyle="angle,angleA=0,angleB=-90",
        )
    for e, d in zip(encoder, decoder):  # skips, across the U
        arrow((e[0] + e[2] / 2, e[1] + e[3] / 4), (d[0] - d[2] / 2, d[1] + d[3] / 4), colour=skip_colour)
    e = encoder[0]
    ax.text(
        (e[0] + decoder[0][0]) / 2,
        e[1] + e[3] / 4 + 0.08,
        "skip: concatenate",
        ha="center",
        va="bottom",
        fontsize=9,
        color=skip_colour,
    )
    arrow((decoder[0][0] + decoder[0][2] / 2, decoder[0][1]), (out[0] - out[2] / 2, out[1]))
    legend = [
        ("two 3x3 conv, BatchNorm, ReLU", enc_colour),
        ("2x2 max-pool: half the side", "#333333"),
        ("2x2 transposed conv: double it", "#457b9d"),
        ("skip connection", skip_colour),
    ]
    x_legend = decoder[1][0] + 1.2 if levels > 1 else out[0]
    for k, (text, colour) in enumerate(legend):
        y = -1.6 * levels + 0.42 * (len(legend) - k)
        ax.text(x_legend, y, "\u25a0", color=colour, fontsize=12, ha="left", va="center")
        ax.text(x_legend + 0.35, y, text, fontsize=9, ha="left", va="center")
    ax.set_xlim(-1.0, out[0] + 3.6)
    ax.set_ylim(-1.6 * levels - 0.9, 2.6)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(
        f"The U-Net: {levels} levels down ({size} to {size // 2**levels} px), {levels} back up, "
        "with skip connections",
        fontsize=12,
    )
    fig.tight_layout()
    plt.close(fig)
    return fig
