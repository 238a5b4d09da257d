"""Issue 22: data from anywhere is untrusted. Loading it never runs code; a hostile file is one line.

The payloads are harmless: unpickling them would create a marker file (``touch``), and the tests
assert that the marker never appears. Each of these tests failed on the code before the fix.
"""

from __future__ import annotations

import io
import os
import pickle
import shlex
import struct
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, image_for, make_tar, write_batches

from cifar_lessons import data as data_mod
from cifar_lessons.data import BATCH_FILES, load_cifar10
from cifar_lessons.errors import DataError, WeightsError


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


# --- a pickle the way the official files were written ------------------------------------------

def py2_batch_pickle(data: np.ndarray, labels: list[int], filenames: list[bytes]) -> bytes:
    """A batch file opcode for opcode as Python 2's ``cPickle.dump(d, f, 2)`` wrote the official ones.

    Python 3 cannot write this: it pickles ``bytes`` at protocol 2 through ``_codecs.encode``,
    while Python 2's ``str`` was a plain ``SHORT_BINSTRING``/``BINSTRING``. The array is NumPy 1's
    ``numpy.core.multiarray._reconstruct(ndarray, (0,), 'b')`` followed by its state, the only
    globals the official files name (with ``numpy.ndarray`` and ``numpy.dtype``).
    """
    def s(b: bytes) -> bytes:  # a Python 2 str
        return (b"U" + bytes([len(b)]) + b) if len(b) < 256 else (b"T" + struct.pack("<i", len(b)) + b)

    def i(n: int) -> bytes:
        return b"J" + struct.pack("<i", n)

    dtype = (b"cnumpy\ndtype\n" + s(b"u1") + b"K\x00K\x01\x87R"
             + b"(K\x03" + s(b"|") + b"NNN" + i(-1) + i(-1) + b"K\x00tb")
    array = (b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85" + s(b"b") + b"\x87R"
             + b"(K\x01" + i(data.shape[0]) + i(data.shape[1]) + b"\x86" + dtype + b"\x89" + s(data.tobytes()) + b"tb")
    out = b"\x80\x02}(" + s(b"data") + array
    out += s(b"labels") + b"](" + b"".join(i(n) for n in labels) + b"e"
    out += s(b"batch_label") + s(b"training batch 1 of 5")
    out += s(b"filenames") + b"](" + b"".join(s(f) for f in filenames) + b"e"
    return out + b"u."


def test_a_batch_written_as_the_official_ones_were_is_read(tmp_path):
    folder, x_all, y_all = write_batches(tmp_path)
    x = x_all[:8]
    data = x.transpose(0, 3, 1, 2).reshape(8, 3072)
    blob = py2_batch_pickle(data, y_all[:8].tolist(), [f"img_{k}.png".encode() for k in range(8)])
    # The fixture is a real protocol-2 pickle of the official structure (checked with the plain reader,
    # safe here because the test wrote it).
    plain = pickle.loads(blob, encoding="bytes")
    assert sorted(plain) == [b"batch_label", b"data", b"filenames", b"labels"]
    assert np.array_equal(plain[b"data"], data)
    (folder / "data_batch_1").write_bytes(blob)
    d = load_cifar10(folder, n=40)
    assert np.array_equal(d.x_train[:8], x) and np.array_equal(d.y_train[:8], y_all[:8])


def test_a_batch_pickled_by_python_3_at_any_protocol_is_read(tmp_path):
    folder, _, _ = write_batches(tmp_path)
    for proto, name in zip((2, 4, 5), BATCH_FILES):
        x = np.stack([image_for(1, k) for k in range(8)])
        d = {b"data": x.transpose(0, 3, 1, 2).reshape(8, 3072), b"labels": [1] * 8, b"batch_label": b"mine"}
        (folder / name).write_bytes(pickle.dumps(d, protocol=proto))
    d = load_cifar10(folder, n=24)
    assert (d.y_train == 1).all() and np.array_equal(d.x_train[:8], np.stack([image_for(1, k) for k in range(8)]))


# --- 1. no code runs from a data file -----------------------------------------------------------

def test_a_batch_folder_cannot_run_code_through_the_loader(tmp_path):
    marker = tmp_path / "marker"
    folder = hostile_batches(tmp_path / "d", marker)
    with pytest.raises(DataError) as caught:
        load_cifar10(folder, n=10)
    assert not marker.exists(), "unpickling the batch file ran its command"
    message = str(caught.value)
    assert "data_batch_1" in message and str(folder) in message and "\n" not in message
    assert "system" in message  # names what the file asked for


def test_a_batch_archive_cannot_run_code_through_the_loader(tmp_path):
    marker = tmp_path / "marker"
    folder = hostile_batches(tmp_path / "d", marker)
    archive = make_tar(folder, tmp_path / "cifar-10-python.tar.gz", arcname="cifar-10-batches-py")
    with pytest.raises(DataError) as caught:
        load_cifar10(archive, n=10)
    assert not marker.exists(), "unpickling the batch file ran its command"
    message = str(caught.value)
    assert "data_batch_1" in message and archive.name in message and "\n" not in message


@pytest.mark.parametrize("as_archive", [False, True], ids=["folder", "archive"])
def test_the_command_line_runs_no_code_from_a_batch_file_and_says_one_line(tmp_path, as_archive):
    marker = tmp_path / "marker"
    source = hostile_batches(tmp_path / "d", marker)
    if as_archive:
        source = make_tar(source, tmp_path / "cifar-10-python.tar.gz", arcname="cifar-10-batches-py")
    result = cli(*TINY, "--data", str(source), "--out", str(tmp_path / "run"))
    assert not marker.exists(), "unpickling the batch file ran its command"
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "data_batch_1" in result.stderr and source.name in result.stderr


def _tar_with_member(archive: Path, name: str, size: int) -> Path:
    """A .tar.gz whose one member claims ``size`` bytes (of zeros: the file stays small)."""
    class Zeros(io.RawIOBase):
        def __init__(self, n: int) -> None:
            self.left = n

        def readable(self) -> bool:
            return True

        def readinto(self, b) -> int:
            k = min(len(b), self.left)
            b[:k] = bytes(k)
            self.left -= k
            return k

    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        info = tarfile.TarInfo(name)
        info.size = size
        tar.addfile(info, io.BufferedReader(Zeros(size)))
    return archive


@pytest.mark.parametrize("member", ["cifar-10-batches-py/data_batch_1", "train/cat/0000.png"])
def test_an_archive_member_larger_than_any_real_file_is_refused_before_it_is_read(tmp_path, monkeypatch, member):
    # The limits are lowered so the test archive stays small; the check is the same at full size.
    monkeypatch.setattr(data_mod, "MAX_BATCH_BYTES", 1 << 20)
    monkeypatch.setattr(data_mod, "MAX_IMAGE_BYTES", 1 << 16)
    archive = _tar_with_member(tmp_path / "big.tar.gz", member, 2 << 20)
    read = []
    monkeypatch.setattr(tarfile.TarFile, "extractfile", lambda self, m: read.append(m) or None)
    with pytest.raises(DataError) as caught:
        load_cifar10(archive, n=10)
    assert not read, "the oversized member was read"
    message = str(caught.value)
    assert member in message and "big.tar.gz" in message and "\n" not in message


def test_the_real_limits_admit_the_real_files():
    assert data_mod.MAX_BATCH_BYTES > 31_035_704  # data_batch_1 of the official archive
    assert data_mod.MAX_IMAGE_BYTES > 32 * 32 * 3 * 2  # an uncompressed 32x32 image, with room for metadata


def test_an_archive_of_absurdly_many_members_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(data_mod, "MAX_ARCHIVE_MEMBERS", 50)
    archive = tmp_path / "many.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for k in range(60):
            tar.addfile(tarfile.TarInfo(f"train/cat/{k:04d}.png"), io.BytesIO(b""))
    with pytest.raises(DataError, match="more than 50 entries") as caught:
        load_cifar10(archive, n=10)
    assert "many.tar.gz" in str(caught.value)


def test_an_image_declaring_a_huge_size_is_refused_before_it_is_decoded(tmp_path, monkeypatch):
    from PIL import Image

    # A 9000x9000 PNG of zeros is some 80 kB on disk and 240 MB once decoded to RGB (PIL itself refuses
    # only images over 179 million pixels).
    buf = io.BytesIO()
    Image.new("L", (9000, 9000)).save(buf, format="PNG")
    decoded = []
    monkeypatch.setattr(Image.Image, "load", lambda self: decoded.append(self) or None)
    with pytest.raises(DataError, match="9000x9000"):
        data_mod._decode_image(buf.getvalue(), "train/cat/0000.png")
    assert not decoded


# --- the legacy PyTorch reader -------------------------------------------------------------

def test_the_legacy_weights_reader_runs_no_code_from_its_header(tmp_path):
    from cifar_lessons.backbones import efficientnet_lite as lite

    marker = tmp_path / "marker"
    pth = tmp_path / "evil.pth"
    pth.write_bytes(pickle.dumps(_Touch(marker)) + pickle.dumps(lite._LEGACY_PROTOCOL))
    with pytest.raises(WeightsError) as caught:
        lite.read_legacy_state_dict(pth)
    assert not marker.exists(), "unpickling the header ran its command"
    assert "evil.pth" in str(caught.value) and "\n" not in str(caught.value)


def test_the_legacy_weights_reader_runs_no_code_from_its_key_list(tmp_path):
    from cifar_lessons.backbones import efficientnet_lite as lite

    marker = tmp_path / "marker"
    pth = tmp_path / "evil.pth"
    header = b"".join(pickle.dumps(v, protocol=2) for v in (lite._LEGACY_MAGIC, lite._LEGACY_PROTOCOL,
                                                             {"little_endian": True}, {}))
    pth.write_bytes(header + pickle.dumps(_Touch(marker)))
    with pytest.raises(WeightsError):
        lite.read_legacy_state_dict(pth)
    assert not marker.exists(), "unpickling the key list ran its command"


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
