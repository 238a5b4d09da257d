"""Issue 8: a killed run resumes where it stopped; a NaN fails loudly; two runs never share a folder.

Tiny runs (EfficientNet-Lite0 on random weights, 20 images, batches of 8) in subprocesses where a
process must die: ``CIFAR_LESSONS_TEST_KILL_AFTER_EPOCH=k`` makes the run SIGKILL itself right
after epoch ``k`` is finished and backed up, so the kill lands at the same place every time.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import REPO

from cifar_lessons import cli, recipe
from cifar_lessons.config import make_config
from cifar_lessons.data import load_cifar10
from cifar_lessons.errors import RecordError

ARGS = ["run", "--profile", "quick", "--weights", "none", "--backbone", "efficientnet_lite0", "--n", "20",
        "--batch-size", "8", "--head-epochs", "1", "--fine-tune-epochs", "2", "--verbose", "0"]


def cli_process(args, **env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cifar_lessons", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3", **env})


def history(folder):
    return json.loads((folder / "history.json").read_text())


@pytest.fixture(scope="module")
def uninterrupted(png_tree, tmp_path_factory):
    """The reference: the same command run once, without interruption (in this process)."""
    out = tmp_path_factory.mktemp("reference") / "rec"
    assert cli.main([*ARGS, "--data", str(png_tree), "--out", str(out)]) == 0
    return history(out)


def test_run_killed_in_phase_2_resumes_from_its_last_epoch(png_tree, tmp_path, uninterrupted):
    out = tmp_path / "rec"
    args = [*ARGS, "--data", str(png_tree), "--out", str(out)]
    killed = cli_process(args, CIFAR_LESSONS_TEST_KILL_AFTER_EPOCH="2")  # epoch 2 = phase 2's first
    _, err = killed.communicate(timeout=300)
    assert killed.returncode == -signal.SIGKILL, err
    assert not out.exists() and (tmp_path / ".rec.resume").is_dir()

    resumed = cli_process(args)
    stdout, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert "phase 1: already finished" in stdout and "resuming phase 2 after epoch 2" in stdout
    again = history(out)
    assert again["phase2_start"] == uninterrupted["phase2_start"] == 1
    assert set(again["history"]) == set(uninterrupted["history"])
    for key, values in uninterrupted["history"].items():
        assert len(again["history"][key]) == 3, key  # no epoch lost, none counted twice
        np.testing.assert_allclose(again["history"][key], values, rtol=1e-5, err_msg=key)
    assert sorted(os.listdir(tmp_path)) == ["rec"]  # backup and lock removed once the record is written


def test_resume_refuses_a_backup_of_other_options(png_tree, tmp_path, capsys):
    out = tmp_path / "rec"
    args = [*ARGS, "--data", str(png_tree), "--out", str(out)]
    backup = tmp_path / ".rec.resume"
    backup.mkdir()
    config = cli.config_from_args(cli.build_parser().parse_args(args))
    (backup / "config.json").write_text(json.dumps({**config.to_dict(), "seed": 7}))  # a killed run's, --seed 7
    (backup / "head").mkdir()
    code = cli.main(args)
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    assert "interrupted run with other options (seed)" in err and ".rec.resume" in err
    assert (backup / "head").is_dir() and not out.exists()  # its finished epochs are kept


def interrupt_and_resume_a_book_stage(png_tree, tmp_path, monkeypatch):
    """Phase 1 of a tiny book stage killed after its first epoch, then run again: the epochs the
    second run trained, and its history against an uninterrupted run's."""
    config = make_config("quick", env={}, data=str(png_tree), weights="none", n=20, backbone="efficientnet_lite0",
                         head=(32, 16), batch_size=8, head_epochs=2, fine_tune_epochs=1)
    data = load_cifar10(config.data, n=config.n, seed=config.seed)
    _, reference = recipe.head_stage(config, data, verbose=0, root=tmp_path / "a")

    class SessionDies(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                raise KeyboardInterrupt

    class CountEpochs(keras.callbacks.Callback):
        ran = 0

        def on_epoch_begin(self, epoch, logs=None):
            CountEpochs.ran += 1

    originals = {name: getattr(recipe, name) for name in ("run_phase", "train_head_on_features")}

    def add_callback(callback):  # to phase 1's fit, on cached features (this config) or end to end
        for name, fit in originals.items():
            monkeypatch.setattr(recipe, name, lambda *a, callbacks=(), _fit=fit, **k:
                                _fit(*a, callbacks=[*(callbacks or []), callback], **k))

    add_callback(SessionDies())
    with pytest.raises(KeyboardInterrupt):
        recipe.head_stage(config, data, verbose=0, root=tmp_path / "b")
    add_callback(CountEpochs())
    _, resumed = recipe.head_stage(config, data, verbose=0, root=tmp_path / "b")
    return CountEpochs.ran, resumed, reference


def assert_resumed_like_the_reference(ran, resumed, reference):
    assert ran == 1  # only the second epoch: the first was restored
    assert resumed.epochs == 2
    for key, values in reference.history.items():
        np.testing.assert_allclose(resumed.history[key], values, rtol=1e-5, err_msg=key)


def test_a_book_stage_interrupted_inside_fit_resumes(png_tree, tmp_path, monkeypatch):
    assert_resumed_like_the_reference(*interrupt_and_resume_a_book_stage(png_tree, tmp_path, monkeypatch))
    assert not list((tmp_path / "b").rglob("*.resume"))


def test_a_nan_loss_fails_with_one_line_and_no_record(png_tree, tmp_path, capsys, monkeypatch):
    config_from_args = cli.config_from_args
    monkeypatch.setattr(cli, "config_from_args",
                        lambda args: dataclasses.replace(config_from_args(args), head_learning_rate=1e12))
    out = tmp_path / "rec"
    code = cli.main([*ARGS, "--data", str(png_tree), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and "NaN" in err and err.count("\n") == 1
    assert os.listdir(tmp_path) == []  # no record, no backup of a diverged model


def test_a_second_run_on_the_same_out_is_refused(png_tree, tmp_path, capsys):
    out = tmp_path / "rec"
    first = cli_process([*ARGS, "--data", str(png_tree), "--out", str(out)])
    deadline = time.monotonic() + 120
    while not (tmp_path / ".rec.resume").exists():  # made under the lock, once training starts
        assert first.poll() is None and time.monotonic() < deadline, first.stderr.read() if first.poll() else "timeout"
        time.sleep(0.2)
    code = cli.main([*ARGS, "--data", str(png_tree), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    assert "another run is writing" in err
    assert first.poll() is None  # the first run goes on undisturbed
    first.kill()
    first.communicate()


def test_the_same_command_without_out_finds_its_interrupted_run(tmp_path):
    config = make_config("quick", env={}, weights="none")
    fresh = cli.default_out(config, root=str(tmp_path))  # nothing interrupted: a new, time-stamped folder
    assert Path(fresh).parent == tmp_path and Path(fresh).name.startswith("quick-resnet50-")
    for name, options in (("quick-resnet50-20000101-000000", config.to_dict()),  # this command, killed
                          ("quick-resnet50-29991231-235959", {**config.to_dict(), "seed": 7})):  # another
        (tmp_path / f".{name}.resume").mkdir()
        (tmp_path / f".{name}.resume" / "config.json").write_text(json.dumps(options))
    assert cli.default_out(config, root=str(tmp_path)) == str(tmp_path / "quick-resnet50-20000101-000000")
    assert cli.default_out(dataclasses.replace(config, seed=7), root=str(tmp_path)) == \
        str(tmp_path / "quick-resnet50-29991231-235959")
    assert Path(cli.default_out(dataclasses.replace(config, seed=8), root=str(tmp_path))).name not in (
        "quick-resnet50-20000101-000000", "quick-resnet50-29991231-235959")


def test_a_backup_with_nothing_trained_yields_to_other_options(tmp_path):
    config = make_config("quick", env={}, weights="none")
    backup = tmp_path / ".rec.resume"
    backup.mkdir()
    (backup / "config.json").write_text(json.dumps({**config.to_dict(), "seed": 7}))  # killed while loading data
    recipe._start_backup(backup, config)
    assert json.loads((backup / "config.json").read_text()) == config.to_dict()
    (backup / "head").mkdir()  # once an epoch is backed up, other options are refused
    with pytest.raises(RecordError, match="other options"):
        recipe._start_backup(backup, dataclasses.replace(config, seed=9))


def test_a_resume_rests_on_public_api_only(png_tree, tmp_path, monkeypatch):
    """A Keras whose BackupAndRestore no longer hands its epoch to ``fit`` privately still resumes:
    the epoch reaches ``fit`` as its public ``initial_epoch``."""
    from keras.src.callbacks.backup_and_restore import BackupAndRestore

    load = BackupAndRestore._load_model

    def load_without_private_channel(self):
        load(self)
        self.model._initial_epoch = None

    monkeypatch.setattr(BackupAndRestore, "_load_model", load_without_private_channel)
    assert_resumed_like_the_reference(*interrupt_and_resume_a_book_stage(png_tree, tmp_path, monkeypatch))
