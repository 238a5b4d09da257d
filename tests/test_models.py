import keras
import numpy as np
import pytest

from cifar_lessons.errors import ConfigError, WeightsError
from cifar_lessons.models import base_of, build_base, build_classifier, trainable_counts


def test_classifier_shape_head_and_frozen_base():
    model = build_classifier("resnet50", weights=None, head=(256, 128))
    assert model.input_shape == (None, 32, 32, 3) and model.output_shape == (None, 10)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [d.units for d in dense] == [256, 128, 10]
    base = base_of(model)
    assert base.name == "resnet50" and not base.trainable
    assert base.output_shape == (None, 1, 1, 2048)  # 32x32 shrinks to 1x1 in ResNet50
    counts = trainable_counts(model)
    assert counts["trainable"] == (2048 * 256 + 256) + (256 * 128 + 128) + (128 * 10 + 10)


def test_image_size_resizes_inside_the_model():
    model = build_classifier("efficientnetb0", weights=None, image_size=64)
    assert model.input_shape == (None, 32, 32, 3)
    assert model.get_layer("resize").output.shape[1:3] == (64, 64)
    assert base_of(model).input_shape == (None, 64, 64, 3)


@pytest.mark.parametrize("head", [(128, 256), (256, 100), (256,), (256, 256)])
def test_head_must_be_two_powers_of_two_first_wider(head):
    with pytest.raises(ConfigError, match="powers of two"):
        build_classifier("resnet50", weights=None, head=head)


def test_unknown_backbone_and_small_images():
    with pytest.raises(ConfigError, match="unknown backbone 'vgg'"):
        build_base("vgg", weights=None)
    with pytest.raises(ConfigError, match="at least 32"):
        build_base("resnet50", weights=None, image_size=16)


def test_failed_imagenet_download_names_both_ways_out(monkeypatch):
    import keras.src.applications.resnet as resnet

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -3]")

    monkeypatch.setattr(resnet.file_utils, "get_file", offline)
    with pytest.raises(WeightsError) as err:
        build_base("resnet50", weights="imagenet")
    msg = str(err.value)
    assert "URL fetch failure" in msg and "--weights PATH" in msg and "--weights none" in msg


def test_weights_file_loads_and_must_exist_and_fit(tmp_path):
    source = build_base("efficientnetb0", weights=None)
    path = tmp_path / "b0_notop.weights.h5"
    source.save_weights(path)
    loaded = build_base("efficientnetb0", weights=str(path))
    for a, b in zip(source.weights, loaded.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(WeightsError, match="does not exist"):
        build_base("efficientnetb0", weights=str(tmp_path / "missing.weights.h5"))
    with pytest.raises(WeightsError, match="does not fit resnet50"):
        build_base("resnet50", weights=str(path))
