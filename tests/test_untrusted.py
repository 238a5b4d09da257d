"""Issue 22: data from anywhere is untrusted. Loading it never runs code; a hostile file is one line.

The payloads are harmless: unpickling them would create a marker file (``touch``), and the tests
assert that the marker never appears. Each of these tests failed on the code before the fix.
"""

from __future__ import annotations

import os
import pickle
import shlex
import subprocess
import sys
from pathlib import Path


from conftest import REPO, write_batches


class _Touch:
    """Unpickles into ``os.system("touch <marker>")``: a stand-in for any shell command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {shlex.quote(str(self.marker))}",)


def hostile_batches(root: Path, marker: Path) -> Path:
    """A valid ``cifar-10-batches-py`` layout whose first batch file runs a command when unpickled."""
    folder, _, _ = write_batches(root)
    (folder / "data_batch_1").write_bytes(pickle.dumps({b"data": _Touch(marker), b"labels": [0]}))
    return folder


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m cifar_lessons run ...`` in a fresh process, with the user's environment.

    The test session sets ``TF_CPP_MIN_LOG_LEVEL`` (conftest); a user's shell does not, so it is
    removed here unless ``env`` gives it.
    """
    base = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    full = {**base, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", "cifar_lessons", "run", *args], capture_output=True, text=True,
                          env=full, timeout=300, check=False)


TINY = ["--profile", "quick", "--weights", "none", "--backbone", "efficientnet_lite0", "--n", "20",
        "--batch-size", "8", "--head-epochs", "1", "--fine-tune-epochs", "1", "--verbose", "0"]


# --- 3. one line on stderr, TensorFlow's start-up log hidden ----------------------------------

def test_an_error_found_after_tensorflow_starts_is_one_line(tmp_path):
    folder, _, _ = write_batches(tmp_path / "d")
    (folder / "data_batch_2").write_bytes(os.urandom(4096))  # unreadable in content only
    result = cli(*TINY, "--data", str(folder), "--out", str(tmp_path / "run"))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: batch file data_batch_2") and result.stderr.count("\n") == 1, result.stderr


def test_a_log_level_the_user_set_is_kept():
    def level_after_import(**env: str) -> str:
        probe = "import os, cifar_lessons; print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'))"
        base = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
        return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True,
                              env={**base, "PYTHONPATH": str(REPO), **env}).stdout.strip()

    assert level_after_import(TF_CPP_MIN_LOG_LEVEL="0") == "0"
    assert level_after_import() == "2"
