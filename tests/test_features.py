"""Phase 1 on cached features is the same computation as phase 1 through the frozen base,
and mixed precision is chosen and recorded as the machine allows."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cifar_lessons.config import make_config
from cifar_lessons.data import load_cifar10
from cifar_lessons.features import can_cache_features, feature_datasets, head_of, train_head_on_features
from cifar_lessons.models import base_of, build_classifier
from cifar_lessons.pipeline import make_dataset
from cifar_lessons.precision import cpu_has_bfloat16, policy_name
from cifar_lessons.recipe import head_phase, new_model, record_header, split_data, training_datasets
from cifar_lessons.training import run_phase


def _pixels(x, backbone):
    return make_dataset(x, np.zeros(len(x), dtype=np.int64), backbone=backbone).map(lambda img, _: img)


@pytest.mark.parametrize("backbone", ["resnet50", "efficientnet_lite0"])
def test_cached_features_train_the_same_head_as_the_whole_network(backbone):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (72, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, 72)
    (x_tr, y_tr), (x_val, y_val) = (x[:60], y[:60]), (x[60:], y[60:])

    def build():
        keras.utils.set_random_seed(1)
        return build_classifier(backbone, "none", 32, (64, 32), 0.3)

    through = build()
    h1 = run_phase("head", through, base_of(through),
                   make_dataset(x_tr, y_tr, backbone=backbone, batch_size=16, shuffle=True, seed=3),
                   make_dataset(x_val, y_val, backbone=backbone, batch_size=16), epochs=3, learning_rate=1e-3,
                   verbose=0)
    cached = build()
    h2 = train_head_on_features(cached, *feature_datasets(cached, (x_tr, y_tr), (x_val, y_val), backbone=backbone,
                                                          batch_size=16, seed=3), epochs=3, verbose=0)
    # Same shuffling, same dropout masks, same arithmetic: the same losses epoch by epoch ...
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(h2.history[key], h1.history[key], rtol=1e-5, err_msg=key)
    # ... and the trained head is back on the base: the whole classifiers predict alike.
    np.testing.assert_allclose(cached.predict(_pixels(x_val, backbone), verbose=0),
                               through.predict(_pixels(x_val, backbone), verbose=0), atol=1e-5)
    assert h2.epochs == 3 and h2.seconds["head"] > 0
    assert not base_of(cached).trainable


def test_the_head_model_shares_the_classifiers_layers():
    model = build_classifier("resnet50", "none", 32, (64, 32), 0.3)
    head = head_of(model)
    assert head.input.shape[1:] == (2048,)
    assert [layer.name for layer in head.layers[1:]] == ["dense_1", "dropout_1", "dense_2", "dropout_2", "classes"]
    assert all(head.get_layer(layer.name) is model.get_layer(layer.name) for layer in head.layers[1:])


def test_recipe_caches_features_unless_augmenting(png_tree):
    assert can_cache_features(False) and not can_cache_features(True)
    for augment, method in ((False, "cached features"), (True, "end to end")):
        config = make_config("quick", env={}, data=str(png_tree), weights="none", n=40, batch_size=8,
                             head_epochs=1, fine_tune_epochs=1, head=(32, 16), backbone="efficientnet_lite0",
                             augment=augment)
        data = load_cifar10(config.data, n=config.n, seed=config.seed)
        assert record_header(config, data, "head")["compute"]["phase1"] == method
        model = new_model(config)
        history = head_phase(config, model, split_data(config, data), verbose=0)
        assert history.epochs == 1 and not base_of(model).trainable
        if not augment:  # the recorded run matches one trained through the whole network
            reference = new_model(config)
            train, val = training_datasets(config, split_data(config, data))
            ref = run_phase("head", reference, base_of(reference), train, val, epochs=1, learning_rate=1e-3,
                            verbose=0)
            np.testing.assert_allclose(history.history["loss"], ref.history["loss"], rtol=1e-5)


@pytest.mark.parametrize("flags, gpu, expected", [
    ("fpu avx2 avx512f avx512_bf16", False, "mixed_bfloat16"),
    ("fpu avx2 amx_bf16 amx_tile", False, "mixed_bfloat16"),
    ("fpu avx2 avx512f", False, "float32"),      # no bfloat16 units: emulation would be slower
    ("fpu avx2", True, "mixed_float16"),
])
def test_mixed_precision_policy_follows_the_hardware(flags, gpu, expected):
    assert policy_name("mixed", gpu=gpu, cpuinfo=f"flags\t: {flags}\n") == expected
    assert policy_name("float32", gpu=gpu, cpuinfo=flags) == "float32"
    assert cpu_has_bfloat16(flags) == ("bf16" in flags)
    with pytest.raises(ValueError):
        policy_name("half", gpu=gpu, cpuinfo=flags)


@pytest.mark.skipif(not cpu_has_bfloat16(), reason="this CPU has no bfloat16 units")
def test_mixed_model_computes_in_bfloat16_with_a_float32_softmax(png_tree):
    config = make_config("quick", env={}, data=str(png_tree), weights="none", head=(32, 16),
                         backbone="efficientnet_lite0", precision="mixed")
    try:
        model = new_model(config)
        assert model.get_layer("dense_1").compute_dtype == "bfloat16"
        assert model.get_layer("dense_1").variable_dtype == "float32"
        assert model.get_layer("classes").compute_dtype == "float32"
        data = load_cifar10(config.data, n=40, seed=config.seed)
        assert record_header(config, data, "head")["compute"]["precision"] == "mixed_bfloat16"
        # The next float32 model is float32 again: the policy does not leak between runs.
        plain = new_model(make_config("quick", env={}, data=str(png_tree), weights="none", head=(32, 16),
                                      backbone="efficientnet_lite0"))
        assert plain.get_layer("dense_1").compute_dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")
