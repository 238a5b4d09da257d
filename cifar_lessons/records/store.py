"""Run records: one folder per run that says exactly what was computed, from what, and how.

Taught in chapter 7 (takeaways), and used by chapters 3-5 to share one run. A record holds
``record.json`` (configuration, data source and its sha256, weights, environment, timing),
``history.json``, ``metrics.json`` (once evaluated), ``model.keras`` and, once evaluated,
``predictions.npz``. A record is written into a temporary sibling folder and renamed into
place, so a crash never leaves a half-written record where a reader would find it.

An existing folder is replaced only when asked (``--overwrite``) and only if it is a record this
package wrote: ``record.json`` carries ``"producer": "cifar_lessons"``. Anything else a user keeps
there is refused, never deleted. A run holds a lock beside its folder, so two runs never write
the same one.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ..errors import RecordError
from ..files import ensure_space, exclusive_lock, weights_bytes, writing
from .schema import record_problems

RECORD_FILES = ("record.json", "history.json", "model.keras")

#: Written into every record.json: ``--overwrite`` replaces only folders that carry it.
PRODUCER = "cifar_lessons"


@dataclass
class RunRecord:
    """A run record loaded back from disk. The model is loaded only when asked for."""

    path: Path
    record: dict
    history: dict
    metrics: dict | None

    @property
    def config(self) -> dict:
        return self.record["config"]

    @property
    def data(self) -> dict:
        return self.record["data"]

    @property
    def weights(self) -> dict:
        return self.record["weights"]

    def load_model(self):
        import keras

        # safe_mode (Keras's default, said here so it stays): a .keras file whose config holds a
        # lambda's bytecode is refused rather than run.
        return keras.models.load_model(self.path / "model.keras", safe_mode=True)

    def predictions(self) -> np.ndarray:
        path = self.path / "predictions.npz"
        if not path.exists():
            raise RecordError(f"record {self.path} has no predictions (it was not evaluated)")
        with np.load(path, allow_pickle=False) as f:  # an array file never unpickles objects
            return f["probabilities"]


def is_record(path: str | os.PathLike) -> bool:
    """True if ``path`` is a run record this package wrote, the only kind ``--overwrite`` replaces.

    Records written before the ``producer`` field existed are recognised by what only this package
    writes: a ``record.json`` whose environment lists the ``cifar-lessons`` package.
    """
    try:
        record = json.loads((Path(path) / "record.json").read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(record, dict):
        return False
    legacy = "cifar-lessons" in ((record.get("environment") or {}).get("packages") or {})
    return record.get("producer") == PRODUCER or legacy


def _is_cwd_or_above(path: Path) -> bool:
    cwd = Path.cwd().resolve()
    target = path.resolve()
    return target == cwd or target in cwd.parents


def check_free(out: str | os.PathLike, overwrite: bool = False) -> Path:
    """Refuse an output folder that exists, unless ``overwrite`` and it is a record; call this first.

    Never the current folder or one above it: replacing it would pull the ground from under the
    run (and, with ``--out .``, failed with "Device or resource busy" after the whole run).
    """
    out = Path(out)
    if str(out).strip() in ("", ".") or _is_cwd_or_above(out):
        raise RecordError(
            f"output folder {out} is the current folder or contains it; choose a new folder for the record"
        )
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise RecordError(f"output path {out} exists and is not a folder")
        if not overwrite:
            raise RecordError(f"output folder {out} already exists; choose another or pass --overwrite")
        if not is_record(out):
            raise RecordError(
                f"output folder {out} is not a run record written by cifar_lessons; "
                "--overwrite replaces only those, so nothing was deleted"
            )
    return out


def prepare_out(out: str | os.PathLike, overwrite: bool = False) -> Path:
    """Check, before any data is loaded, that the record can be written there at the end.

    Creates the parent folder and writes and removes a probe file in it, where the record's
    temporary folder will go, so a read-only or impossible path costs seconds, not a run.
    """
    out = check_free(out, overwrite)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        probe = out.parent / f".{out.name}.probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise RecordError(f"cannot write the record folder {out}: {exc.strerror or exc}") from None
    return out


@contextlib.contextmanager
def out_lock(out: str | os.PathLike) -> Iterator[Path]:
    """Hold an exclusive lock on ``out`` for a whole run; a second run on it is refused at once.

    The lock is the operating system's (:func:`cifar_lessons.files.exclusive_lock`), so it is
    released even when the run is killed. Its file is named after the folder's absolute path and
    kept in the temporary folder, not beside the folder: an empty lock file must stay where it is
    (removing it would let a run that had just opened it lock a file no other run sees), and the
    user's folder keeps only what the run writes.
    """
    out = Path(out)
    path = lock_path(out)
    busy = RecordError(f"another run is writing {out} (it holds {path}); wait for it or choose another --out")
    with exclusive_lock(path, busy):
        yield path


def lock_path(out: str | os.PathLike) -> Path:
    """The lock file of a run writing ``out``: one per absolute path, in this user's temporary folder."""
    key = hashlib.sha256(str(Path(out).expanduser().resolve()).encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"cifar_lessons-locks-{getpass.getuser()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / f"{Path(out).name}-{key}.lock"


def _make_private_dir(parent: Path, prefix: str) -> Path:
    """A new, uniquely named folder that follows the umask (``tempfile.mkdtemp`` makes them 0700).

    Its name carries this process's id, so a folder left by a killed save can be recognised
    and removed by the next one (:func:`_remove_stale`).
    """
    while True:
        path = parent / f"{prefix}{os.getpid()}-{secrets.token_hex(4)}"
        try:
            path.mkdir(mode=0o777)
            return path
        except FileExistsError:
            continue


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale(parent: Path, name: str) -> None:
    """Remove the temporary folders of saves into ``name`` whose process is gone (killed mid-save)."""
    for kind in ("tmp", "old"):
        for path in parent.glob(f".{name}.{kind}-*"):
            pid = path.name[len(f".{name}.{kind}-") :].split("-")[0]
            if path.is_dir() and pid.isdigit() and not _pid_alive(int(pid)):
                shutil.rmtree(path, ignore_errors=True)


def save_record(
    out: str | os.PathLike,
    *,
    record: dict,
    history: dict,
    model,
    metrics: dict | None = None,
    probabilities: np.ndarray | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a record atomically: into a temporary sibling folder, then renamed into place.

    ``model=None`` writes no ``model.keras``: a record meant to be committed as it is (the
    Fashion-MNIST chapter's full-size runs) keeps only its small JSON files.
    """
    out = check_free(out, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(out.parent, out.name)
    record = {
        "producer": PRODUCER,
        **record,
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    problems = record_problems(record)
    if problems:
        raise RecordError(
            f"not saving a record that does not match record.schema.json: {'; '.join(problems)}"
        )
    # model.keras holds an HDF5 file of the weights, which must not meet a full disk (see
    # cifar_lessons.files).
    needed = (weights_bytes(model, optimizer=False) if model is not None else 0) + (
        probabilities.size * 4 if probabilities is not None else 0
    )
    ensure_space(out, needed, RecordError)
    tmp = _make_private_dir(out.parent, f".{out.name}.tmp-")
    try:
        with writing(out, RecordError):
            (tmp / "record.json").write_text(json.dumps(record, indent=2))
            (tmp / "history.json").write_text(json.dumps(history, indent=2))
            if metrics is not None:
                (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2))
            if probabilities is not None:
                np.savez_compressed(tmp / "predictions.npz", probabilities=probabilities.astype(np.float32))
            if model is not None:
                _save_without_optimizer(model, tmp / "model.keras")
        if out.exists():
            old = _make_private_dir(out.parent, f".{out.name}.old-")
            os.replace(out, old / out.name)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _save_without_optimizer(model, path: Path) -> None:
    """Save architecture and weights only: Adam's two moment copies would triple the file
    (about 290 MB instead of 95 MB for ResNet50), and every phase recompiles anyway.

    The copy is rebuilt from the model's config, which carries no compile state: in Keras 3.15
    ``clone_model`` of a compiled model comes back compiled, and saving it stored the optimizer.
    """
    copy = model.__class__.from_config(model.get_config())
    copy.set_weights(model.get_weights())
    copy.save(path)


def load_record(path: str | os.PathLike, *, model: bool = True) -> RunRecord:
    """Read a record back; a missing or incomplete folder gets a clear :class:`RecordError`.

    ``model=False`` reads a record kept without its model (the committed ones in ``results/``).
    """
    path = Path(path)
    if not path.is_dir():
        raise RecordError(f"no run record at {path}")
    missing = [f for f in RECORD_FILES if (model or f != "model.keras") and not (path / f).exists()]
    if missing:
        raise RecordError(f"run record {path} is incomplete: missing {', '.join(missing)}")
    try:
        record = json.loads((path / "record.json").read_text())
        history = json.loads((path / "history.json").read_text())
        metrics_path = path / "metrics.json"
        metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else None
    except json.JSONDecodeError as exc:
        raise RecordError(f"run record {path} is corrupt: {exc}") from exc
    return RunRecord(path=path, record=record, history=history, metrics=metrics)


def find_records(root: str | os.PathLike) -> list[RunRecord]:
    """Every complete, evaluated record below ``root`` (for results tables), oldest first."""
    root = Path(root)
    found = []
    for rec in sorted(root.rglob("record.json")) if root.is_dir() else []:
        if rec.parent.name.startswith("."):
            continue
        try:
            r = load_record(rec.parent)
        except RecordError:
            continue
        if r.metrics is not None:
            found.append(r)
    return sorted(found, key=lambda r: r.record.get("written", ""))
