"""Time `make site` in the authoring loop: with nothing changed, and after editing one chapter.

The targets (issue 23, on 2 cores): a rebuild with nothing changed within 60 s, and one with a
companion chapter's code changed within that chapter's own execution time plus 60 s. A shared-run
chapter is timed too, for information: it re-executes the shared run from itself on.

Each edit appends a comment line to the chapter's last code cell in its ``.ipynb`` (a change the
execution cache sees, unlike a prose edit, which re-executes nothing); the file is restored and the
site rebuilt afterwards, untimed, so the tree and the build are left as they were. The times and the
commit go to ``benchmarks/results/site_rebuild.txt``, with the make command, so they can be repeated:

    .venv/bin/python benchmarks/rebuild.py --fresh      # from a fresh build first (about 5 min more)
    .venv/bin/python benchmarks/rebuild.py 00_seeing_images 07_takeaways

The build's settings are the offline ones of the project's machines (``SETTINGS``); pass ``--data``
for another copy of CIFAR-10.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
RESULT = REPO / "benchmarks" / "results" / "site_rebuild.txt"
MANIFEST = REPO / "_build" / ".execution_manifest.json"
SETTINGS = {
    "CIFAR_LESSONS_PROFILE": "quick",
    "CIFAR_LESSONS_BACKBONE": "efficientnet_lite0",
    "CIFAR_LESSONS_WEIGHTS": "imagenet",
}
EDIT = "# benchmarks/rebuild.py: an edit"


def make(target: str, data: str, log: list[str]) -> float:
    """Run ``make <target>`` with the settings; return its wall time. Its execute lines go to ``log``."""
    command = ["make", target, *(f"{k}={v}" for k, v in {**SETTINGS, "CIFAR_LESSONS_DATA": data}.items())]
    began = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    if done.returncode:
        sys.exit(f"error: {' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    log += [line for line in done.stdout.splitlines() if re.match(r"\s*\d+ s  |execute: ", line)]
    return seconds


def edited(chapter: Path) -> str:
    """The chapter's text with a comment line at the end of its last code cell."""
    nb = nbformat.read(chapter, as_version=4)
    cell = [c for c in nb.cells if c.cell_type == "code"][-1]
    cell.source = cell.source.rstrip("\n") + "\n" + EDIT
    return nbformat.writes(nb) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "chapters",
        nargs="*",
        default=["00_seeing_images", "07_takeaways"],
        help="stems of the chapters to edit, one rebuild each (default: 00_seeing_images 07_takeaways)",
    )
    parser.add_argument("--fresh", action="store_true", help="start from `make site-fresh` (timed too)")
    parser.add_argument(
        "--data", default="/work/shared/data/cifar10-jpeg.tar.gz", help="CIFAR-10 (CIFAR_LESSONS_DATA)"
    )
    args = parser.parse_args(argv)

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    rows: list[str] = []
    log: list[str] = []
    if args.fresh:
        rows.append(
            f"make site-fresh (every chapter executed)          {make('site-fresh', args.data, log):6.1f} s"
        )
    else:
        make("site", args.data, [])  # up to date first, whatever was edited before
    log.clear()
    rows.append(f"make site, nothing changed                          {make('site', args.data, log):6.1f} s")
    for stem in args.chapters:
        path = REPO / "book" / f"{stem}.ipynb"
        original = path.read_text()
        try:
            path.write_text(edited(path))
            log.append(f"-- {stem} edited")
            seconds = make("site", args.data, log)
        finally:
            path.write_text(original)
        own = json.loads(MANIFEST.read_text())["chapters"][f"book/{stem}.ipynb"]["seconds"]
        rows.append(
            f"make site, {stem} edited{' ' * max(0, 33 - len(stem))}{seconds:6.1f} s   "
            f"(it executed in {own:.1f} s: {seconds - own:.1f} s more)"
        )
        log.append(f"-- {stem} restored")
        make("site", args.data, log)

    RESULT.parent.mkdir(parents=True, exist_ok=True)
    header = [
        f"# make site in the authoring loop (benchmarks/rebuild.py), commit {commit}"
        f"{' with uncommitted changes' if dirty else ''}, {os.cpu_count()} CPU cores, {date.today()}.",
        f"# make <target> {' '.join(f'{k}={v}' for k, v in SETTINGS.items())} CIFAR_LESSONS_DATA={args.data}",
        "# An edit appends a comment line to the chapter's last code cell; its own time is "
        "scripts/execute_chapters.py's.",
        "# Targets: nothing changed within 60 s; a companion chapter within its execution time + 60 s.",
    ]
    RESULT.write_text(
        "\n".join(
            header
            + rows
            + ["", "# The execute lines of the timed rebuilds (and the untimed restores):"]
            + log
        )
        + "\n"
    )
    print("\n".join(rows))
    print(f"rebuild: {RESULT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
