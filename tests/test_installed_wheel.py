"""The package as Colab gets it: a wheel installed into a fresh environment, not this checkout.

Every other test imports ``cifar_lessons`` from the repository (an editable install), where the
committed records sit beside the package in ``results/``. A student's notebook installs a wheel,
in which the records are the subpackage ``cifar_lessons.measured``. This test builds that wheel,
installs it into a new virtual environment outside the repository, and reads every committed
record through the functions the chapters call, from a folder that has no ``results/`` in sight.

The new environment borrows the heavy libraries (TensorFlow, pandas, ...) from this one through a
``.pth`` line rather than installing them again: only ``cifar_lessons`` itself comes from the wheel,
and the check below proves that the copy imported is the installed one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RECORDS = sorted(p.name for p in (REPO / "results").iterdir() if (p / "record.json").is_file())

# What the chapters call to show committed records, one call per family of record.
READ_EVERY_RECORD = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    import cifar_lessons
    from cifar_lessons.detection import record as det_record
    from cifar_lessons.fashion import scratch as fashion, transfer as fashion_transfer
    from cifar_lessons.gradcam import study as grad_cam_study
    from cifar_lessons.display import ladder
    from cifar_lessons.records import committed as results, store as records
    from cifar_lessons.segmentation import record as seg_record
    root = results.results_root()
    found = {}
    for step in results.LADDER + results.EXTRA:
        found[step.record] = results.committed(step.record).metrics["accuracy"]
    ladder.ladder_table()
    for name, rec in fashion.committed_runs().items():
        found[f"fashion-{name}"] = rec and rec["metrics"]["accuracy"]
    rec = fashion_transfer.committed_run()
    found[rec["name"]] = rec["metrics"]["accuracy"]
    for rec in fashion_transfer.earlier_runs():
        found[rec["name"]] = rec["metrics"]["accuracy"]
    for name in (grad_cam_study.RECORD, grad_cam_study.TUNED):
        found[name] = grad_cam_study.committed_study(name=name) is not None
    found["detection-grid"] = "run-card" in det_record.record_card(det_record.committed_run()).data  # the card's template ships
    found["segmentation-unet"] = seg_record.committed_run() is not None
    # Transfer or from scratch (chapters 1 and 7): every run, read as the figure reads it.
    from cifar_lessons.scratch import study as scratch
    for name, rec in scratch.committed_runs().items():
        found[name] = rec and rec["metrics"]["accuracy"]
    # The frontier of chapter 6 (the larger backbones) as its figure reads it, and the chosen recipe's other seeds.
    from cifar_lessons.display import frontier
    for name in frontier.FRONTIER_RECORDS:
        found[name] = frontier.point(name).test
    for name in results.SEED_RUNS[results.choose_on_validation().record]:
        found[name] = results.committed(name).metrics["accuracy"]
    # The model solution's run, which results/README.md compares with the seed recipe's.
    found["solution-lite0-32"] = records.load_record(root / "solution-lite0-32", model=False).metrics["accuracy"]
    # The record schema ships as package data, and every committed record matches it there too.
    from cifar_lessons.records.schema import record_problems
    schema_problems = [f"{p.parent.name}: {q}" for p in sorted(Path(root).glob("*/record.json"))
                       for q in record_problems(json.loads(p.read_text()))]
    print(json.dumps({"package": cifar_lessons.__file__, "root": str(root),
                      "root_is_dir": Path(root).is_dir(), "found": found, "schema_problems": schema_problems}))
""")


# Every module of the installed package, imported: a subpackage missing from the wheel (or one that
# imports a module the wheel lacks) fails here rather than in a student's notebook.
IMPORT_EVERY_MODULE = textwrap.dedent("""
    import importlib, json, pkgutil
    import cifar_lessons

    names = sorted(m.name for m in pkgutil.walk_packages(cifar_lessons.__path__, "cifar_lessons."))
    names = [n for n in names if not n.endswith(".__main__")]  # it runs the command line when imported
    for name in names:
        importlib.import_module(name)
    print(json.dumps(names))
""")


def checkout_modules() -> list[str]:
    """Every module of the checkout's package, by its dotted name, but ``__main__`` (which runs the
    command line when imported); ``cifar_lessons.measured`` is the results folder and holds no Python."""
    package = REPO / "cifar_lessons"
    names = []
    for path in package.rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if len(parts) > 1 and parts[-1] != "__main__":
            names.append(".".join(parts))
    return sorted(names)


def build_wheel(tmp: Path) -> Path:
    """The wheel of this checkout, built from a copy of it: setuptools reuses a ``build/`` folder
    left in the source tree, so a build in place could ship files that no longer exist."""
    source = tmp / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "node_modules", "_build", "build", "dist", "runs", "*.egg-info", "__pycache__", "book"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), str(source)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (tmp / "dist").glob("cifar_lessons-*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def installed(tmp_path_factory, wheel) -> Path:
    """A new virtual environment with the wheel built from this checkout installed in it; its python."""
    tmp = tmp_path_factory.mktemp("venv")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # Borrow this environment's libraries, appended after the new site-packages (so the wheel wins).
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return python


def test_the_wheel_ships_every_committed_record(wheel):
    """Guards the package data list: a record family missing from the wheel is invisible in Colab."""
    names = set(zipfile.ZipFile(wheel).namelist())
    committed = {f"cifar_lessons/measured/{p.relative_to(REPO / 'results')}" for p in (REPO / "results").rglob("*")
                 if p.is_file() and p.suffix in (".json", ".png")}
    assert committed, "no committed records found in results/"
    assert sorted(committed - names) == []


def test_the_installed_package_imports_every_module_of_the_checkout(installed, tmp_path):
    """Packages are found, not listed (setup.py): every module here is in the wheel and imports."""
    done = subprocess.run([str(installed), "-c", IMPORT_EVERY_MODULE], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-3000:]
    imported = json.loads(done.stdout.strip().splitlines()[-1])
    assert [m for m in checkout_modules() if m not in imported] == []
    assert len(imported) == len(checkout_modules())


def test_the_installed_package_reads_every_committed_record(installed, tmp_path):
    """From a folder outside the repository, as a Colab notebook runs: every record is found and read."""
    done = subprocess.run([str(installed), "-c", READ_EVERY_RECORD], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert not out["package"].startswith(str(REPO)), f"imported the checkout, not the wheel: {out['package']}"
    assert out["root_is_dir"], f"results_root() is not a folder: {out['root']}"
    found = out["found"]
    assert sorted(found) == RECORDS
    assert all(found.values()), {k: v for k, v in found.items() if not v}
    assert out["schema_problems"] == []
