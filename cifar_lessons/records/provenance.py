"""Provenance: what made a run, so every figure can be traced back and made again.

A record names the source commit (:func:`source_commit`) and the machine, package versions and dtype
policy (:func:`environment`) it ran with; the chapters' run cards and the committed records' tests
read them. Kept apart from :mod:`cifar_lessons.records.store`, which only writes and reads folders.
"""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path


def source_commit() -> str | None:
    """The git commit of the package's source, with ``+changes`` when its tracked files differ from
    it; ``None`` outside a git checkout (a pip install). Records carry it so a figure can be remade."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+changes" if dirty else "")


def environment() -> dict:
    """Package versions, the device and the precision, so a figure can be traced to what made it.

    ``device`` is the GPU's name when TensorFlow sees one (Colab's T4, say), else the CPU's.
    ``dtype_policy`` is Keras's global dtype policy when this is called:
    :func:`cifar_lessons.recipe.new_model`
    sets it before building the model, so a record written after training says what really ran
    (``float32`` unless the run asked for mixed precision: :mod:`cifar_lessons.precision` says why);
    ``mixed_precision`` is the same in one word, for a table.
    """
    import keras
    import tensorflow as tf

    versions = {}
    for pkg in ("cifar-lessons", "tensorflow", "keras", "numpy", "scikit-learn"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        device = f"GPU: {details.get('device_name', gpus[0].name)}"
    else:
        device = f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    policy = keras.mixed_precision.global_policy().name
    return {
        "python": platform.python_version(),
        "packages": versions,
        "device": device,
        "dtype_policy": policy,
        "mixed_precision": policy.startswith("mixed"),
        "platform": platform.platform(),
    }
