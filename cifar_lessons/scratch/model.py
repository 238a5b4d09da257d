"""A small CIFAR-10 CNN trained from random weights: the from-scratch side of the comparison.

Why this shape: three blocks of two 3x3 convolutions (BatchNorm, ReLU), each block ending in 2x2
max-pooling (32 -> 16 -> 8 -> 4), then global average pooling, dropout and a softmax. It is the
plain VGG-style network a course would build first, small enough (about 0.3 M weights) that one
epoch over 9,000 images takes seconds on 2 CPU cores, so it can train for many epochs in the
recipe's six-minute budget. Nothing in it is pretrained: every weight starts random.
"""

from __future__ import annotations

#: Filters of the three blocks; each block has two convolutions.
FILTERS: tuple[int, ...] = (32, 64, 128)
#: The input side in pixels: CIFAR-10's own, no resizing (an upscaled image holds no more information
#: for a network that learns from scratch, and costs the square of the side).
IMAGE_SIZE = 32


def conv_block(x, filters: int, name: str):
    """Two 3x3 convolutions with BatchNorm and ReLU, then a 2x2 max-pool that halves the map.

    BatchNorm lets a network of random weights train at Adam's default rate without careful
    initialisation; the convolutions have no bias because BatchNorm's shift replaces it.
    """
    import keras

    for i in (1, 2):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{i}")(x)
        x = keras.layers.BatchNormalization(name=f"{name}_bn{i}")(x)
        x = keras.layers.Activation("relu", name=f"{name}_relu{i}")(x)
    return keras.layers.MaxPooling2D(2, name=f"{name}_pool")(x)


def small_cnn(filters: tuple[int, ...] = FILTERS, dropout: float = 0.3, seed: int = 42):
    """The from-scratch network: ``uint8`` 32x32 images in, ten class probabilities out.

    Pixels are scaled to [0, 1] inside the model (``Rescaling``), because random weights are
    initialised for inputs of about unit size; a pretrained base brings its own preprocessing instead.
    Global average pooling, not ``Flatten``, keeps the classifier to ``filters[-1] * 10`` weights.

    BatchNorm keeps Keras's default momentum (0.99): its moving averages, which validation and test
    use, take a few hundred steps to catch up with weights that start random, so in the first epochs
    validation accuracy sits near chance while training accuracy climbs (``scratch-cnn-32``: 12 % after
    epoch 2, 47 % after epoch 7). By the last epochs, at a small learning rate, they have settled.
    """
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3), name="image")
    x = keras.layers.Rescaling(1 / 255, name="scale")(inputs)
    for i, f in enumerate(filters, 1):
        x = conv_block(x, f, f"block{i}")
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name="scratch_cnn")


def flips_and_crops(seed: int = 42):
    """Random horizontal flips and random 32x32 crops of the image padded by 4 pixels.

    The recipe's own augmenter (:func:`cifar_lessons.pipeline.augmenter`), applied to the training
    batches only, in the data pipeline: never at validation or test time (Keras's ``RandomCrop``
    would resize the padded image at inference).
    """
    from ..pipeline import augmenter

    return augmenter(seed)
