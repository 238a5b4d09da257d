"""Phase 1 on cached features: run the frozen base once, then train the head on its outputs.

Taught in chapter 3 (training the head). While the base is frozen, runs in inference mode
(its BatchNorm layers use their stored ImageNet statistics) and sees no augmentation, it maps
each training image to the same pooled feature vector in every epoch. Computing those vectors
once and training the head on them is the same model and the same arithmetic as training
through the whole network, at the cost of one forward pass instead of ten: the head's layers
are the very layer objects of the classifier, so the trained head is already back on the base
when phase 1 ends.

With augmentation on, every epoch shows the base different pixels, so its outputs cannot be
cached; :func:`can_cache_features` says so and the recipe trains end to end instead.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from .models import base_of, set_base_trainable
from .pipeline import array_dataset, make_dataset
from .training import TwoPhaseHistory, run_phase

#: The classifier's pooling layer (see :func:`cifar_lessons.models.build_classifier`):
#: everything up to it is the frozen feature extractor, everything after it the head.
POOL_LAYER = "pool"


def can_cache_features(augment: bool) -> bool:
    """Features can be cached only when the base sees exactly the same pixels in every epoch."""
    return not augment


def feature_extractor(model: keras.Model) -> keras.Model:
    """The classifier up to its pooling layer: image in, one feature vector out."""
    return keras.Model(model.inputs, model.get_layer(POOL_LAYER).output, name="features")


def head_of(model: keras.Model) -> keras.Model:
    """The layers after pooling, rebuilt on a feature input. They are the same layer objects
    as in ``model``, so training this model trains the classifier's head in place."""
    layers = model.layers[model.layers.index(model.get_layer(POOL_LAYER)) + 1 :]
    inputs = keras.Input(shape=tuple(model.get_layer(POOL_LAYER).output.shape[1:]), name="features")
    x = inputs
    for layer in layers:
        x = layer(x)
    return keras.Model(inputs, x, name="head")


def extract_features(
    model: keras.Model, x: np.ndarray, *, backbone: str, batch_size: int = 256, verbose: int | str = 0
) -> np.ndarray:
    """Pooled base features of raw ``uint8`` images, through the same pipeline as training.

    Inference only, so the batch size changes nothing but speed (a larger batch keeps the
    CPU's matrix units busier).
    """
    ds = make_dataset(x, np.zeros(len(x), dtype=np.int64), backbone=backbone, batch_size=batch_size)
    return feature_extractor(model).predict(ds.map(lambda img, _: img), verbose=verbose).astype(np.float32)


def feature_datasets(
    model: keras.Model,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    *,
    backbone: str,
    batch_size: int = 64,
    seed: int = 42,
) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """Run the frozen base once over raw ``(images, labels)``; return the head's training and
    validation datasets of ``(features, label)``, batched and shuffled as the recipe's are."""
    set_base_trainable(model, False)
    (x_tr, y_tr), (x_val, y_val) = train, val
    f_tr = extract_features(model, x_tr, backbone=backbone)
    f_val = extract_features(model, x_val, backbone=backbone)
    return (
        array_dataset(f_tr, y_tr, batch_size=batch_size, shuffle=True, seed=seed),
        array_dataset(f_val, y_val, batch_size=batch_size),
    )


def train_head_on_features(
    model: keras.Model,
    train_ds: tf.data.Dataset,
    val_ds: tf.data.Dataset,
    *,
    epochs: int = 10,
    learning_rate: float = 1e-3,
    history: TwoPhaseHistory | None = None,
    callbacks: list | None = None,
    verbose: int | str = "auto",
    loss=None,
) -> TwoPhaseHistory:
    """The head phase (:func:`cifar_lessons.training.train_head`) on :func:`feature_datasets`.

    The same optimiser, learning rate and epochs; the model trained is :func:`head_of` the
    classifier, whose layers are the classifier's own, so ``model`` holds the trained head afterwards.
    """
    return run_phase(
        "head",
        head_of(model),
        base_of(model),
        train_ds,
        val_ds,
        epochs=epochs,
        learning_rate=learning_rate,
        history=history,
        callbacks=callbacks,
        verbose=verbose,
        loss=loss,
    )
