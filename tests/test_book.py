"""The book's sources: jupytext pairs in sync, the TOC, the Colab install cells, no copied helpers."""

import json
import re
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "book"
CONFIG = yaml.safe_load((REPO / "_config.yml").read_text())
TOC = yaml.safe_load((REPO / "_toc.yml").read_text())
CHAPTERS = sorted(BOOK.glob("[0-9][0-9]*_*.py"))  # 01_dataset.py, and Foundations' 00b_fashion_from_scratch.py
SOURCES = CHAPTERS + [BOOK / "presentation.py"]  # every paired notebook the TOC builds


def toc_files():
    return [c["file"] for part in TOC["parts"] for c in part["chapters"]]


def comparable(nb):
    keep = ("slideshow", "tags")
    return [(c.cell_type, c.source.strip(), {k: c.metadata.get(k) for k in keep if k in c.metadata}) for c in nb.cells]


def test_there_are_the_foundations_chapters_and_the_project_chapters():
    assert [p.stem.split("_")[0] for p in CHAPTERS] == ["00", "00b", "00c", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10"]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_pair_is_in_sync(source):
    ipynb = source.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} missing: run `make sync`"
    text = jupytext.read(source)
    notebook = nbformat.read(ipynb, as_version=4)
    assert comparable(text) == comparable(notebook), f"{source.name} and {ipynb.name} differ: run `make sync`"
    assert notebook.metadata["jupytext"]["formats"] == "ipynb,py:percent"


def test_toc_lists_every_chapter_as_an_existing_notebook():
    files = toc_files()
    assert all(f.endswith(".ipynb") for f in files), "Colab opens only .ipynb files"
    assert all((REPO / f).exists() for f in files)
    assert sorted(files) == sorted(f"book/{p.stem}.ipynb" for p in SOURCES)


def test_colab_launch_settings():
    assert CONFIG["repository"]["branch"] == "main"
    assert CONFIG["repository"]["url"].startswith("https://github.com/")
    assert "colab.research.google.com" in CONFIG["launch_buttons"]["colab_url"]
    ex = CONFIG["execute"]
    assert ex["allow_errors"] is False and ex["execute_notebooks"] in ("force", "cache")
    assert isinstance(ex["timeout"], int) and ex["timeout"] >= 600


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_first_cell_installs_the_package_in_colab_only(source):
    nb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "code"
    assert 'if "google.colab" in sys.modules' in first.source
    url = CONFIG["repository"]["url"]
    assert f"git+{url}@main" in first.source
    assert not re.search(r"\b(tensorflow|numpy|keras)\b", first.source.split("check=True")[0].split("pip")[1])


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_chapters_call_the_package_and_define_no_helpers(source):
    nb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "from cifar_lessons" in code
    assert not re.search(r"^\s*(def|class) ", code, re.M), "chapters call helpers; they never define them"
    assert "run_card(" in code
    longest = max(len(c.source.splitlines()) for c in nb.cells if c.cell_type == "code")
    assert longest <= 12, "code cells stay short: move the work into cifar_lessons"


def test_every_helper_names_the_chapter_that_teaches_it():
    import importlib
    for name in ("data", "pipeline", "models", "training", "evaluate", "plots", "records", "recipe", "config",
                 "backbones", "resume", "vision", "explain", "grad_cam_study"):
        doc = importlib.import_module(f"cifar_lessons.{name}").__doc__
        assert re.search(r"[Cc]hapters? \d|[Cc]hapter (Seeing images|Where the classifier looks)|introduction", doc), \
            f"cifar_lessons.{name} names no chapter"
    assert "book/00b_fashion_from_scratch" in importlib.import_module("cifar_lessons.fashion").__doc__
    assert "book/00c_fashion_transfer" in importlib.import_module("cifar_lessons.fashion_transfer").__doc__
    assert "book/09_detection" in importlib.import_module("cifar_lessons.detector").__doc__
    assert "book/10_segmentation" in importlib.import_module("cifar_lessons.segmenter").__doc__


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_every_code_cell_is_valid_python(source):
    nb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            compile(cell.source, f"{source.name} cell {i}", "exec")
