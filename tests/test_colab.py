"""Colab's Google Drive, faked: the opt-in cell keeps the shared runs there, and only in Colab."""

from __future__ import annotations

import os
import re
import sys
import types
from pathlib import Path

import jupytext
import nbformat
import pytest
from conftest import REPO

BOOK = REPO / "book"
#: The notebooks that share stages through the runs folder: they offer Drive.
# Chapter 6 reads committed records and trains nothing, so it needs neither Drive nor a GPU.
SHARING = ["03_training_the_head", "04_fine_tuning", "05_evaluation", "07_takeaways", "presentation"]


@pytest.fixture
def fake_colab(monkeypatch, tmp_path):
    """``google.colab`` as Colab has it, with a ``drive.mount`` that makes ``MyDrive`` in tmp_path."""
    mounted: list[str] = []

    def mount(path: str) -> None:
        mounted.append(path)
        (Path(path) / "MyDrive").mkdir(parents=True, exist_ok=True)

    colab = types.ModuleType("google.colab")
    colab.drive = types.SimpleNamespace(mount=mount)
    # Only the submodule: the real ``google`` namespace package (protobuf's, which TensorFlow imports) stays.
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.delenv("CIFAR_LESSONS_RUNS", raising=False)
    return types.SimpleNamespace(mounted=mounted, mount=str(tmp_path / "drive"))


def test_use_drive_mounts_drive_and_points_the_runs_there(fake_colab):
    from cifar_lessons.colab import use_drive
    from cifar_lessons.recipe import RunConfig, runs_root, stage_dir

    runs = use_drive(mount=fake_colab.mount)
    assert fake_colab.mounted == [fake_colab.mount]
    assert runs == Path(fake_colab.mount) / "MyDrive" / "cifar-lessons" / "runs" and runs.is_dir()
    assert os.environ["CIFAR_LESSONS_RUNS"] == str(runs)
    # what chapters 3-7 read: chapter 3's head is written where chapter 4's notebook looks for it
    assert runs_root() == runs and stage_dir(RunConfig(), "head").is_relative_to(runs)


def test_use_drive_outside_colab_changes_nothing(monkeypatch, capsys):
    from cifar_lessons.colab import use_drive

    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setenv("CIFAR_LESSONS_RUNS", "/somewhere/runs")
    assert use_drive() is None
    assert os.environ["CIFAR_LESSONS_RUNS"] == "/somewhere/runs"
    assert "Not in Colab" in capsys.readouterr().out


def drive_cell(name: str) -> str:
    nb = nbformat.read(BOOK / f"{name}.ipynb", as_version=4)
    return nb.cells[1]


@pytest.mark.parametrize("name", SHARING)
def test_the_second_cell_offers_drive_opt_in_hidden_and_tiny(name):
    for cell in (drive_cell(name), jupytext.read(BOOK / f"{name}.py").cells[1]):
        assert cell.cell_type == "code"
        assert "remove-cell" in cell.metadata.get("tags", []) and cell.metadata["slideshow"]["slide_type"] == "skip"
        assert re.search(r"^USE_DRIVE = False\b", cell.source, re.M), "opt-in: off until the student turns it on"
        assert "use_drive()" in cell.source and len(cell.source.splitlines()) <= 6


def test_the_drive_cell_run_in_colab_with_drive_on_sets_the_runs_folder(fake_colab, monkeypatch):
    import cifar_lessons.colab

    monkeypatch.setattr(cifar_lessons.colab, "DRIVE_MOUNT", fake_colab.mount)
    monkeypatch.setattr(cifar_lessons.colab.use_drive, "__defaults__", (cifar_lessons.colab.DRIVE_RUNS, fake_colab.mount))
    source = drive_cell("04_fine_tuning").source
    exec(compile(source, "drive cell", "exec"), {})
    assert fake_colab.mounted == [] and "CIFAR_LESSONS_RUNS" not in os.environ, "USE_DRIVE = False does nothing"
    exec(compile(re.sub(r"^USE_DRIVE = False", "USE_DRIVE = True", source, flags=re.M), "drive cell", "exec"), {})
    assert fake_colab.mounted == [fake_colab.mount]
    assert os.environ["CIFAR_LESSONS_RUNS"].startswith(fake_colab.mount)


@pytest.mark.parametrize("name", SHARING[1:])
def test_without_drive_a_chapter_says_what_it_retrains_and_how_long(name):
    nb = nbformat.read(BOOK / f"{name}.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    lines = [line for line in text.splitlines() if "Drive" in line and "retrain" in line]
    assert lines, "one line: without Drive, what this notebook retrains and about how long"
    assert re.search(r"\d+ (s|min|minutes?|seconds?)\b", lines[0]), lines[0]


TRAINING = SHARING + ["00b_fashion_from_scratch", "00c_fashion_transfer", "08_where_the_classifier_looks",
                      "09_detection", "10_segmentation", "project_starter", "project_solution"]
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebook_asks_colab_for_a_gpu_in_both_files_of_its_pair_exactly_when_it_trains(path):
    """Colab opens a notebook on a T4 runtime when its metadata says so; the .py keeps it through a sync.
    A chapter that trains nothing (00, 01, 02) asks for none: it would spend a student's GPU quota."""
    trains = path.stem in TRAINING
    for meta in (nbformat.read(path, as_version=4).metadata, jupytext.read(path.with_suffix(".py")).metadata):
        asks = meta.get("accelerator") == "GPU" and meta.get("colab", {}).get("gpuType") == "T4"
        assert asks == trains, f"{path.stem}: asks for a GPU: {asks}, trains: {trains}"


def test_the_introduction_says_how_to_switch_to_a_gpu_with_the_measured_times_and_a_labelled_estimate():
    """The CPU times quoted are the measured ResNet50 recipe (benchmarks/results/resnet50.json, the package's run)."""
    import json

    intro = " ".join((BOOK / "intro.md").read_text().split())
    measured = json.loads((REPO / "benchmarks" / "results" / "resnet50.json").read_text())["package"]
    assert "Runtime → Change runtime type → T4 GPU" in intro
    assert f"{measured['head']['seconds']:.0f} s for the head" in intro
    minutes, seconds = divmod(round(measured["fine_tune"]["seconds"]), 60)
    assert f"{minutes} min {seconds} s for fine-tuning" in intro
    assert f"{measured['evaluate']['seconds']:.0f} s to evaluate" in intro
    assert "estimate, not a measurement" in intro
    assert "USE_DRIVE = True" in intro and "recycled" in intro




@pytest.mark.parametrize("name", TRAINING)
def test_every_chapter_that_trains_says_how_to_switch_to_a_gpu_and_what_it_saves(name):
    nb = nbformat.read(BOOK / f"{name}.ipynb", as_version=4)
    text = " ".join(" ".join(c.source.split()) for c in nb.cells if c.cell_type == "markdown")
    assert "Runtime → Change runtime type → T4 GPU" in text
    note = text[text.index("**In Colab,**"):][:500]
    assert re.search(r"\d+(½)? (s|min)\b", note), "what it saves, in measured time"
