"""Convolutions computed as matrix products (cifar_lessons.pointwise): exactly the same model, only faster."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from cifar_lessons import pointwise  # noqa: E402


def _model(seed: int = 0):
    """A small functional model with every case: 1x1 convolutions on 2x2 and 4x4 maps, a strided 1x1,
    a 3x3 'same' on a 1x1 map, a 3x3 on a 2x2 map and a strided 3x3, the last stage nested."""
    keras.utils.set_random_seed(seed)
    inner_in = keras.Input((2, 2, 8))
    a = keras.layers.Conv2D(16, 1, name="pw_2x2")(inner_in)                           # yes
    b = keras.layers.Conv2D(16, 1, strides=2, name="strided_pw")(a)                   # yes: on a 2x2 map
    c = keras.layers.Conv2D(16, 3, padding="same", name="same3_on_1x1")(b)            # yes
    d = keras.layers.Conv2D(16, 3, padding="same", name="same3_on_2x2", use_bias=False)(a)  # no
    inner = keras.Model(inner_in, [c, d], name="last_stage")
    x = inputs = keras.Input((4, 4, 3))
    x = keras.layers.Conv2D(8, 1, name="pw_4x4")(x)                                   # no (side 4 > 2)
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", name="down")(x)          # no
    c, d = inner(x)
    out = keras.layers.Concatenate()([keras.layers.Flatten()(c), keras.layers.Flatten()(d)])
    return keras.Model(inputs, keras.layers.Dense(5)(out))


def _grads(model, x, y):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, model(x, training=True), from_logits=True))
    return [g.numpy() for g in tape.gradient(loss, model.trainable_variables)]


def test_only_the_convolutions_that_are_matrix_products_are_changed():
    model = _model()
    assert sorted(pointwise.use_matmul(model)) == ["pw_2x2", "same3_on_1x1", "strided_pw"]
    assert sorted(pointwise.use_matmul(model, max_side=4)) == ["pw_2x2", "pw_4x4", "same3_on_1x1", "strided_pw"]
    assert not pointwise.eligible(keras.layers.Conv2D(4, 1))  # not in a built model: left alone


def test_the_changed_model_computes_the_same_outputs_and_gradients():
    plain, fast = _model(), _model()
    fast.set_weights(plain.get_weights())
    assert pointwise.use_matmul(fast)
    x = np.random.default_rng(0).normal(size=(6, 4, 4, 3)).astype("float32")
    y = np.arange(6) % 5
    np.testing.assert_allclose(fast(x).numpy(), plain(x).numpy(), rtol=1e-5, atol=1e-5)
    for g_fast, g_plain in zip(_grads(fast, x, y), _grads(plain, x, y)):
        np.testing.assert_allclose(g_fast, g_plain, rtol=1e-4, atol=1e-6)


def test_a_changed_model_still_saves_and_loads_as_plain_convolutions(tmp_path):
    model = _model()
    pointwise.use_matmul(model)
    x = np.random.default_rng(1).normal(size=(3, 4, 4, 3)).astype("float32")
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-5)
