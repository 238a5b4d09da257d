"""The package's metadata: one version, read from where pyproject.toml writes it; a license and a
build backend that keep building."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata

from conftest import REPO

import cifar_lessons

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


def test_the_license_is_an_spdx_string_and_the_build_backend_is_bounded():
    """setuptools warns that a license table stops building after 2027-02-18; an unbounded backend
    would let a future major break every install from source at once."""
    from packaging.requirements import Requirement
    from packaging.version import Version

    assert PYPROJECT["project"]["license"] == "MIT"
    (backend,) = [Requirement(r) for r in PYPROJECT["build-system"]["requires"] if r.startswith("setuptools")]
    assert not backend.specifier.contains("76.9"), "an SPDX license string needs setuptools 77"
    assert backend.specifier.contains("77.0.3")
    uppers = [Version(s.version) for s in backend.specifier if s.operator in ("<", "<=")]
    assert uppers, f"no upper bound on the build backend: {backend}"
    requirements = (REPO / "requirements.txt").read_text()
    assert re.search(r"^build==\d", requirements, re.M), "python -m build is pinned for the release and CI"


def test_the_wheel_builds_without_a_deprecation_warning(tmp_path):
    """``python -m build``, as the release workflow runs it (its isolated environment gets setuptools from the index)."""
    done = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path), str(REPO)],
                          capture_output=True, text=True, timeout=600)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    assert not re.search(r"deprecat", log, re.I), [line for line in log.splitlines() if re.search("deprecat", line, re.I)]
    (wheel,) = tmp_path.glob("cifar_lessons-*.whl")
    with zipfile.ZipFile(wheel) as z:
        meta = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: MIT" in meta.splitlines()
    assert f"Version: {PYPROJECT['project']['version']}" in meta.splitlines()
