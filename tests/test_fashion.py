"""The Fashion-MNIST chapter's helpers: models, scaling, profiles, the loader's source and errors, records."""

import gzip
import json
import struct

import numpy as np
import pytest
from conftest import REPO

from cifar_lessons.data import DEBIAN_FASHION_MNIST, _official_fashion_files, load_fashion_mnist_with_source
from cifar_lessons.errors import ConfigError, DataError, RecordError
from cifar_lessons.fashion import scratch as fashion
from cifar_lessons.records.committed import COMMITTED_FILES


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """An empty Keras cache, so no test reads or writes the real one."""
    from keras.src.backend import config

    monkeypatch.setattr(config, "_KERAS_DIR", str(tmp_path / "keras_home"))
    return tmp_path / "keras_home"


def _idx_gz(path, array: np.ndarray, magic: int):
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def _local_files(folder, n_train=7, n_test=3):
    folder.mkdir()
    rng = np.random.default_rng(0)
    _idx_gz(folder / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (n_train, 28, 28)), 2051)
    _idx_gz(folder / "train-labels-idx1-ubyte.gz", rng.integers(0, 10, n_train), 2049)
    _idx_gz(folder / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (n_test, 28, 28)), 2051)
    _idx_gz(folder / "t10k-labels-idx1-ubyte.gz", rng.integers(0, 10, n_test), 2049)
    return folder


def _planted(n=64, seed=0):
    """Images whose class is a bright 7x7 square at one of ten places, under faint noise."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 10
    rng.shuffle(y)
    x = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
    for i, c in enumerate(y):
        r, col = divmod(int(c), 5)
        x[i, 2 + 12 * r: 9 + 12 * r, 1 + 5 * col: 6 + 5 * col] = 255
    return x, y.astype(np.int64)


# --------------------------------------------------------------------------- models
def test_models_give_ten_probabilities_and_their_documented_sizes():
    x = np.zeros((3, 28, 28, 1), np.float32)
    dense, cnn = fashion.dense_model(), fashion.small_cnn()
    for model in (dense, cnn):
        p = np.asarray(model(x))
        assert p.shape == (3, 10)
        np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-5)
    # 784*256+256 + 256*128+128 + 128*10+10
    assert dense.count_params() == 235_146
    # conv 3*3*1*32 + BN 4*32 + conv 3*3*32*64 + BN 4*64 + conv 3*3*64*128 + BN 4*128
    # + Dense 3*3*128*128+128 + 128*10+10
    assert cnn.count_params() == 242_218
    assert [layer.output.shape[1:] for layer in cnn.layers if layer.name.startswith("pool")] == [
        (14, 14, 32), (7, 7, 64), (3, 3, 128)]
    table = fashion.layer_table(cnn)
    assert table.iloc[-1].to_dict() == {"layer": "total", "kind": "", "output": "", "parameters": "242,218"}


def test_the_dense_network_learns_64_planted_images():
    """Wiring, loss and labels together: a working network memorises 64 easy images in a few epochs."""
    x, y = _planted()
    data = fashion.FashionData(x, y, x[:10], y[:10], source=None)
    config = fashion.FashionConfig(n=64, batch_size=16, learning_rate=3e-3, validation_fraction=0.1)
    model = fashion.dense_model()
    run = fashion.train(model, data, 15, config, verbose=0)
    accuracy = float(np.mean(np.asarray(model.predict(fashion.scale(x), verbose=0)).argmax(1) == y))
    assert accuracy > 0.9, accuracy
    assert run.kind == "dense" and run.epochs == 15 and len(run.history["val_accuracy"]) == 15
    assert len(run.epoch_seconds) == 15 and run.seconds > 0


def test_train_refuses_zero_epochs():
    x, y = _planted(20)
    with pytest.raises(ConfigError, match="epochs"):
        fashion.train(fashion.dense_model(), fashion.FashionData(x, y, x, y, None), 0, fashion.FashionConfig())


# --------------------------------------------------------------------------- scaling and profiles
def test_scale_gives_float32_in_zero_one_with_a_channel_axis():
    x = np.array([[[0, 128, 255] + [7] * 25] * 28], dtype=np.uint8)
    s = fashion.scale(x)
    assert s.dtype == np.float32 and s.shape == (1, 28, 28, 1)
    assert s.min() == 0.0 and s.max() == 1.0 and s[0, 0, 1, 0] == pytest.approx(128 / 255)
    with pytest.raises(ConfigError, match="uint8"):
        fashion.scale(x.astype(np.float32))


@pytest.mark.parametrize("profile", ["quick", "seed", "better"])
def test_every_profile_trains_the_build_size_and_full_size_is_asked_for(profile):
    c = fashion.fashion_config(profile, env={"CIFAR_LESSONS_BUILD": "1"})  # the book's build
    assert (c.n, c.dense_epochs, c.cnn_epochs) == (10_000, 2, 2) and c.profile == profile
    assert not c.full_size() and c.size_name() == "build size"
    full = fashion.fashion_config(profile, full_size=True, env={})
    assert full == fashion.FashionConfig(profile=profile) and (full.n, full.dense_epochs, full.cnn_epochs) == (60_000, 30, 15)
    assert fashion.fashion_config(profile, env={"CIFAR_LESSONS_FULL_SIZE": "1"}) == full


def test_profile_comes_from_the_books_variable_and_names_it_when_wrong():
    assert fashion.fashion_config(env={}).profile == "seed"
    assert fashion.fashion_config(env={"CIFAR_LESSONS_PROFILE": "quick"}).profile == "quick"
    assert fashion.fashion_config("seed", env={"CIFAR_LESSONS_PROFILE": "quick"}).profile == "seed"
    with pytest.raises(ConfigError, match="unknown profile 'fast'.*CIFAR_LESSONS_PROFILE"):
        fashion.fashion_config(env={"CIFAR_LESSONS_PROFILE": "fast"})
    with pytest.raises(ConfigError, match="CIFAR_LESSONS_FULL_SIZE='maybe'"):
        fashion.fashion_config(env={"CIFAR_LESSONS_FULL_SIZE": "maybe"})


# --------------------------------------------------------------------------- the loader
def test_loader_without_files_or_network_raises_one_line_naming_the_fix(keras_home, tmp_path, monkeypatch):
    import keras

    def offline():
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -3]\nsecond line")

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", offline)
    with pytest.raises(DataError) as info:
        fashion.load(fashion.FashionConfig(), local_dir=tmp_path / "no-such-folder")
    message = str(info.value)
    assert "\n" not in message
    assert "could not load Fashion-MNIST" in message and "apt-get install dataset-fashion-mnist" in message


def test_loader_says_where_the_data_came_from(keras_home, tmp_path):
    local = _local_files(tmp_path / "debian")
    *_, first = load_fashion_mnist_with_source(local_dir=local)
    assert first.kind == "debian-copy" and "copied into Keras's cache" in first.description
    assert "earlier run" not in first.description
    assert not first.official and "NOT the official" in first.description  # random pixels, not Fashion-MNIST
    *_, again = load_fashion_mnist_with_source(local_dir=local)
    assert again.kind == "debian-copy" and "by an earlier run" in again.description
    assert again.sha256 == first.sha256
    *_, cached = load_fashion_mnist_with_source(local_dir=tmp_path / "absent")
    assert cached.kind == "keras-cache" and "from an earlier download" in cached.description


def test_loader_keeps_the_first_n_training_images_and_the_whole_test_set(keras_home, tmp_path):
    local = _local_files(tmp_path / "debian", n_train=7, n_test=3)
    data = fashion.load(fashion.FashionConfig(n=5), local_dir=local)
    assert (len(data.x_train), len(data.x_test)) == (5, 3) and data.y_train.dtype == np.int64
    with pytest.raises(ConfigError, match="only 7 training images"):
        fashion.load(fashion.FashionConfig(n=8), local_dir=local)


@pytest.mark.skipif(not DEBIAN_FASHION_MNIST.is_dir(), reason="needs Debian's dataset-fashion-mnist")
def test_debians_files_hold_the_official_contents():
    assert _official_fashion_files(DEBIAN_FASHION_MNIST)


# --------------------------------------------------------------------------- records and the page
def _evaluated_run(kind="dense"):
    x, y = _planted(40)
    data = fashion.FashionData(x, y, x[:20], y[:20], source=fashion.DataSource(
        "debian-copy", "/cache", "ab" * 32, True, "Debian's dataset-fashion-mnist copied into Keras's cache"))
    config = fashion.FashionConfig(n=40, dense_epochs=1, cnn_epochs=1, batch_size=20)
    model = fashion.build(kind)
    run = fashion.evaluate(model, data, fashion.train(model, data, 1, config, verbose=0))
    return config, data, run


def test_a_saved_run_is_a_small_committable_record(tmp_path):
    config, data, run = _evaluated_run()
    made_by = {"commit": "0" * 40, "command": "python scripts/measure_fashion.py"}
    out = fashion.save_run(tmp_path / "fashion-dense", config, data, run, made_by=made_by, run_seconds=3.0)
    assert sorted(p.name for p in out.iterdir()) == sorted(COMMITTED_FILES)
    rec = fashion.check_record(out)
    assert rec["record"]["data"]["n_train"] == 36 and rec["record"]["data"]["n_val"] == 4
    assert rec["record"]["data"]["n_test"] == 20 and sum(map(sum, rec["metrics"]["confusion_matrix"])) == 20
    assert fashion.committed_runs(tmp_path) == {"dense": rec, "cnn": None}
    table = fashion.comparison_table({"dense": run}, config, fashion.committed_runs(tmp_path))
    assert list(table["test accuracy"])[-1] == "not measured yet"
    assert list(table["from"]) == ["this build (reduced size, n = 40)", "full size: results/fashion-dense",
                                   "full size: results/fashion-cnn"]


def test_an_incomplete_committed_record_is_an_error_not_a_missing_one(tmp_path):
    config, data, run = _evaluated_run()
    out = fashion.save_run(tmp_path / "fashion-cnn", config, data, run, run_seconds=3.0,
                           made_by={"commit": "0" * 40, "command": "python scripts/measure_fashion.py"})
    (out / "metrics.json").unlink()
    with pytest.raises(RecordError, match="lacks metrics.json"):
        fashion.committed_runs(tmp_path)


def test_the_run_card_warns_at_the_build_size_only():
    source = {"kind": "debian-copy", "official": True, "sha256": "ab" * 32, "description": "Debian's copy"}
    small = fashion.run_card(fashion.fashion_config("seed", env={"CIFAR_LESSONS_BUILD": "1"}), source).data
    full = fashion.run_card(fashion.fashion_config("seed", full_size=True, env={}), source).data
    assert "run-card" in small and "Not the real result" in small and "<b>Build size.</b>" in small
    assert "CIFAR_LESSONS_FULL_SIZE=1" in small and "<b>Run:</b> build size &middot;" in small
    assert "run-card" in full and "Not the real result" not in full and "<b>Run:</b> full size &middot;" in full


def test_grey_images_are_drawn_in_grey():
    from cifar_lessons.display import plots

    x, y = _planted(20)
    probabilities = np.eye(10)[(y + 1) % 10]
    fig = plots.mistakes_gallery(x, y, probabilities, [0, 1, 2], fashion.FASHION_MNIST_CLASS_NAMES)
    assert fig.axes[0].images[0].get_cmap().name == "gray_r"
    fig = plots.sample_grid(x, y, fashion.FASHION_MNIST_CLASS_NAMES, per_class=2, title="Fashion-MNIST")
    assert fig.axes[0].images[0].get_cmap().name == "gray_r" and fig._suptitle.get_text() == "Fashion-MNIST"


COMMITTED = [REPO / "results" / name for name in fashion.COMMITTED.values() if (REPO / "results" / name).is_dir()]


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
def test_each_committed_fashion_record_is_a_whole_full_size_run(path):
    rec = fashion.check_record(path)
    r, full = rec["record"], fashion.FashionConfig()
    assert sorted(p.name for p in path.iterdir()) == sorted(COMMITTED_FILES)
    assert r["config"]["n"] == full.n and r["epochs"] == full.epochs(r["model"])
    assert (r["data"]["n_train"], r["data"]["n_val"], r["data"]["n_test"]) == (54_000, 6_000, 10_000)
    assert r["data"]["official"], "committed records are made on the official data"
    assert "+changes" not in r["made_by"]["commit"], "made by uncommitted code"
    assert json.loads((path / "metrics.json").read_text())["n_test"] == 10_000
