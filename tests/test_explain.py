"""Grad-CAM on tiny classifiers built like build_classifier's, with weights set by hand.

A hand-set model knows where its evidence is, so the tests can say where the map must peak.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from cifar_lessons.gradcam import method as explain
from cifar_lessons.models import base_of, build_base, build_classifier


def classifier(base: keras.Model, image_size: int = 32, head: int = 4, hidden=None, classes=None) -> keras.Model:
    """build_classifier's structure around a given base: (resize) -> base -> pool -> Dense -> Dropout -> Dense softmax."""
    inputs = keras.Input(shape=(32, 32, 3), name="image")
    x = inputs
    if image_size != 32:
        x = keras.layers.Resizing(image_size, image_size, name="resize")(x)
    x = base(x, training=False)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    dense = keras.layers.Dense(head, activation="relu", name="dense_1")
    x = keras.layers.Dropout(0.5, name="dropout_1")(dense(x))
    out = keras.layers.Dense(2, activation="softmax", name="classes")
    model = keras.Model(inputs, out(x))
    if hidden is not None:
        dense.set_weights(hidden)
    if classes is not None:
        out.set_weights(classes)
    return model


def square_detector(image_size: int = 32) -> keras.Model:
    """Class 1 is "a bright square is here", class 0 "dark background is here", nothing else.

    The base's 8x8 map has two channels: bright patches (mean pixel above 0.5) and dark ones.
    The head passes each channel to its class, so class 1's evidence is only where the square is.
    """
    stride = image_size // 8
    inputs = keras.Input(shape=(image_size, image_size, 3))
    patch = keras.layers.Conv2D(2, stride, strides=stride, activation="relu", name="patches")
    x = patch(inputs)
    mix = keras.layers.Conv2D(2, 1, activation="relu", name="features")
    x = mix(x)
    base = keras.Model(inputs, x, name="square_base")
    k = np.ones((stride, stride, 3, 1), np.float32) / (stride * stride * 3)
    patch.set_weights([np.concatenate([k, -k], axis=-1), np.array([-0.5, 0.5], np.float32)])
    mix.set_weights([np.eye(2, dtype=np.float32)[None, None], np.zeros(2, np.float32)])
    eye = [np.eye(2, 4, dtype=np.float32), np.zeros(4, np.float32)]
    swap = [np.array([[0, 10], [10, 0], [0, 0], [0, 0]], np.float32), np.zeros(2, np.float32)]
    return classifier(base, image_size, hidden=eye, classes=swap)


def with_square(row: int, col: int, side: int = 8) -> np.ndarray:
    img = np.zeros((32, 32, 3), np.float32)
    img[row:row + side, col:col + side] = 1.0
    return img


def test_shape_range_and_no_nan_on_a_small_conv_base():
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(32, 32, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(inputs)
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="last")(x)
    model = classifier(keras.Model(inputs, x, name="small_base"))
    assert explain.last_conv_layer(base_of(model)) == ("last", 8, 8, 8)
    images = np.random.default_rng(0).normal(size=(5, 32, 32, 3)).astype(np.float32)
    maps = explain.grad_cam(model, images, batch_size=2)  # batches of 2, 2 and 1
    assert maps.shape == (5, 32, 32) and maps.dtype == np.float32
    assert np.isfinite(maps).all() and maps.min() >= 0.0 and maps.max() <= 1.0
    assert all(m.max() == pytest.approx(1.0) or (m == 0).all() for m in maps)  # each scaled to its own peak
    np.testing.assert_array_equal(maps, explain.grad_cam(model, images))  # dropout is off: repeatable


def test_the_rebuilt_forward_pass_is_the_models_own():
    model = square_detector(image_size=64)  # with the Resizing layer before the base
    images = np.stack([with_square(4, 4), with_square(20, 12), with_square(0, 0, side=0)])
    base, to_features = explain._feature_model(model, None)
    with tf.GradientTape() as tape:
        features, scores, probabilities = explain._forward(model, base, to_features, tf.constant(images), tape)
    assert features.shape == (3, 8, 8, 2)
    np.testing.assert_allclose(probabilities.numpy(), model.predict(images, verbose=0), atol=1e-6)
    np.testing.assert_allclose(tf.nn.softmax(scores).numpy(), model.predict(images, verbose=0), atol=1e-6)


@pytest.mark.parametrize("image_size", [32, 64])
def test_the_map_peaks_on_the_planted_square_and_follows_it(image_size):
    model = square_detector(image_size)
    top_left, bottom_right = with_square(4, 4), with_square(20, 22)
    maps = explain.grad_cam(model, np.stack([top_left, bottom_right]), class_index=1)
    for heat, (rows, cols) in zip(maps, [(slice(0, 16), slice(0, 16)), (slice(16, 32), slice(16, 32))]):
        r, c = np.unravel_index(heat.argmax(), heat.shape)
        assert rows.start <= r < rows.stop and cols.start <= c < cols.stop
        inside = np.zeros_like(heat, bool)
        inside[rows, cols] = True
        assert heat[~inside].max() < 0.1  # the other quadrants stay cold
    assert maps[0, 8, 8] == pytest.approx(1.0) and maps[1, 24, 26] > 0.5  # hot at the squares' centres
    # None explains the predicted class: here class 0, as the dark background outweighs the square.
    both = np.stack([top_left, bottom_right])
    np.testing.assert_array_equal(model.predict(both, verbose=0).argmax(axis=1), [0, 0])
    np.testing.assert_array_equal(explain.grad_cam(model, both), explain.grad_cam(model, both, class_index=0))


def test_the_class_explained_changes_the_map():
    model = square_detector()
    image = with_square(4, 4)[None]
    square, background = explain.grad_cam(model, np.concatenate([image, image]), class_index=[1, 0])
    assert square[8, 8] == pytest.approx(1.0) and background[8, 8] == 0.0  # the square is class 1's evidence only
    assert background[28, 28] == pytest.approx(1.0) and square[28, 28] == 0.0  # the dark corner is class 0's
    # No square at all: class 1 has no evidence anywhere, and its map is zero, not NaN.
    empty = explain.grad_cam(model, np.zeros((1, 32, 32, 3), np.float32), class_index=1)
    assert np.isfinite(empty).all() and (empty == 0).all()


def test_grad_cam_is_the_formula_on_a_two_by_two_map():
    """Weights = mean over the 2x2 map of d(score)/d(map), computed here by hand in NumPy.

    The chosen layer is *not* the last one: a ReLU after it makes the gradients differ from
    place to place, so a mean and a max of them give different maps.
    """
    inputs = keras.Input(shape=(32, 32, 3))
    feat = keras.layers.Conv2D(2, 16, strides=16, name="feat")  # A(i, j) = (red, green) of quadrant (i, j)
    mix = keras.layers.Conv2D(2, 1, activation="relu", name="mix")
    base = keras.Model(inputs, mix(feat(inputs)), name="two_by_two")
    kernel = np.zeros((16, 16, 3, 2), np.float32)
    kernel[:, :, 0, 0] = kernel[:, :, 1, 1] = 1 / 256
    feat.set_weights([kernel, np.zeros(2, np.float32)])
    U = np.array([[1.0, -1.0], [0.5, 1.0]], np.float32)  # mix: M_m = relu(sum_k A_k U[k, m])
    mix.set_weights([U[None, None], np.zeros(2, np.float32)])
    H = np.eye(2, 4, dtype=np.float32)  # the hidden layer passes the pooled map on (it stays positive)
    W = np.array([[2.0, -1.0], [1.0, 3.0], [0, 0], [0, 0]], np.float32)
    model = classifier(base, hidden=[H, np.zeros(4, np.float32)], classes=[W, np.array([0.1, -0.2], np.float32)])

    A = np.array([[[1.0, -2.0], [-1.0, 1.0]],  # (i, j, k): two channels on a 2x2 map
                  [[-2.0, -1.0], [0.5, 2.0]]], np.float32)
    image = np.zeros((1, 32, 32, 3), np.float32)
    for i in range(2):
        for j in range(2):
            image[0, 16 * i:16 * i + 16, 16 * j:16 * j + 16, :2] = A[i, j]
    for c in (0, 1):
        # score_c = sum_m W[m, c] * mean_ij relu(A(i, j) . U[:, m]) + b_c
        active = (A @ U > 0).astype(np.float32)  # (i, j, m)
        grads = np.einsum("ijm,km->ijk", active * W[:2, c], U) / 4  # d score_c / d A_k(i, j)
        weights = grads.mean(axis=(0, 1))
        cam = np.maximum((A * weights).sum(axis=-1), 0)
        assert cam.max() > 0 and (A * weights).sum(axis=-1).min() < 0  # the ReLU matters here
        expected = tf.image.resize(cam[None, ..., None], (32, 32), method="bilinear")[0, ..., 0].numpy()
        got = explain.grad_cam(model, image, class_index=c, layer_name="feat")
        np.testing.assert_allclose(got[0], expected / expected.max(), atol=1e-5)
        # a max of the gradients, not their mean, would give another map
        wrong = np.maximum((A * grads.max(axis=(0, 1))).sum(axis=-1), 0)
        assert not np.allclose(wrong / wrong.max(), cam / cam.max(), atol=0.05)


def test_real_classifier_with_resizing_and_the_one_pixel_map_of_resnet50_at_32():
    model = build_classifier("efficientnet_lite0", weights="none", image_size=64)
    raw = np.random.default_rng(1).integers(0, 256, size=(3, 32, 32, 3), dtype=np.uint8)
    images = explain.preprocessed(raw, "efficientnet_lite0")
    np.testing.assert_allclose(images, (raw.astype(np.float32) - 127) / 128, atol=1e-6)  # Lite0's (x - 127) / 128
    maps = explain.grad_cam(model, images)
    assert maps.shape == (3, 32, 32) and np.isfinite(maps).all() and 0 <= maps.min() and maps.max() <= 1
    assert explain.last_conv_layer(base_of(model))[1:3] == (2, 2)
    assert explain.last_conv_layer(build_base("resnet50", weights=None)) == ("conv5_block3_out", 1, 1, 2048)


def test_overlay_mixes_colour_into_the_image():
    image = np.full((2, 32, 32, 3), 100, np.uint8)
    heat = np.zeros((2, 32, 32), np.float32)
    heat[:, :4, :4] = 1.0
    out = explain.overlay(image, heat, alpha=0.4)
    assert out.shape == image.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(explain.overlay(image, heat, alpha=0.0), image)
    hot, cold = out[0, 0, 0].astype(int), out[0, 20, 20].astype(int)
    assert hot[0] > hot[2] and cold[2] > cold[0]  # jet: 1 is red, 0 is blue
    with pytest.raises(ValueError, match="must be"):
        explain.overlay(image[0], heat)


def test_grad_cam_grid_puts_each_overlay_under_its_image():
    from cifar_lessons.gradcam.figures import grad_cam_grid

    images = np.full((3, 32, 32, 3), 100, np.uint8)
    heat = np.zeros((3, 32, 32), np.float32)
    heat[:, :8, :8] = 1.0
    fig = grad_cam_grid(images, heat, ["a", "b", "c"], columns=2)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(fig.axes) == 8 and len(visible) == 6  # two rows of pairs, one slot empty
    assert [ax.get_title() for ax in visible if ax.get_title()] == ["a", "b", "c"]
    drawn = [ax.images[0].get_array() for ax in visible]
    np.testing.assert_array_equal(drawn[0], images[0])
    np.testing.assert_array_equal(drawn[2], explain.overlay(images[0], heat[0]))  # under the image, its overlay
    with pytest.raises(ValueError, match="one heatmap"):
        grad_cam_grid(images, heat[:2])


def test_a_one_by_one_map_is_uniform_and_says_so():
    inputs = keras.Input(shape=(32, 32, 3))
    x = keras.layers.Conv2D(4, 32, activation="relu", name="whole")(inputs)  # one pixel, as ResNet50's at 32x32
    model = classifier(keras.Model(inputs, x, name="one_pixel"))
    images = np.random.default_rng(2).normal(size=(2, 32, 32, 3)).astype(np.float32)
    with pytest.warns(UserWarning, match="1x1 at this image size"):
        maps = explain.grad_cam(model, images)
    assert all(np.ptp(m) == 0 for m in maps)  # all one value: no "where" at all
