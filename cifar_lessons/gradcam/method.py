"""Grad-CAM: which part of an image made the classifier choose a class.

Taught in the chapter Where the classifier looks. Grad-CAM (Selvaraju et al., 2017) asks the
last feature map of the base how much each of its channels pushed a class's score up, and
paints the image with the channels that did: ``weights = spatial mean of d(score)/d(feature map)``,
``map = ReLU(sum_k weight_k * channel_k)``, scaled to [0, 1] and stretched to the 32x32 input.

**Input convention.** :func:`grad_cam` takes exactly what the classifier takes: a batch of
32x32 images *already preprocessed* for its backbone, as :func:`cifar_lessons.pipeline.make_dataset`
feeds them to ``model.fit`` and ``model.predict``. From raw ``uint8`` CIFAR-10 images, use
:func:`preprocessed` (the pipeline itself, so the two can never disagree); keep the ``uint8``
images for :func:`overlay`.

**Resolution.** The map is only as fine as the feature map it comes from. At 32x32 ResNet50's
last feature map is 1x1, so its Grad-CAM is a single number stretched over the image: it says
nothing about *where*. Build the classifier with a larger ``image_size`` (``--image-size 96``
or more: a 3x3 map; 224 gives 7x7); :func:`last_conv_layer` reports the size.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import NamedTuple

import keras
import matplotlib
import numpy as np
import tensorflow as tf

from ..models import base_of
from ..pipeline import make_dataset


class FeatureLayer(NamedTuple):
    """The feature map Grad-CAM reads: a layer of the base and its output's size."""

    name: str
    height: int
    width: int
    channels: int


def last_conv_layer(base: keras.Model) -> FeatureLayer:
    """The base's last layer with a 4-D (batch, height, width, channels) output, and its size.

    Why the last one: it is the most semantic map the network has (each channel answers a
    question like "is there a wheel here?"), and it is still spatial, so it can say *where*.
    The layers after it (pooling, the dense head) throw the "where" away. Why report the size:
    Grad-CAM cannot be finer than this map. ResNet50 at 32x32 ends in a 1x1 map, a "map" of one
    pixel; with ``--image-size 96`` it is 3x3, at 224 it is 7x7.
    """
    for layer in reversed(base.layers):
        shape = layer.output.shape
        if len(shape) == 4:
            return FeatureLayer(layer.name, int(shape[1]), int(shape[2]), int(shape[3]))
    raise ValueError(f"base model {base.name} has no layer with a 4-D output")


def preprocessed(images_uint8: np.ndarray, backbone: str) -> np.ndarray:
    """Raw ``uint8`` images as the classifier sees them, through the training pipeline itself."""
    images_uint8 = np.asarray(images_uint8)
    ds = make_dataset(
        images_uint8,
        np.zeros(len(images_uint8), dtype=np.int64),
        backbone=backbone,
        batch_size=max(len(images_uint8), 1),
    )
    return np.concatenate([np.asarray(img) for img, _ in ds.as_numpy_iterator()])


def _feature_model(model: keras.Model, layer_name: str | None) -> tuple[keras.Model, keras.Model]:
    """The classifier's base, and a model from the base's input to (chosen feature map, base output).

    Keras 3 does not connect a nested model's inner tensors to the outer graph, so the
    classifier cannot simply be asked for them; instead :func:`_forward` runs the base through
    this sub-model and the classifier's other layers one after another.
    """
    base = base_of(model)
    name = layer_name or last_conv_layer(base).name
    height, width = base.get_layer(name).output.shape[1:3]
    if height == 1 and width == 1:
        warnings.warn(
            f"{base.name}'s layer {name} is 1x1 at this image size: every Grad-CAM map is uniform "
            "and says nothing about where; build the classifier with image_size 96 or more",
            stacklevel=3,
        )
    return base, keras.Model(
        base.inputs, [base.get_layer(name).output, base.output], name=f"{base.name}_to_{name}"
    )


def _forward(model: keras.Model, base: keras.Model, to_features: keras.Model, images, tape: tf.GradientTape):
    """(feature map, class scores before softmax, probabilities): the classifier's own layers in order.

    The classifier is a chain (``build_classifier``: optional Resizing, base, pooling, dense
    head), so applying its layers in turn, in inference mode (no dropout, frozen BatchNorm
    statistics), is its forward pass. The last layer's softmax is left out of the score
    Grad-CAM differentiates: a confident softmax saturates, and its gradients vanish.
    """
    x = images
    features = None
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    for layer in layers[:-1]:
        if layer is base:
            features, x = to_features(x, training=False)
            tape.watch(features)
        else:
            x = layer(x, training=False)
    last = layers[-1]
    if features is None or not isinstance(last, keras.layers.Dense):
        raise ValueError(f"model {model.name} is not a chain ending in a Dense layer after its base")
    scores = tf.cast(tf.matmul(tf.cast(x, last.kernel.dtype), last.kernel), tf.float32)
    if last.use_bias:
        scores = scores + tf.cast(last.bias, tf.float32)
    return features, scores, last(x, training=False)


def grad_cam(
    model: keras.Model,
    images: np.ndarray,
    class_index: int | Sequence[int] | None = None,
    layer_name: str | None = None,
    batch_size: int = 32,
) -> np.ndarray:
    """Grad-CAM heatmaps, shape ``(n, 32, 32)``, values in [0, 1], one per image.

    ``images`` are preprocessed for the backbone (see the module's input convention).
    ``class_index`` is the class to explain: ``None`` for each image's predicted class, one
    index for all images, or one per image (e.g. the true class of a mistake). ``layer_name``
    is a layer inside the base; by default :func:`last_conv_layer`'s.

    The map is upsampled bilinearly from the feature map's size to the input's 32x32 (not to
    the resized size inside the model: the picture is the 32x32 image), then divided by its own
    maximum, so maps show *where*, not *how much*, and cannot be compared in strength between
    images. A map with no positive evidence stays all zero (no division by zero).
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4:
        raise ValueError(f"images must be a batch (n, height, width, channels), got shape {images.shape}")
    n = len(images)
    if class_index is None:
        wanted = None
    else:
        wanted = np.broadcast_to(np.asarray(class_index, dtype=np.int64), (n,))
    base, to_features = _feature_model(model, layer_name)
    size = images.shape[1:3]
    out = []
    for start in range(0, n, batch_size):
        batch = tf.constant(images[start : start + batch_size])
        with tf.GradientTape() as tape:
            features, scores, _ = _forward(model, base, to_features, batch, tape)
            chosen = (
                tf.argmax(scores, axis=1, output_type=tf.int64)
                if wanted is None
                else tf.constant(wanted[start : start + batch_size])
            )
            # Each image's score depends only on its own features, so one gradient of the sum
            # gives every image's gradient at once.
            total = tf.reduce_sum(tf.gather(scores, chosen, axis=1, batch_dims=1))
        grads = tf.cast(tape.gradient(total, features), tf.float32)
        features = tf.cast(features, tf.float32)
        weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)  # (b, 1, 1, channels)
        cam = tf.nn.relu(tf.reduce_sum(weights * features, axis=-1))  # (b, h, w)
        cam = tf.image.resize(cam[..., None], size, method="bilinear")[..., 0]
        # Scaled after upsampling: a bilinear 8x8 -> 32x32 lowers an isolated peak, and the
        # hottest pixel should read 1.
        cam = tf.math.divide_no_nan(cam, tf.reduce_max(cam, axis=(1, 2), keepdims=True))
        out.append(np.clip(cam.numpy(), 0.0, 1.0))
    return np.concatenate(out) if out else np.zeros((0, *size), dtype=np.float32)


def overlay(
    image_uint8: np.ndarray, heatmap: np.ndarray, alpha: float = 0.4, cmap: str = "jet"
) -> np.ndarray:
    """The image with the heatmap painted over it in colour, as ``uint8`` RGB.

    ``alpha`` is the colour's share (0: the image alone, 1: the heatmap alone). Works on one
    image ``(h, w, 3)`` with a map ``(h, w)``, or on batches of both. No OpenCV: matplotlib's
    colour map turns [0, 1] into RGB.
    """
    image = np.asarray(image_uint8)
    heatmap = np.asarray(heatmap, dtype=np.float32)
    if image.shape[:-1] != heatmap.shape or image.shape[-1] != 3:
        raise ValueError(
            f"image {image.shape} and heatmap {heatmap.shape} must be (..., h, w, 3) and (..., h, w)"
        )
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    colour = matplotlib.colormaps[cmap](np.clip(heatmap, 0.0, 1.0))[..., :3] * 255.0
    mixed = (1.0 - alpha) * image.astype(np.float32) + alpha * colour
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
