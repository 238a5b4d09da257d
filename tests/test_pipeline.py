import keras
import numpy as np
import pytest

from cifar_lessons.pipeline import make_dataset


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (10, 32, 32, 3), dtype=np.uint8), np.arange(10, dtype=np.int64)


def collect(ds):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds])
    return np.concatenate(xs), np.concatenate(ys)


def test_resnet50_pipeline_equals_keras_preprocess_input_on_0_255(images):
    x, y = images
    got, labels = collect(make_dataset(x, y, backbone="resnet50", batch_size=4))
    expected = keras.applications.resnet50.preprocess_input(x.astype("float32"))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)
    np.testing.assert_array_equal(labels, y)
    # caffe mode: BGR, mean subtracted, never scaled to 0-1
    assert got.max() > 100 and got.min() < -100
    np.testing.assert_allclose(got[0, 0, 0, 0], x[0, 0, 0, 2] - 103.939, atol=1e-3)


def test_efficientnet_pipeline_passes_0_255_through(images):
    x, y = images
    got, _ = collect(make_dataset(x, y, backbone="efficientnetb0", batch_size=4))
    expected = keras.applications.efficientnet.preprocess_input(x.astype("float32"))
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(got, x.astype("float32"))


def test_batches_and_shuffle_are_seeded(images):
    x, y = images
    ds = make_dataset(x, y, batch_size=4, shuffle=True, seed=7)
    shapes = [b[0].shape[0] for b in ds]
    assert shapes == [4, 4, 2]
    _, first = collect(make_dataset(x, y, batch_size=4, shuffle=True, seed=7))
    _, again = collect(make_dataset(x, y, batch_size=4, shuffle=True, seed=7))
    np.testing.assert_array_equal(first, again)
    assert sorted(first.tolist()) == y.tolist() and first.tolist() != y.tolist()


def test_augmentation_is_off_by_default_and_changes_images_when_on(images):
    x, y = images
    plain, _ = collect(make_dataset(x, y, backbone="efficientnetb0"))
    np.testing.assert_allclose(plain, x.astype("float32"))
    aug, labels = collect(make_dataset(x, y, backbone="efficientnetb0", augment=True, seed=3))
    assert aug.shape == x.shape
    np.testing.assert_array_equal(labels, y)
    assert not np.allclose(aug, plain)


def test_every_dataset_the_recipe_fits_on_runs_without_the_autotuner(images):
    """With tf.data's autotuner on, starting an epoch after a long one waited 30-35 s on 2 cores
    (``pipeline.without_autotune``); the recipe's image and feature pipelines must keep it off."""
    from cifar_lessons.pipeline import array_dataset

    x, y = images
    features = np.random.default_rng(1).random((10, 8)).astype("float32")
    datasets = {"images": make_dataset(x, y, batch_size=4, shuffle=True),
                "augmented images": make_dataset(x, y, batch_size=4, shuffle=True, augment=True),
                "features": array_dataset(features, y, batch_size=4, shuffle=True)}
    for name, ds in datasets.items():
        assert ds.options().autotune.enabled is False, name
    shapes = [b[0].shape[0] for b in datasets["features"]]  # and they still yield every batch
    assert shapes == [4, 4, 2]
