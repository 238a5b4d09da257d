"""Issue 8: a user's files are never lost, and a mistake is one line, found before any work.

Each test here failed on the code before the issue was fixed (see the issue's note).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from conftest import REPO, minimal_record, write_batches, write_class_tree

from cifar_lessons.cli import main

TINY = ["--profile", "quick", "--weights", "none", "--backbone", "efficientnet_lite0", "--n", "20",
        "--batch-size", "8", "--head-epochs", "1", "--fine-tune-epochs", "1", "--verbose", "0"]


def replace(args: list[str], flag: str) -> list[str]:
    """``args`` without ``flag`` and its value."""
    i = args.index(flag) if flag in args else None
    return args if i is None else args[:i] + args[i + 2:]


def run_cli(args, capsys):
    code = main(["run", *args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code, err, message):
    assert code == 2, err
    assert err.startswith("error: ") and message in err, err
    assert err.count("\n") == 1 and "Traceback" not in err


def python(code: str, **env) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter importing this checkout, as a user's shell would."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **env}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env, timeout=120)


# --- 1. --overwrite replaces run records only -------------------------------------------------

def test_overwrite_never_deletes_a_folder_that_is_not_a_record(png_tree, tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "important.txt").write_text("do not lose me")
    code, out, err = run_cli([*TINY, "--data", str(png_tree), "--out", str(mine), "--overwrite"], capsys)
    one_line_error(code, err, "not a run record")
    assert (mine / "important.txt").read_text() == "do not lose me"
    assert sorted(os.listdir(tmp_path)) == ["mine"] and out == ""


def test_out_that_is_the_current_folder_or_above_it_is_refused(png_tree, tmp_path, capsys, monkeypatch):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    (work / "notes.txt").write_text("mine")
    monkeypatch.chdir(work)
    for out in (".", str(tmp_path / "a"), "../b"):
        code, _, err = run_cli([*TINY, "--data", str(png_tree), "--out", out, "--overwrite"], capsys)
        one_line_error(code, err, "current folder")
    assert (work / "notes.txt").exists()
    assert sorted(os.listdir(tmp_path / "a")) == ["b"] and sorted(os.listdir(work)) == ["notes.txt"]


def test_overwrite_replaces_a_record_written_by_this_package(tmp_path):
    import keras

    from cifar_lessons.records.store import prepare_out, save_record

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    out = save_record(tmp_path / "rec", record=minimal_record(stage="full"), history={}, model=model)
    assert json.loads((out / "record.json").read_text())["producer"] == "cifar_lessons"
    assert prepare_out(out, overwrite=True) == out  # accepted up front, before any work
    save_record(out, record=minimal_record(stage="tuned"), history={}, model=model, overwrite=True)
    assert json.loads((out / "record.json").read_text())["stage"] == "tuned"
    assert sorted(os.listdir(tmp_path)) == ["rec"]  # no temporary or old folder left


# --- 2. a bad --out is found before any data is loaded ---------------------------------------

def test_out_under_a_file_is_refused_before_loading_data(png_tree, tmp_path, capsys):
    (tmp_path / "file.txt").write_text("x")
    code, out, err = run_cli([*TINY, "--data", str(png_tree), "--out", str(tmp_path / "file.txt" / "rec")], capsys)
    one_line_error(code, err, "cannot write")
    assert out == ""  # nothing loaded, nothing trained


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_out_is_refused_before_loading_data(png_tree, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        code, out, err = run_cli([*TINY, "--data", str(png_tree), "--out", str(locked / "rec")], capsys)
    finally:
        locked.chmod(0o755)
    one_line_error(code, err, "cannot write")
    assert out == ""


# --- 3. ~ is expanded once, for every path ---------------------------------------------------

@pytest.fixture(scope="module")
def home_run(png_tree, tmp_path_factory):
    """One tiny run with ``--out=~/rec`` under umask 022 (shared: each run costs tens of seconds)."""
    home = tmp_path_factory.mktemp("home")
    old_umask = os.umask(0o022)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        mp.chdir(home)
        stdout = io.StringIO()
        try:
            with contextlib.redirect_stdout(stdout):
                code = main(["run", *TINY, "--data", str(png_tree), "--out=~/rec"])
        finally:
            os.umask(old_umask)
    assert code == 0
    return home, stdout.getvalue()


def test_tilde_is_expanded_in_options_and_environment(home_run, tmp_path, monkeypatch):
    from cifar_lessons.config import make_config

    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "w.weights.h5").write_bytes(b"not checked here")
    (tmp_path / "d").mkdir()
    c = make_config("quick", env={"CIFAR_LESSONS_WEIGHTS": "~/w.weights.h5", "CIFAR_LESSONS_DATA": "~/d"})
    assert (c.weights, c.data) == (str(tmp_path / "w.weights.h5"), str(tmp_path / "d"))
    c = make_config("quick", env={}, weights="~/w.weights.h5", data="~/d")
    assert (c.weights, c.data) == (str(tmp_path / "w.weights.h5"), str(tmp_path / "d"))
    home, stdout = home_run
    assert (home / "rec" / "record.json").exists() and not (home / "~").exists()
    assert f"record written to {home / 'rec'}" in stdout


# --- 4. model.keras holds no optimizer -----------------------------------------------------

def test_saved_model_has_no_optimizer_variables(png_tree, tmp_path):
    import h5py
    import keras

    from cifar_lessons.records.store import save_record

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(256),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    model.fit(np.zeros((8, 32, 32, 3), "float32"), np.zeros(8, "int64"), epochs=1, verbose=0)
    assert model.optimizer.variables  # Adam's moments exist and must not be saved
    out = save_record(tmp_path / "rec", record=minimal_record(), history={}, model=model)
    with zipfile.ZipFile(out / "model.keras") as z:
        z.extract("model.weights.h5", tmp_path)
    names = []
    with h5py.File(tmp_path / "model.weights.h5", "r") as f:
        f.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
    assert not [n for n in names if n.startswith("optimizer")], names
    weights_bytes = sum(int(np.prod(w.shape)) * 4 for w in model.weights)
    assert (out / "model.keras").stat().st_size < 1.1 * weights_bytes + 100_000
    again = keras.models.load_model(out / "model.keras")
    np.testing.assert_array_equal(again.get_weights()[0], model.get_weights()[0])


# --- 5. and 8. numbers are checked first, with one line and no TensorFlow ---------------------

@pytest.mark.parametrize("args, message", [
    (["--batch-size", "0"], "batch size must be a positive"),
    (["--batch-size", "-4"], "batch size must be a positive"),
    (["--seed", "-1"], "seed must be between 0 and"),
    (["--seed", "5000000000"], "seed must be between 0 and"),
    (["--head-epochs", "-1"], "epochs cannot be negative"),
    (["--n", "0"], "n must be a positive number"),
    (["--data", ""], "--data is empty"),
])
def test_bad_numbers_get_one_line_before_any_work(args, message, png_tree, tmp_path, capsys):
    args = [*replace(TINY, args[0]), *args]
    if "--data" not in args:
        args += ["--data", str(png_tree)]
    code, out, err = run_cli([*args, "--out", str(tmp_path / "new")], capsys)
    one_line_error(code, err, message)
    assert out == "" and not (tmp_path / "new").exists()


def test_validation_does_not_import_tensorflow(tmp_path):
    code = (
        "import sys\n"
        "from cifar_lessons.cli import main\n"
        "from cifar_lessons.config import make_config\n"
        "make_config('quick', env={}, backbone='efficientnet_lite0', weights='none', n=5)\n"
        f"code = main(['run', '--n', '0', '--weights', 'none', '--out', {str(tmp_path / 'r')!r}])\n"
        "assert code == 2, code\n"
        "heavy = sorted(m for m in ('tensorflow', 'keras') if m in sys.modules)\n"
        "print('imported:', heavy)\n"
    )
    result = python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported: []"
    assert result.stderr == "error: n must be a positive number of training images, got 0\n"


def test_cli_error_has_no_tensorflow_noise(tmp_path):
    result = subprocess.run([sys.executable, "-m", "cifar_lessons", "run", "--seed", "-1", "--out", str(tmp_path / "r")],
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith("error: seed must be between 0 and") and result.stderr.count("\n") == 1


def test_weights_file_is_checked_before_data_is_loaded(png_tree, tmp_path, capsys):
    bad = tmp_path / "other.weights.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n not really")
    args = replace(TINY, "--weights")
    code, out, err = run_cli([*args, "--data", str(png_tree), "--weights", str(bad), "--out", str(tmp_path / "r")], capsys)
    one_line_error(code, err, "other.weights.h5")
    assert "phase 1" not in out and "data:" not in out


# --- 6. provenance -------------------------------------------------------------------------

def test_a_batches_folder_is_official_only_if_its_files_are(tmp_path, monkeypatch):
    from cifar_lessons import data as data_mod

    folder, _, _ = write_batches(tmp_path)
    d = data_mod.load_cifar10(str(folder), n=10)
    assert d.source.kind == "python-batches" and not d.source.official
    assert d.source.sha256 and len(d.source.sha256) == 64
    assert "official" not in d.source.description.split("(")[0] or "not the official" in d.source.description
    # With these very files registered as the official ones, the same folder is official.
    digests = {name: data_mod.sha256_of(folder / name) for name in data_mod.BATCH_FILES}
    monkeypatch.setattr(data_mod, "OFFICIAL_BATCH_SHA256", digests)
    d2 = data_mod.load_cifar10(str(folder), n=10)
    assert d2.source.official and d2.source.sha256 == d.source.sha256


def test_every_folder_source_has_a_content_hash(png_tree, tmp_path):
    from cifar_lessons.data import load_cifar10

    a = load_cifar10(str(png_tree), n=10)
    assert a.source.sha256 and len(a.source.sha256) == 64
    copy = write_class_tree(tmp_path / "copy")
    assert load_cifar10(str(copy), n=10).source.sha256 == a.source.sha256  # same files, same hash
    (copy / "train" / "cat" / "0000.png").write_bytes((png_tree / "train" / "dog" / "0000.png").read_bytes())
    assert load_cifar10(str(copy), n=10).source.sha256 != a.source.sha256


# --- 7. offline guidance -------------------------------------------------------------------

def _offline(monkeypatch):
    """Keras downloads fail as they do offline: CIFAR-10 and ResNet50's ImageNet weights."""
    import dataclasses

    import keras

    from cifar_lessons import models

    def no_network(*args, **kwargs):
        raise Exception("URL fetch failure: no network")

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", no_network)
    spec = models.BACKBONES["resnet50"]

    def constructor(*args, weights=None, **kwargs):
        if weights == "imagenet":
            no_network()
        return spec.constructor(*args, weights=weights, **kwargs)

    monkeypatch.setitem(models.BACKBONES, "resnet50", dataclasses.replace(spec, constructor=constructor))
    monkeypatch.delenv("CIFAR_LESSONS_DATA", raising=False)


def test_weights_error_names_the_offline_backbone(monkeypatch):
    from cifar_lessons.errors import WeightsError
    from cifar_lessons.models import build_base

    _offline(monkeypatch)
    with pytest.raises(WeightsError, match="--backbone efficientnet_lite0") as caught:
        build_base("resnet50", "imagenet")
    assert "efficientnet_lite1 and efficientnet_lite2 work offline too" in str(caught.value)


def test_advice_in_a_notebook_says_how_to_set_the_variables(monkeypatch):
    import types

    from cifar_lessons.data import load_cifar10
    from cifar_lessons.errors import DataError, WeightsError
    from cifar_lessons.models import build_base

    _offline(monkeypatch)
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    with pytest.raises(WeightsError) as weights:
        build_base("resnet50", "imagenet")
    assert 'os.environ["CIFAR_LESSONS_BACKBONE"] = "efficientnet_lite0"' in str(weights.value)
    assert "--weights" not in str(weights.value)
    with pytest.raises(DataError) as data:
        load_cifar10(None, n=10)
    assert 'os.environ["CIFAR_LESSONS_DATA"]' in str(data.value) and "--data" not in str(data.value)


def test_data_and_weights_problems_are_reported_together(tmp_path, capsys, monkeypatch):
    _offline(monkeypatch)
    code, out, err = run_cli(["--profile", "quick", "--backbone", "resnet50", "--weights", "imagenet",
                              "--n", "20", "--out", str(tmp_path / "r")], capsys)
    one_line_error(code, err, "could not download CIFAR-10")
    assert "could not download the ImageNet weights" in err
    assert "phase 1" not in out


# --- 9. files respect the umask ------------------------------------------------------------

@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_record_folder_respects_the_umask(home_run):
    home, _ = home_run
    assert (home / "rec").stat().st_mode & 0o777 == 0o755
    assert (home / "rec" / "model.keras").stat().st_mode & 0o777 == 0o644


def test_converted_lite0_weights_respect_the_umask(tmp_path, monkeypatch, umask_022):
    from cifar_lessons.backbones import efficientnet_lite as lite

    monkeypatch.setattr(lite, "read_legacy_state_dict", lambda path: {})
    monkeypatch.setattr(lite, "keras_weights_from_state_dict", lambda sd, variant: {})
    monkeypatch.setattr(lite, "_set_layer_weights", lambda model, weights: None)
    out = lite.convert(tmp_path / "x.pth", tmp_path / "w.weights.h5")
    assert out.stat().st_mode & 0o777 == 0o644


# --- 10. small ones ------------------------------------------------------------------------

def test_a_temporary_folder_left_by_a_killed_save_is_cleaned_up(tmp_path):
    import keras

    from cifar_lessons.records.store import save_record

    stale = tmp_path / ".rec.tmp-999999999-abc"  # no such process: left by a SIGKILL
    stale.mkdir()
    (stale / "record.json").write_text("{}")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    save_record(tmp_path / "rec", record=minimal_record(), history={}, model=model)
    assert sorted(os.listdir(tmp_path)) == ["rec"]


def test_empty_test_class_folders_get_a_true_message(tmp_path):
    from cifar_lessons.data import CLASS_NAMES, load_cifar10
    from cifar_lessons.errors import DataError

    tree = write_class_tree(tmp_path / "t", test_per_class=0)
    for name in CLASS_NAMES:
        assert (tree / "test" / name).is_dir()
    with pytest.raises(DataError, match="no images under test/"):
        load_cifar10(str(tree), n=10)


def test_a_bad_environment_value_names_its_variable(png_tree, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CIFAR_LESSONS_BACKBONE", "vgg16")
    code, _, err = run_cli(["--profile", "quick", "--weights", "none", "--data", str(png_tree),
                            "--out", str(tmp_path / "r")], capsys)
    one_line_error(code, err, "unknown backbone 'vgg16'")
    assert "CIFAR_LESSONS_BACKBONE" in err
    monkeypatch.delenv("CIFAR_LESSONS_BACKBONE")
    monkeypatch.setenv("CIFAR_LESSONS_WEIGHTS", str(tmp_path / "missing.h5"))
    code, _, err = run_cli(["--profile", "quick", "--data", str(png_tree), "--out", str(tmp_path / "r")], capsys)
    one_line_error(code, err, "does not exist")
    assert "CIFAR_LESSONS_WEIGHTS" in err


def test_corrupt_image_message_names_the_file(tmp_path):
    from cifar_lessons.data import load_cifar10
    from cifar_lessons.errors import DataError

    tree = write_class_tree(tmp_path / "t", train_per_class=2, test_per_class=1)
    (tree / "test" / "cat" / "0000.png").write_bytes(b"garbage")
    with pytest.raises(DataError) as exc:
        load_cifar10(str(tree), n=10)
    assert "test/cat/0000.png" in str(exc.value) and "BytesIO" not in str(exc.value)
