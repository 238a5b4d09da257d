"""``tf.data`` pipelines: cast, optionally augment, preprocess for the backbone, batch, prefetch.

Taught in chapter 1 (the dataset) and chapter 2 (why each backbone has its own
preprocessing). Images enter as ``uint8`` 0-255; ResNet50's ``preprocess_input`` expects
exactly that range (it flips RGB to BGR and subtracts the ImageNet mean), so nothing here
divides by 255.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from .models import get_backbone


def augmenter(seed: int = 0) -> keras.Sequential:
    """Random horizontal flip and a random 32x32 crop of the image padded by 4 pixels."""
    return keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal", seed=seed),
            keras.layers.ZeroPadding2D(4),
            keras.layers.RandomCrop(32, 32, seed=seed),
        ],
        name="augment",
    )


def make_dataset(
    x: np.ndarray,
    y: np.ndarray,
    *,
    backbone: str = "resnet50",
    batch_size: int = 64,
    shuffle: bool = False,
    augment: bool = False,
    seed: int = 42,
) -> tf.data.Dataset:
    """A batched, prefetched dataset of ``(preprocessed image, label)`` pairs.

    Shuffling uses ``seed`` and reshuffles each epoch, so a run is repeatable.
    Augmentation (off in the seed profile) runs on 0-255 pixels before preprocessing.
    """
    preprocess = get_backbone(backbone).preprocess
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    ds = ds.map(lambda img, label: (tf.cast(img, tf.float32), label), num_parallel_calls=tf.data.AUTOTUNE)
    if augment:
        aug = augmenter(seed)
        ds = ds.map(lambda img, label: (aug(img, training=True), label), num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.map(lambda img, label: (preprocess(img), label), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
