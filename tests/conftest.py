"""Small fixtures in the real CIFAR-10 formats, written fresh by each test session.

Every image encodes its class and index in its pixels (class * 20 + 5 in the red channel,
index in green), so a test can check that labels and images stayed together through
shuffling, limiting and decoding.
"""

from __future__ import annotations

import io
import os
import pickle
import tarfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# As under `make test` (the Makefile exports it): the companions train at the build size unless a
# test asks otherwise; outside a book build they would train at full size (cifar_lessons.config).
os.environ.setdefault("CIFAR_LESSONS_BUILD", "1")

import numpy as np
import pytest
from PIL import Image

from cifar_lessons.data import CLASS_NAMES

REPO = Path(__file__).resolve().parents[1]
SHARED_CIFAR = REPO.parent / "shared" / "data" / "cifar10-jpeg.tar.gz"


def image_for(label: int, index: int) -> np.ndarray:
    img = np.zeros((32, 32, 3), dtype=np.uint8)
    img[..., 0] = label * 20 + 5
    img[..., 1] = index % 256
    img[..., 2] = 200
    return img


def label_of(img: np.ndarray) -> int:
    """Recover the class from an image made by :func:`image_for` (robust to JPEG noise)."""
    return int(round((float(img[..., 0].mean()) - 5) / 20))


def write_class_tree(root: Path, train_per_class: int = 6, test_per_class: int = 2, suffix: str = ".png") -> Path:
    for split, per_class in (("train", train_per_class), ("test", test_per_class)):
        for label, name in enumerate(CLASS_NAMES):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                Image.fromarray(image_for(label, i)).save(folder / f"{i:04d}{suffix}")
    return root


def write_batches(root: Path, per_batch: int = 8, test: int = 10) -> tuple[Path, np.ndarray, np.ndarray]:
    """cifar-10-batches-py with five small data batches; returns (folder, x_train, y_train)."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    xs, ys = [], []
    for b in range(1, 6):
        labels = rng.integers(0, 10, per_batch).tolist()
        x = np.stack([image_for(lab, (b - 1) * per_batch + i) for i, lab in enumerate(labels)])
        xs.append(x)
        ys.append(np.array(labels))
        data = x.transpose(0, 3, 1, 2).reshape(per_batch, 3072)
        (folder / f"data_batch_{b}").write_bytes(pickle.dumps({b"data": data, b"labels": labels}))
    labels = rng.integers(0, 10, test).tolist()
    data = np.stack([image_for(lab, i) for i, lab in enumerate(labels)]).transpose(0, 3, 1, 2).reshape(test, 3072)
    (folder / "test_batch").write_bytes(pickle.dumps({b"data": data, b"labels": labels}))
    return folder, np.concatenate(xs), np.concatenate(ys)


def make_tar(src: Path, archive: Path, arcname: str | None = None) -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        if arcname is None:
            for child in sorted(src.iterdir()):
                tar.add(child, arcname=child.name)
        else:
            tar.add(src, arcname=arcname)
    return archive


@pytest.fixture(scope="session")
def png_tree(tmp_path_factory) -> Path:
    return write_class_tree(tmp_path_factory.mktemp("png_tree"))


@pytest.fixture(scope="session")
def jpeg_tree_tar(tmp_path_factory) -> Path:
    root = write_class_tree(tmp_path_factory.mktemp("jpeg_tree"), suffix=".jpg")
    return make_tar(root, tmp_path_factory.mktemp("jpeg_tar") / "cifar-jpeg.tar.gz", arcname="cifar10")


@pytest.fixture(scope="session")
def batches(tmp_path_factory):
    return write_batches(tmp_path_factory.mktemp("batches"))


def png_bytes(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def heavy_imports(code: str, heavy=("tensorflow", "keras", "torch", "cv2")) -> list[str]:
    """The top-level packages among ``heavy`` that running ``code`` in a fresh interpreter imports.

    A fresh process, because this one has long since imported TensorFlow for other tests.
    """
    import subprocess
    import sys

    probe = f"{code}\nimport sys\nprint(sorted({{m.split('.')[0] for m in sys.modules}} & {set(heavy)!r}))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    return eval(result.stdout.strip().splitlines()[-1])


def minimal_record(**changes) -> dict:
    """The smallest ``record`` that ``save_record`` accepts (cifar_lessons/records/record.schema.json),
    for tests of how records are written rather than of what they say."""
    record = {
        "kind": "recipe",
        "stage": "full",
        "config": {},
        "data": {"n_train": 1, "n_test": 1},
        "weights": {"weights": "none", "pretrained": False, "backbone": None, "description": "random"},
        "environment": {"python": "3", "packages": {}, "device": "CPU"},
        "timing": {"run_seconds": 0.0},
        "made_by": {"commit": None, "command": "a test"},
    }
    return record | changes


def executed_chapter(stem: str):
    """The chapter ``book/<stem>.ipynb`` with the outputs the built site shows, from the build's execution
    cache (as scripts/build_slides.py reads it: myst-nb writes _build/jupyter_execute without outputs).
    Skips when the site is not built."""
    import nbformat

    cache = REPO / "_build" / ".jupyter_cache"
    if not cache.exists():
        pytest.skip("the site is not built")
    from jupyter_cache import get_cache

    _, nb = get_cache(str(cache)).merge_match_into_notebook(
        nbformat.read(REPO / "book" / f"{stem}.ipynb", as_version=4)
    )
    return nb


def printed_text(nb) -> str:
    """Everything the notebook's code cells printed."""
    return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
