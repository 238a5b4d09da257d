"""The detection chapter's figures (chapter 9): the grid targets, boxes on scenes, IoU, non-maximum
suppression, AP per class."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.figure import Figure

from ..display.plots import show_image
from .config import DetectorConfig
from .metrics import iou
from .targets import encode


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


def grid_targets(
    image: np.ndarray, boxes, labels, config: DetectorConfig, class_names: Sequence[str]
) -> Figure:
    """One scene cut into the detector's grid, and the target :func:`~cifar_lessons.detection.targets.encode`
    makes of it (the chapter Detection).

    Left, the scene with its ``grid x grid`` cells: each box, its centre, the cell holding that centre
    (the one responsible for the object) shaded, and the centre's offset in the cell drawn as two arrows,
    ``dx`` and ``dy`` in cells. Right, the target's objectness grid: 1 in the responsible cells, each
    labelled with its class, 0 everywhere else; under it, each responsible cell's six numbers.
    """
    from matplotlib.patches import FancyArrowPatch, Rectangle

    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    target = encode(boxes, labels, config)
    g, s = config.grid, config.stride
    colours = sns.color_palette("tab10", len(class_names))
    fig, (ax, ax_t) = plt.subplots(1, 2, figsize=(11, 6.2))
    # The scene faded, so that the grid, the cells and the arrows stand out on its texture.
    ax.imshow(image, interpolation="nearest", extent=(0, image.shape[1], image.shape[0], 0), alpha=0.5)
    for k in range(1, g):
        ax.axhline(k * s, color="#444444", linewidth=0.8)
        ax.axvline(k * s, color="#444444", linewidth=0.8)
    rows, cols = np.nonzero(target[..., 0])
    lines = []
    for i, j in zip(rows, cols):
        _, label, dx, dy, log_w, log_h = target[i, j]
        colour = colours[int(label) % len(colours)]
        ax.add_patch(
            Rectangle((j * s, i * s), s, s, facecolor=(*colour, 0.6), edgecolor="black", linewidth=2.5)
        )
        cx, cy = (j + dx) * s, (i + dy) * s
        w, h = np.exp(log_w) * s, np.exp(log_h) * s
        ax.add_patch(Rectangle((cx - w / 2, cy - h / 2), w, h, fill=False, edgecolor=colour, linewidth=2.2))
        for start, end in (((j * s, i * s), (cx, i * s)), ((cx, i * s), (cx, cy))):
            ax.add_patch(
                FancyArrowPatch(
                    start,
                    end,
                    arrowstyle="-|>",
                    mutation_scale=12,
                    color="black",
                    linewidth=2,
                    shrinkA=0,
                    shrinkB=0,
                )
            )
        ax.plot([cx], [cy], "o", color="white", markeredgecolor="black", markersize=5)
        ax.text(
            cx - w / 2,
            cy - h / 2 - 0.6,
            class_names[int(label)],
            color="white",
            fontsize=9,
            va="bottom",
            bbox=dict(facecolor=colour, edgecolor="none", pad=1.2, alpha=0.9),
            clip_on=True,
        )
        lines.append(
            f"cell ({i}, {j}): object 1, class {int(label)} ({class_names[int(label)]}), "
            f"dx {dx:.2f}, dy {dy:.2f}, log w {log_w:.2f}, log h {log_h:.2f}"
        )
    ax.set_xlim(0, image.shape[1]), ax.set_ylim(image.shape[0], 0)
    ax.set_xticks(np.arange(0, image.shape[1] + 1, s)), ax.set_yticks(np.arange(0, image.shape[0] + 1, s))
    ax.tick_params(labelsize=8)
    ax.set_title(
        f"the scene, {image.shape[0]}x{image.shape[1]} px, in a {g}x{g} grid of {s}-px cells\n"
        "shaded: the cell holding a box's centre; arrows: dx, then dy",
        fontsize=10,
    )
    ax_t.imshow(target[..., 0], cmap="Greys", vmin=0, vmax=2.5, interpolation="nearest")
    for (i, j), value in np.ndenumerate(target[..., 0]):
        if value:
            label = int(target[i, j, 1])
            ax_t.text(
                j,
                i,
                f"1\n{class_names[label][:7]}",
                ha="center",
                va="center",
                fontsize=7.5,
                color="white",
                bbox=dict(facecolor=colours[label % len(colours)], edgecolor="none", pad=1),
            )
        else:
            ax_t.text(j, i, "0", ha="center", va="center", fontsize=8, color="#888888")
    ax_t.set_xticks(range(g)), ax_t.set_yticks(range(g))
    ax_t.tick_params(labelsize=8)
    ax_t.set_xlabel("column"), ax_t.set_ylabel("row")
    ax_t.set_title(
        f"the target: objectness per cell ({g}x{g}x{target.shape[-1]} numbers in all)", fontsize=10
    )
    fig.text(0.5, 0.02, "\n".join(lines), ha="center", va="bottom", fontsize=9, family="monospace")
    fig.tight_layout(rect=(0, 0.04 + 0.035 * len(lines), 1, 0.97))
    plt.close(fig)
    return fig
