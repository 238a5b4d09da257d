"""The U-Net: a small encoder-decoder with skip connections, its training and its scores (chapter 10).

Scored with the same metrics as Otsu's threshold (:mod:`cifar_lessons.segmentation.metrics`), on
the same held-out scenes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from ..studies import (
    compile_with_cosine,
    epoch_timer,
    parameter_count,
    steps_per_epoch,
)
from .classical import otsu_masks
from .config import SegmentConfig
from .scenes import BACKGROUNDS, CLASSES, SceneData


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
