"""Two-phase training (random weights, a few tiny images): what moves and what does not.

Run on ResNet50, the recipe's backbone, and on EfficientNet-Lite0, the offline one.
"""

import numpy as np
import pytest

from cifar_lessons.config import make_config
from cifar_lessons.data import load_cifar10
from cifar_lessons.models import base_of, trainable_counts
from cifar_lessons.recipe import fine_tune_phase, new_model, split_data, training_datasets
from cifar_lessons.training import run_phase


def snapshot(layers_weights):
    return [w.numpy().copy() for w in layers_weights]


def bn_stats(base):
    return [w for layer in base.layers if layer.__class__.__name__ == "BatchNormalization"
            for w in (layer.moving_mean, layer.moving_variance)]


def kernels(base):
    return [layer.kernel for layer in base.layers if hasattr(layer, "kernel")]


@pytest.fixture(scope="module", params=["resnet50", "efficientnet_lite0"])
def trained(png_tree, request, tmp_path_factory):
    # Lite0 runs on its real ImageNet weights (converted into a private cache): with random
    # weights and BatchNorm in inference mode its ReLU6 units saturate and almost no gradient
    # reaches the early kernels, which would make "phase 2 moves the base" untestable.
    weights = "none"
    if request.param == "efficientnet_lite0":
        from cifar_lessons.backbones import efficientnet_lite as lite

        cache = tmp_path_factory.mktemp("lite0_cache")
        mp = pytest.MonkeyPatch()
        mp.setattr(lite, "default_cache_dir", lambda: cache)
        request.addfinalizer(mp.undo)
        weights = "imagenet"
    config = make_config("quick", env={}, data=str(png_tree), weights=weights, n=40, batch_size=8,
                         head_epochs=2, fine_tune_epochs=1, head=(32, 16), backbone=request.param)
    data = load_cifar10(config.data, n=config.n, seed=config.seed)
    model = new_model(config)
    base = base_of(model)
    split = split_data(config, data)
    train, val = training_datasets(config, split)
    states = {"start": (snapshot(kernels(base)), snapshot(bn_stats(base)), snapshot(model.get_layer("dense_1").weights))}
    counts = {"head": None, "fine": None}
    history = run_phase("head", model, base, train, val, epochs=2, learning_rate=1e-3, verbose=0)
    counts["head"] = trainable_counts(model)
    lr_head = float(model.optimizer.learning_rate.numpy())
    states["head"] = (snapshot(kernels(base)), snapshot(bn_stats(base)), snapshot(model.get_layer("dense_1").weights))
    fine_tune_phase(config, model, split, history, verbose=0)  # the recipe's: 1 epoch at 1e-5
    counts["fine"] = trainable_counts(model)
    lr_fine = float(model.optimizer.learning_rate.numpy())
    states["fine"] = (snapshot(kernels(base)), snapshot(bn_stats(base)), snapshot(model.get_layer("dense_1").weights))
    return dict(model=model, history=history, states=states, counts=counts, lr=(lr_head, lr_fine), config=config)


def changed(a, b):
    return sum(not np.array_equal(x, y) for x, y in zip(a, b))


def test_phase1_changes_the_head_but_no_base_weight_or_bn_statistic(trained):
    start, head = trained["states"]["start"], trained["states"]["head"]
    assert changed(start[0], head[0]) == 0, "a base kernel moved while frozen"
    assert changed(start[1], head[1]) == 0, "a BatchNorm moving statistic moved in phase 1"
    assert changed(start[2], head[2]) == 2, "the head did not learn"


def test_phase2_changes_base_weights_but_no_bn_statistic(trained):
    head, fine = trained["states"]["head"], trained["states"]["fine"]
    assert changed(head[0], fine[0]) > 0.9 * len(head[0]), "base kernels did not move when unfrozen"
    assert changed(head[1], fine[1]) == 0, "BatchNorm left inference mode in phase 2"


def test_learning_rate_drops_in_phase2(trained):
    lr_head, lr_fine = trained["lr"]
    assert lr_head == pytest.approx(1e-3) and lr_fine == pytest.approx(1e-5)
    assert trained["history"].history["learning_rate"] == pytest.approx([1e-3, 1e-3, 1e-5])


def test_trainable_counts_per_phase(trained):
    head, fine = trained["counts"]["head"], trained["counts"]["fine"]
    features = base_of(trained["model"]).output_shape[-1]  # 2048 for ResNet50, 1280 for Lite0
    head_params = (features * 32 + 32) + (32 * 16 + 16) + (16 * 10 + 10)
    assert head["trainable"] == head_params
    assert head["total"] == fine["total"]
    bn = sum(int(np.prod(w.shape)) for layer in base_of(trained["model"]).layers
             if layer.__class__.__name__ == "BatchNormalization" for w in layer.weights)
    # everything but the BatchNorm layers (kept frozen, in inference mode) trains in phase 2
    assert fine["trainable"] == fine["total"] - bn


def test_history_joins_both_phases_with_the_boundary(trained):
    h = trained["history"]
    assert h.epochs == 3 and h.phase2_start == 2
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"):
        assert len(h.history[key]) == 3
    assert set(h.seconds) == {"head", "fine_tune"}


def test_same_seed_repeats_phase1_exactly(png_tree):
    config = make_config("quick", env={}, data=str(png_tree), weights="none", n=20, batch_size=8, head=(32, 16))
    data = load_cifar10(config.data, n=config.n, seed=config.seed)
    runs = []
    for _ in range(2):
        model = new_model(config)
        train, val = training_datasets(config, split_data(config, data))
        runs.append(run_phase("head", model, base_of(model), train, val, epochs=1, learning_rate=1e-3,
                              verbose=0).history["loss"])
    assert runs[0] == runs[1]


def test_phase2_computes_the_convolutions_on_the_smallest_maps_as_matrix_products(trained):
    """Phase 2's speed-up (cifar_lessons.pointwise) is on where fine-tuning runs, and only where it is exact."""
    from cifar_lessons import pointwise

    base = base_of(trained["model"])
    fast = {layer.name for layer in base.layers if "convolution_op" in vars(layer)}
    assert fast and fast == {layer.name for layer in base.layers if pointwise.eligible(layer)}
