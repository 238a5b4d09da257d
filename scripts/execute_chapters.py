"""Execute every chapter, two at a time, into the cache that Jupyter Book then builds the site from.

Run by ``make site`` before ``jupyter-book build``. On two CPU cores one chapter at a time leaves a
core idle whenever a chapter is importing, loading data or drawing, and a chapter that trains uses
the two cores well but not perfectly; two chapters side by side finish sooner than one after the
other (``benchmarks/results/site_build_*.txt`` has the measured builds). Two workers take jobs
from one queue, in this order:

1. the project's chapters (the TOC parts in :data:`SHARED_RUN_PARTS`), one after the other in book
   order, as one job, because they share one run: chapter 3 saves the trained head that chapter 4
   fine-tunes, and so on;
2. every other chapter, each a job of its own, in book order (each of them runs alone), so that
   whichever worker is free takes the next one.

Each chapter is executed exactly as Jupyter Book would (``jupyter_cache``'s ``single_nb_execution``,
in ``book/``, with ``_config.yml``'s timeout and no errors allowed) and stored in Jupyter Book's
execution cache (``_build/.jupyter_cache``), where the build finds it by its code and uses its
outputs instead of executing again; ``scripts/build_slides.py`` reads the decks from the same cache.

Only stale chapters are executed. The cache itself knows a chapter by its code cells alone, so a
manifest beside it (``_build/.execution_manifest.json``) records the key each chapter was executed
with: the cache's hash of its code cells, a hash of the package's files (``cifar_lessons/`` and
``results/``) and the build's settings (the ``CIFAR_LESSONS_*`` variables that choose the run, the
data file's size and time). A chapter whose key differs, or whose outputs are not in the cache, is
stale. The shared run's chapters are re-executed from the first stale one on, since each later one
loads what the earlier ones saved; the other chapters are independent. A prose edit changes no key:
the book and the decks merge the cached outputs into the current text. The runs folder
(``CIFAR_LESSONS_RUNS``) is put back as the chapters before the first stale one left it: the manifest
records which chapter wrote each file there, and the files of the re-executed chapters (and, in the
build's own folder under ``_build/``, any file no kept chapter wrote, e.g. an interrupted chapter's
backup) are deleted first, so a chapter re-executed sees what it would in a fresh build. Cache
entries that no longer match a chapter's key are removed, so a plain ``jupyter-book build`` cannot
show them either. ``--fresh`` empties the cache, the manifest and the build's runs folder first, and
so executes every chapter (``make site-fresh``, and CI).

A chapter that fails does not stop the others (as ``--keep-going``), except the shared run's later
chapters, which are not executed; the script prints each failure's traceback, then one line per
chapter that failed or was not executed, and exits 1; nothing failed is cached, so ``make site``
stops before building the book.

    .venv/bin/python scripts/execute_chapters.py            # the stale chapters in _toc.yml
    .venv/bin/python scripts/execute_chapters.py --fresh    # every chapter, from an empty cache and runs
    folder
    .venv/bin/python scripts/execute_chapters.py --jobs 1   # one at a time, in book order
    .venv/bin/python scripts/execute_chapters.py 09_detection   # this chapter, stale or not (then
    build_slides.py 09_detection)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import sys
import threading
import time
import traceback
from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import yaml

REPO = Path(__file__).resolve().parents[1]
#: Jupyter Book's execution cache: myst-nb's default, ``<build folder>/.jupyter_cache``.
CACHE = REPO / "_build" / ".jupyter_cache"
#: The TOC parts whose chapters share one run (``cifar_lessons.recipe``'s stages) and so run in order.
SHARED_RUN_PARTS = ("Transfer learning on CIFAR-10", "Presenting")
#: The variables that choose what the chapters compute (``cifar_lessons.config``'s ``ENV_*``), and the
#: runs folder, whose stages the shared run's later chapters load.
SETTINGS = (
    "CIFAR_LESSONS_PROFILE",
    "CIFAR_LESSONS_BACKBONE",
    "CIFAR_LESSONS_WEIGHTS",
    "CIFAR_LESSONS_DATA",
    "CIFAR_LESSONS_FULL_SIZE",
    "CIFAR_LESSONS_RUNS",
)
#: Settings that may name a file: a file replaced under the same name must count as a change.
FILE_SETTINGS = ("CIFAR_LESSONS_DATA", "CIFAR_LESSONS_WEIGHTS")
#: The package's folders (``results/`` ships as ``cifar_lessons.measured``): the chapters import both.
PACKAGE_FOLDERS = ("cifar_lessons", "results")


def manifest_path() -> Path:
    """The key each chapter's cached outputs were made with, beside the cache (and removed with it)."""
    return CACHE.parent / ".execution_manifest.json"


def package_digest(repo: Path) -> str:
    """A hash of every file of the package's folders, by path and content.

    Every file counts, not only the ``.py`` ones: the committed records in ``results/`` are shown by
    chapters. Caches and hidden files (editor swap files) are skipped: they never ship.
    """
    digest = hashlib.sha256()
    for folder in PACKAGE_FOLDERS:
        for path in sorted((repo / folder).rglob("*")):
            rel = path.relative_to(repo)
            if (
                not path.is_file()
                or path.suffix == ".pyc"
                or any(p == "__pycache__" or p.startswith(".") for p in rel.parts)
            ):
                continue
            with path.open("rb") as f:
                digest.update(f"{rel.as_posix()}\0{hashlib.file_digest(f, 'sha256').hexdigest()}\n".encode())
    return digest.hexdigest()


def build_settings(env: Mapping[str, str]) -> dict:
    """The build's settings as the chapters see them. An unset and an empty variable are the same;
    a data or weights file is known by its size and time too, since it may be replaced in place
    (hashing the 160 MB data archive at every build would cost more than it protects)."""
    settings: dict = {}
    for name in SETTINGS:
        value = env.get(name) or None
        settings[name] = value
        if value and name in FILE_SETTINGS and Path(value).exists():
            stat = Path(value).stat()
            settings[f"{name}:size,mtime"] = [stat.st_size, stat.st_mtime_ns]
    return settings


def digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def chapter_key(code: str, package: str, settings: str) -> str:
    """What a chapter's outputs depend on: its code cells (the execution cache's own hash of them),
    the package's files and the build's settings. A change to any of the three makes it stale."""
    return digest({"code": code, "package": package, "settings": settings})


def split(toc: dict) -> tuple[list[str], list[str]]:
    """The shared run's chapters and the others, each in book order."""
    shared, alone = [], []
    for part in toc["parts"]:
        (shared if part.get("caption") in SHARED_RUN_PARTS else alone).extend(
            c["file"] for c in part["chapters"]
        )
    return shared, alone


def stale_chapters(
    toc: dict, keys: Mapping[str, str], recorded: Mapping[str, str], cached: Collection[str]
) -> list[str]:
    """The chapters to execute, in book order: those whose key is not the one recorded for their
    cached outputs, or that have none in the cache; and in the shared run every chapter after the
    first such one, because it loads what the earlier chapters saved in the runs folder."""

    def current(chapter: str) -> bool:
        return chapter in cached and recorded.get(chapter) == keys[chapter]

    shared, alone = split(toc)
    first = next((i for i, chapter in enumerate(shared) if not current(chapter)), len(shared))
    todo = set(shared[first:]) | {chapter for chapter in alone if not current(chapter)}
    return [chapter for part in toc["parts"] for c in part["chapters"] if (chapter := c["file"]) in todo]


def snapshot(folder: Path) -> dict[str, list[int]]:
    """Every file under ``folder``, by relative path, with its size and modification time."""
    if not folder.is_dir():
        return {}
    return {
        p.relative_to(folder).as_posix(): [(st := p.stat()).st_size, st.st_mtime_ns]
        for p in folder.rglob("*")
        if p.is_file()
    }


def attribute(
    before: Mapping[str, list[int]], after: Mapping[str, list[int]], chapter: str, writers: dict[str, str]
) -> None:
    """Record ``chapter`` as the writer of each file it created or changed; forget the ones it removed."""
    for rel, state in after.items():
        if before.get(rel) != state:
            writers[rel] = chapter
    for rel in before.keys() - after.keys():
        writers.pop(rel, None)


def prune_runs(
    folder: Path, writers: Mapping[str, str], keep: Collection[str], owned: bool
) -> dict[str, str]:
    """Put the runs folder back as the chapters in ``keep`` left it; return the writers kept.

    A file written by any other chapter is deleted. In the build's own folder (``owned``) so is any
    file no chapter is known to have written (an interrupted chapter's backup, an older build's
    stages); in a folder the user chose, such files are theirs and stay.
    """
    kept = {rel: chapter for rel, chapter in writers.items() if chapter in keep}
    if not folder.is_dir():
        return kept
    for path in sorted(folder.rglob("*"), reverse=True):  # a folder's files before the folder
        rel = path.relative_to(folder).as_posix()
        if path.is_dir() and not path.is_symlink():
            if owned and not any(path.iterdir()):
                path.rmdir()
        elif rel not in kept and (owned or rel in writers):
            path.unlink()
    return kept


def lanes(toc: dict, jobs: int = 2, only: list[str] | None = None) -> list[list[str]]:
    """The jobs, in queue order: each a list of chapters (paths from the repository's root) run in order.

    The shared run's chapters are the first job; every other chapter is a job of its own. With
    ``jobs=1`` one job, the whole book in book order. ``only`` keeps the chapters with those stems
    (an unknown stem is a one-line error).
    """
    shared, alone, everything = [], [], []
    for part in toc["parts"]:
        files = [
            c["file"]
            for c in part["chapters"]  # notebooks only: the appendix's pages run nothing
            if c["file"].endswith(".ipynb") and (not only or Path(c["file"]).stem in only)
        ]
        everything += files
        (shared if part.get("caption") in SHARED_RUN_PARTS else alone).extend(files)
    if only and len(everything) != len(set(only)):
        sys.exit(
            f"error: not in _toc.yml: {', '.join(sorted(set(only) - {Path(c).stem for c in everything}))}"
        )
    if jobs == 1:
        return [everything]
    return ([shared] if shared else []) + [[chapter] for chapter in alone]


def last_line(err: BaseException) -> str:
    """One plain line for an error: ``ValueError: the data folder is empty`` for a cell's error (its
    name and value), else the message's first line (a timeout, a kernel that died); no terminal colours."""
    ename = getattr(err, "ename", None)
    text = f"{ename}: {getattr(err, 'evalue', '')}" if ename else str(err)
    lines = [line.strip() for line in re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines() if line.strip()]
    return lines[0] if lines else type(err).__name__


def execute_config() -> dict:
    """``_config.yml``'s ``execute`` section (timeout, allow_errors), which the build itself obeys."""
    return yaml.safe_load((REPO / "_config.yml").read_text())["execute"]


def load_manifest() -> dict:
    """The manifest, or an empty one (none yet, or unreadable: then every chapter is stale)."""
    try:
        manifest = json.loads(manifest_path().read_text())
    except (OSError, ValueError):
        manifest = {}
    manifest.setdefault("chapters", {})
    manifest.setdefault("runs", {"folder": None, "writers": {}})
    return manifest


def save_manifest(manifest: dict) -> None:
    path = manifest_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    tmp.replace(path)  # whole or not at all, even if the build is interrupted


def why(entry: dict | None, code: str, package: str, settings: str, cached: bool) -> str:
    """Why a chapter is executed, in a few words, for the log."""
    if entry is None:
        return "no record of its last execution"
    changed = [
        name
        for name, value in (("code", code), ("package", package), ("settings", settings))
        if entry.get(name) != value
    ]
    if changed:
        return f"{', '.join(changed)} changed"
    return "outputs not in the cache" if not cached else "after a stale chapter of the shared run"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "chapters", nargs="*", help="stems of the chapters to execute, stale or not (default: the stale ones)"
    )
    parser.add_argument("--jobs", type=int, choices=(1, 2), default=2, help="chapters at a time (default 2)")
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="empty the cache, the manifest and the build's runs folder first: execute every chapter",
    )
    args = parser.parse_args(argv)
    if args.fresh and args.chapters:
        parser.error("--fresh executes every chapter; name no chapters with it")

    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from jupyter_cache.executors.utils import single_nb_execution

    # What `make site` gives the chapters, for a run without make (one chapter, say): Keras's
    # epoch lines rather than progress bars, runs kept under _build/, less TensorFlow start-up log.
    os.environ.setdefault("CIFAR_LESSONS_BUILD", "1")
    os.environ.setdefault("CIFAR_LESSONS_RUNS", str(REPO / "_build" / "runs"))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    config = execute_config()
    if config.get("allow_errors"):
        sys.exit("error: _config.yml allows errors; this script never caches a failed chapter")
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    shared, _ = split(toc)
    work = lanes(toc, args.jobs, args.chapters)  # checks the names given
    runs = Path(os.environ["CIFAR_LESSONS_RUNS"]).expanduser().resolve()
    # Only a runs folder inside _build/ is the build's to empty; one the user chose may hold their runs.
    owned = runs.is_relative_to((REPO / "_build").resolve())

    manifest = load_manifest()
    if manifest["runs"]["folder"] != str(runs):  # another folder: what was recorded is about that one
        manifest["runs"] = {"folder": str(runs), "writers": {}}
    cache = get_cache(str(CACHE))
    if args.fresh:
        cache.clear_cache()
        cache = get_cache(str(CACHE))
        if owned:
            shutil.rmtree(runs, ignore_errors=True)
        else:
            prune_runs(runs, manifest["runs"]["writers"], keep=(), owned=False)
        manifest = {"chapters": {}, "runs": {"folder": str(runs), "writers": {}}}

    package = package_digest(REPO)
    settings = digest(build_settings(os.environ))
    chapters = [c for job in lanes(toc, 1) for c in job]
    notebooks = {c: nbformat.read(REPO / c, as_version=4) for c in chapters}
    code = {c: cache.create_hashed_notebook(nb)[1] for c, nb in notebooks.items()}
    keys = {c: chapter_key(code[c], package, settings) for c in chapters}
    records = cache.list_cache_records()
    cached = {c for c in chapters if any(r.uri == str(REPO / c) and r.hashkey == code[c] for r in records)}
    recorded = {c: entry.get("key") for c, entry in manifest["chapters"].items()}

    # Chapters named are executed, stale or not; a shared one among them makes the shared run's later
    # chapters stale (their outputs come from the stages it rewrites), for the next build to execute.
    todo = (
        {c for job in work for c in job}
        if args.chapters
        else set(stale_chapters(toc, keys, recorded, cached))
    )
    work = [kept for job in work if (kept := [c for c in job if c in todo])]
    first_shared = next((i for i, c in enumerate(shared) if c in todo), None)
    entries = dict(manifest["chapters"])  # as recorded, to say why a chapter is executed

    # Nothing about to be re-executed, and nothing that matches no chapter's current code, stays in
    # the cache or the manifest: a failure or an interruption leaves the chapter missing, not stale.
    for chapter in todo | set(shared[first_shared:] if first_shared is not None else ()):
        manifest["chapters"].pop(chapter, None)
    for record in records:
        chapter = next((c for c in chapters if str(REPO / c) == record.uri), None)
        if chapter in todo or (not args.chapters and (chapter is None or record.hashkey != code[chapter])):
            cache.remove_cache(record.pk)
    if first_shared is not None:
        manifest["runs"]["writers"] = prune_runs(
            runs, manifest["runs"]["writers"], set(shared[:first_shared]), owned
        )
    save_manifest(manifest)

    lock = threading.Lock()
    failed: list[tuple[str, str]] = []
    start = time.perf_counter()

    def say(text: str) -> None:
        with lock:
            print(f"{time.perf_counter() - start:6.0f} s  {text}", flush=True)

    def run(chapter: str) -> bool:
        path = REPO / chapter
        reason = (
            "named"
            if args.chapters
            else why(entries.get(chapter), code[chapter], package, settings, chapter in cached)
        )
        say(f"{chapter}: executing ({reason})")
        began = time.perf_counter()
        before = snapshot(runs) if chapter in shared else {}
        try:
            nb = notebooks[chapter]
            result = single_nb_execution(
                nb, cwd=str(path.parent), timeout=config["timeout"], allow_errors=False
            )
            err, trace = result.err, result.exc_string
        except Exception as exc:  # not a cell's error: a kernel that died or never started, say
            err, trace = exc, traceback.format_exc()
        with lock:
            if chapter in shared:  # even a failed chapter's files are its own, for the next build to delete
                attribute(before, snapshot(runs), chapter, manifest["runs"]["writers"])
            if err is None:  # one writer at a time: the cache is an SQLite database
                cache.cache_notebook_bundle(
                    CacheBundleIn(nb, str(path), data={"execution_seconds": result.time}),
                    check_validity=False,
                    overwrite=True,
                )
                manifest["chapters"][chapter] = {
                    "key": keys[chapter],
                    "code": code[chapter],
                    "package": package,
                    "settings": settings,
                    "seconds": round(result.time, 1),
                }
            save_manifest(manifest)
        if err is not None:
            say(f"{chapter}: FAILED after {time.perf_counter() - began:.0f} s")
            with lock:
                print(trace, file=sys.stderr, flush=True)
                failed.append((chapter, last_line(err)))
            return False
        say(f"{chapter}: executed in {result.time:.1f} s")
        return True

    def run_job(job: list[str]) -> None:
        for i, chapter in enumerate(job):
            if not run(chapter):
                # The shared run's later chapters would quietly redo the failed one's training.
                with lock:
                    failed.extend(
                        (later, f"not executed: {chapter} failed before it") for later in job[i + 1 :]
                    )
                return

    pool = ThreadPoolExecutor(args.jobs)
    futures = [pool.submit(run_job, job) for job in work]
    try:
        for future in futures:
            future.result()
    except KeyboardInterrupt:
        # The kernels run in sessions of their own; they stop when this process ends.
        print("\nexecute: interrupted", file=sys.stderr, flush=True)
        os._exit(130)
    pool.shutdown()
    total = time.perf_counter() - start
    if failed:
        for chapter, line in failed:
            print(
                f"error: {chapter} failed: {line}"
                if not line.startswith("not executed")
                else f"error: {chapter} {line}",
                file=sys.stderr,
            )
        return 1
    done = sum(map(len, work))
    print(
        f"execute: {done} chapters in {total:.0f} s, {args.jobs} at a time; {len(chapters) - done} up to date"
        if done
        else f"execute: all {len(chapters)} chapters up to date"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
