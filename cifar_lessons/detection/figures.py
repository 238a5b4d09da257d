"""The detection chapter's figures (chapter 9): boxes on scenes, IoU, non-maximum suppression, AP per
class."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.figure import Figure

from ..display.plots import show_image
from .metrics import iou


def _box_patch(ax, box, colour, text: str | None = None, dashed: bool = False, fontsize: int = 10) -> None:
    from matplotlib.patches import Rectangle

    x1, y1, x2, y2 = (float(v) for v in box)
    # Pixel (i, j) covers [j - 0.5, j + 0.5] in imshow's coordinates: shift the continuous box by half a
    # pixel.
    ax.add_patch(
        Rectangle(
            (x1 - 0.5, y1 - 0.5),
            x2 - x1,
            y2 - y1,
            fill=False,
            edgecolor=colour,
            linewidth=2.2,
            linestyle="--" if dashed else "-",
        )
    )
    if text:
        # Above the box, unless the box touches the image's top: then inside it, so it is never cut off.
        height = abs(ax.get_ylim()[0] - ax.get_ylim()[1])
        inside = y1 < 0.12 * height
        ax.text(
            x1 - 0.5,
            y1 - 0.5 if inside else y1 - 1,
            text,
            color="white",
            fontsize=fontsize,
            va="top" if inside else "bottom",
            ha="left",
            bbox=dict(facecolor=colour, edgecolor="none", pad=1.2, alpha=0.9),
            clip_on=True,
        )


def detections_grid(
    images: Sequence[np.ndarray],
    detections: Sequence[Mapping],
    class_names: Sequence[str],
    truths: Sequence[Mapping] | None = None,
    titles: Sequence[str] | None = None,
    columns: int = 4,
    size: float = 2.9,
    score_threshold: float = 0.5,
    fontsize: int = 9,
    show_scores: bool = True,
) -> Figure:
    """Scenes with their detections drawn: a coloured box per class, "class score" above it (the chapter
    Detection).

    Only detections scoring at least ``score_threshold`` are drawn. ``truths`` (boxes and labels)
    adds the ground truth as dashed white boxes, so a miss or a loose box shows at a glance.
    """
    colours = sns.color_palette("tab10", len(class_names))
    n = len(images)
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    fig, axes = plt.subplots(
        rows, columns, figsize=(size * columns, size * rows + 0.35 * rows), squeeze=False
    )
    for ax in axes.flat:
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_visible(False)
    for i, (ax, image, det) in enumerate(zip(axes.flat, images, detections)):
        ax.set_visible(True)
        ax.imshow(image, interpolation="nearest")
        if truths is not None:
            for box in np.asarray(truths[i]["boxes"]).reshape(-1, 4):
                _box_patch(ax, box, "white", dashed=True)
        for box, score, label in zip(det["boxes"], det["scores"], det["labels"]):
            if score >= score_threshold:
                text = f"{class_names[int(label)]} {score:.2f}" if show_scores else class_names[int(label)]
                _box_patch(ax, box, colours[int(label) % len(colours)], text, fontsize=fontsize)
        ax.set_xlim(-0.5, image.shape[1] - 0.5), ax.set_ylim(image.shape[0] - 0.5, -0.5)
        if titles is not None:
            ax.set_title(titles[i], fontsize=11)
    fig.tight_layout()
    plt.close(fig)
    return fig


def iou_examples(
    pairs: Sequence[tuple[Sequence[float], Sequence[float]]], size: int = 100, panel: float = 3.0
) -> Figure:
    """Pairs of boxes, the overlap shaded, each titled with its IoU (the chapter Detection)."""
    from matplotlib.patches import Rectangle

    fig, axes = plt.subplots(1, len(pairs), figsize=(panel * len(pairs), panel + 0.5), squeeze=False)
    for ax, (a, b) in zip(axes[0], pairs):
        ax.set_xlim(0, size), ax.set_ylim(size, 0), ax.set_aspect("equal")
        ax.set_xticks([]), ax.set_yticks([])
        for box, colour in ((a, "tab:blue"), (b, "tab:orange")):
            ax.add_patch(
                Rectangle(
                    (box[0], box[1]),
                    box[2] - box[0],
                    box[3] - box[1],
                    facecolor=colour,
                    alpha=0.25,
                    edgecolor=colour,
                    linewidth=2.5,
                )
            )
        x1, y1 = max(a[0], b[0]), max(a[1], b[1])
        x2, y2 = min(a[2], b[2]), min(a[3], b[3])
        if x2 > x1 and y2 > y1:
            ax.add_patch(
                Rectangle((x1, y1), x2 - x1, y2 - y1, facecolor="tab:purple", alpha=0.6, edgecolor="none")
            )
        ax.set_title(f"IoU = {iou(a, b):.2f}", fontsize=15)
    fig.tight_layout()
    plt.close(fig)
    return fig


def nms_before_after(
    image: np.ndarray,
    boxes: np.ndarray,
    scores: np.ndarray,
    kept: Sequence[int],
    titles: tuple[str, str] = ("before NMS", "after NMS"),
    height: float = 4.2,
) -> Figure:
    """The same image with every candidate box, then only the boxes NMS kept (the chapter Detection)."""
    ratio = image.shape[1] / image.shape[0]
    fig, axes = plt.subplots(1, 2, figsize=(2 * height * ratio + 0.4, height + 0.5))
    cmap = plt.get_cmap("viridis")
    span = (float(np.min(scores)), float(np.max(scores))) if len(scores) else (0.0, 1.0)
    for ax, which, title in ((axes[0], range(len(boxes)), titles[0]), (axes[1], kept, titles[1])):
        show_image(ax, image, f"{title}: {len(list(which))} boxes")
        for i in which:
            shade = (scores[i] - span[0]) / ((span[1] - span[0]) or 1.0)
            _box_patch(ax, boxes[i], cmap(0.2 + 0.8 * shade))
    fig.tight_layout()
    plt.close(fig)
    return fig


def ap_bars(per_class: Mapping[str, Mapping[str, float]], title: str | None = None) -> Figure:
    """AP of every class, one bar per run (this build beside the committed record), best classes on top."""
    import pandas as pd

    frame = pd.DataFrame(per_class)
    frame = frame.loc[frame.iloc[:, -1].sort_values().index]
    fig, ax = plt.subplots(figsize=(9, 0.42 * len(frame) + 1.4))
    frame.plot.barh(ax=ax, width=0.8, color=sns.color_palette("deep", frame.shape[1]))
    ax.set_xlim(0, 1)
    ax.set_xlabel("AP@0.5 on held-out scenes", fontsize=12)
    ax.tick_params(labelsize=11)
    handles, labels = ax.get_legend_handles_labels()  # barh stacks the first run lowest: list it last
    ax.legend(handles[::-1], labels[::-1], fontsize=10, loc="lower right")
    if title:
        ax.set_title(title, fontsize=13)
    fig.tight_layout()
    plt.close(fig)
    return fig
