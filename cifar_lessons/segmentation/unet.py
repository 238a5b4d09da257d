"""Segmenting images: classical masks (Otsu, watershed, GrabCut), made-up scenes with true masks, a small
U-Net.

Taught in the chapter Segmentation (``book/10_segmentation``). Classical methods first: Otsu's
threshold and a watershed that separates touching coins, GrabCut from a rectangle. Then a network
that labels every pixel: Fashion-MNIST garments pasted on textured backgrounds (noise, stripes and
scikit-image's brick, grass and gravel photos), where the true mask is known exactly because we
pasted it, and a small encoder-decoder with skip connections (U-Net) trained on them.

The task is **binary**: garment (1) or background (0), the same question Otsu's threshold answers,
so the two are scored with the same metric (:mod:`cifar_lessons.segmentation.metrics`). Which garment
it is the classifier's job (chapter 00b); a scene also carries per-class labels (0 background,
1-10 the Fashion-MNIST class + 1) for anyone who wants to try the 11-class version.

A garment pixel is one whose Fashion-MNIST value is at least :data:`GARMENT_THRESHOLD`; only those
pixels are pasted, so the mask is exactly the pasted pixels. Training scenes use Fashion-MNIST's
training images and the top three quarters of each texture photo; held-out scenes use its test
images and the bottom quarter. Every book build, whatever its profile, trains at the small
:data:`BUILD_SIZE` (800 scenes, 3 epochs), so that the whole site builds in minutes; full size is an
explicit choice, ``full_size=True`` or ``CIFAR_LESSONS_FULL_SIZE=1``
(:func:`cifar_lessons.config.resolve_full_size`). The full-size run is measured once by
``scripts/measure_segmentation.py`` and committed as ``results/segmentation-unet``. Importing this
module imports no TensorFlow.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import studies
from ..config import TrainingSize, sized_values
from ..errors import ConfigError
from ..studies import (
    compile_with_cosine,
    config_of,
    device,
    epoch_timer,
    machine,
    parameter_count,
    steps_per_epoch,
    study_record,
    timing,
)

#: Fashion-MNIST pixels at or above this value (of 255) are the garment; below it, background.
#: Fashion-MNIST's own background is 0, and a few faint pixels at a garment's edge are under 16.
GARMENT_THRESHOLD = 16
#: The background kinds a scene can have, drawn with equal chance.
BACKGROUNDS = ("noise", "stripes", "brick", "grass", "gravel")
TEXTURES = ("brick", "grass", "gravel")  # grey photos that ship inside scikit-image's wheel
CLASSES = ("background", "garment")
#: The committed full-size record, in ``results/``.
COMMITTED = "segmentation-unet"
#: What the full-size run is designed to reach on held-out scenes (the chapter's claim).
GOAL_MIOU = 0.85
#: The record's figure of held-out scenes. The package's copy of ``results/`` (``cifar_lessons.measured``,
#: for Colab) ships it too; reading still treats it as optional, so an older install shows a line instead.
FIGURE = "predictions.png"


# --------------------------------------------------------------------------- classical
def otsu_mask(grey: np.ndarray) -> tuple[float, np.ndarray]:
    """Otsu's threshold of a ``uint8`` grey image and the mask of the pixels above it (bright = object)."""
    import cv2

    level, mask = cv2.threshold(np.asarray(grey, np.uint8), 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return float(level), mask.astype(bool)


def separate_touching(mask: np.ndarray, min_distance: int = 7) -> np.ndarray:
    """A watershed that splits touching objects in a binary mask: integer labels, 0 for background.

    Each object pixel's distance to the background peaks at the centre of each object; those
    peaks are the seeds, and the watershed floods the inverted distance from them, so two coins
    that touch meet along the narrow neck between them.
    """
    from scipy import ndimage
    from skimage.feature import peak_local_max
    from skimage.segmentation import watershed

    mask = np.asarray(mask, bool)
    distance = ndimage.distance_transform_edt(mask)
    objects, _ = ndimage.label(mask)
    peaks = peak_local_max(distance, min_distance=min_distance, labels=objects, exclude_border=False)
    markers = np.zeros(mask.shape, np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    return watershed(-distance, markers, mask=mask)


def clean_mask(
    mask: np.ndarray, min_size: int = 40, closing: int = 3, clear_border: bool = True
) -> np.ndarray:
    """A binary mask tidied the classical way: small gaps closed (a ``closing`` px disk), holes filled,
    specks under ``min_size`` px removed and, with ``clear_border``, regions touching the image's edge
    dropped (on ``coins``, the bright band of uneven lighting along the top)."""
    from scipy import ndimage
    from skimage import morphology, segmentation

    mask = np.asarray(mask, bool)
    if clear_border:  # first: the closing below erodes the image's edge away
        mask = segmentation.clear_border(mask)
    mask = ndimage.binary_closing(mask, morphology.disk(closing), border_value=0)
    mask = ndimage.binary_fill_holes(mask)
    labels, _ = ndimage.label(mask)
    keep = np.bincount(labels.ravel()) >= min_size
    keep[0] = False
    return keep[labels]


def grabcut(
    rgb: np.ndarray, rect: tuple[int, int, int, int], iterations: int = 5, seed: int = 0
) -> np.ndarray:
    """GrabCut from a rectangle ``(x, y, width, height)``: the foreground mask OpenCV settles on.

    Everything outside the rectangle is background for sure; inside, GrabCut fits one colour
    model (a mixture of Gaussians) to the foreground and one to the background, cuts the graph
    of pixels where the colours change, and repeats ``iterations`` times.
    """
    import cv2

    cv2.setRNGSeed(seed)
    mask = np.zeros(rgb.shape[:2], np.uint8)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    bgr = cv2.cvtColor(np.ascontiguousarray(rgb, dtype=np.uint8), cv2.COLOR_RGB2BGR)
    cv2.grabCut(bgr, mask, tuple(int(v) for v in rect), bgd, fgd, iterations, cv2.GC_INIT_WITH_RECT)
    return (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)


def overlay(image: np.ndarray, mask: np.ndarray, colour=(255, 60, 30), alpha: float = 0.5) -> np.ndarray:
    """``image`` (grey or RGB ``uint8``) with ``mask``'s pixels tinted: an RGB ``uint8`` picture.

    ``mask`` may be binary or integer labels; each label > 0 gets its own colour
    from tab20 (neighbouring labels far apart in it, never grey).
    """
    image = np.asarray(image)
    rgb = np.repeat(image[..., None], 3, axis=-1) if image.ndim == 2 else image[..., :3]
    rgb = rgb.astype(np.float32)
    mask = np.asarray(mask)
    if mask.dtype == bool or mask.max() <= 1:
        colours = {1: np.array(colour, np.float32)}
    else:
        import matplotlib

        cmap = matplotlib.colormaps["tab20"]
        palette = [i for i in range(20) if i not in (14, 15)]  # not its two greys: they look unlabelled
        colours = {
            int(k): np.array(cmap(palette[int(k) * 7 % len(palette)])[:3], np.float32) * 255
            for k in np.unique(mask)
            if k > 0
        }
    out = rgb.copy()
    for k, c in colours.items():
        where = mask == k
        out[where] = (1 - alpha) * rgb[where] + alpha * c
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- scenes
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


# --------------------------------------------------------------------------- the network
def unet(
    size: int = 48,
    channels: int = 1,
    num_classes: int = 2,
    filters: tuple[int, ...] = (16, 32, 64),
    bottleneck: int = 128,
    seed: int = 42,
):
    """A small U-Net: an encoder that halves the map at each level, a decoder that doubles it back,
    and skip connections that hand each decoder level the encoder's map of the same size.

    Each level is two 3x3 convolutions (BatchNorm, ReLU). The encoder sees more context as the
    map shrinks (48 -> 24 -> 12 -> 6 px); the decoder's transposed convolutions upsample, and the
    skips bring back the sharp edges the pooling threw away. The last 1x1 convolution gives each
    pixel a softmax over ``num_classes``: the output is ``(size, size, num_classes)``, the input's size.
    """
    import keras
    from keras import layers

    if size % 2 ** len(filters):
        raise ConfigError(f"size {size} must be divisible by {2 ** len(filters)} for {len(filters)} poolings")
    keras.utils.set_random_seed(seed)

    def block(x, f, name):
        for k in (1, 2):
            x = layers.Conv2D(f, 3, padding="same", use_bias=False, name=f"{name}_conv{k}")(x)
            x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn{k}")(x)
            x = layers.Activation("relu", name=f"{name}_relu{k}")(x)
        return x

    inputs = keras.Input((size, size, channels), name="scene")
    x, skips = inputs, []
    for i, f in enumerate(filters, 1):
        x = block(x, f, f"down{i}")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = block(x, bottleneck, "bottleneck")
    for i, (f, skip) in reversed(list(enumerate(zip(filters, skips), 1))):
        x = layers.Conv2DTranspose(f, 2, strides=2, name=f"up{i}")(x)
        x = layers.Concatenate(name=f"skip{i}")([x, skip])
        x = block(x, f, f"dec{i}")
    outputs = layers.Conv2D(num_classes, 1, activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name="unet")


# --------------------------------------------------------------------------- configuration
#: What every book build trains, whatever its profile, so that the whole site builds in minutes.
#: Full size (the defaults of :class:`SegmentConfig`) is an explicit choice (:func:`segment_config`).
BUILD_SIZE: dict[str, int] = {"n_train": 800, "n_val": 200, "n_test": 300, "epochs": 3}


@dataclass(frozen=True)
class SegmentConfig(TrainingSize):
    """Everything that decides what the chapter's training computes. Defaults are full size
    (``full_size()`` and ``size_name()`` say whether it is: :class:`cifar_lessons.config.TrainingSize`)."""

    build_size = BUILD_SIZE

    profile: str = "seed"
    n_train: int = 4000
    n_val: int = 500
    n_test: int = 1000
    size: int = 48
    epochs: int = 8
    batch_size: int = 32
    learning_rate: float = 2e-3
    filters: tuple = (16, 32, 64)
    bottleneck: int = 128
    threshold: int = GARMENT_THRESHOLD
    seed: int = 42

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["filters"] = list(self.filters)
        return d


def segment_config(
    profile: str | None = None, *, full_size: bool | None = None, env: Mapping[str, str] | None = None
) -> SegmentConfig:
    """The build's configuration: the :data:`BUILD_SIZE` in every profile, unless full size is asked for.

    ``full_size``, else ``CIFAR_LESSONS_FULL_SIZE`` (:func:`cifar_lessons.config.resolve_full_size`),
    decides the size; the profile (``profile``, else ``CIFAR_LESSONS_PROFILE``, else ``seed``) is
    checked and recorded.
    """
    return SegmentConfig(**sized_values(profile, full_size, env, BUILD_SIZE))


@dataclass
class SceneData:
    """Training, validation and held-out scenes, and where the garments came from."""

    train: Scenes
    val: Scenes
    test: Scenes
    source: dict


def build_scenes(config: SegmentConfig, *, fashion_data=None) -> SceneData:
    """The chapter's scenes: training and validation from Fashion-MNIST's training garments, held-out
    scenes from its test garments (and the textures' bottom quarter), each split with its own seed."""
    from ..fashion import scratch as fashion

    data = fashion_data or fashion.load(fashion.FashionConfig(n=60_000))
    s = config.seed
    train = make_scenes(
        data.x_train[:50_000],
        data.y_train[:50_000],
        config.n_train,
        config.size,
        seed=s,
        threshold=config.threshold,
    )
    val = make_scenes(
        data.x_train[50_000:],
        data.y_train[50_000:],
        config.n_val,
        config.size,
        seed=s + 1,
        threshold=config.threshold,
    )
    test = make_scenes(
        data.x_test,
        data.y_test,
        config.n_test,
        config.size,
        seed=s + 2,
        split="test",
        threshold=config.threshold,
    )
    source = (
        data.source.to_dict()
        if data.source is not None
        else {"description": "synthetic garments", "official": False}
    )
    return SceneData(train, val, test, source)


def scale(images: np.ndarray) -> np.ndarray:
    """``uint8`` scenes as ``float32`` in [0, 1] with a channel axis, as the U-Net takes them."""
    return (np.asarray(images, np.float32) / 255.0)[..., np.newaxis]


@dataclass
class SegmentRun:
    """One training: history, time, and held-out predictions and scores once evaluated."""

    epochs: int
    history: dict
    epoch_seconds: list
    seconds: float
    parameters: int
    predictions: np.ndarray | None = None
    metrics: dict | None = None


def compile_unet(model, config: SegmentConfig) -> None:
    """Adam with a cosine decay to zero over all of ``config``'s steps, pixel-wise cross-entropy, and
    Keras's ``MeanIoU`` (which takes the argmax of the softmax itself): :func:`train`'s set-up, shared
    with ``benchmarks/epoch_start_wait.py --model unet``."""
    import keras

    compile_with_cosine(
        model,
        config.learning_rate,
        config.epochs * steps_per_epoch(config.n_train, config.batch_size),
        metrics=["accuracy", keras.metrics.MeanIoU(num_classes=2, sparse_y_pred=False, name="miou")],
    )


def train(model, data: SceneData, config: SegmentConfig, *, verbose: int | str = "auto") -> SegmentRun:
    """Fit on the training scenes, validating on the validation scenes; pixel-wise cross-entropy.

    Adam with a cosine decay to zero, as in the Fashion-MNIST chapter. Keras's ``MeanIoU``
    follows the validation mIoU epoch by epoch (it takes the argmax of the softmax itself).
    """
    import keras

    from ..pipeline import array_dataset

    compile_unet(model, config)
    keras.utils.set_random_seed(config.seed)
    times: list[float] = []
    start = time.perf_counter()
    # A tf.data pipeline with the autotuner off: with Keras's own (fit on arrays), one of the
    # full-size run's 8 epochs began with a 19 s wait (cifar_lessons.pipeline.array_dataset).
    train_ds = array_dataset(
        scale(data.train.images),
        data.train.masks[..., None],
        batch_size=config.batch_size,
        shuffle=True,
        seed=config.seed,
    )
    val_ds = array_dataset(scale(data.val.images), data.val.masks[..., None], batch_size=config.batch_size)
    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=config.epochs,
        verbose=verbose,
        shuffle=False,
        callbacks=[keras.callbacks.TerminateOnNaN(), epoch_timer(times)],
    )
    seconds = time.perf_counter() - start
    hist = {k: [float(v) for v in vs] for k, vs in history.history.items()}
    return SegmentRun(config.epochs, hist, times, seconds, parameter_count(model))


def scores(pred: np.ndarray, target: np.ndarray) -> dict:
    """Pixel accuracy, IoU per class, mIoU and Dice of binary masks, pooled over all scenes."""
    from .metrics import dice_per_class, iou_per_class, mean_iou, pixel_accuracy

    pred, target = np.asarray(pred, np.uint8), np.asarray(target, np.uint8)
    return {
        "pixel_accuracy": pixel_accuracy(pred, target),
        "mean_iou": mean_iou(pred, target, 2),
        "iou_per_class": dict(zip(CLASSES, iou_per_class(pred, target, 2).tolist())),
        "dice_per_class": dict(zip(CLASSES, dice_per_class(pred, target, 2).tolist())),
    }


def per_scene_iou(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The garment's IoU in each scene (1 where both masks are empty), to find the best and worst."""
    pred, target = np.asarray(pred, bool), np.asarray(target, bool)
    inter = (pred & target).sum(axis=(1, 2))
    union = (pred | target).sum(axis=(1, 2))
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)


def otsu_masks(images: np.ndarray) -> np.ndarray:
    """Otsu's threshold applied to each scene on its own: the bright side is the garment (0/1 ``uint8``)."""
    return np.stack([otsu_mask(im)[1] for im in images]).astype(np.uint8)


def evaluate(model, data: SceneData, run: SegmentRun) -> SegmentRun:
    """Predict every held-out scene once; score the network and Otsu's threshold with the same metrics."""
    probabilities = model.predict(scale(data.test.images), batch_size=128, verbose=0)
    run.predictions = probabilities.argmax(-1).astype(np.uint8)
    otsu = otsu_masks(data.test.images)
    per_scene = per_scene_iou(run.predictions, data.test.masks)
    by_kind = {
        k: scores(run.predictions[idx], data.test.masks[idx])["mean_iou"]
        for k in BACKGROUNDS
        if len(idx := [i for i, kk in enumerate(data.test.kinds) if kk == k])
    }
    otsu_by_kind = {
        k: scores(otsu[idx], data.test.masks[idx])["mean_iou"]
        for k in BACKGROUNDS
        if len(idx := [i for i, kk in enumerate(data.test.kinds) if kk == k])
    }
    run.metrics = {
        "n_test": len(data.test),
        "unet": scores(run.predictions, data.test.masks),
        "otsu": scores(otsu, data.test.masks),
        "unet_miou_by_background": by_kind,
        "otsu_miou_by_background": otsu_by_kind,
        "garment_iou_per_scene": {
            "median": float(np.median(per_scene)),
            "min": float(per_scene.min()),
            "below_0.5": int((per_scene < 0.5).sum()),
        },
    }
    return run


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
    from .figures import segmentation_grid

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


def score_table(runs: Mapping[str, dict]):
    """One row per (method, where from): pixel accuracy, IoU of each class, mIoU."""
    import pandas as pd

    rows = []
    for label, m in runs.items():
        rows.append(
            {
                "method": label,
                "pixel accuracy": f"{m['pixel_accuracy']:.1%}",
                "IoU background": f"{m['iou_per_class']['background']:.3f}",
                "IoU garment": f"{m['iou_per_class']['garment']:.3f}",
                "mean IoU": f"{m['mean_iou']:.3f}",
            }
        )
    return pd.DataFrame(rows)


def background_table(metrics: Mapping, kinds=BACKGROUNDS, committed: Mapping | None = None):
    """Mean IoU by kind of held-out background, U-Net against Otsu (and the committed run's U-Net)."""
    import pandas as pd

    rows = [
        {"method": "Otsu", **{k: f"{metrics['otsu_miou_by_background'][k]:.2f}" for k in kinds}},
        {"method": "U-Net, this build", **{k: f"{metrics['unet_miou_by_background'][k]:.2f}" for k in kinds}},
    ]
    if committed:
        rows.append(
            {
                "method": "U-Net, full size",
                **{k: f"{committed['unet_miou_by_background'][k]:.2f}" for k in kinds},
            }
        )
    return pd.DataFrame(rows)


def record_figure(rec: Mapping):
    """The committed record's figure of held-out scenes (``predictions.png``), for display in the chapter."""
    from IPython.display import Image, Markdown

    if rec.get("figure") is None:
        return Markdown(
            f"(The figure of `results/{rec['name']}` is not in this copy of the results; "
            "the repository has it.)"
        )
    return Image(filename=str(rec["figure"]))


# --------------------------------------------------------------------------- records
def save_run(
    out: str | os.PathLike,
    config: SegmentConfig,
    data: SceneData,
    run: SegmentRun,
    figure,
    *,
    made_by: dict,
    run_seconds: float,
    overwrite: bool = False,
) -> Path:
    """Write a committable record (:func:`cifar_lessons.studies.save_run`) and :data:`FIGURE`; no model."""
    record = study_record(
        "segmentation",
        "unet",
        config,
        epochs=run.epochs,
        parameters=run.parameters,
        data={
            **data.source,
            "garments": f"Fashion-MNIST, pixels >= {config.threshold} of 255",
            "backgrounds": list(BACKGROUNDS),
            "n_train": len(data.train),
            "n_val": len(data.val),
            "n_test": len(data.test),
        },
        timing=timing(run.seconds, run_seconds),
        made_by=made_by,
    )
    history = {"history": run.history, "epoch_seconds": [round(t, 2) for t in run.epoch_seconds]}
    path = studies.save_run(out, record, history, run.metrics, overwrite=overwrite, what="held-out scores")
    figure.savefig(path / FIGURE, dpi=72)
    return path


def check_record(path: str | os.PathLike) -> dict:
    """A committed record read back, or a one-line :class:`RecordError` saying what is wrong with it;
    with the path of its figure (``None`` in a copy of the results without figures)."""
    rec = studies.check_record(
        path,
        what="segmentation",
        script="measure_segmentation.py",
        kind={"kind": "segmentation"},
        history="val_miou",
        metrics=("unet", "otsu"),
        scores="held-out scores",
    )
    figure = Path(path) / FIGURE
    return {**rec, "figure": figure if figure.exists() else None}


def committed_run(root: str | os.PathLike | None = None) -> dict | None:
    """The committed full-size record, or ``None`` if not measured yet (an incomplete one is an error)."""
    from ..records.committed import committed_record

    return committed_record(COMMITTED, check_record, root)


def run_card(config: SegmentConfig, source: Mapping, record: Mapping | None = None):
    """This chapter's run card: size, scenes, epochs, garments' source, machine, time; a warning below full
    size."""
    env = machine(record)  # its device goes in the line
    rows = [
        (
            "size",
            f"{config.size_name()}: {config.n_train:,} training scenes, {config.n_val:,} to validate, "
            f"{config.n_test:,} held out, {config.size}&times;{config.size} px, {config.epochs} epochs, "
            f"batch {config.batch_size}, seed {config.seed}",
        ),
        (
            "scenes",
            f"Fashion-MNIST garments (pixels &ge; {config.threshold}) on noise, stripes and "
            "scikit-image's brick, grass and gravel photos; binary masks",
        ),
        ("garments", html.escape(source.get("description", ""))),
    ]
    full = SegmentConfig()
    shortfall = (
        f"{config.n_train:,} training scenes and {config.epochs} epochs instead of "
        f"{full.n_train:,} and {full.epochs} (the committed full-size record, at the "
        "end): the U-Net here is half-trained, and its scores are lower."
    )
    line = [
        config.size_name(),
        f"{config.n_train:,} scenes &times; {config.epochs} epochs",
        "official Fashion-MNIST" if source.get("official") else "Fashion-MNIST copy",
        html.escape(device(env)),
    ]
    return studies.run_card(
        config, source, record, rows, shortfall=shortfall, line=line, data_label="Garments"
    )


def record_card(rec: Mapping):
    """The run card of the committed record (as :func:`committed_run` returns it)."""
    r = rec["record"]
    return run_card(config_of(SegmentConfig, r, filters=tuple), r["data"], {**r, "name": rec["name"]})
