"""scripts/execute_chapters.py: which chapters may run side by side, the cache the book and decks read, failures."""

from __future__ import annotations

import importlib.util
import os
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
    monkeypatch.setenv("CIFAR_LESSONS_RUNS", str(tmp_path / "_build" / "runs"))
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


# The authoring loop: only stale chapters are executed, and nothing stale is ever shown.

FAKE_TOC = {"parts": [
    {"caption": "Foundations", "chapters": [{"file": "book/a.ipynb"}]},
    {"caption": ec.SHARED_RUN_PARTS[0], "chapters": [{"file": "book/s1.ipynb"}, {"file": "book/s2.ipynb"},
                                                     {"file": "book/s3.ipynb"}]},
    {"caption": "Beyond", "chapters": [{"file": "book/b.ipynb"}]}]}
FAKE_CHAPTERS = ["book/a.ipynb", "book/s1.ipynb", "book/s2.ipynb", "book/s3.ipynb", "book/b.ipynb"]


def test_the_stale_set_is_the_shared_run_from_the_first_stale_chapter_on_and_other_chapters_alone():
    keys = {c: f"key-{c}" for c in FAKE_CHAPTERS}
    everything = set(FAKE_CHAPTERS)
    assert ec.stale_chapters(FAKE_TOC, keys, dict(keys), everything) == []
    edited = lambda *chapters: {**keys, **{c: "edited" for c in chapters}}  # noqa: E731
    assert ec.stale_chapters(FAKE_TOC, keys, edited("book/s2.ipynb"), everything) == ["book/s2.ipynb", "book/s3.ipynb"]
    assert ec.stale_chapters(FAKE_TOC, keys, edited("book/s3.ipynb"), everything) == ["book/s3.ipynb"]
    assert ec.stale_chapters(FAKE_TOC, keys, edited("book/a.ipynb"), everything) == ["book/a.ipynb"]
    assert ec.stale_chapters(FAKE_TOC, keys, edited("book/b.ipynb", "book/s3.ipynb"), everything) == [
        "book/s3.ipynb", "book/b.ipynb"]
    # Outputs missing from the cache (cleared by hand, or a failed chapter) count as stale too.
    assert ec.stale_chapters(FAKE_TOC, keys, dict(keys), everything - {"book/s1.ipynb"}) == [
        "book/s1.ipynb", "book/s2.ipynb", "book/s3.ipynb"]
    assert ec.stale_chapters(FAKE_TOC, keys, {}, set()) == FAKE_CHAPTERS


def test_the_key_changes_with_the_code_the_package_and_the_settings_but_not_the_prose(tmp_path):
    from jupyter_cache import get_cache

    cache = get_cache(str(tmp_path / "cache"))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Prose"), nbformat.v4.new_code_cell("1")])
    code = cache.create_hashed_notebook(nb)[1]
    nb.cells[0].source = "# Other prose"  # the book merges the cached outputs into the current prose
    assert cache.create_hashed_notebook(nb)[1] == code
    nb.cells[1].source = "2"
    assert cache.create_hashed_notebook(nb)[1] != code

    for folder, name in (("cifar_lessons", "recipe.py"), ("results", "run/metrics.json")):
        (tmp_path / folder / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / folder / name).write_text("a")
    package = ec.package_digest(tmp_path)
    (tmp_path / "cifar_lessons" / "__pycache__").mkdir()
    (tmp_path / "cifar_lessons" / "__pycache__" / "recipe.cpython-311.pyc").write_text("compiled")
    (tmp_path / "cifar_lessons" / ".recipe.py.swp").write_text("an editor's")
    assert ec.package_digest(tmp_path) == package
    digests = {package}
    for folder, name in (("cifar_lessons", "recipe.py"), ("results", "run/metrics.json"), ("cifar_lessons", "new.py")):
        (tmp_path / folder / name).write_text("b")
        digests.add(ec.package_digest(tmp_path))
    assert len(digests) == 4

    data = tmp_path / "cifar10.tar.gz"
    data.write_bytes(b"x")
    env = {"CIFAR_LESSONS_PROFILE": "quick", "CIFAR_LESSONS_DATA": str(data), "CIFAR_LESSONS_FULL_SIZE": ""}
    settings = ec.digest(ec.build_settings(env))
    assert ec.digest(ec.build_settings({k: v for k, v in env.items() if v})) == settings  # unset == empty
    changed = [{**env, "CIFAR_LESSONS_PROFILE": "seed"}, {**env, "CIFAR_LESSONS_BACKBONE": "resnet50"},
               {**env, "CIFAR_LESSONS_WEIGHTS": "none"}, {**env, "CIFAR_LESSONS_FULL_SIZE": "1"},
               {**env, "CIFAR_LESSONS_DATA": str(tmp_path / "other.tar.gz")}]
    assert len({settings} | {ec.digest(ec.build_settings(e)) for e in changed}) == 1 + len(changed)
    data.write_bytes(b"another data set under the same name")
    assert ec.digest(ec.build_settings(env)) != settings

    keys = {ec.chapter_key(c, p, s) for c in ("c1", "c2") for p in ("p1", "p2") for s in ("s1", "s2")}
    assert len(keys) == 8


def test_the_runs_folder_goes_back_to_what_the_kept_chapters_left(tmp_path):
    runs = tmp_path / "runs"
    writers: dict[str, str] = {}
    before = ec.snapshot(runs)
    (runs / "cfg" / "head").mkdir(parents=True)
    (runs / "cfg" / "head" / "model.keras").write_text("head")
    ec.attribute(before, ec.snapshot(runs), "book/s1.ipynb", writers)
    before = ec.snapshot(runs)
    (runs / "cfg" / "tuned").mkdir()
    (runs / "cfg" / "tuned" / "model.keras").write_text("tuned")
    (runs / "cfg" / "head" / "model.keras").write_text("head, changed by s2")
    ec.attribute(before, ec.snapshot(runs), "book/s2.ipynb", writers)
    assert writers == {"cfg/head/model.keras": "book/s2.ipynb", "cfg/tuned/model.keras": "book/s2.ipynb"}
    (runs / "cfg" / "head" / "model.keras").write_text("head")
    writers["cfg/head/model.keras"] = "book/s1.ipynb"
    (runs / "mine.txt").write_text("a file no chapter wrote")

    # A folder the user chose: only what the re-executed chapters wrote goes.
    kept = ec.prune_runs(runs, writers, keep={"book/s1.ipynb"}, owned=False)
    assert kept == {"cfg/head/model.keras": "book/s1.ipynb"}
    assert sorted(ec.snapshot(runs)) == ["cfg/head/model.keras", "mine.txt"]
    # The build's own folder: anything else goes too, and the folders left empty.
    ec.prune_runs(runs, kept, keep={"book/s1.ipynb"}, owned=True)
    assert sorted(ec.snapshot(runs)) == ["cfg/head/model.keras"] and not (runs / "cfg" / "tuned").exists()
    ec.prune_runs(runs, kept, keep=(), owned=True)
    assert list(runs.iterdir()) == []


SMALL_BOOK = {
    # The shared run: s1 saves a stage, s2 loads it and saves its own (saying whether it was there
    # already, which in a fresh build it never is), s3 loads s2's.
    "book/s1.ipynb": ["import os, pathlib\nruns = pathlib.Path(os.environ['CIFAR_LESSONS_RUNS'])\n"
                      "runs.mkdir(parents=True, exist_ok=True)\n"
                      "(runs / 's1').write_text(os.environ.get('CIFAR_LESSONS_PROFILE', 'seed'))"],
    "book/s2.ipynb": ["import os, pathlib\nruns = pathlib.Path(os.environ['CIFAR_LESSONS_RUNS'])\n"
                      "print('s2 was there:', (runs / 's2').exists())\n"
                      "(runs / 's2').write_text((runs / 's1').read_text() + ' tuned')"],
    "book/s3.ipynb": ["import os, pathlib\nprint((pathlib.Path(os.environ['CIFAR_LESSONS_RUNS']) / 's2').read_text())"],
    # A companion chapter that shows the setting and a file of the package.
    "book/a.ipynb": ["import os\nprint('profile', os.environ.get('CIFAR_LESSONS_PROFILE'))",
                     "print(open('../cifar_lessons/version.txt').read())"],
    "book/b.ipynb": ["print(6 * 7)"],
}


@pytest.fixture
def small_book(tmp_path, monkeypatch):
    (tmp_path / "_toc.yml").write_text(yaml.safe_dump({"format": "jb-book", "root": "intro", "parts": [
        {"caption": "Foundations", "chapters": [{"file": "book/a.ipynb"}]},
        {"caption": ec.SHARED_RUN_PARTS[0], "chapters": [{"file": f"book/s{i}.ipynb"} for i in (1, 2, 3)]},
        {"caption": "Beyond", "chapters": [{"file": "book/b.ipynb"}]}]}))
    (tmp_path / "_config.yml").write_text(yaml.safe_dump({"execute": {"timeout": 60, "allow_errors": False}}))
    for chapter, cells in SMALL_BOOK.items():
        notebook(tmp_path / chapter, *cells)
    (tmp_path / "cifar_lessons").mkdir()
    (tmp_path / "cifar_lessons" / "version.txt").write_text("package 1")
    monkeypatch.setattr(ec, "REPO", tmp_path)
    monkeypatch.setattr(ec, "CACHE", tmp_path / "_build" / ".jupyter_cache")
    monkeypatch.setenv("CIFAR_LESSONS_RUNS", str(tmp_path / "_build" / "runs"))
    monkeypatch.setenv("CIFAR_LESSONS_PROFILE", "quick")
    return tmp_path


def executed(capsys) -> list[str]:
    out = capsys.readouterr().out
    return sorted(line.split()[2].rstrip(":") for line in out.splitlines() if "executed in" in line)


def outputs(book: Path, chapter: str) -> str:
    """The text the book would show for a chapter: its outputs merged from the cache."""
    from jupyter_cache import get_cache

    _, nb = get_cache(str(ec.CACHE)).merge_match_into_notebook(nbformat.read(book / chapter, as_version=4))
    return "".join(out.get("text", "") for cell in nb.cells for out in cell.get("outputs", []))


def test_only_stale_chapters_execute_and_their_outputs_follow_the_package_and_the_settings(small_book, capsys):
    from jupyter_cache import get_cache

    book = small_book
    assert ec.main([]) == 0
    assert executed(capsys) == sorted(SMALL_BOOK) and "s2 was there: False" in outputs(book, "book/s2.ipynb")
    assert ec.main([]) == 0
    assert executed(capsys) == []

    # The companion alone; the shared run from the edited chapter on, with the stages before it kept
    # and its own removed, as a fresh build would have them.
    notebook(book / "book" / "b.ipynb", "print(6 * 9)")
    notebook(book / "book" / "s2.ipynb", *SMALL_BOOK["book/s2.ipynb"], "print('edited')")
    assert ec.main([]) == 0
    assert executed(capsys) == ["book/b.ipynb", "book/s2.ipynb", "book/s3.ipynb"]
    assert outputs(book, "book/b.ipynb") == "54\n" and "s2 was there: False" in outputs(book, "book/s2.ipynb")
    assert len(get_cache(str(ec.CACHE)).list_cache_records()) == len(SMALL_BOOK)  # the old versions are gone

    # The package or a setting changes: every chapter again, and what it shows changes.
    (book / "cifar_lessons" / "version.txt").write_text("package 2")
    assert ec.main([]) == 0
    assert executed(capsys) == sorted(SMALL_BOOK) and "package 2" in outputs(book, "book/a.ipynb")
    os.environ["CIFAR_LESSONS_PROFILE"] = "seed"  # restored by the fixture's monkeypatch
    assert ec.main([]) == 0
    assert executed(capsys) == sorted(SMALL_BOOK)
    assert "profile seed" in outputs(book, "book/a.ipynb") and outputs(book, "book/s3.ipynb") == "seed tuned\n"
    assert "s2 was there: False" in outputs(book, "book/s2.ipynb")

    # A shared chapter executed by name makes the later ones stale; --fresh executes everything.
    assert ec.main(["s2"]) == 0
    assert executed(capsys) == ["book/s2.ipynb"]
    assert ec.main([]) == 0
    assert executed(capsys) == ["book/s3.ipynb"]
    assert ec.main(["--fresh"]) == 0
    assert executed(capsys) == sorted(SMALL_BOOK)
