"""A full disk during ``make site`` ends in one line, whichever step meets it (issue 22).

The package's own writers are tested in ``test_full_disk.py``. The site's steps (executing the
chapters, Jupyter Book, the decks) run other programs' code, so ``make site`` runs each through
``scripts/full_disk_guard.py``. Here a step that really runs out of space (a small tmpfs, where the
test may mount one) and steps that fail the way Python and SQLite say it (everywhere) must end in
exactly that line; any other failure must keep its whole message.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from conftest import REPO

GUARD = [sys.executable, str(REPO / "scripts" / "full_disk_guard.py")]


def guarded(code: str, writing: str = "_build") -> subprocess.CompletedProcess:
    return subprocess.run([*GUARD, "--writing", writing, "--", sys.executable, "-c", code],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("code, path", [
    ("import errno, os; raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), '/site/_build/html/a.html')",
     "/site/_build/html/a.html"),
    ("import sqlite3; raise sqlite3.OperationalError('database or disk is full')", "_build"),
])
def test_a_step_that_runs_out_of_space_ends_in_one_line(code, path):
    done = guarded("import sys; print('stdout goes on'); print('a warning', file=sys.stderr); " + code)
    assert done.returncode == 1
    assert done.stdout == "stdout goes on\n"
    assert done.stderr == f"error: no space left on the device while writing {path}\n"


def test_any_other_failure_keeps_its_whole_message_and_status():
    done = guarded("import sys; print('a warning', file=sys.stderr); sys.exit('something else broke')")
    assert done.returncode == 1 and done.stderr == "a warning\nsomething else broke\n"
    done = guarded("import sys; sys.stderr.write('warned\\n'); sys.exit(3)")
    assert done.returncode == 3 and done.stderr == "warned\n"


def test_a_step_that_succeeds_shows_its_warnings():
    done = guarded("import sys; print('WARNING: x', file=sys.stderr)")
    assert done.returncode == 0 and done.stderr == "WARNING: x\n"


def test_the_site_runs_every_step_through_the_guard():
    makefile = (REPO / "Makefile").read_text()
    guard = re.search(r"^GUARD := (.*)$", makefile, re.M)
    assert guard and "scripts/full_disk_guard.py" in guard.group(1)
    recipe = re.search(r"^site: .*?(?=^\S)", makefile, re.S | re.M).group(0)
    steps = [line.strip() for line in recipe.splitlines()[1:]
             if line.startswith("\t") and not line.strip().startswith(("#", "@", "rm "))]
    assert steps and all(step.startswith("$(GUARD) ") for step in steps), steps


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB tmpfs, where this process may mount one (root, on Linux)."""
    mount = tmp_path / f"small-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here; the simulated full disk above still runs")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def test_a_step_on_a_really_full_disk_ends_in_one_line(small_disk: Path):
    # A plain write's error names no file, so the line names the step's output folder.
    done = guarded(f"open({str(small_disk / 'page.html')!r}, 'wb').write(b'0' * (4 << 20))", writing=str(small_disk))
    assert done.returncode == 1
    assert done.stderr == f"error: no space left on the device while writing {small_disk}\n"
