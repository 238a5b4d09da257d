"""Files written safely: room checked first, written whole or not at all, one writer at a time, hashed.

Writing on a disk that may be full must give one clear line, never a crash, never half a file.

Measured (issue 22): when h5py, which writes every Keras weights file, hits ``ENOSPC`` it raises
``OSError``, but its file objects are left in a state whose clean-up crashes the interpreter with a
segmentation fault (exit 139) at the latest when the process ends, even if the error was caught.
So an HDF5 file is written only after :func:`ensure_space` finds room for it; everything else
(JSON, ``.npz``, the ``.keras`` zip) fails with a plain ``OSError``, turned into the same one line
by :func:`writing`. Files are written under a temporary name in their folder and renamed into
place (:func:`atomic_write`), so a reader only ever sees a whole file or the previous one.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import filelock

from .errors import CifarLessonsError

#: Room kept free beyond a file's expected size: HDF5's own structures (a few kB per weight, about
#: 15 kB for a two-layer model, measured) and whatever else writes there meanwhile.
MARGIN_BYTES = 4 << 20

_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}


def no_space_message(path: str | os.PathLike) -> str:
    return f"no space left on the device while writing {path}"


def ensure_space(path: str | os.PathLike, needed: int, error: type[CifarLessonsError]) -> None:
    """Raise ``error`` (one line, naming ``path``) unless the file system of ``path`` has ``needed``
    bytes free, plus :data:`MARGIN_BYTES`. ``path`` need not exist yet; its nearest existing folder
    is asked."""
    folder = Path(path).parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if shutil.disk_usage(folder).free < needed + MARGIN_BYTES:
        raise error(no_space_message(path))


@contextlib.contextmanager
def writing(path: str | os.PathLike, error: type[CifarLessonsError]) -> Iterator[None]:
    """Turn a full disk (or quota) inside the block into ``error``: one line naming ``path``."""
    try:
        yield
    except OSError as exc:
        if exc.errno in _NO_SPACE:
            raise error(no_space_message(path)) from None
        raise


def weights_bytes(model, *, optimizer: bool) -> int:
    """The bytes of ``model``'s weights, and of its optimizer's state when ``optimizer`` (a
    backup holds both): what an HDF5 file of them takes, less HDF5's small overhead."""
    variables = list(model.weights)
    opt = getattr(model, "optimizer", None)
    if optimizer and opt is not None and getattr(opt, "built", False):
        variables += list(opt.variables)
    return sum(int(v.numpy().nbytes) for v in variables)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, error: type[CifarLessonsError], suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends without an error, rename it to ``path``.

    A reader sees the previous file or the new one, never half of one, whether the process dies
    or the disk fills (a full disk is ``error``'s one line, by :func:`writing`); the temporary
    file is removed whatever happens. Its name carries the process id and a random token, so two
    processes writing the same file never share one, and a ``suffix`` that some writers insist on
    (Keras wants ``.weights.h5``).
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}{suffix}")
    try:
        with writing(path, error):
            yield tmp
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def sha256_of(path: str | os.PathLike) -> str:
    """The SHA-256 of a file, so a record says exactly which bytes it was computed from."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


@contextlib.contextmanager
def exclusive_lock(path: str | os.PathLike, busy: CifarLessonsError | None = None) -> Iterator[Path]:
    """Hold an exclusive lock on the file ``path`` (created if needed) for the block.

    The operating system's lock (``flock`` on Linux and macOS, ``msvcrt`` on Windows), so it is
    released even when the process is killed. Without ``busy`` it waits for another holder;
    with it, ``busy`` is raised at once instead.
    """
    lock = filelock.FileLock(path, timeout=-1 if busy is None else 0)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise busy from None
    try:
        yield Path(path)
    finally:
        lock.release()
