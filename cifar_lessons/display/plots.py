"""Figures for the book and the slides, drawn with matplotlib and seaborn.

Each function returns a closed ``matplotlib.figure.Figure``: a notebook displays it once
(as the cell's value), and a script can save it. Taught across chapters 1-6; the image
figures (:func:`image_panels`, :func:`image_grid`, :func:`histogram`, :func:`kernels`) in the chapter
Seeing images, and :func:`grad_cam_grid` in the chapter Where the classifier looks.
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


def sample_grid(x: np.ndarray, y: np.ndarray, class_names: Sequence[str], per_class: int = 8,
                seed: int = 0, title: str = "CIFAR-10: random training images per class (32x32 pixels)") -> Figure:
    """One row per class with ``per_class`` random examples (chapter 1; grey images: the Fashion-MNIST chapter)."""
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
            ax.text(phase2_start + 0.6, ax.get_ylim()[1], " fine-tuning →", va="top", fontsize=8, color="grey")
            ax.text(phase2_start + 0.4, ax.get_ylim()[1], "← head only ", va="top", ha="right", fontsize=8, color="grey")
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend()
    fig.tight_layout()
    plt.close(fig)
    return fig


def confusion_heatmap(confusion: np.ndarray | list, class_names: Sequence[str], normalize: bool = True,
                      annot_size: float = 8) -> Figure:
    """Confusion matrix as a seaborn heatmap; rows are true classes (chapter 5).

    ``annot_size`` is the size of the numbers in the cells (larger for a slide).
    """
    cm = np.asarray(confusion, dtype=float)
    if normalize:
        cm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(7, 6))
    sns.heatmap(cm, annot=True, fmt=".2f" if normalize else ".0f", cmap="Blues", square=True,
                xticklabels=class_names, yticklabels=class_names, cbar=False, ax=ax, annot_kws={"size": annot_size})
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title("Confusion matrix" + (" (share of each true class)" if normalize else ""))
    fig.tight_layout()
    plt.close(fig)
    return fig


def mistakes_gallery(x: np.ndarray, y_true: np.ndarray, probabilities: np.ndarray, indices: Sequence[int],
                     class_names: Sequence[str], columns: int = 8, title: str = "Most confident mistakes") -> Figure:
    """The given test images with true class, predicted class and confidence (chapter 5; grey images:
    the Fashion-MNIST chapter)."""
    rows = max(1, int(np.ceil(len(indices) / columns)))
    # Constrained layout places each three-line title above its image: tight_layout, which sizes the
    # axes before their images fix the aspect, let a row's images cover the next row's first line.
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.35, rows * 1.85), squeeze=False, layout="constrained")
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, indices):
        pred = int(probabilities[i].argmax())
        _show_pixels(ax, x[i])
        ax.set_title(f"true: {class_names[int(y_true[i])]}\npred: {class_names[pred]}\n{probabilities[i, pred]:.0%}",
                     fontsize=8, color="firebrick")
    fig.suptitle(title, fontsize=10)
    plt.close(fig)
    return fig


def model_diagram(model, expand_nested: bool = False, dpi: int = 72):
    """Keras's own diagram of the model (needs pydot and Graphviz), shown as an image (chapter 2)."""
    import tempfile
    from pathlib import Path

    import keras

    path = Path(tempfile.mkdtemp()) / f"{model.name}.png"
    return keras.utils.plot_model(model, to_file=str(path), show_shapes=True, show_trainable=True,
                                  show_layer_names=True, expand_nested=expand_nested, dpi=dpi)


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
        ax.add_patch(FancyBboxPatch((x, 0.06), w, 0.88, boxstyle="round,pad=0,rounding_size=0.08",
                                    facecolor=colour, edgecolor="#333333", linewidth=2.5 if nested else 1.2))
        rows = [(name, 0.82, "bold"), (what, 0.64, "normal"), (shape, 0.46, "normal"),
                (f"{fmt(n)} params" if n else "", 0.29, "normal"), (status, 0.13, "bold")]
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
        ax.plot(epochs, np.array(hist["val_accuracy"]) * 100, "-", color="tab:orange", lw=2, label="validation")
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


def accuracy_against_time(minutes: Sequence[float], accuracy: Sequence[float], labels: Sequence[str],
                          title: str = "Test accuracy against wall time (2 CPU cores)") -> Figure:
    """One point per measured run: what each recipe costs and what it gives (chapter 6)."""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    ax.scatter(minutes, np.array(accuracy) * 100, s=45, color="tab:blue", zorder=3)
    span = (max(accuracy) - min(accuracy)) * 100 or 1.0
    gap = span / 11  # labels at least this far apart vertically, placed bottom up
    placed: list[float] = []
    for i in np.argsort(accuracy):
        y = accuracy[i] * 100
        label_y = max(y, placed[-1] + gap) if placed else y
        placed.append(label_y)
        moved = label_y - y > gap / 3  # a moved label starts further right, clear of its neighbours' points
        ax.annotate(labels[i], (minutes[i], y), xytext=(minutes[i] + max(minutes) * (0.14 if moved else 0.04),
                                                         label_y - span * 0.012),
                    textcoords="data", fontsize=9, arrowprops=dict(arrowstyle="-", color="grey", lw=0.6) if moved else None)
    ax.set_ylim(top=max(max(placed), max(accuracy) * 100) + gap)
    ax.set_xlabel("wall time of the whole run (minutes)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_xlim(0, max(minutes) * 1.35)
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    plt.close(fig)
    return fig


# --- Seeing images -------------------------------------------------------------------------------

def _show(ax, image: np.ndarray, title: str | None = None, cmap: str = "gray") -> None:
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


def image_panels(images: Mapping[str, np.ndarray], columns: int | None = None, height: float = 3.2,
                 cmap: str = "gray", title: str | None = None) -> Figure:
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
    fig, axes = plt.subplots(rows, columns, figsize=(height * sum(ratios) + 0.3 * columns, (height + 0.5) * rows),
                             gridspec_kw={"width_ratios": ratios}, squeeze=False)
    for ax in axes.flat[len(items):]:
        ax.set_visible(False)
    for ax, (name, image) in zip(axes.flat, items):
        _show(ax, image, name, cmap)
    if title:
        fig.suptitle(title, fontsize=15)
    fig.tight_layout()
    plt.close(fig)
    return fig


def image_grid(rows: Mapping[str, Sequence[np.ndarray]], columns: Sequence[str] | None = None,
               size: float = 1.9, cmap: str = "gray") -> Figure:
    """A grid of images: one row per key (named on the left), column titles on top (Seeing images)."""
    n_cols = max(len(r) for r in rows.values())
    fig, axes = plt.subplots(len(rows), n_cols, figsize=(size * n_cols + 1.0, size * len(rows) + 0.3), squeeze=False)
    for r, (label, images) in enumerate(rows.items()):
        for c in range(n_cols):
            ax = axes[r, c]
            if c < len(images):
                _show(ax, images[c], columns[c] if columns and r == 0 else None, cmap)
            else:
                ax.axis("off")
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=14)
    fig.tight_layout()
    plt.close(fig)
    return fig


def histogram(grey: np.ndarray, levels: Mapping[str, float] | None = None, title: str | None = None) -> Figure:
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
        sns.heatmap(k, annot=True, fmt=".2g", cmap="RdBu_r", vmin=-limit, vmax=limit, cbar=False, square=True,
                    linewidths=1, linecolor="white", xticklabels=False, yticklabels=False, ax=ax,
                    annot_kws={"size": 13})
        ax.set_title(name, fontsize=14)
    fig.tight_layout()
    plt.close(fig)
    return fig


def grad_cam_grid(images: np.ndarray, heatmaps: np.ndarray, titles: Sequence[str] | None = None,
                  alpha: float = 0.4, columns: int = 8, size: float = 1.6) -> Figure:
    """Each image above its Grad-CAM overlay, ``columns`` images a row (Where the classifier looks).

    ``images`` are the raw ``uint8`` pictures (not the preprocessed ones the model took) and
    ``heatmaps`` what :func:`cifar_lessons.gradcam.method.grad_cam` returned for them; the titles go
    above each pair, e.g. "cat (dog 0.91)".
    """
    from ..gradcam.method import overlay  # imports TensorFlow: only here, so the other figures need none

    images, heatmaps = np.asarray(images), np.asarray(heatmaps)
    if len(images) != len(heatmaps) or (titles is not None and len(titles) != len(images)):
        raise ValueError("one heatmap (and one title, if any) per image")
    n = len(images)
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    painted = overlay(images, heatmaps, alpha=alpha)
    fig, axes = plt.subplots(2 * rows, columns, figsize=(size * columns, 2 * size * rows + 0.3 * rows), squeeze=False)
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


# --- Segmentation --------------------------------------------------------------------------------

def segmentation_curves(histories: Mapping[str, dict], metrics: Sequence[str] = ("loss", "accuracy", "miou")) -> Figure:
    """Loss, pixel accuracy and mean IoU, training against validation, one row per run (chapter Segmentation).

    ``histories`` maps a row's title (say "this build, quick") to a Keras history dict with
    ``loss``, ``accuracy``, ``miou`` and their ``val_`` twins.
    """
    names = {"loss": "loss (cross-entropy per pixel)", "accuracy": "pixel accuracy", "miou": "mean IoU"}
    fig, axes = plt.subplots(len(histories), len(metrics), figsize=(4.2 * len(metrics), 3.4 * len(histories) + 0.2),
                             squeeze=False)
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


def segmentation_grid(images: np.ndarray, rows: Mapping[str, np.ndarray], titles: Sequence[str] | None = None,
                      size: float = 1.7, title: str | None = None) -> Figure:
    """Scenes in the top row and, under each, its masks, one row per key (chapter Segmentation).

    ``rows`` maps a row's name ("true mask", "U-Net", "Otsu") to masks of the scenes' shape; a
    mask is drawn white on black. ``titles`` go above the scenes (e.g. each scene's IoU).
    """
    images = np.asarray(images)
    n = len(images)
    fig, axes = plt.subplots(1 + len(rows), n, figsize=(size * n + 1.4, size * (1 + len(rows)) + 0.4 + (0.3 if title else 0)),
                             squeeze=False)
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


# --- Detection -----------------------------------------------------------------------------------

def _box_patch(ax, box, colour, text: str | None = None, dashed: bool = False, fontsize: int = 10) -> None:
    from matplotlib.patches import Rectangle

    x1, y1, x2, y2 = (float(v) for v in box)
    # Pixel (i, j) covers [j - 0.5, j + 0.5] in imshow's coordinates: shift the continuous box by half a pixel.
    ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, edgecolor=colour,
                           linewidth=2.2, linestyle="--" if dashed else "-"))
    if text:
        # Above the box, unless the box touches the image's top: then inside it, so it is never cut off.
        height = abs(ax.get_ylim()[0] - ax.get_ylim()[1])
        inside = y1 < 0.12 * height
        ax.text(x1 - 0.5, y1 - 0.5 if inside else y1 - 1, text, color="white", fontsize=fontsize,
                va="top" if inside else "bottom", ha="left",
                bbox=dict(facecolor=colour, edgecolor="none", pad=1.2, alpha=0.9), clip_on=True)


def detections_grid(images: Sequence[np.ndarray], detections: Sequence[Mapping], class_names: Sequence[str],
                    truths: Sequence[Mapping] | None = None, titles: Sequence[str] | None = None, columns: int = 4,
                    size: float = 2.9, score_threshold: float = 0.5, fontsize: int = 9,
                    show_scores: bool = True) -> Figure:
    """Scenes with their detections drawn: a coloured box per class, "class score" above it (the chapter Detection).

    Only detections scoring at least ``score_threshold`` are drawn. ``truths`` (boxes and labels)
    adds the ground truth as dashed white boxes, so a miss or a loose box shows at a glance.
    """
    colours = sns.color_palette("tab10", len(class_names))
    n = len(images)
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(size * columns, size * rows + 0.35 * rows), squeeze=False)
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


def iou_examples(pairs: Sequence[tuple[Sequence[float], Sequence[float]]], size: int = 100, panel: float = 3.0) -> Figure:
    """Pairs of boxes, the overlap shaded, each titled with its IoU (the chapter Detection)."""
    from matplotlib.patches import Rectangle

    from ..detection.metrics import iou

    fig, axes = plt.subplots(1, len(pairs), figsize=(panel * len(pairs), panel + 0.5), squeeze=False)
    for ax, (a, b) in zip(axes[0], pairs):
        ax.set_xlim(0, size), ax.set_ylim(size, 0), ax.set_aspect("equal")
        ax.set_xticks([]), ax.set_yticks([])
        for box, colour in ((a, "tab:blue"), (b, "tab:orange")):
            ax.add_patch(Rectangle((box[0], box[1]), box[2] - box[0], box[3] - box[1], facecolor=colour, alpha=0.25,
                                   edgecolor=colour, linewidth=2.5))
        x1, y1 = max(a[0], b[0]), max(a[1], b[1])
        x2, y2 = min(a[2], b[2]), min(a[3], b[3])
        if x2 > x1 and y2 > y1:
            ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, facecolor="tab:purple", alpha=0.6, edgecolor="none"))
        ax.set_title(f"IoU = {iou(a, b):.2f}", fontsize=15)
    fig.tight_layout()
    plt.close(fig)
    return fig


def nms_before_after(image: np.ndarray, boxes: np.ndarray, scores: np.ndarray, kept: Sequence[int],
                     titles: tuple[str, str] = ("before NMS", "after NMS"), height: float = 4.2) -> Figure:
    """The same image with every candidate box, then only the boxes NMS kept (the chapter Detection)."""
    ratio = image.shape[1] / image.shape[0]
    fig, axes = plt.subplots(1, 2, figsize=(2 * height * ratio + 0.4, height + 0.5))
    cmap = plt.get_cmap("viridis")
    span = (float(np.min(scores)), float(np.max(scores))) if len(scores) else (0.0, 1.0)
    for ax, which, title in ((axes[0], range(len(boxes)), titles[0]), (axes[1], kept, titles[1])):
        _show(ax, image, f"{title}: {len(list(which))} boxes")
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


def grad_cam_rows(images: np.ndarray, maps: Mapping[str, np.ndarray], titles: Sequence[str] | None = None,
                  alpha: float = 0.45, size: float = 1.35, title: str | None = None) -> Figure:
    """Images in the top row, and under each one a row of overlays per named set of maps (Where the
    classifier looks): e.g. the map of the predicted class, then of the true class.

    ``maps`` is an ordered mapping from a row label to heatmaps, one per image; the labels go on the
    left of their rows.
    """
    from ..gradcam.method import overlay  # imports TensorFlow: only here, so the other figures need none

    images = np.asarray(images)
    if any(len(m) != len(images) for m in maps.values()) or (titles is not None and len(titles) != len(images)):
        raise ValueError("one heatmap per image in every row (and one title, if any, per image)")
    n, rows = len(images), 1 + len(maps)
    fig, axes = plt.subplots(rows, n, figsize=(size * n + 1.0, size * rows + (0.6 if titles else 0.2)),
                             squeeze=False)
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
