"""Scenes with exact masks: Fashion-MNIST garments pasted on textured backgrounds (chapter 10).

The true mask is known exactly because we pasted it: a garment pixel is one whose Fashion-MNIST
value is at least :data:`~cifar_lessons.segmentation.config.GARMENT_THRESHOLD`, and only those
pixels are pasted. Backgrounds are noise, stripes and scikit-image's brick, grass and gravel photos.
Training scenes use Fashion-MNIST's training images and the top three quarters of each texture
photo; held-out scenes use its test images and the bottom quarter.

The task is **binary**: garment (1) or background (0), the question Otsu's threshold answers; a
scene also carries per-class labels (0 background, 1-10 the Fashion-MNIST class + 1) for anyone
who wants to try the 11-class version.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from .config import GARMENT_THRESHOLD, SegmentConfig

#: The background kinds a scene can have, drawn with equal chance.
BACKGROUNDS = ("noise", "stripes", "brick", "grass", "gravel")


TEXTURES = ("brick", "grass", "gravel")  # grey photos that ship inside scikit-image's wheel


CLASSES = ("background", "garment")


@functools.cache
def _texture(name: str) -> np.ndarray:
    import skimage.data

    image = getattr(skimage.data, name)()
    return image if image.ndim == 2 else image[..., 0]


def background(kind: str, size: int, rng: np.random.Generator, split: str = "train") -> np.ndarray:
    """One ``size`` x ``size`` ``uint8`` background of ``kind`` (:data:`BACKGROUNDS`), contrast drawn at
    random.

    ``noise``: random pixels blurred by a Gaussian of random width (blotches); ``stripes``: a
    sine wave at a random angle, period and phase; ``brick``, ``grass``, ``gravel``: a random
    crop, turned by a random multiple of 90 degrees, from scikit-image's photo, from its top three
    quarters for ``split="train"`` and its bottom quarter otherwise. Every background is then
    stretched to a random range inside 0-255 that overlaps the garments' brightness.
    """
    from scipy import ndimage

    if kind == "noise":
        field = ndimage.gaussian_filter(rng.standard_normal((size, size)), sigma=rng.uniform(1.0, 4.0))
    elif kind == "stripes":
        angle, period = rng.uniform(0, np.pi), rng.uniform(4, 16)
        yy, xx = np.mgrid[:size, :size]
        field = np.sin(
            2 * np.pi * (xx * np.cos(angle) + yy * np.sin(angle)) / period + rng.uniform(0, 2 * np.pi)
        )
    elif kind in TEXTURES:
        photo = _texture(kind)
        cut = photo.shape[0] * 3 // 4
        rows = photo[:cut] if split == "train" else photo[cut:]
        r = rng.integers(0, rows.shape[0] - size + 1)
        c = rng.integers(0, rows.shape[1] - size + 1)
        field = np.rot90(rows[r : r + size, c : c + size], k=int(rng.integers(4))).astype(np.float64)
    else:
        raise ConfigError(f"unknown background {kind!r}; choose from {', '.join(BACKGROUNDS)}")
    low, high = np.percentile(field, 1), np.percentile(field, 99)
    field = np.clip((field - low) / max(high - low, 1e-9), 0, 1)
    lo = rng.uniform(0, 110)
    hi = rng.uniform(max(lo + 80, 150), 255)
    return np.rint(lo + field * (hi - lo)).astype(np.uint8)


@dataclass
class Scenes:
    """Scenes with their true masks: ``images`` and ``backgrounds`` ``uint8`` (N, S, S); ``masks`` 0/1 and
    ``labels`` 0 (background) or Fashion-MNIST class + 1, both ``uint8``; ``kinds`` the background of each."""

    images: np.ndarray
    masks: np.ndarray
    labels: np.ndarray
    backgrounds: np.ndarray
    kinds: list

    def __len__(self) -> int:
        return len(self.images)


def paste(
    scene: np.ndarray,
    labels: np.ndarray,
    garment: np.ndarray,
    label: int,
    row: int,
    col: int,
    threshold: int = GARMENT_THRESHOLD,
) -> None:
    """Paste one 28x28 garment's pixels at or above ``threshold`` into ``scene`` at (row, col), in place.

    ``labels`` gets ``label`` where the garment was pasted; pixels under the threshold are not
    pasted, so the background shows through and stays background in the labels.
    """
    h, w = garment.shape
    keep = garment >= threshold
    scene[row : row + h, col : col + w][keep] = garment[keep]
    labels[row : row + h, col : col + w][keep] = label


def make_scenes(
    garments: np.ndarray,
    classes: np.ndarray,
    n: int,
    size: int = 48,
    *,
    per_scene=(1, 2),
    seed: int = 0,
    split: str = "train",
    threshold: int = GARMENT_THRESHOLD,
) -> Scenes:
    """``n`` scenes of ``size`` px, each 1-2 random ``garments`` (uint8 28x28) pasted on a random background.

    Built offline in NumPy, a few thousand a second. Garments may overlap (the last pasted is on
    top). The mask is 1 exactly where garment pixels were pasted (:func:`paste`).
    """
    if size < 28:
        raise ConfigError(f"scenes must be at least 28 px to hold a garment, got {size}")
    rng = np.random.default_rng(seed)
    images = np.empty((n, size, size), np.uint8)
    backs = np.empty_like(images)
    labels = np.zeros_like(images)
    kinds = []
    for i in range(n):
        kind = BACKGROUNDS[rng.integers(len(BACKGROUNDS))]
        backs[i] = background(kind, size, rng, split)
        images[i] = backs[i]
        for _ in range(int(rng.integers(per_scene[0], per_scene[1] + 1))):
            j = int(rng.integers(len(garments)))
            r, c = (int(v) for v in rng.integers(0, size - 28 + 1, 2))
            paste(images[i], labels[i], garments[j], int(classes[j]) + 1, r, c, threshold)
        kinds.append(kind)
    return Scenes(images, (labels > 0).astype(np.uint8), labels, backs, kinds)


@dataclass
class SceneData:
    """Training, validation and held-out scenes, and where the garments came from."""

    train: Scenes
    val: Scenes
    test: Scenes
    source: dict


def build_scenes(config: SegmentConfig, *, fashion_data=None) -> SceneData:
    """The chapter's scenes: training and validation from Fashion-MNIST's training garments, held-out
    scenes from its test garments (and the textures' bottom quarter), each split with its own seed.

    ``fashion_data`` (anything with ``x_train``, ``y_train``, ``x_test``, ``y_test`` and ``source``)
    replaces the real Fashion-MNIST, which is otherwise read as the classifier's chapter reads it."""
    from ..data import load_fashion_mnist_with_source

    if fashion_data is None:
        (x_train, y_train), (x_test, y_test), source = load_fashion_mnist_with_source()
    else:
        d = fashion_data
        x_train, y_train, x_test, y_test, source = d.x_train, d.y_train, d.x_test, d.y_test, d.source
    s = config.seed
    train = make_scenes(
        x_train[:50_000],
        y_train[:50_000],
        config.n_train,
        config.size,
        seed=s,
        threshold=config.threshold,
    )
    val = make_scenes(
        x_train[50_000:],
        y_train[50_000:],
        config.n_val,
        config.size,
        seed=s + 1,
        threshold=config.threshold,
    )
    test = make_scenes(
        x_test,
        y_test,
        config.n_test,
        config.size,
        seed=s + 2,
        split="test",
        threshold=config.threshold,
    )
    source = (
        source.to_dict() if source is not None else {"description": "synthetic garments", "official": False}
    )
    return SceneData(train, val, test, source)
