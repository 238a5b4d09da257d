"""The concept figures (issue 25, item 4): each draws from a small fixture, with the artists it promises.

A figure is a diagram, so the tests check what it is made of (its panels, boxes, arrows and the
numbers written on it) rather than pixels.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from conftest import heavy_imports
from matplotlib.colors import to_hex
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

from cifar_lessons.config import PROFILES, RunConfig
from cifar_lessons.display import concepts

# No window: set for this process only. An environment variable would reach every notebook kernel
# the later tests start, and their figures would never be shown.
matplotlib.use("Agg")

SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text") and a.get_text())]


def patches(fig, kind) -> list:
    return [p for ax in fig.axes for p in ax.patches if isinstance(p, kind)]


def test_concepts_import_no_tensorflow():
    assert heavy_imports("import cifar_lessons.display.concepts") == []


def test_kernel_sliding_writes_the_sum_out():
    rng = np.random.default_rng(0)
    patch = rng.integers(0, 256, (7, 7))
    fig = concepts.kernel_sliding(patch, SOBEL_X, at=(2, 1), name="Sobel x")
    assert len(fig.axes) == 4  # input, kernel, output, the sum
    value = float((patch[2:5, 1:4] * SOBEL_X).sum())
    written = texts(fig)
    assert any(t.endswith(f"= {value:g}") for t in written), written
    # every nonzero product is written: six for Sobel x, and the three zeros are named
    sum_line = next(t for t in written if t.endswith(f"= {value:g}"))
    assert sum_line.count(")(") == 6 and "3 zero terms" in sum_line
    # the window on the input and the value on the output are marked, and the output is the valid one
    marks = [p for p in patches(fig, Rectangle) if p.get_linewidth() == 3]
    assert len(marks) == 2
    assert fig.axes[2].images[0].get_array().shape == (5, 5)
    assert np.isclose(fig.axes[2].images[0].get_array()[2, 1], value)
    assert fig.axes[1].get_title() == "Sobel x (3x3)"
    with pytest.raises(ValueError, match="outside"):
        concepts.kernel_sliding(patch, SOBEL_X, at=(5, 0))


def test_correlate_valid_is_the_chapters_cross_correlation():
    rng = np.random.default_rng(1)
    image, kernel = rng.normal(size=(6, 9)), rng.normal(size=(3, 3))
    out = concepts.correlate_valid(image, kernel)
    assert out.shape == (4, 7)
    assert np.isclose(out[1, 3], (image[1:4, 3:6] * kernel).sum())


def test_residual_block_is_boxes_and_a_shortcut():
    fig = concepts.residual_block()
    boxes = [t.get_text() for ax in fig.axes for t in ax.texts
             if any(p.contains_point(ax.transData.transform(t.get_position())) for p in patches(fig, FancyBboxPatch))]
    assert boxes == ["3x3 conv", "BatchNorm", "ReLU", "3x3 conv", "BatchNorm", "ReLU"]
    assert "+" in texts(fig) and "y = ReLU(F(x) + x)" in texts(fig)
    # x, five boxes, the sum, ReLU, y: eight arrows down the block, and the shortcut's into the sum
    arrows = patches(fig, FancyArrowPatch)
    assert len(arrows) == 9
    shortcut = [a for a in arrows if to_hex(a.get_edgecolor()) == concepts.HIGHLIGHT]
    assert len(shortcut) == 1


@pytest.mark.parametrize("profile", ["seed", "better"])
def test_two_phase_recipe_reads_the_profile(profile):
    config = RunConfig(profile=profile, **PROFILES[profile])
    fig = concepts.two_phase_recipe(profile=profile)
    timeline, rate = fig.axes
    total = config.head_epochs + config.fine_tune_epochs
    assert timeline.get_xlim() == (0, total)
    written = texts(fig)
    assert f"head phase: {config.head_epochs} epochs" in written
    assert f"fine-tuning: {config.fine_tune_epochs} epochs" in written
    assert f"Adam, rate {concepts._rate(config.head_learning_rate)}" in written
    assert any(t.startswith(f"Adam, rate {concepts._rate(config.fine_tune_learning_rate)}") for t in written)
    # three rows of layers, two phases each: the head trains in both, the convolutions in the second,
    # BatchNorm in neither
    bars = patches(fig, Rectangle)
    bars = [p for p in bars if p.axes is timeline and p.get_width() > 0 and p.get_height() == 0.7]
    assert len(bars) == 6
    assert [t.get_text() for t in timeline.texts if t.get_text() in ("trains", "frozen")].count("trains") == 3
    head_line, tune_line = [line for line in rate.lines if len(line.get_xdata()) > 2]
    assert np.allclose(head_line.get_ydata(), config.head_learning_rate)
    assert tune_line.get_ydata()[0] == pytest.approx(config.fine_tune_learning_rate)


def test_two_phase_recipe_of_the_seed_profile_is_the_course_recipe():
    written = texts(concepts.two_phase_recipe())
    assert {"head phase: 10 epochs", "fine-tuning: 10 epochs", "Adam, rate 1e-3", "Adam, rate 1e-5"} <= set(written)


def test_two_phase_recipe_follows_another_config():
    fig = concepts.two_phase_recipe(RunConfig(head_epochs=3, fine_tune_epochs=5, head_learning_rate=2e-3))
    assert fig.axes[0].get_xlim() == (0, 8)
    assert "Adam, rate 2e-3" in texts(fig)


def test_feature_maps_draws_filters_and_maps():
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    maps = {"stem": rng.random((16, 16, 12)), "block": rng.random((4, 4, 24))}
    fig = concepts.feature_maps(image, rng.normal(size=(3, 3, 3, 20)), maps, per_row=8, n_filters=16)
    shown = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(shown) == 1 + 16 + 8 + 8  # the image, 16 filters, 8 channels of each map
    assert shown[0].shape == (32, 32, 3)
    assert [a.shape for a in shown[1:17]] == [(3, 3, 3)] * 16
    assert [a.shape for a in shown[17:25]] == [(16, 16)] * 8 and [a.shape for a in shown[25:]] == [(4, 4)] * 8
    # the channel that varies most comes first, and a long layer name is cut to its first part
    assert np.allclose(shown[17], maps["stem"][..., np.argmax(maps["stem"].std(axis=(0, 1)))])
    assert "stem\n16x16x12" in texts(fig)
    long = concepts.feature_maps(image, rng.normal(size=(7, 7, 3, 8)), {"conv2_block3_out": maps["stem"]})
    assert "conv2\n16x16x12" in texts(long) and "filters\n7x7x3" in texts(long)


def test_feature_maps_of_a_keras_base():
    import keras

    from cifar_lessons.models import feature_maps, first_filters

    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", name="stem")(inputs)
    x = keras.layers.Conv2D(16, 3, strides=2, padding="same", name="two")(x)
    x = keras.layers.Conv2D(16, 3, strides=2, padding="same", name="three")(x)
    x = keras.layers.Conv2D(32, 3, strides=2, padding="same", name="four")(x)
    base = keras.Model(inputs, x)
    filters = first_filters(base)
    assert filters.shape == (3, 3, 3, 8)
    image = np.full((32, 32, 3), 127, dtype=np.uint8)
    maps = feature_maps(base, image, "efficientnet_lite0", largest=3)
    # the first convolution, here also the last layer at 16x16, then one layer per map size
    assert {k: v.shape for k, v in maps.items()} == {"stem": (16, 16, 8), "two": (8, 8, 16), "three": (4, 4, 16)}
    assert list(feature_maps(base, image, "efficientnet_lite0", largest=2)) == ["stem", "two"]
    fig = concepts.feature_maps(image, filters, maps)
    assert len([ax for ax in fig.axes if ax.images]) == 1 + 8 + 3 * 8
    # an image at another size than the base's input is resized to it first
    small = feature_maps(base, image[:16, :16], "efficientnet_lite0", largest=1)
    assert small["stem"].shape == (16, 16, 8) and np.allclose(small["stem"], maps["stem"], atol=1e-5)


def test_grid_targets_marks_the_responsible_cells():
    from cifar_lessons.data import FASHION_MNIST_CLASS_NAMES
    from cifar_lessons.detection.config import DetectorConfig
    from cifar_lessons.detection.figures import grid_targets
    from cifar_lessons.detection.targets import encode

    config = DetectorConfig()
    image = np.zeros((64, 64, 3), dtype=np.uint8)
    boxes = np.array([[2.0, 3.0, 22.0, 25.0], [40.0, 36.0, 62.0, 60.0]])
    labels = np.array([3, 8])
    fig = grid_targets(image, boxes, labels, config, FASHION_MNIST_CLASS_NAMES)
    scene, target = fig.axes
    assert len(scene.get_xticks()) == config.grid + 1
    # grid lines: 7 across and 7 down
    assert len(scene.lines) >= 2 * (config.grid - 1)
    shaded = [p for p in scene.patches if isinstance(p, Rectangle) and p.get_width() == config.stride
              and p.get_fill()]
    cells = sorted((int(p.get_y() // config.stride), int(p.get_x() // config.stride)) for p in shaded)
    expected = encode(boxes, labels, config)
    assert cells == sorted(zip(*map(lambda a: a.tolist(), np.nonzero(expected[..., 0]))))
    assert cells == [(1, 1), (6, 6)]
    # two offset arrows per object, and its six numbers written under the figure
    assert len([p for p in scene.patches if isinstance(p, FancyArrowPatch)]) == 4
    summary = next(t for t in texts(fig) if t.startswith("cell (1, 1)"))
    dx, dy = expected[1, 1, 2:4]
    assert f"dx {dx:.2f}, dy {dy:.2f}" in summary and FASHION_MNIST_CLASS_NAMES[3] in summary
    assert np.array_equal(target.images[0].get_array(), expected[..., 0])


def test_unet_shape_reads_the_config():
    from cifar_lessons.segmentation.config import SegmentConfig
    from cifar_lessons.segmentation.figures import unet_shape

    for config in (SegmentConfig(), SegmentConfig(size=64, filters=(8, 16, 32, 64), bottleneck=256)):
        fig = unet_shape(config)
        written = texts(fig)
        levels = len(config.filters)
        for level, f in enumerate(config.filters):
            side = config.size // 2**level
            assert written.count(f"{side}x{side}x{f}") == 2  # encoder and decoder
        bottom = config.size // 2**levels
        assert f"{bottom}x{bottom}x{config.bottleneck}\nbottleneck" in written
        assert f"output\n{config.size}x{config.size}x2\nsoftmax" in written
        skips = [p for p in patches(fig, FancyArrowPatch) if p.get_facecolor()[:3] == pytest.approx((0.906, 0.435, 0.318), abs=0.01)]
        assert len(skips) == levels
        # input, encoder, bottleneck, decoder, output
        assert len(patches(fig, Rectangle)) == 2 * levels + 3


def test_study_figures_import_no_tensorflow():
    assert "tensorflow" not in heavy_imports("import cifar_lessons.segmentation.figures")
    assert "tensorflow" not in heavy_imports("import cifar_lessons.detection.figures")
