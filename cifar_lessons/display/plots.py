"""Figures for the book and the slides, drawn with matplotlib and seaborn.

Each function returns a closed ``matplotlib.figure.Figure``: a notebook displays it once
(as the cell's value), and a script can save it. Taught across chapters 1-6; the image
figures (:func:`image_panels`, :func:`image_grid`, :func:`histogram`, :func:`kernels`) in the chapter
Seeing images, and :func:`feature_map_grids` in the chapter Where the classifier looks. A study's own
figures are in its ``figures`` module (:mod:`cifar_lessons.gradcam.figures`, ...); nothing here
imports TensorFlow or a study.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.figure import Figure


def _show_pixels(ax, image: np.ndarray) -> None:
    """An image at its real pixels; a grey one (28x28 or 28x28x1, Fashion-MNIST) in grey levels, the
    garment dark on white (high values darker), not in matplotlib's default false colours."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        ax.imshow(image, cmap="gray_r", interpolation="nearest")
    else:
        ax.imshow(image, interpolation="nearest")


def sample_grid(
    x: np.ndarray,
    y: np.ndarray,
    class_names: Sequence[str],
    per_class: int = 8,
    seed: int = 0,
    title: str = "CIFAR-10: random training images per class (32x32 pixels)",
) -> Figure:
    """One row per class with ``per_class`` random examples (chapter 1; grey images: the Fashion-MNIST
    chapter)."""
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(len(class_names), per_class, figsize=(per_class * 0.9, len(class_names) * 0.95))
    for row, name in enumerate(class_names):
        idx = np.flatnonzero(y == row)
        pick = rng.choice(idx, size=min(per_class, len(idx)), replace=False) if len(idx) else []
        for col in range(per_class):
            ax = axes[row, col]
            ax.set_xticks([]), ax.set_yticks([])
            if col < len(pick):
                _show_pixels(ax, x[pick[col]])
            if col == 0:
                ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    plt.close(fig)
    return fig


def class_balance(y_train: np.ndarray, y_test: np.ndarray, class_names: Sequence[str]) -> Figure:
    """Images per class in the training subset and the test set (chapter 1)."""
    k = len(class_names)
    counts = np.concatenate([np.bincount(y_train, minlength=k), np.bincount(y_test, minlength=k)])
    split = [f"train (n={len(y_train):,})"] * k + [f"test (n={len(y_test):,})"] * k
    fig, ax = plt.subplots(figsize=(8, 3.2))
    sns.barplot(x=list(class_names) * 2, y=counts, hue=split, ax=ax)
    ax.set_ylabel("images")
    ax.set_title("Class balance")
    ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    plt.close(fig)
    return fig


def training_curves(history: dict[str, list[float]], phase2_start: int | None = None) -> Figure:
    """Loss and accuracy, training against validation, with the fine-tuning boundary marked."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    epochs = np.arange(1, len(history["loss"]) + 1)
    for ax, metric in zip(axes, ("loss", "accuracy")):
        ax.plot(epochs, history[metric], "o-", label="training")
        if f"val_{metric}" in history:
            ax.plot(epochs, history[f"val_{metric}"], "s-", label="validation")
        if phase2_start is not None and 0 < phase2_start < len(epochs):
            ax.axvline(phase2_start + 0.5, color="grey", linestyle="--")
            ax.text(
                phase2_start + 0.6, ax.get_ylim()[1], " fine-tuning →", va="top", fontsize=8, color="grey"
            )
            ax.text(
                phase2_start + 0.4,
                ax.get_ylim()[1],
                "← head only ",
                va="top",
                ha="right",
                fontsize=8,
                color="grey",
            )
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend()
    fig.tight_layout()
    plt.close(fig)
    return fig


def confusion_heatmap(
    confusion: np.ndarray | list, class_names: Sequence[str], normalize: bool = True, annot_size: float = 8
) -> Figure:
    """Confusion matrix as a seaborn heatmap; rows are true classes (chapter 5).

    ``annot_size`` is the size of the numbers in the cells (larger for a slide).
    """
    cm = np.asarray(confusion, dtype=float)
    if normalize:
        cm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(7, 6))
    sns.heatmap(
        cm,
        annot=True,
        fmt=".2f" if normalize else ".0f",
        cmap="Blues",
        square=True,
        xticklabels=class_names,
        yticklabels=class_names,
        cbar=False,
        ax=ax,
        annot_kws={"size": annot_size},
    )
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title("Confusion matrix" + (" (share of each true class)" if normalize else ""))
    fig.tight_layout()
    plt.close(fig)
    return fig


def mistakes_gallery(
    x: np.ndarray,
    y_true: np.ndarray,
    probabilities: np.ndarray,
    indices: Sequence[int],
    class_names: Sequence[str],
    columns: int = 8,
    title: str = "Most confident mistakes",
) -> Figure:
    """The given test images with true class, predicted class and confidence (chapter 5; grey images:
    the Fashion-MNIST chapter)."""
    rows = max(1, int(np.ceil(len(indices) / columns)))
    # Constrained layout places each three-line title above its image: tight_layout, which sizes the
    # axes before their images fix the aspect, let a row's images cover the next row's first line.
    fig, axes = plt.subplots(
        rows, columns, figsize=(columns * 1.35, rows * 1.85), squeeze=False, layout="constrained"
    )
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, indices):
        pred = int(probabilities[i].argmax())
        _show_pixels(ax, x[i])
        ax.set_title(
            f"true: {class_names[int(y_true[i])]}\npred: {class_names[pred]}\n{probabilities[i, pred]:.0%}",
            fontsize=8,
            color="firebrick",
        )
    fig.suptitle(title, fontsize=10)
    plt.close(fig)
    return fig


def model_diagram(model, expand_nested: bool = False, dpi: int = 72):
    """Keras's own diagram of the model (needs pydot and Graphviz), shown as an image (chapter 2)."""
    import tempfile
    from pathlib import Path

    import keras

    path = Path(tempfile.mkdtemp()) / f"{model.name}.png"
    return keras.utils.plot_model(
        model,
        to_file=str(path),
        show_shapes=True,
        show_trainable=True,
        show_layer_names=True,
        expand_nested=expand_nested,
        dpi=dpi,
    )


def model_blocks(model, title: str | None = None) -> Figure:
    """The model's top-level layers as a row of boxes, large enough for a slide (the presentation).

    Each box gives the layer's name, kind, output shape and parameter count, and says whether
    it trains: drawn from the model as it is, so it always agrees with it. Freeze the base
    first (``base_of(model).trainable = False``) to show phase 1.
    """
    from matplotlib.patches import FancyBboxPatch

    def params(layer) -> int:
        return int(sum(np.prod(w.shape) for w in layer.weights))

    def fmt(n: int) -> str:
        return f"{n / 1e6:.1f} M" if n >= 1e6 else f"{n / 1e3:.0f} k" if n >= 1e3 else f"{n}"

    def width(layer) -> float:
        kind = layer.__class__.__name__
        return 1.75 if hasattr(layer, "layers") else 0.85 if kind in ("Dropout", "InputLayer") else 1.1

    layers = list(model.layers)
    total = sum(width(layer) for layer in layers) + 0.15 * (len(layers) - 1)
    fig, ax = plt.subplots(figsize=(1.3 * total, 3.0))
    ax.set_xlim(0, total)
    ax.set_ylim(0, 1)
    ax.axis("off")
    x = 0.0
    for i, layer in enumerate(layers):
        kind, n, w = layer.__class__.__name__, params(layer), width(layer)
        nested = hasattr(layer, "layers")
        if kind == "InputLayer":
            colour, status = "#eeeeee", ""
        elif n == 0:
            colour, status = "#f6f6f6", ""
        elif layer.trainable and any(v.trainable for v in layer.weights):
            colour, status = "#cfe8cf", "trains"
        else:
            colour, status = "#cfdcef", "frozen"
        out = getattr(layer, "output", None)
        shape = "×".join(str(d) for d in tuple(out.shape[1:])) if hasattr(out, "shape") else ""
        if nested:
            name, what = layer.name, "pretrained base"
        elif kind == "InputLayer":
            name, what = "input", "image"
        elif kind == "Dropout":
            name, what = "dropout", f"{layer.rate:.0%}"
        elif kind == "GlobalAveragePooling2D":
            name, what = "pool", "average"
        else:
            name, what = layer.name, "softmax" if layer.name == "classes" else "Dense"
        ax.add_patch(
            FancyBboxPatch(
                (x, 0.06),
                w,
                0.88,
                boxstyle="round,pad=0,rounding_size=0.08",
                facecolor=colour,
                edgecolor="#333333",
                linewidth=2.5 if nested else 1.2,
            )
        )
        rows = [
            (name, 0.82, "bold"),
            (what, 0.64, "normal"),
            (shape, 0.46, "normal"),
            (f"{fmt(n)} params" if n else "", 0.29, "normal"),
            (status, 0.13, "bold"),
        ]
        for text, y, weight in rows:
            ax.text(x + w / 2, y, text, ha="center", va="center", fontsize=14, fontweight=weight)
        if i:
            ax.annotate("", xy=(x, 0.5), xytext=(x - 0.15, 0.5), arrowprops={"arrowstyle": "->", "lw": 1.5})
        x += w + 0.15
    if title:
        ax.set_title(title, fontsize=13)
    fig.tight_layout(pad=0.2)
    plt.close(fig)
    return fig


def curves_side_by_side(histories: Sequence[dict], titles: Sequence[str], ncols: int = 3) -> Figure:
    """Training and validation accuracy of several runs, one panel each, on one shared scale.

    ``histories`` are run records' ``history.json`` contents (``history`` and ``phase2_start``).
    The same y axis in every panel makes the runs comparable at a glance; the dashed line marks
    where fine-tuning starts (chapter 6, doing better).
    """
    n = len(histories)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 2.9 * nrows), sharey=True, squeeze=False)
    for ax, h, title in zip(axes.flat, histories, titles):
        hist = h["history"]
        epochs = np.arange(1, len(hist["accuracy"]) + 1)
        ax.plot(epochs, np.array(hist["accuracy"]) * 100, "-", color="tab:blue", label="training")
        ax.plot(
            epochs, np.array(hist["val_accuracy"]) * 100, "-", color="tab:orange", lw=2, label="validation"
        )
        if h.get("phase2_start"):
            ax.axvline(h["phase2_start"] + 0.5, color="grey", linestyle="--", lw=1)
        ax.set_title(title, fontsize=14)
        ax.set_xlabel("epoch", fontsize=12)
        ax.tick_params(labelsize=11)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("accuracy (%)", fontsize=12)
    axes.flat[0].legend(fontsize=11, loc="lower right")
    fig.tight_layout()
    plt.close(fig)
    return fig


def stacked_label_heights(heights: Sequence[float], gap: float) -> list[float]:
    """Where to write labels beside points at ``heights`` so that no two are closer than ``gap``:
    placed bottom up, each at its point's height or just above the label below it. Returned in the
    order of ``heights``."""
    placed = [0.0] * len(heights)
    last = None
    for i in sorted(range(len(heights)), key=lambda i: heights[i]):
        placed[i] = heights[i] if last is None else max(heights[i], last + gap)
        last = placed[i]
    return placed


def accuracy_against_time(
    minutes: Sequence[float],
    accuracy: Sequence[float],
    labels: Sequence[str],
    title: str = "Test accuracy against wall time (2 CPU cores)",
    ylabel: str = "test accuracy (%)",
) -> Figure:
    """One point per measured run: what each recipe costs and what it gives (chapter 6)."""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    ax.scatter(minutes, np.array(accuracy) * 100, s=45, color="tab:blue", zorder=3)
    span = (max(accuracy) - min(accuracy)) * 100 or 1.0
    gap = span / 11  # labels at least this far apart vertically, placed bottom up
    placed = stacked_label_heights([a * 100 for a in accuracy], gap)
    for i in np.argsort(accuracy):
        y, label_y = accuracy[i] * 100, placed[i]
        moved = label_y - y > gap / 3  # a moved label starts further right, clear of its neighbours' points
        ax.annotate(
            labels[i],
            (minutes[i], y),
            xytext=(minutes[i] + max(minutes) * (0.14 if moved else 0.04), label_y - span * 0.012),
            textcoords="data",
            fontsize=9,
            arrowprops=dict(arrowstyle="-", color="grey", lw=0.6) if moved else None,
        )
    ax.set_ylim(top=max(max(placed), max(accuracy) * 100) + gap)
    ax.set_xlabel("wall time of the whole run (minutes)")
    ax.set_ylabel(ylabel)
    ax.set_xlim(0, max(minutes) * 1.35)
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    plt.close(fig)
    return fig


# --- Seeing images -------------------------------------------------------------------------------


def show_image(ax, image: np.ndarray, title: str | None = None, cmap: str = "gray") -> None:
    """One image on ``ax``: colour as it is, grey with ``cmap``; small images as crisp pixels.

    A ``uint8`` grey image keeps the 0-255 scale (so a dark photo looks dark); a float one, such
    as a filter's output, is stretched to its own range, and one with negative values (Sobel x)
    symmetrically, so that zero is mid-grey. Images under 256 pixels are drawn with
    nearest-neighbour interpolation, so what you see is the array's pixels, not matplotlib's smoothing.
    """
    if image.dtype == np.uint8:
        scale = dict(vmin=0, vmax=255)
    elif image.ndim == 2 and image.min() < 0:
        limit = float(np.abs(image).max()) or 1.0
        scale = dict(vmin=-limit, vmax=limit)
    else:
        scale = {}
    interpolation = "nearest" if max(image.shape[:2]) < 256 else "antialiased"
    ax.imshow(image, cmap=cmap if image.ndim == 2 else None, interpolation=interpolation, **scale)
    ax.set_xticks([]), ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=14)


def image_panels(
    images: Mapping[str, np.ndarray],
    columns: int | None = None,
    height: float = 3.2,
    cmap: str = "gray",
    title: str | None = None,
) -> Figure:
    """Images side by side, each under its name, in rows of ``columns`` (the chapter Seeing images).

    Every panel gets the same height. In one row, widths follow each image's aspect ratio; in
    several, every cell is as wide as the widest image needs. More than three or four panels in
    one row are too small on a slide: wrap them with ``columns``.
    """
    items = list(images.items())
    columns = min(columns or len(items), len(items))
    rows = -(-len(items) // columns)
    ratios = [im.shape[1] / im.shape[0] for _, im in items]
    ratios = ratios if rows == 1 else [max(ratios)] * columns
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(height * sum(ratios) + 0.3 * columns, (height + 0.5) * rows),
        gridspec_kw={"width_ratios": ratios},
        squeeze=False,
    )
    for ax in axes.flat[len(items) :]:
        ax.set_visible(False)
    for ax, (name, image) in zip(axes.flat, items):
        show_image(ax, image, name, cmap)
    if title:
        fig.suptitle(title, fontsize=15)
    fig.tight_layout()
    plt.close(fig)
    return fig


def image_grid(
    rows: Mapping[str, Sequence[np.ndarray]],
    columns: Sequence[str] | None = None,
    size: float = 1.9,
    cmap: str = "gray",
) -> Figure:
    """A grid of images: one row per key (named on the left), column titles on top (Seeing images)."""
    n_cols = max(len(r) for r in rows.values())
    fig, axes = plt.subplots(
        len(rows), n_cols, figsize=(size * n_cols + 1.0, size * len(rows) + 0.3), squeeze=False
    )
    for r, (label, images) in enumerate(rows.items()):
        for c in range(n_cols):
            ax = axes[r, c]
            if c < len(images):
                show_image(ax, images[c], columns[c] if columns and r == 0 else None, cmap)
            else:
                ax.axis("off")
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=14)
    fig.tight_layout()
    plt.close(fig)
    return fig


def histogram(
    grey: np.ndarray, levels: Mapping[str, float] | None = None, title: str | None = None
) -> Figure:
    """How many pixels have each brightness 0-255, with thresholds drawn as lines (Seeing images)."""
    counts = np.bincount(np.asarray(grey, dtype=np.uint8).ravel(), minlength=256)
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.bar(np.arange(256), counts, width=1.0, color="0.35")
    for (name, level), colour in zip((levels or {}).items(), ("tab:orange", "tab:blue", "tab:green")):
        ax.axvline(level, color=colour, linewidth=2.5, label=name)
    if levels:
        ax.legend(fontsize=11)
    ax.set_xlim(-1, 256)
    ax.set_xlabel("brightness (0 = black, 255 = white)", fontsize=12)
    ax.set_ylabel("pixels", fontsize=12)
    if title:
        ax.set_title(title, fontsize=13)
    fig.tight_layout()
    plt.close(fig)
    return fig


def kernels(named: Mapping[str, np.ndarray], size: float = 2.2) -> Figure:
    """Small kernels as grids of their numbers, red for positive and blue for negative (Seeing images)."""
    fig, axes = plt.subplots(1, len(named), figsize=(size * len(named), size + 0.4), squeeze=False)
    for ax, (name, k) in zip(axes[0], named.items()):
        limit = float(np.abs(k).max())
        sns.heatmap(
            k,
            annot=True,
            fmt=".2g",
            cmap="RdBu_r",
            vmin=-limit,
            vmax=limit,
            cbar=False,
            square=True,
            linewidths=1,
            linecolor="white",
            xticklabels=False,
            yticklabels=False,
            ax=ax,
            annot_kws={"size": 13},
        )
        ax.set_title(name, fontsize=14)
    fig.tight_layout()
    plt.close(fig)
    return fig


# --- Detection -----------------------------------------------------------------------------------


def loss_curves(histories: Mapping[str, Mapping[str, Sequence[float]]], ylabel: str = "loss") -> Figure:
    """Training and validation loss per epoch, one panel per run (a detector has a loss, no accuracy)."""
    fig, axes = plt.subplots(1, len(histories), figsize=(5.2 * len(histories), 3.6), squeeze=False)
    for ax, (title, history) in zip(axes[0], histories.items()):
        epochs = np.arange(1, len(history["loss"]) + 1)
        ax.plot(epochs, history["loss"], "o-", label="training")
        if "val_loss" in history:
            ax.plot(epochs, history["val_loss"], "s-", label="validation")
        ax.set_xlabel("epoch"), ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=11)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend()
    fig.tight_layout()
    plt.close(fig)
    return fig


# --- Where the classifier looks ------------------------------------------------------------------


def feature_map_grids(image: np.ndarray, sides: Mapping[int, int], size: float = 2.6) -> Figure:
    """One image, once per input size, cut into the cells of the base's last feature map (Where the
    classifier looks).

    ``sides`` maps an input size in pixels to the side of the last feature map at that size (32 -> 1,
    96 -> 3): each cell is one position Grad-CAM can tell apart, so the grid is the finest "where" it
    can say.
    """
    image = np.asarray(image)
    fig, axes = plt.subplots(1, len(sides), figsize=(size * len(sides), size + 0.5), squeeze=False)
    h, w = image.shape[:2]
    for ax, (pixels, side) in zip(axes[0], sides.items()):
        ax.imshow(image, interpolation="nearest")
        for k in range(1, side):
            ax.axhline(k * h / side - 0.5, color="white", linewidth=2)
            ax.axvline(k * w / side - 0.5, color="white", linewidth=2)
        ax.set_xticks([]), ax.set_yticks([])
        cells = "one cell: no 'where'" if side == 1 else f"{side * side} places"
        ax.set_title(f"{pixels} px input\nlast map {side}x{side}: {cells}", fontsize=12)
    fig.tight_layout()
    plt.close(fig)
    return fig
