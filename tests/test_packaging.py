"""The package's metadata: one version, read from where pyproject.toml writes it."""

from __future__ import annotations

import importlib
import tomllib
from importlib import metadata

import cifar_lessons
from conftest import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def test_the_version_is_written_once_in_pyproject_and_read_from_the_installed_metadata(monkeypatch):
    assert cifar_lessons.__version__ == PYPROJECT["project"]["version"] == metadata.version("cifar-lessons")
    # Not a second copy that happens to agree today: the package reports whatever its metadata says.
    monkeypatch.setattr(metadata, "version", lambda name: "9.9.9" if name == "cifar-lessons" else "0")
    try:
        assert importlib.reload(cifar_lessons).__version__ == "9.9.9"
    finally:
        monkeypatch.undo()
        importlib.reload(cifar_lessons)
