"""Backbones and the classifier: a frozen pretrained base under a small dense head.

Taught in chapter 2 (the architecture). Each backbone lives in :data:`BACKBONES` with the
preprocessing its ImageNet weights were trained with, so the data pipeline and the model
can never disagree about it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from .backbones import BACKBONE_DESCRIPTIONS, BACKBONE_NAMES, OFFLINE_BACKBONE, OFFLINE_BACKBONES
from .backbones import efficientnet_lite as lite
from .errors import ConfigError, WeightsError, how_to_set


@dataclass(frozen=True)
class Backbone:
    """A pretrained base model and the input preprocessing its weights expect."""

    name: str
    constructor: Callable[..., keras.Model]
    preprocess: Callable  # applied to float32 images with values 0-255
    description: str


def _identity(x):
    return x


_KERAS_PARTS: dict[str, tuple[Callable[..., keras.Model], Callable]] = {
    # caffe mode: RGB->BGR and ImageNet mean subtracted, on 0-255 input (no /255 first).
    "resnet50": (keras.applications.ResNet50, keras.applications.resnet50.preprocess_input),
    # Keras's EfficientNet rescales and normalises inside the model: feed 0-255 as is.
    "efficientnetb0": (keras.applications.EfficientNetB0, _identity),
    # (x - 127) / 128, as the reference EfficientNet-Lite defines it (the same for every Lite).
    "efficientnet_lite0": (lite.EfficientNetLite0, lite.preprocess_input),
    "efficientnet_lite1": (lite.EfficientNetLite1, lite.preprocess_input),
    "efficientnet_lite2": (lite.EfficientNetLite2, lite.preprocess_input),
}
assert set(OFFLINE_BACKBONES) == {v.backbone for v in lite.VARIANTS.values()}
assert set(_KERAS_PARTS) == set(BACKBONE_NAMES)

BACKBONES: dict[str, Backbone] = {
    name: Backbone(name, *_KERAS_PARTS[name], BACKBONE_DESCRIPTIONS[name]) for name in BACKBONE_NAMES
}


def get_backbone(name: str) -> Backbone:
    """Look a backbone up by name, with a clear error for an unknown one."""
    try:
        return BACKBONES[name]
    except KeyError:
        raise ConfigError(f"unknown backbone {name!r}; choose one of: {', '.join(BACKBONES)}") from None


def pretrained_base(image_size: int = 32) -> keras.Model:
    """The course's base: ResNet50 with its ImageNet weights, without its classifier."""
    base_model = keras.applications.ResNet50(
        weights="imagenet",  # downloaded once, then read from ~/.keras
        include_top=False,  # keep the convolutional layers, drop ImageNet's classifier
        input_shape=(image_size, image_size, 3),  # (32, 32, 3): CIFAR-10's own size
    )
    return base_model


def build_base(
    backbone: str = "resnet50", weights: str | None = "imagenet", image_size: int = 32
) -> keras.Model:
    """Build the convolutional base without its ImageNet classifier.

    ``weights`` is ``"imagenet"`` (Keras's download), ``None``/``"none"`` (random, only when
    asked for), or a path to a weights file as Keras's ``load_weights`` reads it. A failed
    download raises :class:`WeightsError` naming both ways out; it never falls back to random.
    """
    spec = get_backbone(backbone)
    if image_size < 32:
        raise ConfigError(f"image size must be at least 32 (CIFAR-10 is 32x32), got {image_size}")
    shape = (image_size, image_size, 3)
    if weights in (None, "none"):
        return spec.constructor(include_top=False, weights=None, input_shape=shape)
    if weights == "imagenet":
        try:
            if backbone == "resnet50":
                return pretrained_base(image_size)  # the course's own lines (chapter 2)
            return spec.constructor(include_top=False, weights="imagenet", input_shape=shape)
        except WeightsError:
            raise
        except Exception as exc:
            raise WeightsError(
                f"could not download the ImageNet weights for {backbone} ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''}). Offline, real ImageNet weights come with "
                f"{how_to_set('backbone', OFFLINE_BACKBONE)} ({' and '.join(OFFLINE_BACKBONES[1:])} work "
                "offline too); or pass a weights file with "
                f"{how_to_set('weights', 'PATH')}, or ask for random initialisation with "
                f"{how_to_set('weights', 'none')}"
            ) from exc
    path = Path(weights).expanduser()
    if not path.is_file():
        raise WeightsError(f"weights file {str(path)!r} does not exist")
    base = spec.constructor(include_top=False, weights=None, input_shape=shape)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            base.load_weights(str(path))
    except Exception as exc:
        raise WeightsError(
            f"weights file {path.name} does not fit {backbone} without its top "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
        ) from exc
    # Keras skips parts of a file it cannot match with only a warning; a half-loaded base
    # would be a silent fall-back to random weights, so treat it as a mismatch.
    skipped = [str(w.message) for w in caught if "freshly-initialized" in str(w.message)]
    if skipped:
        raise WeightsError(f"weights file {path.name} does not fit {backbone}: {skipped[0].splitlines()[0]}")
    return base


def build_classifier(
    backbone: str = "resnet50",
    weights: str | None = "imagenet",
    image_size: int = 32,
    head: tuple[int, int] = (256, 128),
    dropout: float = 0.3,
    num_classes: int = 10,
) -> keras.Model:
    """The transfer-learning model for a backbone and its weights: :func:`build_base`, then
    :func:`classifier_on` it. Input is an already-preprocessed 32x32 batch (see
    :mod:`cifar_lessons.pipeline`)."""
    if len(head) != 2 or any(k <= 0 or k & (k - 1) for k in head) or head[0] <= head[1]:
        raise ConfigError(f"head must be two powers of two, the first wider, got {tuple(head)!r}")
    base_model = build_base(backbone, weights, image_size)
    return classifier_on(base_model, image_size, head, dropout, num_classes, name=f"{backbone}_cifar10")


def classifier_on(
    base_model, image_size=32, head=(256, 128), dropout=0.3, num_classes=10, name=None
) -> keras.Model:
    """Chapter 2's model: the frozen base, average pooling, two hidden Dense layers."""
    base_model.trainable = False  # phase 1 trains the new head only
    inputs = keras.Input(shape=(32, 32, 3), name="image")
    x = inputs
    if image_size != 32:  # larger inputs (chapter 6): upsample inside the model
        x = keras.layers.Resizing(image_size, image_size, name="resize")(x)
    x = base_model(x, training=False)  # BatchNorm in inference mode (see also unfreeze)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)  # one feature vector per image
    for i, units in enumerate(head, start=1):  # two hidden Dense layers: 256, 128 units
        x = keras.layers.Dense(units, activation="relu", name=f"dense_{i}")(x)
        if dropout:  # silences 30% of the units at random while training
            x = keras.layers.Dropout(dropout, name=f"dropout_{i}")(x)
    # Ten probabilities; float32 even under mixed precision, for the softmax and the loss.
    outputs = keras.layers.Dense(
        num_classes,
        activation="softmax",
        dtype="float32",
        name="classes",
    )(x)
    return keras.Model(inputs, outputs, name=name)


def base_of(model: keras.Model) -> keras.Model:
    """The pretrained base inside a classifier (its only nested model)."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            return layer
    raise ValueError(f"model {model.name} has no nested base model")


def set_base_trainable(model: keras.Model, trainable: bool) -> keras.Model:
    """Freeze the classifier's base, or :func:`unfreeze` it (its BatchNormalization layers stay frozen)."""
    base = base_of(model)
    if trainable:
        unfreeze(base)
    else:
        base.trainable = False
    return model


def unfreeze(base_model: keras.Model) -> None:
    """Let the whole base train, except its BatchNormalization layers, which stay frozen."""
    base_model.trainable = True
    for layer in base_model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            # Frozen, BatchNorm runs in inference mode and keeps its ImageNet statistics.
            # training=False alone is not enough in Keras 3: fit passes training=True down
            # into nested models (keras-team/keras#20285; tests/test_training.py checks it).
            layer.trainable = False


def compile_classifier(
    model: keras.Model, learning_rate, *, loss=None, metrics: tuple = ("accuracy",)
) -> keras.Model:
    """Adam at ``learning_rate`` (a number or a schedule), and sparse categorical
    cross-entropy unless another loss is given: the labels are class indices 0-9."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=loss if loss is not None else keras.losses.SparseCategoricalCrossentropy(),
        metrics=list(metrics),
    )
    return model


def smoothed_crossentropy(label_smoothing: float) -> keras.losses.Loss | None:
    """Cross-entropy against labels smoothed by ``label_smoothing``, for class-index labels; ``None``
    (:func:`compile_classifier`'s plain sparse cross-entropy, the seed's) when it is 0.

    Keras's sparse cross-entropy has no label smoothing, so the labels are made one-hot first:
    the true class weighs ``1 - label_smoothing + label_smoothing / 10``, every other class
    ``label_smoothing / 10``, which penalises a network that is sure of itself.
    """
    if not label_smoothing:
        return None
    return SmoothedSparseCrossentropy(label_smoothing)


class SmoothedSparseCrossentropy(keras.losses.Loss):
    """:func:`smoothed_crossentropy`'s loss: class indices made one-hot, then Keras's categorical
    cross-entropy with its ``label_smoothing``."""

    def __init__(self, label_smoothing: float, name: str = "smoothed_sparse_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true, y_pred):
        classes = keras.ops.shape(y_pred)[-1]
        one_hot = keras.ops.one_hot(keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32"), classes)
        return keras.losses.categorical_crossentropy(one_hot, y_pred, label_smoothing=self.label_smoothing)

    def get_config(self) -> dict:
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


def cosine_decay(learning_rate: float, decay_steps: int):
    """A rate that falls along a cosine from ``learning_rate`` to zero over ``decay_steps``:
    large steps first, small ones at the end, so the last epoch's weights are worth keeping."""
    decay_steps = max(1, decay_steps)
    return keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=decay_steps)


def trainable_counts(model: keras.Model) -> dict[str, int]:
    """Trainable and frozen parameter counts, as ``model.summary()`` reports them."""
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)  # shapes only: no copies
    frozen = sum(math.prod(w.shape) for w in model.non_trainable_weights)
    return {"trainable": trainable, "non_trainable": frozen, "total": trainable + frozen}


def spatial_sizes(base: keras.Model) -> list[tuple[str, int, int]]:
    """(layer, side in pixels, channels) wherever the feature map shrinks, and the last one.

    For ResNet50 at 32x32 this shows the map halving five times, down to 1x1: by the end
    each of the 2048 channels describes the whole image at once.
    """
    out, last = [], None
    for layer in base.layers[1:]:
        shape = layer.output.shape
        if len(shape) != 4 or isinstance(layer, keras.layers.ZeroPadding2D):
            continue
        side = int(shape[1])
        if last is not None and side < last[1]:
            out.append(last)
        last = (layer.name, side, int(shape[3]))
    if last is not None:
        out.append(last)
    return out


def first_filters(base: keras.Model) -> np.ndarray:
    """The kernel of the base's first convolution, ``(k, k, 3, filters)``: what it looks for in the pixels
    (chapter 2: 7x7x3x64 in ResNet50, 3x3x3x32 in the EfficientNets)."""
    for layer in base.layers:
        if type(layer) is keras.layers.Conv2D:
            return np.asarray(layer.get_weights()[0])
    raise ValueError(f"model {base.name} has no Conv2D layer")


def feature_maps(
    base: keras.Model, image: np.ndarray, backbone: str, largest: int = 4, smallest_side: int = 2
) -> dict[str, np.ndarray]:
    """One image's feature maps in the pretrained base, one per size of map (chapter 2).

    ``image`` is one ``(h, w, 3)`` picture, 0-255, resized (bilinear) to the base's input size if it is
    not at it, then preprocessed as ``backbone``'s weights expect. Returns, in order of depth, the first
    convolution's output (what the filters of :func:`first_filters` give, before BatchNorm), then the
    output of the last layer at each map size that :func:`spatial_sizes` lists, down to
    ``smallest_side`` pixels, at most ``largest`` of them, each ``(side, side, channels)``, keyed by the
    layer's name. Drawn by
    :func:`cifar_lessons.display.concepts.feature_maps`.
    """
    first = next(layer.name for layer in base.layers if type(layer) is keras.layers.Conv2D)
    chosen = [name for name, side, _ in spatial_sizes(base) if side >= smallest_side][:largest]
    chosen = [first] + [name for name in chosen if name != first]
    probe = keras.Model(base.input, [base.get_layer(name).output for name in chosen])
    x = np.asarray(image, dtype=np.float32)[None]
    side = base.input.shape[1:3]
    if tuple(x.shape[1:3]) != tuple(side):  # a 32x32 image into a base built for 96 or 128 pixels
        x = np.asarray(keras.ops.image.resize(x, tuple(side), interpolation="bilinear"))
    x = get_backbone(backbone).preprocess(x.copy())
    outputs = probe(x, training=False)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return {name: np.asarray(out)[0] for name, out in zip(chosen, outputs)}
