"""The student's path on the oldest versions the book supports: Colab's 2025 TensorFlow and Keras.

Every other test runs in ``.venv`` on the newest pinned TensorFlow and Keras, with the package
installed from this checkout. A student's Colab has older ones and installs a wheel. ``make
compat`` builds ``.venv-compat`` from ``requirements-colab.txt`` (TensorFlow 2.19, Keras 3.10,
NumPy 2.0, as Colab shipped them in 2025); these tests install the wheel of this checkout into it
and use it as a student would:

* a quick command-line run, killed after an epoch and started again (it resumes), then one that
  diverges (the planted NaN: a learning rate of 10^12) and must end with one line;
* chapters executed from a folder outside the repository, as Colab runs a notebook: chapter 3
  (phase 1, with its backup), chapter 4 (phase 2, reading chapter 3's stage from the shared runs
  folder, as with Drive), chapter 6 (committed records) and the Fashion-MNIST companion 00b.

``make test`` makes the environment first, so these run wherever the suite runs.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import textwrap
from pathlib import Path

import pytest
from conftest import REPO, SHARED_CIFAR
from test_installed_wheel import build_wheel

COMPAT = REPO / ".venv-compat"
PYTHON = COMPAT / "bin" / "python"
REQUIREMENTS = REPO / "requirements-colab.txt"

pytestmark = pytest.mark.skipif(not PYTHON.exists() and not os.environ.get("CIFAR_LESSONS_REQUIRE_COMPAT"),
                                reason=".venv-compat is missing: `make compat` builds it (make test does)")


def pinned(name: str) -> str:
    """The version requirements-colab.txt pins for ``name``."""
    match = re.search(rf"^{re.escape(name)}==(\S+)", REQUIREMENTS.read_text(), re.M)
    assert match, f"{name} is not pinned in {REQUIREMENTS.name}"
    return match.group(1)


def student_env(home: Path, **extra: str) -> dict[str, str]:
    """A clean environment: the compat venv first on PATH, no PYTHONPATH, a home of its own."""
    env = {"PATH": f"{COMPAT / 'bin'}:/usr/bin:/bin", "HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "3",
           "KERAS_HOME": str(home / ".keras")}
    return {**env, **extra}


@pytest.fixture(scope="module")
def compat_python(tmp_path_factory) -> Path:
    """``.venv-compat``'s python with this checkout's wheel installed (not editable)."""
    assert PYTHON.exists(), ".venv-compat is missing: run `make compat`"
    wheel = build_wheel(tmp_path_factory.mktemp("wheel"))
    done = subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return PYTHON


def test_the_environment_is_the_oldest_supported_and_uses_the_wheel(compat_python, tmp_path):
    probe = ("import json, keras, numpy, tensorflow, cifar_lessons; print(json.dumps({'keras': keras.__version__, "
             "'tensorflow': tensorflow.__version__, 'numpy': numpy.__version__, 'package': cifar_lessons.__file__}))")
    done = subprocess.run([str(compat_python), "-c", probe], cwd=tmp_path, env=student_env(tmp_path),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert (found["tensorflow"], found["keras"], found["numpy"]) == (pinned("tensorflow"), pinned("keras"), pinned("numpy"))
    # What is tested is what is declared: pyproject's minimum Keras is the one pinned here.
    assert f'"keras>={pinned("keras")}"' in (REPO / "pyproject.toml").read_text()
    assert found["package"].startswith(str(COMPAT)), found["package"]


RUN = ["-m", "cifar_lessons", "run", "--profile", "quick", "--weights", "none", "--backbone", "efficientnet_lite0",
       "--n", "20", "--batch-size", "8", "--head-epochs", "1", "--fine-tune-epochs", "2", "--verbose", "0"]


def test_a_killed_run_resumes_and_a_nan_ends_in_one_line(compat_python, png_tree, tmp_path):
    out = tmp_path / "rec"
    args = [str(compat_python), *RUN, "--data", str(png_tree), "--out", str(out)]
    killed = subprocess.run(args, cwd=tmp_path, env=student_env(tmp_path, CIFAR_LESSONS_TEST_KILL_AFTER_EPOCH="2"),
                            capture_output=True, text=True, timeout=600)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert (tmp_path / ".rec.resume").is_dir() and not out.exists()
    resumed = subprocess.run(args, cwd=tmp_path, env=student_env(tmp_path), capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming phase 2 after epoch 2" in resumed.stdout
    history = json.loads((out / "history.json").read_text())
    assert len(history["history"]["loss"]) == 3
    diverged = subprocess.run([*args[:-1], str(tmp_path / "nan"), "--fine-tune-lr", "1e12"], cwd=tmp_path,
                              env=student_env(tmp_path), capture_output=True, text=True, timeout=600)
    assert diverged.returncode == 2, diverged.stderr[-2000:]
    # TensorFlow 2.19 logs CUDA factory lines at import before any log level applies (later
    # versions do not); what the package prints is the last line, and only that one.
    ours = [line for line in diverged.stderr.splitlines() if not re.match(r"(WARNING: All log messages|[EW]0000 )", line)]
    assert len(ours) == 1 and ours[0].startswith("error: training diverged"), diverged.stderr
    assert not (tmp_path / "nan").exists()


EXECUTE = textwrap.dedent("""
    import sys, nbformat
    from nbclient import NotebookClient
    for path in sys.argv[2:]:
        nb = nbformat.read(path, as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell(
            "import sys, keras, cifar_lessons; print('ran-on', sys.executable, keras.__version__, cifar_lessons.__file__)"))
        NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": sys.argv[1]}}).execute()
        nbformat.write(nb, path)
        print("executed", path, flush=True)
""")


@pytest.mark.skipif(not SHARED_CIFAR.exists(), reason="needs ../shared/data/cifar10-jpeg.tar.gz")
def test_chapters_run_from_a_folder_outside_the_repository(compat_python, tmp_path):
    """Chapters 3, 4, 6 and 6b and the Fashion-MNIST companion, top to bottom, as Colab runs them."""
    chapters = ["03_training_the_head", "04_fine_tuning", "06_doing_better", "06b_larger_backbones",
                "00b_fashion_from_scratch"]
    work = tmp_path / "content"
    work.mkdir()
    for name in chapters:
        (work / f"{name}.ipynb").write_bytes((REPO / "book" / f"{name}.ipynb").read_bytes())
    env = student_env(tmp_path, CIFAR_LESSONS_PROFILE="quick", CIFAR_LESSONS_DATA=str(SHARED_CIFAR),
                      CIFAR_LESSONS_BACKBONE="efficientnet_lite0", CIFAR_LESSONS_WEIGHTS="imagenet",
                      CIFAR_LESSONS_RUNS=str(tmp_path / "drive" / "runs"), CIFAR_LESSONS_BUILD="1")
    done = subprocess.run([str(compat_python), "-c", EXECUTE, str(work), *(str(work / f"{n}.ipynb") for n in chapters)],
                          cwd=work, env=env, capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    for name in chapters:
        cells = json.loads((work / f"{name}.ipynb").read_text())["cells"]
        ran_on = "".join("".join(o.get("text", "")) for o in cells[-1]["outputs"])
        assert f"ran-on {COMPAT}" in ran_on and f" {pinned('keras')} " in ran_on and str(COMPAT) in ran_on.split()[-1], ran_on
    stages = sorted(p.parent.name for p in (tmp_path / "drive" / "runs").rglob("record.json"))
    assert stages == ["head", "tuned"], stages  # the stages chapters 3-6 share, in the one runs folder
