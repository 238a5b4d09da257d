"""The book's sources: jupytext pairs in sync, the TOC, the Colab install cells, no copied helpers."""

import re
import sys
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
PROJECT = [BOOK / "project_starter.py", BOOK / "project_solution.py"]  # the student's own notebooks: plain Keras
SOURCES = CHAPTERS + [BOOK / "presentation.py"] + PROJECT  # every paired notebook the TOC builds
#: Pages that run nothing and so have no Colab button or deck: the appendix, the project's rubric, and
#: the Try the classifier page (its model runs in the reader's browser).
REFERENCE_PAGES = {"book/project_rubric", "book/vision_tasks", "book/try_the_classifier"}


def toc_files():
    return [c["file"] for part in TOC["parts"] for c in part["chapters"] if c["file"].endswith(".ipynb")]


def comparable(nb):
    keep = ("slideshow", "tags")
    return [(c.cell_type, c.source.strip(), {k: c.metadata.get(k) for k in keep if k in c.metadata}) for c in nb.cells]


def test_there_are_the_foundations_chapters_and_the_project_chapters():
    assert [p.stem.split("_")[0] for p in CHAPTERS] == ["00", "00b", "00c", "01", "02", "03", "04", "05", "06", "06b", "07", "08", "09", "10"]


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


def test_the_only_pages_that_are_not_notebooks_are_the_appendix_at_the_end_and_the_rubric():
    """A Markdown page runs nothing and has no Colab button or deck: only reference pages, last, and the
    project's rubric beside the project's notebooks."""
    *chapters, appendix = TOC["parts"]
    assert appendix["caption"] == "Appendix"
    assert all(c["file"].endswith(".ipynb") or c["file"] in REFERENCE_PAGES for part in chapters for c in part["chapters"])
    (project,) = [part for part in chapters if part["caption"] == "Your project"]
    assert [c["file"] for c in project["chapters"]] == [f"book/{p.stem}.ipynb" for p in PROJECT] + ["book/project_rubric"]
    for page in appendix["chapters"] + [{"file": f} for f in REFERENCE_PAGES]:
        path = REPO / f"{page['file']}.md"
        assert path.exists() and path.read_text().startswith("# "), f"{path.name}: a Markdown page with a title"


def test_colab_launch_settings():
    assert CONFIG["repository"]["branch"] == "main"
    assert CONFIG["repository"]["url"].startswith("https://github.com/")
    assert "colab.research.google.com" in CONFIG["launch_buttons"]["colab_url"]
    ex = CONFIG["execute"]
    assert ex["allow_errors"] is False and ex["execute_notebooks"] in ("force", "cache")
    assert isinstance(ex["timeout"], int) and ex["timeout"] >= 600


def install_cells(source: Path) -> list[str]:
    """The first cell of a chapter, as its .py and its .ipynb each say it (read separately)."""
    return [jupytext.read(source).cells[0].source, nbformat.read(source.with_suffix(".ipynb"), as_version=4).cells[0].source]


def named_source(cell: str) -> str | None:
    found = re.findall(r'^SOURCE = "([^"\n]*)"', cell, re.M)
    return found[0] if len(found) == 1 else None


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_first_cell_installs_the_package_in_colab_only(source):
    for first in install_cells(source):
        assert 'if "google.colab" in sys.modules' in first
        assert named_source(first), "the install cell names its source in one line: SOURCE = \"...\""
        pip = first.split("pip", 1)[1]
        assert not re.search(r"\b(tensorflow|numpy|keras)\b", pip), "Colab's TensorFlow, Keras and NumPy stay"
        # pip's own words are the only clue a student has when the install fails
        assert "capture_output=True" in pip and "returncode" in pip and "splitlines()[-" in pip and "raise" in pip
        assert "check=True" not in pip


def test_every_chapter_and_notebook_installs_this_version_from_one_source():
    """One source for the whole book, the one scripts/set_install_source.py writes: this version, never a branch."""
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import set_install_source as s
    finally:
        sys.path.pop(0)
    named = {f"{p.stem}.{kind}": named_source(cell)
             for p in SOURCES for kind, cell in zip(("py", "ipynb"), install_cells(p))}
    assert len(named) == 2 * len(SOURCES)
    sources = set(named.values())
    assert len(sources) == 1, f"the chapters name different sources (run scripts/set_install_source.py): {named}"
    (only,) = sources
    assert only in s.allowed_sources(), f"{only!r} is not this version's source {s.allowed_sources()}"
    url = CONFIG["repository"]["url"]
    tomlish = (REPO / "pyproject.toml").read_text()
    version = re.search(r'^version = "([^"]+)"', tomlish, re.M).group(1)
    assert only in (f"cifar-lessons @ git+{url}@v{version}", f"cifar-lessons=={version}")


@pytest.mark.parametrize("source", CHAPTERS + [BOOK / "presentation.py"], ids=lambda p: p.stem)
def test_chapters_call_the_package_and_define_no_helpers(source):
    nb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "from cifar_lessons" in code
    assert not re.search(r"^\s*(def|class) ", code, re.M), "chapters call helpers; they never define them"
    # every chapter shows where its figures come from: its run's card, or, for a chapter that trains
    # nothing (chapter 6), the cards of the records it quotes
    assert "run_card(" in code or ("provenance(None, " in code and "record_card(" in code)
    longest = max(len(c.source.splitlines()) for c in nb.cells if c.cell_type == "code")
    assert longest <= 12, "code cells stay short: move the work into cifar_lessons"


@pytest.mark.parametrize("source", PROJECT, ids=lambda p: p.stem)
def test_the_students_notebooks_are_plain_keras_that_define_nothing(source):
    """What a student models a hand-in on: Keras's own calls, no helpers. The starter imports only the
    checks; the solution imports the package only where a machine without internet needs it."""
    nb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    code = [c.source for c in nb.cells[1:] if c.cell_type == "code"]  # after the install cell
    assert not re.search(r"^\s*(def|class) ", "\n".join(code), re.M)
    assert max(len(c.splitlines()) for c in code) <= 20, "code cells stay short enough to read at once"
    imports = re.findall(r"^([ \t]*)(?:from|import) (cifar_lessons\S*)", "\n".join(code), re.M)
    if source.stem == "project_starter":
        assert imports == [("", "cifar_lessons")] and "from cifar_lessons import checks as check" in "\n".join(code)
    else:
        assert imports and all(indent and module in ("cifar_lessons.data", "cifar_lessons.models")
                               for indent, module in imports), imports


def test_every_helper_names_the_chapter_that_teaches_it():
    import importlib
    for name in ("data", "pipeline", "models", "training", "evaluate", "display.plots", "records.store", "recipe",
                 "config", "backbones", "resume", "vision", "gradcam.method", "gradcam.study"):
        doc = importlib.import_module(f"cifar_lessons.{name}").__doc__
        assert re.search(r"[Cc]hapters? \d|[Cc]hapter (Seeing images|Where the classifier looks)|introduction", doc), \
            f"cifar_lessons.{name} names no chapter"
    assert "book/00b_fashion_from_scratch" in importlib.import_module("cifar_lessons.fashion.scratch").__doc__
    assert "book/00c_fashion_transfer" in importlib.import_module("cifar_lessons.fashion.transfer").__doc__
    assert "book/09_detection" in importlib.import_module("cifar_lessons.detection").__doc__
    assert "book/10_segmentation" in importlib.import_module("cifar_lessons.segmentation").__doc__
    assert "book/project_starter" in importlib.import_module("cifar_lessons.checks").__doc__


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_every_code_cell_is_valid_python(source):
    nb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            compile(cell.source, f"{source.name} cell {i}", "exec")


def test_a_failing_install_prints_pips_last_lines_and_stops(monkeypatch, capsys):
    """The install cell, run as in Colab with a source pip cannot install: pip's error shows, then one line."""
    import types

    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    cell = jupytext.read(BOOK / "03_training_the_head.py").cells[0].source
    cell = re.sub(r'^SOURCE = "[^"\n]*"', 'SOURCE = "cifar-lessons @ file:///nonexistent/cifar-lessons"', cell, flags=re.M)
    with pytest.raises(Exception) as failed:
        exec(compile(cell, "install cell", "exec"), {})
    out = capsys.readouterr().out
    assert "nonexistent" in out and ("ERROR" in out or "error" in out), f"pip's own message is not shown: {out!r}"
    assert type(failed.value) is RuntimeError and "last lines are above" in str(failed.value)
    assert "\n" not in str(failed.value)


def test_the_install_source_script_writes_one_line_and_refuses_a_cell_it_does_not_know(tmp_path):
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import set_install_source as s
    finally:
        sys.path.pop(0)
    good = tmp_path / "a.py"
    good.write_text('x = 1\nSOURCE = "old"  # written by the script\nif True:\n    pass\n')
    assert s.set_source("cifar-lessons==9.9.9", [good]) == [good]
    assert good.read_text() == 'x = 1\nSOURCE = "cifar-lessons==9.9.9"  # written by the script\nif True:\n    pass\n'
    assert s.set_source("cifar-lessons==9.9.9", [good]) == []
    bad = tmp_path / "b.py"
    bad.write_text('subprocess.run(["pip", "install", "cifar-lessons @ git+https://example.org/x@main"])\n')
    with pytest.raises(SystemExit):
        s.set_source("cifar-lessons==9.9.9", [bad])
    assert s.install_source(pypi=True) == f"cifar-lessons=={s.version()}"
    assert s.install_source().endswith(f"@v{s.version()}") and s.repository_url() in s.install_source()
