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

A chapter that fails does not stop the others (as ``--keep-going``): the script prints each
failure's traceback, then one line per failed chapter, and exits 1 without caching it.

    .venv/bin/python scripts/execute_chapters.py            # every chapter in _toc.yml
    .venv/bin/python scripts/execute_chapters.py --jobs 1   # one at a time, in book order
    .venv/bin/python scripts/execute_chapters.py 09_detection   # one chapter (then build_slides.py 09_detection)
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
import time
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
        files = [c["file"] for c in part["chapters"] if not only or Path(c["file"]).stem in only]
        everything += files
        (shared if part.get("caption") in SHARED_RUN_PARTS else alone).extend(files)
    if only and len(everything) != len(set(only)):
        sys.exit(f"error: not in _toc.yml: {', '.join(sorted(set(only) - {Path(c).stem for c in everything}))}")
    if jobs == 1:
        return [everything]
    return ([shared] if shared else []) + [[chapter] for chapter in alone]


def last_line(err: BaseException) -> str:
    """The error's last line without the terminal's colours: ``ValueError: the data folder is empty``."""
    lines = re.sub(r"\x1b\[[0-9;]*m", "", str(err)).strip().splitlines()
    return lines[-1] if lines else type(err).__name__


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

    def run(chapter: str) -> None:
        path = REPO / chapter
        nb = nbformat.read(path, as_version=4)
        say(f"{chapter}: executing")
        result = single_nb_execution(nb, cwd=str(path.parent), timeout=settings["timeout"], allow_errors=False)
        if result.err is not None:
            say(f"{chapter}: FAILED after {result.time:.0f} s")
            with lock:
                print(result.exc_string, file=sys.stderr, flush=True)
                failed.append((chapter, last_line(result.err)))
            return
        with lock:  # one writer at a time: the cache is an SQLite database
            cache.cache_notebook_bundle(CacheBundleIn(nb, str(path), data={"execution_seconds": result.time}),
                                        check_validity=False, overwrite=True)
        say(f"{chapter}: executed in {result.time:.1f} s")

    def run_lane(lane: list[str]) -> None:
        for chapter in lane:
            run(chapter)

    work = lanes(yaml.safe_load((REPO / "_toc.yml").read_text()), args.jobs, args.chapters)
    with ThreadPoolExecutor(args.jobs) as pool:
        for future in [pool.submit(run_lane, lane) for lane in work]:
            future.result()
    total = time.perf_counter() - start
    if failed:
        for chapter, line in failed:
            print(f"error: {chapter} failed: {line}", file=sys.stderr)
        return 1
    print(f"execute: {sum(map(len, work))} chapters in {total:.0f} s, {args.jobs} at a time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
