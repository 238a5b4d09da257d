"""Surviving a killed process: each phase resumes after its last finished epoch.

Taught in chapter 3 (training the head): a ``fit`` interrupted while its runtime lives on (a
stopped cell, a killed process) picks up again when the cell is run again. In Colab a recycled
runtime erases ``/content``, so a backup outlives it only in Google Drive
(:func:`cifar_lessons.colab.use_drive`). Keras's ``BackupAndRestore`` keeps the weights, the
optimizer and the epoch number at the end of every epoch. For the resumed run to equal an
uninterrupted one, three more things must survive, and :class:`BackupAndResume` keeps them:

* each finished epoch's logs (``fit`` returns the history of the epochs it ran, not of all);
* the random-generator states of the dropout layers (not part of a weights file);
* the place in ``tf.data``'s sequence of shuffles: every new pass over a shuffled dataset draws
  the next order, so the passes the finished epochs started are started again and dropped.

Augmentation (``--augment``) draws from generators inside the input pipeline, which are not
saved: a resumed augmented run sees other random crops than an uninterrupted one would.
"""

from __future__ import annotations

import json
import math
import os
import signal
import time
from pathlib import Path

import keras
import numpy as np

from .errors import RecordError, TrainingError
from .files import atomic_write, ensure_space, weights_bytes

#: Test-only: SIGKILL the process right after this epoch (counted over both phases) is backed up.
ENV_TEST_KILL = "CIFAR_LESSONS_TEST_KILL_AFTER_EPOCH"

STATE_FILE = "epochs.json"
_METADATA = "training_metadata.json"  # BackupAndRestore's own: {"epoch": epochs finished, ...}


def _write_json(path: Path, value) -> None:
    """Write atomically: a file half-written when the process dies (or the disk fills) is never read back."""
    with atomic_write(path, RecordError) as tmp:
        tmp.write_text(json.dumps(value))


def _seed_states(model: keras.Model) -> list:
    """The state variables of every random generator in the model (dropout's)."""
    return [v for v in model.variables if v.path.endswith("seed_generator_state")]


def _passes_per_epoch(train_ds) -> int:
    """How many passes over ``train_ds`` Keras 3's ``fit`` starts per epoch, each drawing a shuffle.

    Its ``EpochIterator`` starts one pass when an epoch begins and, for a dataset of known length,
    another when the epoch ends, which the next epoch drops unused. The resume test (an interrupted
    run's history equals an uninterrupted one's) fails if a Keras upgrade changes this.
    """
    return 2 if int(train_ds.cardinality()) >= 0 else 1


def finished_epochs(folder: str | os.PathLike) -> int | None:
    """The epoch count (over both phases) a phase's backup in ``folder`` resumes after, or None."""
    try:
        return int(json.loads((Path(folder) / _METADATA).read_text())["epoch"])
    except (OSError, ValueError, KeyError):
        return None


class BackupAndResume(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` plus what it leaves out: epoch logs, dropout RNG states, shuffle position.

    The backup is kept when ``fit`` ends (``delete_checkpoint=False``): a finished phase is then
    restored in one step, with its history, if the run dies before its record is written. Whoever
    writes the record removes the folder (:func:`cifar_lessons.recipe.save_stage`).

    Each backup file is replaced whole (:meth:`_save_model`), so the last good backup is always
    ``latest.weights.h5`` and Keras's second copy (``double_checkpoint``) is not needed.
    """

    def __init__(self, folder: str | os.PathLike, train_ds=None):
        super().__init__(str(folder), double_checkpoint=False, delete_checkpoint=False)
        self.folder = Path(folder)
        self.train_ds = train_ds
        self.first_epoch: int | None = None
        self.entries: list[dict] = []
        self.restored: list[dict] = []

    @property
    def restored_seconds(self) -> float:
        """Training time spent on the restored epochs, by the process that ran them."""
        return sum(e["seconds"] for e in self.restored)

    def on_train_begin(self, logs=None):
        # BackupAndRestore also hands its epoch to fit through this private attribute, and Keras
        # never resets it: a stale one would skip epochs. The epoch itself reaches fit publicly,
        # as its initial_epoch (start_epoch below), so nothing here depends on the attribute.
        if hasattr(self.model, "_initial_epoch"):
            self.model._initial_epoch = None
        try:
            super().on_train_begin(logs)  # weights, optimizer and epoch number, if backed up
        except ValueError:  # a file cut short by a kill mid-write (JSON, or weights that do not load)
            raise RecordError(
                f"the backup in {self.folder} is incomplete; delete it to start this phase over"
            ) from None
        done = finished_epochs(self.folder)  # the checkpoint just restored (or its previous one)
        if done is None:
            return
        try:
            state = json.loads((self.folder / STATE_FILE).read_text())
        except (OSError, ValueError):
            raise RecordError(
                f"the backup in {self.folder} is incomplete; delete it to start this phase over"
            ) from None
        n = done - state["first_epoch"]
        if not 0 <= n <= len(state["epochs"]):
            raise RecordError(
                f"the backup in {self.folder} is inconsistent; delete it to start this phase over"
            )
        self.first_epoch = state["first_epoch"]
        self.entries = self.restored = state["epochs"][:n]
        if n:
            for var, value in zip(_seed_states(self.model), self.restored[-1]["seeds"]):
                var.assign(np.asarray(value, dtype=var.dtype))
        if self.train_ds is not None:
            for _ in range(
                n * _passes_per_epoch(self.train_ds)
            ):  # replay the shuffles the finished epochs drew
                iter(self.train_ds)

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        # Logs first, then Keras's checkpoint: a kill in between leaves one log too many, which
        # the next start drops (it trusts the checkpoint's epoch count), never one too few.
        if self.first_epoch is None:
            self.first_epoch = epoch - len(self.entries)
        entry = {
            "logs": {k: float(v) for k, v in (logs or {}).items()},
            "seeds": [np.asarray(v.numpy()).tolist() for v in _seed_states(self.model)],
            "seconds": round(time.perf_counter() - getattr(self, "_started", time.perf_counter()), 3),
        }
        self.entries = [*self.entries, entry]
        self.folder.mkdir(parents=True, exist_ok=True)
        _write_json(self.folder / STATE_FILE, {"first_epoch": self.first_epoch, "epochs": self.entries})
        super().on_epoch_end(epoch, logs)

    def _save_model(self):
        """Keras's backup of weights, optimizer and epoch count, written so that a full disk is one line.

        Keras writes ``latest.weights.h5`` in place; on a full disk h5py then leaves half a file and
        the process dies with a segmentation fault (:mod:`cifar_lessons.files`). Here the room
        is checked first (the weights and optimizer state, or the last backup if larger), the file
        is written under a temporary name and renamed over the last one, then the epoch count is
        written: a failure at any point leaves the previous epoch's backup whole, and the same
        command resumes from it once there is space.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        weights = Path(self._weights_path)
        for stale in self.folder.glob(
            f".{weights.name}.tmp-*"
        ):  # from a process killed mid-write (the run holds a lock)
            stale.unlink(missing_ok=True)
        previous = weights.stat().st_size if weights.exists() else 0
        ensure_space(weights, max(weights_bytes(self.model, optimizer=True), previous), RecordError)
        with atomic_write(
            weights, RecordError, suffix=".weights.h5"
        ) as tmp:  # Keras wants the .weights.h5 ending
            self.model.save_weights(str(tmp), overwrite=True)
        _write_json(
            Path(self._training_metadata_path), {"epoch": self._current_epoch, "batch": self._last_batch_seen}
        )

    def on_train_end(self, logs=None):
        """Put the restored epochs in front of the ones this ``fit`` ran, so its history is whole."""
        history = self.model.history.history
        for key in {k for e in self.restored for k in e["logs"]} | set(history):
            history[key] = [e["logs"].get(key, float("nan")) for e in self.restored] + list(
                history.get(key, [])
            )
        if hasattr(self.model, "_initial_epoch"):
            self.model._initial_epoch = None
        super().on_train_end(logs)


def start_epoch(callbacks, default: int = 0) -> int:
    """The epoch ``fit`` starts from (its public ``initial_epoch``): after the last epoch that a
    :class:`BackupAndResume` among ``callbacks`` backed up, else ``default``.

    Keras's ``BackupAndRestore`` restores weights and optimizer, and tells ``fit`` where to go on
    through a private attribute; passing the same count as ``initial_epoch`` makes the resume rest
    on public API only, on every Keras the book supports.
    """
    for callback in callbacks or ():
        if isinstance(callback, BackupAndResume):
            done = finished_epochs(callback.folder)
            if done is not None:
                return max(default, done)
    return default


class StopOnNaN(keras.callbacks.Callback):
    """Stop at the first NaN or infinite loss with a user-facing error, before the epoch is backed up.

    Keras's ``TerminateOnNaN`` only raises (rather than quietly stopping, which would let the
    backup and the record keep a diverged model) from Keras 3.13 on, so the check is our own: the
    same test on the same batch logs, on every Keras the book supports.
    """

    def __init__(self):
        super().__init__()
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            raise TrainingError(
                "training diverged: the loss became NaN or infinite in "
                f"epoch {self.epoch + 1}, batch {batch + 1}; "
                "the model is not a result, so no record was written (a lower learning rate usually helps)"
            )


class _KillAfterEpoch(keras.callbacks.Callback):
    """Test-only (``CIFAR_LESSONS_TEST_KILL_AFTER_EPOCH``): die as a SIGKILL would, at a known place."""

    def __init__(self, epochs: int):
        super().__init__()
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epochs:
            os.kill(os.getpid(), signal.SIGKILL)


def resume_callbacks(folder: str | os.PathLike, train_ds=None) -> list[keras.callbacks.Callback]:
    """The callbacks that make a phase's ``fit`` stop on NaN and resume after a kill.

    ``folder`` holds one phase's backup; ``train_ds`` is the training dataset passed to ``fit``
    (its shuffles are replayed on resume). Pass the list as ``callbacks=`` to
    :func:`cifar_lessons.training.train_head` or :func:`cifar_lessons.training.fine_tune`.
    """
    callbacks: list[keras.callbacks.Callback] = [StopOnNaN(), BackupAndResume(folder, train_ds)]
    if os.environ.get(ENV_TEST_KILL):
        callbacks.append(_KillAfterEpoch(int(os.environ[ENV_TEST_KILL])))
    return callbacks
