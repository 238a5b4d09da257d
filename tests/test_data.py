import shutil

import numpy as np
import pytest
from conftest import image_for, label_of, make_tar, write_class_tree
from PIL import Image

from cifar_lessons import data as data_mod
from cifar_lessons.data import load_cifar10, load_fashion_mnist, split_validation
from cifar_lessons.errors import ConfigError, DataError


def assert_labels_match_images(d):
    for x, y in ((d.x_train, d.y_train), (d.x_test, d.y_test)):
        assert [label_of(img) for img in x] == y.tolist()


def test_python_batches_folder_keeps_official_order(batches):
    folder, x_all, y_all = batches
    d = load_cifar10(folder, n=25)
    assert d.x_train.shape == (25, 32, 32, 3) and d.x_train.dtype == np.uint8
    assert d.y_train.shape == (25,) and d.y_train.dtype == np.int64
    np.testing.assert_array_equal(d.x_train, x_all[:25])
    np.testing.assert_array_equal(d.y_train, y_all[:25])
    assert len(d.x_test) == 10
    assert d.source.kind == "python-batches"
    assert not d.source.official  # official order, but not the official files (their sha256 differ)
    assert_labels_match_images(d)
    # the parent folder works too
    np.testing.assert_array_equal(load_cifar10(folder.parent, n=25).x_train, d.x_train)


def test_python_archive_is_hashed_and_not_called_official(batches, tmp_path):
    folder, x_all, _ = batches
    archive = make_tar(folder, tmp_path / "cifar-10-python.tar.gz", arcname="cifar-10-batches-py")
    d = load_cifar10(archive, n=40)
    np.testing.assert_array_equal(d.x_train, x_all)
    assert d.source.kind == "python-archive"
    assert d.source.sha256 == data_mod.sha256_of(archive)
    assert not d.source.official  # only the official file's hash earns that


def test_class_tree_is_shuffled_with_seed_then_limited(png_tree):
    a = load_cifar10(png_tree, n=30, seed=1)
    b = load_cifar10(png_tree, n=30, seed=1)
    c = load_cifar10(png_tree, n=30, seed=2)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_train, b.y_train)
    assert not np.array_equal(a.x_train, c.x_train)
    # a random sample, not the first class folders in sorted order
    assert len(set(a.y_train.tolist())) >= 6
    assert len(a.x_test) == 20 and sorted(a.y_test.tolist()) == sorted(list(range(10)) * 2)
    assert_labels_match_images(a)
    # the limit takes a prefix of the same shuffled order
    full = load_cifar10(png_tree, n=60, seed=1)
    np.testing.assert_array_equal(full.x_train[:30], a.x_train)
    assert a.source.kind == "class-folders" and not a.source.official
    # PNG is lossless: pixels are exact
    i = 0
    assert np.array_equal(a.x_train[i], image_for(int(a.y_train[i]), int(a.x_train[i][0, 0, 1])))


def test_class_tree_archive_with_top_folder_and_jpeg(jpeg_tree_tar, png_tree):
    d = load_cifar10(jpeg_tree_tar, n=60, seed=1)
    assert d.source.kind == "class-folders-archive" and d.source.sha256 == data_mod.sha256_of(jpeg_tree_tar)
    assert_labels_match_images(d)
    # same files, same seed: same order as the folder
    np.testing.assert_array_equal(d.y_train, load_cifar10(png_tree, n=60, seed=1).y_train)


def test_environment_variable_chooses_the_source(png_tree, monkeypatch):
    monkeypatch.setenv("CIFAR_LESSONS_DATA", str(png_tree))
    assert load_cifar10(n=5).source.path == str(png_tree)


def test_keras_download_is_the_default_and_labels_are_flattened(monkeypatch):
    monkeypatch.delenv("CIFAR_LESSONS_DATA", raising=False)
    x = np.zeros((12, 32, 32, 3), np.uint8)
    y = np.arange(12).reshape(-1, 1) % 10
    import keras

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", lambda: ((x, y), (x[:4], y[:4])))
    d = load_cifar10(n=10)
    assert d.y_train.shape == (10,) and d.y_test.shape == (4,)
    assert d.source.kind == "keras-download" and d.source.official


def test_offline_keras_download_names_the_way_out(monkeypatch):
    monkeypatch.delenv("CIFAR_LESSONS_DATA", raising=False)
    import keras

    def fail():
        raise Exception("URL fetch failure on https://www.cs.toronto.edu/...: None -- [Errno -3]")

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", fail)
    with pytest.raises(DataError, match="--data PATH"):
        load_cifar10(n=10)


def test_validation_split_comes_from_training_images(png_tree):
    d = load_cifar10(png_tree, n=60, seed=3)
    (x_tr, y_tr), (x_val, y_val) = split_validation(d.x_train, d.y_train, 0.1)
    assert len(x_tr) == 54 and len(x_val) == 6
    np.testing.assert_array_equal(np.concatenate([x_tr, x_val]), d.x_train)


# ----------------------------------------------------------------------- bad input
@pytest.mark.parametrize("n", [0, -5])
def test_n_must_be_positive(png_tree, n):
    with pytest.raises(ConfigError, match="positive"):
        load_cifar10(png_tree, n=n)


def test_n_larger_than_source(png_tree, batches):
    with pytest.raises(DataError, match="holds only 60 training images"):
        load_cifar10(png_tree, n=61)
    with pytest.raises(DataError, match="holds only 40 training images"):
        load_cifar10(batches[0], n=41)


def test_missing_path(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_cifar10(tmp_path / "nowhere", n=10)


def test_truncated_archive(jpeg_tree_tar, tmp_path):
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(jpeg_tree_tar.read_bytes()[: jpeg_tree_tar.stat().st_size // 2])
    with pytest.raises(DataError, match="truncated"):
        load_cifar10(cut, n=10)


def test_unreadable_image(tmp_path):
    root = write_class_tree(tmp_path / "t", train_per_class=2, test_per_class=1)
    (root / "test" / "cat" / "0000.png").write_bytes(b"not a png at all")
    with pytest.raises(DataError, match=r"test/cat/0000.png is unreadable"):
        load_cifar10(root, n=20)


def test_wrongly_sized_image(tmp_path):
    root = write_class_tree(tmp_path / "t", train_per_class=2, test_per_class=1)
    Image.new("RGB", (64, 48)).save(root / "test" / "dog" / "0000.png")
    with pytest.raises(DataError, match="64x48, but CIFAR-10 images are 32x32"):
        load_cifar10(root, n=20)


def test_class_folders_must_match(tmp_path):
    root = write_class_tree(tmp_path / "t", train_per_class=1, test_per_class=1)
    shutil.move(root / "train" / "frog", root / "train" / "toad")
    with pytest.raises(DataError, match="missing: frog; unexpected: toad"):
        load_cifar10(root, n=5)


def test_missing_batch_file(batches, tmp_path):
    copy = shutil.copytree(batches[0], tmp_path / "cifar-10-batches-py")
    (copy / "data_batch_3").unlink()
    with pytest.raises(DataError, match="data_batch_3"):
        load_cifar10(copy, n=5)


def test_folder_that_is_no_dataset(tmp_path):
    (tmp_path / "something").mkdir()
    with pytest.raises(DataError, match="neither"):
        load_cifar10(tmp_path, n=5)


# ----------------------------------------------------------------------- Fashion-MNIST
def _idx_gz(path, array: np.ndarray, magic: int):
    import gzip
    import struct

    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_offline_from_local_files(tmp_path, monkeypatch):
    from keras.src.backend import config

    monkeypatch.setattr(config, "_KERAS_DIR", str(tmp_path / "keras_home"))
    local = tmp_path / "debian"
    local.mkdir()
    rng = np.random.default_rng(0)
    x_train, y_train = rng.integers(0, 256, (7, 28, 28)), rng.integers(0, 10, 7)
    x_test, y_test = rng.integers(0, 256, (3, 28, 28)), rng.integers(0, 10, 3)
    _idx_gz(local / "train-images-idx3-ubyte.gz", x_train, 2051)
    _idx_gz(local / "train-labels-idx1-ubyte.gz", y_train, 2049)
    _idx_gz(local / "t10k-images-idx3-ubyte.gz", x_test, 2051)
    _idx_gz(local / "t10k-labels-idx1-ubyte.gz", y_test, 2049)
    (xa, ya), (xb, yb) = load_fashion_mnist(local_dir=local)
    np.testing.assert_array_equal(xa, x_train)
    np.testing.assert_array_equal(ya, y_train)
    np.testing.assert_array_equal(xb, x_test)
    assert ya.dtype == np.int64
    assert (tmp_path / "keras_home" / "datasets" / "fashion-mnist" / "t10k-images-idx3-ubyte.gz").exists()


def test_fashion_mnist_incomplete_local_files(tmp_path, monkeypatch):
    from keras.src.backend import config

    monkeypatch.setattr(config, "_KERAS_DIR", str(tmp_path / "keras_home"))
    (tmp_path / "debian").mkdir()
    with pytest.raises(DataError, match="lacks the Fashion-MNIST files"):
        load_fashion_mnist(local_dir=tmp_path / "debian")


def _held_by_another(lock_file) -> bool:
    """True when some other open file holds an exclusive lock on ``lock_file`` (a second process would wait)."""
    import fcntl

    with open(lock_file, "a") as other:
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(other, fcntl.LOCK_UN)
        return False


def test_keras_loaders_hold_the_cache_lock_while_keras_reads_so_two_chapters_take_turns(tmp_path, monkeypatch):
    # make site executes two chapters at once, and Keras re-extracts CIFAR-10's archive on every call.
    import keras
    from keras.src.backend import config

    monkeypatch.setattr(config, "_KERAS_DIR", str(tmp_path / "keras_home"))
    monkeypatch.delenv("CIFAR_LESSONS_DATA", raising=False)
    lock = tmp_path / "keras_home" / "datasets" / ".cifar_lessons.lock"
    seen = []
    x, y = np.zeros((12, 32, 32, 3), np.uint8), np.arange(12).reshape(-1, 1) % 10

    def cifar():
        seen.append(("cifar10", lock.exists() and _held_by_another(lock)))
        return (x, y), (x[:4], y[:4])

    def fashion():
        seen.append(("fashion", lock.exists() and _held_by_another(lock)))
        g = np.zeros((5, 28, 28), np.uint8)
        return (g, np.zeros(5, np.uint8)), (g, np.zeros(5, np.uint8))

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", cifar)
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", fashion)
    load_cifar10(n=10)
    with pytest.raises(FileNotFoundError):  # Keras "read" files that are not in its cache: only the lock matters here
        load_fashion_mnist(local_dir=tmp_path / "nowhere")
    assert seen == [("cifar10", True), ("fashion", True)]
    assert not _held_by_another(lock), "the lock is released afterwards"


def test_keras_home_follows_keras_own_rule_without_its_private_module(monkeypatch, tmp_path):
    """The public fallback, should Keras move its private accessor: the same folder Keras uses."""
    import builtins
    from pathlib import Path

    from keras.src.backend import config as keras_config

    real_import = builtins.__import__

    def no_private(name, *args, **kwargs):
        if name == "keras.src.backend.config":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_private)
    monkeypatch.delenv("KERAS_HOME", raising=False)
    assert data_mod.keras_home() == Path(keras_config.keras_home())  # the default, ~/.keras here
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    assert data_mod.keras_home() == tmp_path / "kh"
