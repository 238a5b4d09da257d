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
Run for every chapter (no names given), it empties the cache first, so every build runs every
chapter and no output is stale: not one made with another profile, data or weights.

A chapter that fails does not stop the others (as ``--keep-going``), except the shared run's later
chapters, which are not executed; the script prints each failure's traceback, then one line per
chapter that failed or was not executed, and exits 1; nothing failed is cached, so ``make site``
stops before building the book.

    .venv/bin/python scripts/execute_chapters.py            # every chapter in _toc.yml
    .venv/bin/python scripts/execute_chapters.py --jobs 1   # one at a time, in book order
    .venv/bin/python scripts/execute_chapters.py 09_detection   # one chapter (then build_slides.py 09_detection)
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import yaml

REPO = Path(__file__).resolve().parents[1]
#: Jupyter Book's execution cache: myst-nb's default, ``<build folder>/.jupyter_cache``.
CACHE = REPO / "_build" / ".jupyter_cache"
#: The TOC parts whose chapters share one run (``cifar_lessons.recipe``'s stages) and so run in order.
SHARED_RUN_PARTS = ("Transfer learning on CIFAR-10", "Presenting")


def lanes(toc: dict, jobs: int = 2, only: list[str] | None = None) -> list[list[str]]:
    """The jobs, in queue order: each a list of chapters (paths from the repository's root) run in order.

    The shared run's chapters are the first job; every other chapter is a job of its own. With
    ``jobs=1`` one job, the whole book in book order. ``only`` keeps the chapters with those stems
    (an unknown stem is a one-line error).
    """
    shared, alone, everything = [], [], []
    for part in toc["parts"]:
        files = [c["file"] for c in part["chapters"]  # notebooks only: the appendix's pages run nothing
                 if c["file"].endswith(".ipynb") and (not only or Path(c["file"]).stem in only)]
        everything += files
        (shared if part.get("caption") in SHARED_RUN_PARTS else alone).extend(files)
    if only and len(everything) != len(set(only)):
        sys.exit(f"error: not in _toc.yml: {', '.join(sorted(set(only) - {Path(c).stem for c in everything}))}")
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="*", help="stems of the chapters to execute (default: all)")
    parser.add_argument("--jobs", type=int, choices=(1, 2), default=2, help="chapters at a time (default 2)")
    args = parser.parse_args(argv)

    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from jupyter_cache.executors.utils import single_nb_execution

    # What `make site` gives the chapters, for a run without make (one chapter, say): Keras's
    # epoch lines rather than progress bars, runs kept under _build/, less TensorFlow start-up log.
    os.environ.setdefault("CIFAR_LESSONS_BUILD", "1")
    os.environ.setdefault("CIFAR_LESSONS_RUNS", str(REPO / "_build" / "runs"))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    settings = execute_config()
    if settings.get("allow_errors"):
        sys.exit("error: _config.yml allows errors; this script never caches a failed chapter")
    cache = get_cache(str(CACHE))
    if not args.chapters:
        cache.clear_cache()
        cache = get_cache(str(CACHE))
    lock = threading.Lock()
    failed: list[tuple[str, str]] = []
    start = time.perf_counter()

    def say(text: str) -> None:
        with lock:
            print(f"{time.perf_counter() - start:6.0f} s  {text}", flush=True)

    def run(chapter: str) -> bool:
        path = REPO / chapter
        say(f"{chapter}: executing")
        began = time.perf_counter()
        try:
            nb = nbformat.read(path, as_version=4)
            result = single_nb_execution(nb, cwd=str(path.parent), timeout=settings["timeout"], allow_errors=False)
            err, trace = result.err, result.exc_string
        except Exception as exc:  # not a cell's error: a kernel that died or never started, say
            err, trace = exc, traceback.format_exc()
        if err is not None:
            say(f"{chapter}: FAILED after {time.perf_counter() - began:.0f} s")
            with lock:
                print(trace, file=sys.stderr, flush=True)
                failed.append((chapter, last_line(err)))
            return False
        with lock:  # one writer at a time: the cache is an SQLite database
            cache.cache_notebook_bundle(CacheBundleIn(nb, str(path), data={"execution_seconds": result.time}),
                                        check_validity=False, overwrite=True)
        say(f"{chapter}: executed in {result.time:.1f} s")
        return True

    def run_job(job: list[str]) -> None:
        for i, chapter in enumerate(job):
            if not run(chapter):
                # The shared run's later chapters would quietly redo the failed one's training.
                with lock:
                    failed.extend((later, f"not executed: {chapter} failed before it") for later in job[i + 1:])
                return

    work = lanes(yaml.safe_load((REPO / "_toc.yml").read_text()), args.jobs, args.chapters)
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
            print(f"error: {chapter} failed: {line}" if not line.startswith("not executed") else
                  f"error: {chapter} {line}", file=sys.stderr)
        return 1
    print(f"execute: {sum(map(len, work))} chapters in {total:.0f} s, {args.jobs} at a time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
