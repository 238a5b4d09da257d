"""Scenes the book builds itself, with exact boxes: the detector's data set (chapter 9).

A detection data set needs boxes drawn by hand; this one needs none. :func:`make_scene` pastes
Fashion-MNIST garments (one to three, each resized and tinted) at random places on a textured,
noisy canvas, and every box is the tight box of the pixels it pasted, so the ground truth is exact
by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import DetectorConfig

#: A garment pixel darker than this (of 255) is left out: it is Fashion-MNIST's black background.
INK = 25


def background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A textured, noisy canvas: smooth colour blotches plus pixel noise, ``float32`` 0-255."""
    import cv2

    blotches = rng.uniform(30, 200, (5, 5, 3)).astype(np.float32)
    smooth = cv2.resize(blotches, (size, size), interpolation=cv2.INTER_CUBIC)
    return np.clip(smooth + rng.normal(0, 14, (size, size, 3)), 0, 255).astype(np.float32)


def paste(
    canvas: np.ndarray, garment: np.ndarray, x: int, y: int, size: int, colour
) -> tuple[np.ndarray, np.ndarray]:
    """Paste a 28x28 garment resized to ``size`` at column ``x``, row ``y``; returns (canvas, its pixel mask).

    The garment's brightness is its opacity: its bright pixels take ``colour``, its dark edge blends
    into the background, and pixels darker than :data:`INK` are not pasted at all, so the mask of
    pasted pixels (and the box around it) is exact.
    """
    alpha = _alpha(garment, size)[..., None]
    out = canvas.copy()
    region = out[y : y + size, x : x + size]
    out[y : y + size, x : x + size] = region * (1 - alpha) + alpha * np.asarray(colour, dtype=np.float32)
    mask = np.zeros(canvas.shape[:2], dtype=bool)
    mask[y : y + size, x : x + size] = alpha[..., 0] > 0
    return out, mask


def _alpha(garment: np.ndarray, size: int) -> np.ndarray:
    import cv2

    g = cv2.resize(garment, (size, size), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    return np.where(g >= INK, g / 255.0, 0.0)


def tight_box(mask: np.ndarray) -> np.ndarray:
    """The box ``(x1, y1, x2, y2)`` around a mask's true pixels (continuous coordinates: x2 is one past)."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not rows.size:
        raise ValueError("an empty mask has no box")
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], dtype=np.float64)


def make_scene(
    rng: np.random.Generator,
    garments: np.ndarray,
    labels: np.ndarray,
    config: DetectorConfig,
    *,
    canvas: np.ndarray | None = None,
    tries: int = 200,
):
    """One scene: 1-3 garments drawn from ``garments``/``labels``, placed without overlapping.

    Returns ``(image uint8 HxWx3, boxes (n, 4), labels (n,), masks (n, H, W))``. Boxes never
    overlap and no two centres share a grid cell, so each object has its own cell (what
    :func:`~cifar_lessons.detection.targets.encode` needs). ``canvas`` replaces the textured
    background (a test pastes on black).
    """
    size = config.canvas
    image = background(rng, size) if canvas is None else np.asarray(canvas, dtype=np.float32).copy()
    n = int(rng.integers(config.min_objects, config.max_objects + 1))
    boxes, classes, masks, cells = [], [], [], set()
    for _ in range(tries):
        if len(boxes) == n:
            break
        i = int(rng.integers(len(garments)))
        s = int(rng.integers(config.min_size, config.max_size + 1))
        x, y = (int(v) for v in rng.integers(0, size - s + 1, 2))
        colour = rng.uniform(90, 255, 3)
        local = _alpha(garments[i], s) > 0
        if not local.any():
            continue
        box = tight_box(local) + [x, y, x, y]  # checked before pasting: most tries are rejected
        cell = _cell(box, config.stride)
        if cell in cells or any(_overlap(box, b) for b in boxes):
            continue
        image, mask = paste(image, garments[i], x, y, s, colour)
        boxes, classes, masks = boxes + [box], classes + [int(labels[i])], masks + [mask]
        cells.add(cell)
    return (
        np.clip(np.rint(image), 0, 255).astype(np.uint8),
        np.array(boxes).reshape(-1, 4),
        np.array(classes, dtype=np.int64),
        np.array(masks).reshape(-1, size, size),
    )


def _overlap(a: np.ndarray, b: np.ndarray, margin: float = 1.0) -> bool:
    return not (
        a[2] + margin <= b[0] or b[2] + margin <= a[0] or a[3] + margin <= b[1] or b[3] + margin <= a[1]
    )


def _cell(box, stride: int) -> tuple[int, int]:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return int(cy // stride), int(cx // stride)


@dataclass
class Scenes:
    """Many scenes: images ``(N, H, W, 3) uint8`` and, per image, its boxes and labels."""

    images: np.ndarray
    boxes: list
    labels: list
    garments: np.ndarray | None = (
        None  # what they were made from, to make new ones (see :func:`cifar_lessons.detection.model.train`)
    )
    garment_labels: np.ndarray | None = None

    def ground_truths(self) -> list[dict]:
        """In the form :func:`cifar_lessons.detection.metrics.mean_average_precision` reads."""
        return [{"boxes": b, "labels": lab} for b, lab in zip(self.boxes, self.labels)]

    def __len__(self) -> int:
        return len(self.images)


def make_scenes(
    n: int, garments: np.ndarray, labels: np.ndarray, config: DetectorConfig, seed: int
) -> Scenes:
    """``n`` scenes from one random stream: the same seed gives the same scenes."""
    rng = np.random.default_rng(seed)
    images, boxes, classes = [], [], []
    for _ in range(n):
        image, b, lab, _ = make_scene(rng, garments, labels, config)
        images.append(image)
        boxes.append(b)
        classes.append(lab)
    return Scenes(np.stack(images), boxes, classes, garments, labels)


def load_scenes(config: DetectorConfig):
    """Training scenes from Fashion-MNIST's first 54,000 training garments, validation scenes from
    its last 6,000, held-out (test) scenes from its 10,000 **test** garments.

    No garment of a held-out scene was ever seen in training, and the scenes themselves are new.
    Returns ``(train, validation, test, source)``; ``source`` says which Fashion-MNIST files were read.
    """
    from ..data import load_fashion_mnist_with_source

    (x_tr, y_tr), (x_te, y_te), source = load_fashion_mnist_with_source()
    n_val = max(1, config.n_test // 3)
    return (
        make_scenes(config.n_train, x_tr[:54_000], y_tr[:54_000], config, config.seed),
        make_scenes(n_val, x_tr[54_000:], y_tr[54_000:], config, config.seed + 2),
        make_scenes(config.n_test, x_te, y_te, config, config.seed + 1),
        source.to_dict(),
    )
