"""Issue 22: a full disk is one line, never a crash; the last good backup stays; a second run resumes.

Two ways: a real small file system (a tmpfs this test mounts, where the platform lets it) for the
command line end to end, and a simulated ``ENOSPC`` at each writer, which runs everywhere. Each
test failed on the code before the fix (the command line died with a segmentation fault, exit 139;
the writers let a bare ``OSError`` through, after leaving half a backup).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import REPO, minimal_record

from cifar_lessons import files
from cifar_lessons.errors import RecordError, WeightsError
from cifar_lessons.resume import BackupAndResume, finished_epochs

ARGS = ["run", "--profile", "quick", "--weights", "none", "--backbone", "efficientnet_lite0", "--n", "20",
        "--batch-size", "8", "--head-epochs", "1", "--fine-tune-epochs", "1", "--verbose", "0"]


def enospc(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


# --- a real small file system --------------------------------------------------------------

@pytest.fixture
def small_fs(tmp_path):
    """A 20 MB tmpfs: room for phase 1's backup (4.4 MB) but not phase 2's (Lite0 and Adam's state)."""
    mount = tmp_path / "small"
    mount.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root and mount(8); the simulated ENOSPC tests below still run")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(mount)], capture_output=True,
                          text=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"this platform refuses to mount a tmpfs ({made.stderr.strip()})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def run_cli(args: list[str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # as a user's shell: see quiet.py
    return subprocess.run([sys.executable, "-m", "cifar_lessons", *args], capture_output=True, text=True,
                          env={**env, "PYTHONPATH": str(REPO)}, timeout=600, check=False)


def test_a_full_file_system_is_one_line_and_the_run_resumes_once_there_is_room(png_tree, small_fs):
    out = small_fs / "run"
    args = [*ARGS, "--data", str(png_tree), "--out", str(out)]
    full = run_cli(args)
    backup = small_fs / ".run.resume"
    assert full.returncode == 2, full.stderr[-2000:]  # was -11 (SIGSEGV) before the fix
    assert full.stderr == f"error: no space left on the device while writing {backup}/fine_tune/latest.weights.h5\n"
    assert not out.exists() and not list(small_fs.glob(".run.tmp-*"))  # no half-written record
    assert finished_epochs(backup / "head") == 1  # the last good backup is whole ...
    assert not list((backup / "fine_tune").glob("*.h5"))  # ... and no half-written one is left

    subprocess.run(["mount", "-o", "remount,size=120m", str(small_fs)], check=True)
    resumed = run_cli(args)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "phase 1: already finished, restored from" in resumed.stdout
    assert json.loads((out / "record.json").read_text())["stage"] == "full" and not backup.exists()


# --- simulated ENOSPC at each writer -------------------------------------------------------

def tiny_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def fit(model: keras.Model, folder: Path, epochs: int) -> None:
    x = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    y = np.arange(16) % 3
    model.fit(x, y, epochs=epochs, batch_size=8, verbose=0, callbacks=[BackupAndResume(folder)])


def test_a_backup_that_meets_a_full_disk_leaves_the_last_one_whole(tmp_path, monkeypatch):
    folder = tmp_path / "backup"
    fit(tiny_model(), folder, epochs=1)
    good = (folder / "latest.weights.h5").read_bytes()

    def half_then_full(self, filepath, overwrite=True, **kwargs):
        Path(filepath).write_bytes(b"\x89HDF\r\n\x1a\n half a file")  # what h5py leaves behind
        enospc()

    monkeypatch.setattr(keras.Model, "save_weights", half_then_full)
    with pytest.raises(RecordError) as caught:
        fit(tiny_model(), folder, epochs=2)
    assert str(caught.value) == f"no space left on the device while writing {folder / 'latest.weights.h5'}"
    assert (folder / "latest.weights.h5").read_bytes() == good and finished_epochs(folder) == 1
    assert sorted(p.name for p in folder.iterdir()) == ["epochs.json", "latest.weights.h5", "training_metadata.json"]

    monkeypatch.undo()
    model = tiny_model()
    fit(model, folder, epochs=2)  # room again: resumes after epoch 1
    assert finished_epochs(folder) == 2 and len(model.history.history["loss"]) == 2


def test_a_backup_is_not_started_without_room_for_it(tmp_path, monkeypatch):
    """h5py crashes the process on ENOSPC, so the room is checked before it writes at all."""
    folder = tmp_path / "backup"
    fit(tiny_model(), folder, epochs=1)
    free = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(files.shutil, "disk_usage", lambda _: free._replace(free=files.MARGIN_BYTES))
    writes = []
    monkeypatch.setattr(keras.Model, "save_weights", lambda self, *a, **k: writes.append(a))
    with pytest.raises(RecordError, match="no space left on the device while writing .*latest.weights.h5"):
        fit(tiny_model(), folder, epochs=2)
    assert not writes and finished_epochs(folder) == 1


@pytest.mark.parametrize("writer", ["savez_compressed", "model"])
def test_a_record_that_meets_a_full_disk_is_one_line_and_not_half_written(tmp_path, monkeypatch, writer):
    from cifar_lessons.records import store as records

    if writer == "model":
        monkeypatch.setattr(records, "_save_without_optimizer", enospc)
    else:
        monkeypatch.setattr(records.np, "savez_compressed", enospc)
    out = tmp_path / "run"
    with pytest.raises(RecordError) as caught:
        records.save_record(out, record=minimal_record(), history={}, model=tiny_model(), probabilities=np.zeros((2, 3)))
    assert str(caught.value) == f"no space left on the device while writing {out}"
    assert os.listdir(tmp_path) == []


def test_the_converted_weights_that_meet_a_full_disk_are_one_line(tmp_path, monkeypatch):
    from cifar_lessons.backbones import efficientnet_lite as lite

    monkeypatch.setattr(lite, "read_legacy_state_dict", lambda _: {})
    monkeypatch.setattr(lite, "keras_weights_from_state_dict", lambda *_: {})
    monkeypatch.setattr(lite, "_set_layer_weights", lambda *_: None)
    monkeypatch.setattr(keras.Model, "save_weights", enospc)
    out = tmp_path / "cache" / lite.VARIANTS["lite0"].cache_name
    with pytest.raises(WeightsError) as caught:
        lite.convert(tmp_path / "any.pth", out)
    assert str(caught.value) == f"no space left on the device while writing {out}"
    assert os.listdir(out.parent) == []
