"""``tf.data`` pipelines: cast, optionally augment, preprocess for the backbone, batch, prefetch.

Taught in chapter 1 (the dataset) and chapter 2 (why each backbone has its own
preprocessing). Images enter as ``uint8`` 0-255; ResNet50's ``preprocess_input`` expects
exactly that range (it flips RGB to BGR and subtracts the ImageNet mean), so nothing here
divides by 255.

Every pipeline here runs with tf.data's autotuner off (:func:`without_autotune`); chapter 4's
notes on phase 2's cost tell why.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from .models import get_backbone

#: Batches prepared ahead of the model, and batches preprocessed at once. On CPU, preparing a
#: batch (a cast and a subtraction, flips and crops when augmenting) takes about a millisecond
#: against a training step's hundreds, so two of each keep the model fed.
PREFETCH = 2
PARALLEL_CALLS = 2


def without_autotune(ds: tf.data.Dataset) -> tf.data.Dataset:
    """``ds`` with tf.data's autotuner off, so an epoch never starts with a half-minute wait.

    Keras makes a new iterator over the training set in every epoch and destroys the old one.
    With the autotuner on, destroying an iterator that has lived for a whole epoch can wait for
    the autotuner's thread to wake, and its sleep grows with the iterator's age: on 2 cores, 3 of
    the 9 phase-2 epochs after the first began with 30-35 s of idle CPU (a py-spy stack shows the
    main thread in ``~IteratorResource`` waiting on that thread), 81-85 s instead of 39-49 s. Our
    pipelines are trivial next to the model, so fixed sizes (:data:`PREFETCH`,
    :data:`PARALLEL_CALLS`) lose nothing. A plain ``model.fit`` on NumPy arrays keeps the
    autotuner, and the wait.
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.with_options(options)


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


def preprocess(images, backbone: str = "resnet50"):
    """Images 0-255 as the base's ImageNet weights expect them: never divide by 255."""
    if backbone == "resnet50":
        # RGB to BGR, then the ImageNet mean pixel subtracted ("caffe" mode), from 0-255.
        return keras.applications.resnet50.preprocess_input(images)
    return get_backbone(backbone).preprocess(images)  # another base: its weights' own


def make_dataset(
    images, labels, *, backbone="resnet50", batch_size=64, shuffle=False, augment=False, seed=42
) -> tf.data.Dataset:
    """Batches of (preprocessed image, label): cast to float, flipped and cropped when
    augmenting, preprocessed, prefetched (the autotuner off: :func:`without_autotune`)."""
    get_backbone(backbone)  # an unknown backbone fails here, in one line
    ds = tf.data.Dataset.from_tensor_slices((images, labels))
    if shuffle:  # a new order every epoch, the same in every run with this seed
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    parallel = PARALLEL_CALLS
    ds = ds.map(lambda x, y: (tf.cast(x, tf.float32), y), num_parallel_calls=parallel)
    if augment:  # on 0-255 pixels, before preprocessing (chapter 6)
        aug = augmenter(seed)
        ds = ds.map(lambda x, y: (aug(x, training=True), y), num_parallel_calls=parallel)
    ds = ds.map(lambda x, y: (preprocess(x, backbone), y), num_parallel_calls=parallel)
    return without_autotune(ds.prefetch(PREFETCH))


def array_dataset(x, y, *, batch_size: int, shuffle: bool = False, seed: int = 42) -> tf.data.Dataset:
    """Arrays already in the model's input form (dtype included: nothing is cast), in batches of
    ``batch_size`` as ``model.fit(x, y, batch_size=...)`` makes them, with the autotuner off
    (:func:`without_autotune`).

    For everything that trains on arrays rather than on raw images: the head on cached features
    (chapter 3), and the companion chapters' networks (Fashion-MNIST, Detection, Segmentation).
    A plain ``model.fit`` on NumPy arrays builds the same pipeline with the autotuner on, and an
    epoch can start with a wait: the Segmentation chapter's full-size training on arrays waited
    19.4 s before the first step of its third epoch, 20.9 s of its 193.7 s in all
    (``benchmarks/epoch_start_wait.py numpy --model unet``; here ``package``, 0.0 s).
    Shuffling is over the whole set, with ``seed``, reshuffled each epoch, as :func:`make_dataset`
    shuffles images (another order than ``fit``'s own shuffle); ``x`` and ``y`` may be any arrays
    (or tuples of arrays) with one row per example.
    """
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
    return without_autotune(ds.batch(batch_size).prefetch(PREFETCH))
