"""Concept figures: the ideas the chapters teach, drawn as diagrams rather than measured.

- :func:`kernel_sliding`: a 3x3 kernel over an image patch, the cross-correlation sum written out
  (Seeing images);
- :func:`residual_block`: ``x -> conv-BN-ReLU -> conv-BN -> (+ x) -> ReLU`` as boxes and arrows
  (The architecture);
- :func:`two_phase_recipe`: what is frozen in each phase and at which learning rate, read from a
  profile in :mod:`cifar_lessons.config` (Training the head);
- :func:`feature_maps`: one image, the base's first-layer filters and its feature maps, drawn from
  arrays that :func:`cifar_lessons.models.feature_maps` computes (The architecture).

The detector's grid targets and the U-Net's shape need their study's code, so they are drawn in
:func:`cifar_lessons.detection.figures.grid_targets` and
:func:`cifar_lessons.segmentation.figures.unet_shape`.
Like :mod:`~cifar_lessons.display.plots`, each function returns a closed figure, and nothing here
imports TensorFlow or a study.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import ConnectionPatch, FancyArrowPatch, FancyBboxPatch, Rectangle

from ..config import PROFILES, RunConfig

#: Colours shared by the diagrams: what trains, what is frozen, and the highlight.
TRAINS = "#2a9d8f"
FROZEN = "#b8c0c8"
HIGHLIGHT = "#e76f51"


def _number_grid(
    ax,
    values: np.ndarray,
    title: str,
    cmap: str = "Greys_r",
    fmt: str = "{:g}",
    vmin: float | None = None,
    vmax: float | None = None,
) -> None:
    """A small array as coloured cells with its numbers written in them."""
    values = np.asarray(values, dtype=np.float64)
    shown = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    lo, hi = shown.get_clim()
    middle = (lo + hi) / 2
    for (r, c), v in np.ndenumerate(values):
        dark = v < middle if cmap == "Greys_r" else abs(v - middle) > (hi - lo) / 4
        ax.text(c, r, fmt.format(v), ha="center", va="center", fontsize=9, color="white" if dark else "black")
    ax.set_xticks(np.arange(values.shape[1] + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(values.shape[0] + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=1)
    ax.tick_params(which="both", length=0)
    ax.set_xticks([]), ax.set_yticks([])
    ax.set_title(title, fontsize=11)


def correlate_valid(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Cross-correlation without padding: ``out[y, x] = sum_ij kernel[i, j] * image[y + i, x + j]``.

    The output is smaller than the image by the kernel's size less one (a 7x7 patch and a 3x3 kernel
    give 5x5): every value comes from a whole window, with no border rule.
    """
    image, kernel = np.asarray(image, dtype=np.float64), np.asarray(kernel, dtype=np.float64)
    kh, kw = kernel.shape
    h, w = image.shape[0] - kh + 1, image.shape[1] - kw + 1
    out = np.zeros((h, w))
    for i in range(kh):
        for j in range(kw):
            out += kernel[i, j] * image[i : i + h, j : j + w]
    return out


def kernel_sliding(
    image: np.ndarray, kernel: np.ndarray, at: tuple[int, int] = (1, 1), name: str = "kernel"
) -> Figure:
    """A kernel over a small grey patch: the window at output position ``at``, the kernel, the output
    map with that value marked, and the sum of products written out (Seeing images).

    ``image`` is a 2-D patch (a 7x7 crop, say), ``kernel`` 3x3 (any odd size works). The output map is
    :func:`correlate_valid`'s, so ``at = (r, c)`` is the window whose top-left pixel is ``image[r, c]``
    and whose centre is ``image[r + 1, c + 1]`` for a 3x3 kernel.
    """
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError("kernel_sliding draws a grey (2-D) patch and a 2-D kernel")
    out = correlate_valid(image, kernel)
    r, c = at
    if not (0 <= r < out.shape[0] and 0 <= c < out.shape[1]):
        raise ValueError(f"position {at} is outside the {out.shape[0]}x{out.shape[1]} output")
    kh, kw = kernel.shape
    window = image[r : r + kh, c : c + kw]
    value = float((window * kernel).sum())

    fig = plt.figure(figsize=(11, 4.6))
    grid = fig.add_gridspec(
        2, 3, height_ratios=[4, 1.1], width_ratios=[image.shape[1], kw + 1.5, out.shape[1]]
    )
    ax_in, ax_k, ax_out = (fig.add_subplot(grid[0, k]) for k in range(3))
    ax_sum = fig.add_subplot(grid[1, :])
    _number_grid(ax_in, image, f"input patch ({image.shape[0]}x{image.shape[1]})", vmin=0, vmax=255)
    ax_in.add_patch(Rectangle((c - 0.5, r - 0.5), kw, kh, fill=False, edgecolor=HIGHLIGHT, linewidth=3))
    limit = float(np.abs(kernel).max()) or 1.0
    _number_grid(ax_k, kernel, f"{name} ({kh}x{kw})", cmap="RdBu_r", vmin=-limit, vmax=limit)
    out_limit = float(np.abs(out).max()) or 1.0
    _number_grid(
        ax_out,
        out,
        f"output ({out.shape[0]}x{out.shape[1]})",
        cmap="RdBu_r",
        fmt="{:.0f}",
        vmin=-out_limit,
        vmax=out_limit,
    )
    ax_out.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, edgecolor=HIGHLIGHT, linewidth=3))
    # From the window's bottom edge to the value it gives, curving under the kernel.
    fig.add_artist(
        ConnectionPatch(
            (c + (kw - 1) / 2, r + kh - 0.5),
            (c - 0.5, r + 0.3),
            "data",
            "data",
            axesA=ax_in,
            axesB=ax_out,
            color=HIGHLIGHT,
            linewidth=1.5,
            arrowstyle="-|>",
            mutation_scale=14,
            connectionstyle="arc3,rad=0.25",
        )
    )

    terms = [f"({kernel[i, j]:g})({window[i, j]:g})" for i in range(kh) for j in range(kw) if kernel[i, j]]
    zeros = kernel.size - len(terms)
    written = " + ".join(terms) + (f"  (+ {zeros} zero terms)" if zeros else "")
    ax_sum.axis("off")
    ax_sum.text(
        0.5,
        0.72,
        rf"out[{r}, {c}] $= \sum_{{i,j}}$ kernel[i, j] $\cdot$ input[{r} + i, {c} + j]",
        ha="center",
        va="center",
        fontsize=12,
        transform=ax_sum.transAxes,
    )
    ax_sum.text(
        0.5,
        0.2,
        f"= {written} = {value:g}",
        ha="center",
        va="center",
        fontsize=10.5,
        color=HIGHLIGHT,
        transform=ax_sum.transAxes,
        wrap=True,
    )
    fig.suptitle(
        "The kernel slides over the image: each output value is one window's weighted sum", fontsize=12
    )
    plt.close(fig)
    return fig


def _box(ax, xy, text: str, colour: str, width: float = 3.0, height: float = 0.62) -> FancyBboxPatch:
    x, y = xy
    patch = FancyBboxPatch(
        (x - width / 2, y - height / 2),
        width,
        height,
        boxstyle="round,pad=0.06",
        facecolor=colour,
        edgecolor="#333333",
        linewidth=1.2,
    )
    ax.add_patch(patch)
    ax.text(x, y, text, ha="center", va="center", fontsize=11)
    return patch


def _arrow(ax, start, end, **kw) -> FancyArrowPatch:
    arrow = FancyArrowPatch(
        start,
        end,
        arrowstyle="-|>",
        mutation_scale=14,
        linewidth=kw.pop("linewidth", 1.5),
        color=kw.pop("color", "#333333"),
        shrinkA=0,
        shrinkB=0,
        **kw,
    )
    ax.add_patch(arrow)
    return arrow


def residual_block() -> Figure:
    """A residual block as boxes and arrows: ``x -> conv-BN-ReLU -> conv-BN -> (+ x) -> ReLU``
    (The architecture).

    This is the basic block (two 3x3 convolutions, as in ResNet18 and ResNet34); ResNet50's blocks are
    bottlenecks (1x1, 3x3, 1x1 convolutions) with the same shortcut. The boxes on the left compute the
    correction F(x); the arrow on the right carries x past them, unchanged, to be added.
    """
    fig, ax = plt.subplots(figsize=(6.4, 7.4))
    conv, norm, relu = "#a8dadc", "#f1faee", "#ffd6a5"
    steps = [("3x3 conv", conv), ("BatchNorm", norm), ("ReLU", relu), ("3x3 conv", conv), ("BatchNorm", norm)]
    top, gap = 9.0, 1.05
    ax.text(0, top + 0.35, "x", ha="center", va="center", fontsize=15, fontweight="bold")
    ys = [top - gap * (k + 1) for k in range(len(steps))]
    for (text, colour), y in zip(steps, ys):
        _box(ax, (0, y), text, colour)
    _arrow(ax, (0, top + 0.1), (0, ys[0] + 0.37))
    for a, b in zip(ys, ys[1:]):
        _arrow(ax, (0, a - 0.37), (0, b + 0.37))
    plus_y = ys[-1] - gap
    ax.add_patch(plt.Circle((0, plus_y), 0.3, facecolor="white", edgecolor="#333333", linewidth=1.5))
    ax.text(0, plus_y, "+", ha="center", va="center", fontsize=17)
    _arrow(ax, (0, ys[-1] - 0.37), (0, plus_y + 0.3))
    out_y = plus_y - gap
    _box(ax, (0, out_y), "ReLU", relu)
    _arrow(ax, (0, plus_y - 0.3), (0, out_y + 0.37))
    ax.text(0, out_y - 0.85, "y = ReLU(F(x) + x)", ha="center", va="center", fontsize=13, fontweight="bold")
    _arrow(ax, (0, out_y - 0.37), (0, out_y - 0.62))
    # The shortcut: out of x to the right, down, and into the sum.
    x_skip = 2.3
    ax.plot([0.3, x_skip, x_skip], [top + 0.35, top + 0.35, plus_y], color=HIGHLIGHT, linewidth=2.2)
    _arrow(ax, (x_skip, plus_y), (0.32, plus_y), color=HIGHLIGHT, linewidth=2.2)
    ax.text(
        x_skip + 0.35,
        (top + plus_y) / 2,
        "shortcut:\nx, unchanged",
        ha="left",
        va="center",
        fontsize=11,
        color=HIGHLIGHT,
    )
    # F(x): a bracket on the left of the five boxes.
    x_bracket = -1.75
    ax.plot(
        [x_bracket + 0.15, x_bracket, x_bracket, x_bracket + 0.15],
        [ys[0] + 0.35, ys[0] + 0.35, ys[-1] - 0.35, ys[-1] - 0.35],
        color="#333333",
        linewidth=1.2,
    )
    ax.text(
        x_bracket - 0.15,
        (ys[0] + ys[-1]) / 2,
        "F(x):\nthe learnt\ncorrection",
        ha="right",
        va="center",
        fontsize=11,
    )
    ax.set_xlim(-4.0, 4.4)
    ax.set_ylim(out_y - 1.2, top + 0.8)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("A residual block (basic form; ResNet50's blocks are 1x1-3x3-1x1 bottlenecks)", fontsize=11)
    fig.tight_layout()
    plt.close(fig)
    return fig


def _rate(value: float) -> str:
    """1e-3 as a reader writes it, not 0.001."""
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}" if mantissa != "1" else f"1e{int(exponent)}"


def two_phase_recipe(config: RunConfig | None = None, profile: str = "seed") -> Figure:
    """The recipe's two phases on one timeline of epochs: which layers train and which are frozen in
    each, and the learning rate (Training the head).

    The epochs, rates and schedule are ``config``'s; without one, ``profile``'s settings in
    :data:`cifar_lessons.config.PROFILES` (the course recipe, ``seed``, by default: 10 + 10 epochs at 1e-3
    then 1e-5). In the head phase the whole base is frozen; in fine-tuning every layer trains except
    BatchNorm, whose ImageNet statistics stay frozen (:func:`cifar_lessons.models.set_base_trainable`).
    """
    if config is None:
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; choose one of: {', '.join(PROFILES)}")
        config = RunConfig(profile=profile, **PROFILES[profile])
    head, tune = config.head_epochs, config.fine_tune_epochs
    total = head + tune
    fig, (ax, ax_lr) = plt.subplots(2, 1, figsize=(10, 5.2), sharex=True, height_ratios=[3, 2])
    rows = ["head (Dense layers)", "base: convolutions", "base: BatchNorm"]
    trains = {  # (head phase, fine-tuning)
        rows[0]: (True, True),
        rows[1]: (False, True),
        rows[2]: (False, False),
    }
    for k, name in enumerate(rows):
        y = len(rows) - 1 - k
        for (start, length), on in zip(((0, head), (head, tune)), trains[name]):
            ax.add_patch(
                Rectangle(
                    (start, y - 0.35),
                    length,
                    0.7,
                    facecolor=TRAINS if on else FROZEN,
                    edgecolor="white",
                    hatch=None if on else "//",
                    linewidth=1.5,
                )
            )
            ax.text(
                start + length / 2,
                y,
                "trains" if on else "frozen",
                ha="center",
                va="center",
                fontsize=10,
                color="white" if on else "#333333",
            )
    ax.set_yticks(range(len(rows)), rows[::-1])
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_xlim(0, total)
    for axis in (ax, ax_lr):
        axis.axvline(head, color="#333333", linewidth=1.2, linestyle="--")
    ax.text(
        head / 2,
        len(rows) - 0.25,
        f"head phase: {head} epochs",
        ha="center",
        va="bottom",
        fontsize=11,
        fontweight="bold",
    )
    ax.text(
        head + tune / 2,
        len(rows) - 0.25,
        f"fine-tuning: {tune} epochs",
        ha="center",
        va="bottom",
        fontsize=11,
        fontweight="bold",
    )
    ax.set_ylim(-0.6, len(rows) + 0.2)
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)

    epochs_head = np.linspace(0, head, 50)
    epochs_tune = np.linspace(head, total, 200)
    lr_tune = np.full_like(epochs_tune, config.fine_tune_learning_rate)
    if config.fine_tune_schedule == "cosine":
        progress = (epochs_tune - head) / max(tune, 1)
        lr_tune = config.fine_tune_learning_rate * 0.5 * (1 + np.cos(np.pi * progress))
        lr_tune = np.maximum(lr_tune, config.fine_tune_learning_rate * 1e-3)  # a log axis cannot reach zero
    ax_lr.plot(epochs_head, np.full_like(epochs_head, config.head_learning_rate), color=TRAINS, linewidth=2.5)
    ax_lr.plot(epochs_tune, lr_tune, color=HIGHLIGHT, linewidth=2.5)
    ax_lr.set_yscale("log")
    ax_lr.set_ylim(
        min(config.head_learning_rate, config.fine_tune_learning_rate) / 10,
        max(config.head_learning_rate, config.fine_tune_learning_rate) * 10,
    )
    ax_lr.text(
        head / 2,
        config.head_learning_rate * 1.6,
        f"Adam, rate {_rate(config.head_learning_rate)}",
        ha="center",
        va="bottom",
        fontsize=10,
    )
    schedule = "" if config.fine_tune_schedule == "constant" else f", {config.fine_tune_schedule} decay"
    ax_lr.text(
        head + tune / 2,
        config.fine_tune_learning_rate * 1.6,
        f"Adam, rate {_rate(config.fine_tune_learning_rate)}{schedule}",
        ha="center",
        va="bottom",
        fontsize=10,
    )
    ax_lr.set_ylabel("learning rate")
    ax_lr.set_xlabel("epoch")
    ax_lr.set_xticks(range(0, total + 1, max(1, total // 10)))
    fig.suptitle(f"The two-phase recipe (profile {config.profile!r})", fontsize=12)
    fig.tight_layout()
    plt.close(fig)
    return fig


def _tile(ax, image: np.ndarray, cmap: str | None = None) -> None:
    ax.imshow(image, cmap=cmap, interpolation="nearest")
    ax.set_xticks([]), ax.set_yticks([])


def feature_maps(
    image: np.ndarray,
    filters: np.ndarray,
    maps: Mapping[str, np.ndarray],
    per_row: int = 8,
    n_filters: int = 16,
) -> Figure:
    """One image through a pretrained base: its first-layer filters and, per layer, a few feature maps
    (The architecture).

    ``filters`` is the first convolution's kernel, ``(k, k, 3, n)`` as Keras stores it; the first
    ``n_filters`` are drawn as small colour images, each stretched to its own range. ``maps`` maps a
    layer's name to its output on ``image``, ``(h, w, channels)``; the ``per_row`` channels of each that
    vary most across the image (a channel that is flat says nothing about where) are drawn in false
    colour, labelled with the name's first part (``block2a``, ``conv2``) and the map's size.
    :func:`cifar_lessons.models.feature_maps` computes both from a Keras base.
    """
    filters = np.asarray(filters, dtype=np.float64)
    if filters.ndim != 4 or filters.shape[2] != 3:
        raise ValueError(f"filters must be (k, k, 3, n), got {filters.shape}")
    n_filters = min(n_filters, filters.shape[3])
    filter_rows = int(np.ceil(n_filters / per_row))
    n_rows = filter_rows + len(maps)
    # Sized so that every tile is about an inch square; no tight_layout, which would shrink the tiles to
    # make room for their labels.
    fig = plt.figure(figsize=(per_row * 1.15 + 4.2, n_rows * 1.15 + 0.6))
    grid = fig.add_gridspec(
        n_rows,
        per_row + 2,
        width_ratios=[2.6, 1.3] + [1] * per_row,
        left=0.01,
        right=0.99,
        bottom=0.02,
        top=1 - 0.6 / (n_rows * 1.15 + 0.6),
        wspace=0.15,
        hspace=0.15,
    )
    ax_img = fig.add_subplot(grid[:, 0])
    _tile(ax_img, np.asarray(image))
    ax_img.set_title(f"input {image.shape[0]}x{image.shape[1]}", fontsize=10)
    for k in range(filter_rows * per_row):
        ax = fig.add_subplot(grid[k // per_row, 2 + k % per_row])
        if k >= n_filters:
            ax.axis("off")
            continue
        f = filters[..., k]
        lo, hi = f.min(), f.max()
        _tile(ax, (f - lo) / (hi - lo) if hi > lo else np.zeros_like(f))
        if k == 0:
            ax.set_ylabel(
                f"filters\n{filters.shape[0]}x{filters.shape[1]}x3",
                fontsize=9,
                rotation=0,
                ha="right",
                va="center",
            )
    for row, (label, fmap) in enumerate(maps.items(), start=filter_rows):
        fmap = np.asarray(fmap, dtype=np.float64)
        active = np.argsort(fmap.std(axis=(0, 1)), kind="stable")[::-1][:per_row]
        short = label if len(label) <= 12 else label.split("_")[0]
        for k, channel in enumerate(active):
            ax = fig.add_subplot(grid[row, 2 + k])
            _tile(ax, fmap[..., channel], cmap="viridis")
            if k == 0:
                ax.set_ylabel(
                    f"{short}\n{fmap.shape[0]}x{fmap.shape[1]}x{fmap.shape[2]}",
                    fontsize=9,
                    rotation=0,
                    ha="right",
                    va="center",
                )
    fig.suptitle("First-layer filters, then at each map size the channels that vary most", fontsize=12)
    plt.close(fig)
    return fig
