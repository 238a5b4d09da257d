"""Colab: keep the runs of chapters 3-7 in Google Drive, so they outlive the runtime.

Used by the second cell of chapters 3-7 and the presentation, when the student sets
``USE_DRIVE = True`` there. Colab keeps a notebook's files in ``/content`` only while its runtime
lives: a runtime left idle, or closed, is recycled and ``/content`` is erased with it, and each
chapter's notebook runs on a runtime of its own. Chapter 3's trained head, reused by chapters 4-7
through the runs folder (:func:`cifar_lessons.recipe.runs_root`), and each phase's per-epoch backup
are lost with it. In Google Drive they survive, and every chapter's notebook finds them.

Opt-in, because mounting Drive asks the student to sign in and grant this notebook access to their
whole Drive; without it everything still works, each chapter retraining what it needs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .config import ENV_RUNS

#: Where Colab mounts Google Drive, and the folder in it that holds the runs.
DRIVE_MOUNT = "/content/drive"
DRIVE_RUNS = "MyDrive/cifar-lessons/runs"


def in_colab() -> bool:
    """Whether this is a Colab runtime (its ``google.colab`` module is loaded in every notebook there)."""
    return "google.colab" in sys.modules


def use_drive(folder: str = DRIVE_RUNS, mount: str = DRIVE_MOUNT) -> Path | None:
    """Mount Google Drive and keep this chapter's runs in ``folder`` there; return that folder.

    Sets ``CIFAR_LESSONS_RUNS``, which every stage reads when it looks for or writes a record, so
    the call must come before the chapter's first stage (the notebook's second cell). Outside Colab
    it changes nothing, says so, and returns None: a local run keeps its runs where it was told to.
    """
    if not in_colab():
        print(f"Not in Colab: Google Drive is not mounted; runs stay in {os.environ.get(ENV_RUNS, 'runs')}.")
        return None
    from google.colab import drive

    drive.mount(mount)
    runs = Path(mount) / folder
    runs.mkdir(parents=True, exist_ok=True)
    os.environ[ENV_RUNS] = str(runs)
    print(
        f"Runs are kept in your Google Drive, in {folder}: they survive a new runtime, "
        "and the other chapters' notebooks find them."
    )
    return runs
