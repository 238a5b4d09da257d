"""scripts/execute_chapters.py: which chapters may run side by side, the cache the book and decks read, failures."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
TOC = yaml.safe_load((REPO / "_toc.yml").read_text())
IN_ORDER = [c["file"] for part in TOC["parts"] for c in part["chapters"] if c["file"].endswith(".ipynb")]


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ec = load("execute_chapters")


def test_every_chapter_runs_once_and_the_shared_run_is_one_job_in_book_order():
    work = ec.lanes(TOC)
    flat = [c for job in work for c in job]
    assert sorted(flat) == sorted(IN_ORDER) and len(flat) == len(set(flat))
    assert work[0] == [c for c in IN_ORDER if c in work[0]] and all(len(job) == 1 for job in work[1:])
    # Chapters that save or load the project's shared run (a stage of cifar_lessons.recipe) must run
    # one after the other: chapter 5 evaluates the model chapter 4 fine-tuned.
    sharing = [c for c in IN_ORDER if re.search(r"\w_stage\(|stage_dir\(", (REPO / c).with_suffix(".py").read_text())]
    assert len(sharing) >= 4 and set(sharing) <= set(work[0])


def test_one_job_is_book_order_and_an_unknown_chapter_is_one_line():
    assert ec.lanes(TOC, jobs=1) == [IN_ORDER]
    assert ec.lanes(TOC, only=["09_detection", "03_training_the_head", "00_seeing_images"]) == [
        ["book/03_training_the_head.ipynb"], ["book/00_seeing_images.ipynb"], ["book/09_detection.ipynb"]]
    with pytest.raises(SystemExit, match="not in _toc.yml: 99_nothing"):
        ec.lanes(TOC, only=["99_nothing"])


def notebook(path: Path, *sources: str) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.fixture
def book(tmp_path, monkeypatch):
    """A small book in tmp_path. The shared run's part: a chapter that fails, then one that needs it;
    another part: a chapter that works and one that outlives the cell timeout."""
    (tmp_path / "_toc.yml").write_text(yaml.safe_dump({"format": "jb-book", "root": "intro", "parts": [
        {"caption": ec.SHARED_RUN_PARTS[0], "chapters": [{"file": "book/b.ipynb"}, {"file": "book/c.ipynb"}]},
        {"caption": "Other", "chapters": [{"file": "book/a.ipynb"}, {"file": "book/d.ipynb"}]}]}))
    (tmp_path / "_config.yml").write_text(yaml.safe_dump({"execute": {"timeout": 3, "allow_errors": False}}))
    notebook(tmp_path / "book" / "a.ipynb", "print(6 * 7)")
    notebook(tmp_path / "book" / "b.ipynb", "raise ValueError('the data folder is empty')")
    notebook(tmp_path / "book" / "c.ipynb", "print('needs b')")
    notebook(tmp_path / "book" / "d.ipynb", "import time\ntime.sleep(60)")
    monkeypatch.setattr(ec, "REPO", tmp_path)
    monkeypatch.setattr(ec, "CACHE", tmp_path / "_build" / ".jupyter_cache")
    return tmp_path


def test_failures_are_one_line_each_never_cached_and_stop_only_the_shared_run(book, capsys):
    from jupyter_cache import get_cache

    # A stale copy from an earlier build (another profile, say) must not survive a full run.
    notebook(book / "book" / "old.ipynb", "print('stale')")
    get_cache(str(ec.CACHE)).cache_notebook_file(book / "book" / "old.ipynb", check_validity=False)
    assert len(get_cache(str(ec.CACHE)).list_cache_records()) == 1

    assert ec.main([]) == 1
    out, err = capsys.readouterr()
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert errors[0] == "error: book/b.ipynb failed: ValueError: the data folder is empty"
    assert "error: book/c.ipynb not executed: book/b.ipynb failed before it" in errors
    assert "error: book/d.ipynb failed: A cell timed out while it was being executed, after 3 seconds." in errors
    assert len(errors) == 3 and "book/c.ipynb: executing" not in out
    cached = [Path(r.uri).name for r in get_cache(str(ec.CACHE)).list_cache_records()]
    assert cached == ["a.ipynb"]

    # The decks read the executed chapter from the same cache, outputs included.
    slides = load("build_slides")
    slides.REPO, slides.CACHE = book, ec.CACHE
    nb = slides.executed("book/a.ipynb")
    assert nb.cells[0].outputs[0]["text"] == "42\n"
    with pytest.raises(SystemExit, match="book/b.ipynb has no executed copy"):
        slides.executed("book/b.ipynb")
