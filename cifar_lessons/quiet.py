"""TensorFlow's start-up log, hidden unless the user asks for it.

Importing TensorFlow 2.21 prints lines like ``WARNING: All log messages before absl::InitializeLog()
is called are written to STDERR``, ``oneDNN custom operations are on`` and ``Could not find cuda
drivers``, and its first device probe prints ``failed call to cuInit`` on a machine without a GPU.
They say nothing about the run, and they bury the one-line ``error:`` the command line promises.

``TF_CPP_MIN_LOG_LEVEL=2`` (set by :mod:`cifar_lessons` when the user has not set it) hides
TensorFlow's later INFO and WARNING lines. It does not hide the lines above: they are written by
abseil before TensorFlow reads the variable (measured: they appear even at level 3). So the command
line also runs TensorFlow's import and device probe with the process's stderr (file descriptor 2,
where C++ writes) sent to a temporary file, and shows that file only if the start-up fails.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator

ENV_LOG_LEVEL = "TF_CPP_MIN_LOG_LEVEL"

#: The level the user set, read when the package is imported (before it sets its own default).
USER_LOG_LEVEL: str | None = os.environ.get(ENV_LOG_LEVEL)


def set_default_log_level() -> None:
    """Hide TensorFlow's C++ INFO and WARNING lines, unless the user chose a level themselves.

    Must run before TensorFlow is imported: it reads the variable once, when it loads.
    """
    os.environ.setdefault(ENV_LOG_LEVEL, "2")


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Send file descriptor 2 to a temporary file for the block; replay it if the block raises.

    Python's ``sys.stderr`` writes to the same descriptor, so everything printed in the block is
    held back; when the block fails, what was held back is shown before the exception travels on,
    so no diagnostic is lost. With ``TF_CPP_MIN_LOG_LEVEL`` set by the user, nothing is hidden.
    """
    if USER_LOG_LEVEL is not None:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        except BaseException:
            _restore(saved)
            held.seek(0)
            sys.stderr.write(held.read().decode(errors="replace"))
            sys.stderr.flush()
            raise
        else:
            _restore(saved)


def _restore(saved: int) -> None:
    sys.stderr.flush()
    os.dup2(saved, 2)
    os.close(saved)


def start_tensorflow() -> None:
    """Import TensorFlow and probe its devices with the start-up log held back (:func:`quiet_stderr`)."""
    with quiet_stderr():
        import tensorflow as tf

        tf.config.list_physical_devices()
