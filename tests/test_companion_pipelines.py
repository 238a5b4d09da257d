"""The companion chapters' networks train on pipelines with tf.data's autotuner off.

With Keras's own pipeline (``model.fit`` on NumPy arrays) the autotuner is on, and an epoch can
start with a long idle wait (the Segmentation chapter's full-size training waited 19.4 s before one
of its 8 epochs; see :func:`cifar_lessons.pipeline.array_dataset`). Each trainer runs here for one
epoch on a few synthetic examples, with ``keras.Model.fit`` watched.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from cifar_lessons.detection import config as det_config
from cifar_lessons.detection import model as d
from cifar_lessons.detection import scenes as det_scenes
from cifar_lessons.fashion import scratch as fashion
from cifar_lessons.fashion import transfer as ft
from cifar_lessons.pipeline import array_dataset
from cifar_lessons.segmentation import config as seg_config
from cifar_lessons.segmentation import model as seg_model
from cifar_lessons.segmentation import scenes as seg_scenes

# Keras warns on stderr, which a chapter's page and deck would show, when fit is asked to shuffle a
# pipeline: the pipelines shuffle themselves.
pytestmark = pytest.mark.filterwarnings("error:.*shuffle=True.*:UserWarning")


@pytest.fixture
def fits(monkeypatch):
    """Every ``fit`` call's training and validation inputs, then the real ``fit``."""
    calls = []
    real_fit = keras.Model.fit

    def watched(self, x=None, y=None, *args, validation_data=None, **kwargs):
        calls.append({"x": x, "validation_data": validation_data})
        return real_fit(self, x, y, *args, validation_data=validation_data, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", watched)
    return calls


def _without_autotune(calls, n_fit: int, n_val: int, batch: int):
    """Every fit got pipelines with the autotuner off, in ``batch``-sized batches (the number of
    steps the cosine decay counts on), training reshuffled each epoch, validation in order."""
    assert calls, "the trainer never called fit"
    for call in calls:
        train, val = call["x"], call["validation_data"]
        for name, ds in (("x", train), ("validation_data", val)):
            assert isinstance(ds, tf.data.Dataset), f"{name} is a {type(ds).__name__}, not a tf.data pipeline"
            assert ds.options().autotune.enabled is False, name
        assert int(train.cardinality()) == -(-n_fit // batch) and int(val.cardinality()) == -(-n_val // batch)
        first = lambda ds: np.concatenate([np.asarray(b[1]).reshape(len(b[1]), -1) for b in ds])  # noqa: E731
        assert not np.array_equal(first(train), first(train)), "the training set is reshuffled each epoch"
        assert np.array_equal(first(val), first(val)), "validation is not shuffled"


def _fashion_data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 10).astype(np.int64)
    x = rng.integers(0, 255, (n, 28, 28)).astype(np.uint8)
    return fashion.FashionData(x, y, x[:10], y[:10], source=None)


def test_fashion_from_scratch(fits):
    config = fashion.FashionConfig(n=40, batch_size=16, validation_fraction=0.25)
    run = fashion.train(fashion.dense_model(), _fashion_data(), 1, config, verbose=0)
    _without_autotune(fits, 30, 10, 16)
    assert len(run.history["val_loss"]) == 1


def test_fashion_transfer_fine_tuning(fits):
    config = ft.TransferConfig(backbone="efficientnet_lite0", weights="none", n=40, head_epochs=1,
                               fine_tune_epochs=1, batch_size=16, dense=32, validation_fraction=0.25)
    data = _fashion_data()
    model = ft.build_classifier(config)
    history = ft.train_head(model, data, config, verbose=0)  # on cached features, a pipeline already
    ft.fine_tune(model, data, config, history, verbose=0)
    _without_autotune(fits, 30, 10, 16)
    assert history.phase2_start == 1 and len(history.history["val_loss"]) == 2


def test_segmentation(fits):
    config = dataclasses.replace(seg_config.SegmentConfig(), n_train=12, n_val=4, epochs=1, batch_size=4)
    rng = np.random.default_rng(0)

    def scenes(n):
        images = rng.integers(0, 255, (n, config.size, config.size)).astype(np.uint8)
        masks = (images > 128).astype(np.uint8)
        return seg_scenes.Scenes(images, masks, masks, images, ["noise"] * n)

    data = seg_scenes.SceneData(scenes(12), scenes(4), scenes(4), source={})
    model = seg_model.unet(config.size, filters=(4, 8), bottleneck=8)
    run = seg_model.train(model, data, config, verbose=0)
    _without_autotune(fits, 12, 4, 4)
    assert len(run.history["val_loss"]) == 1


def test_detection_on_fresh_scenes_every_epoch(fits):
    garments = np.zeros((10, 28, 28), np.uint8)
    garments[:, 6:22, 8:20] = 200
    labels = np.arange(10)
    config = dataclasses.replace(det_config.DetectorConfig(), n_train=8, epochs=2, batch_size=4)
    train = det_scenes.make_scenes(8, garments, labels, config, seed=1)
    val = det_scenes.make_scenes(4, garments, labels, config, seed=2)
    run = d.train(d.small_detector(config), train, config, val_scenes=val, verbose=0)
    _without_autotune(fits, 8, 4, 4)
    assert len(fits) == 2 and len(run.history["loss"]) == 2


def test_array_dataset_batches_like_fit_and_reshuffles_each_epoch():
    x = np.arange(10, dtype=np.float32)[:, None]
    ds = array_dataset(x, np.arange(10), batch_size=4, shuffle=True, seed=3)
    epochs = [np.concatenate([b[0].numpy()[:, 0] for b in ds]) for _ in range(2)]
    assert [len(b[1]) for b in ds] == [4, 4, 2]
    assert sorted(epochs[0]) == sorted(epochs[1]) == list(range(10)), "every example once an epoch"
    assert not np.array_equal(epochs[0], epochs[1]), "a new order each epoch"
    plain = np.concatenate([b[0].numpy()[:, 0] for b in array_dataset(x, np.arange(10), batch_size=4)])
    assert list(plain) == list(range(10)), "unshuffled keeps the order (validation)"
