"""Phase 2's learning-rate schedule and evaluation with mirrored test images (chapter 6)."""

import dataclasses

import keras
import numpy as np

from cifar_lessons.config import RunConfig
from cifar_lessons.data import CLASS_NAMES, CifarData
from cifar_lessons.recipe import fine_tune_rate, run_evaluation


def test_seed_rate_is_constant_and_cosine_decays_to_zero_over_phase_2():
    assert fine_tune_rate(RunConfig(), steps_per_epoch=141) == 1e-5
    config = RunConfig(fine_tune_learning_rate=1e-4, fine_tune_schedule="cosine", fine_tune_epochs=10)
    schedule = fine_tune_rate(config, steps_per_epoch=141)

    def rate(step):
        return float(keras.ops.convert_to_numpy(schedule(step)))

    assert np.isclose(rate(0), 1e-4)
    assert np.isclose(rate(705), 5e-5, rtol=1e-3)  # half way: half the rate
    assert rate(1410) < 1e-9  # the end of phase 2, not of its first epoch


class LeftOrRight(keras.Model):
    """Says class 0 when the left half is brighter, class 1 otherwise: mirroring flips its answer."""

    def call(self, x):
        left = keras.ops.mean(x[:, :, :16], axis=(1, 2, 3))
        right = keras.ops.mean(x[:, :, 16:], axis=(1, 2, 3))
        p0 = keras.ops.sigmoid((left - right) / 10.0)
        rest = keras.ops.zeros((keras.ops.shape(x)[0], 8))
        return keras.ops.concatenate([p0[:, None], (1 - p0)[:, None], rest], axis=1)


def test_flip_test_averages_each_image_with_its_mirror_and_keeps_the_single_pass_figures():
    x = np.zeros((4, 32, 32, 3), dtype=np.uint8)
    x[:, :, :16] = 200  # left half bright: the model says class 0 for every image, and 1 when mirrored
    y = np.array([0, 0, 1, 1])
    data = CifarData(x_train=x, y_train=y, x_test=x, y_test=y, class_names=CLASS_NAMES, source=None)
    config = RunConfig(backbone="efficientnet_lite0")
    single, probs1 = run_evaluation(config, data, LeftOrRight(), verbose=0)
    flipped, probs2 = run_evaluation(dataclasses.replace(config, flip_test=True), data, LeftOrRight(), verbose=0)
    assert single["accuracy"] == 0.5 and "without_flip_test" not in single
    assert np.allclose(probs2[:, 0], 0.5) and np.allclose(probs2[:, 1], 0.5)  # the mean of p and its mirror
    assert flipped["without_flip_test"]["accuracy"] == single["accuracy"]
    assert flipped["without_flip_test"]["loss"] == single["loss"]
    assert flipped["loss"] != single["loss"]
