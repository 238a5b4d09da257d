"""Run one step of ``make site``; if it fails for want of disk space, say so in one line.

    python scripts/full_disk_guard.py --writing _build -- .venv/bin/jupyter-book build . -W -n --keep-going

The site's steps (executing the chapters, Jupyter Book, the decks) are other programs' code, and
a full disk ends each of them in its own traceback, dozens of lines that bury the cause. This
wrapper streams the step's standard output as it comes, holds back its standard error, and when the
step fails:

* if the held-back text shows ``ENOSPC`` (``No space left on device``, errno 28), it prints only
  ``error: no space left on the device while writing <path>`` (the path the error names, else the
  folder given as ``--writing``, the step's output) and exits with status 1;
* otherwise it shows everything that was held back, so no diagnostic is lost.

On success the held-back text (warnings) is shown once the step has ended. Only the last
:data:`KEEP_BYTES` of it are kept, in memory: a temporary file could not be written on a full disk.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections import deque

KEEP_BYTES = 4 << 20
#: How Python (``[Errno 28] No space left on device: 'path'``), h5py and SQLite say it.
NO_SPACE = re.compile(r"No space left on device|Errno 28\b|ENOSPC|database or disk is full", re.I)
NAMED_PATH = re.compile(r"(?:Errno 28\][^'\"\n]*|filename = )['\"]([^'\"\n]+)['\"]")


def no_space_line(stderr: str, default: str = "_build") -> str | None:
    """The one line to print if ``stderr`` shows a full disk, else ``None``."""
    if not NO_SPACE.search(stderr):
        return None
    named = NAMED_PATH.findall(stderr)
    return f"error: no space left on the device while writing {named[-1] if named else default}"


def run(command: list[str], writing: str = "_build") -> int:
    """Run ``command`` as described above; return the status to exit with."""
    held: deque[bytes] = deque()
    size = [0]

    def hold(stream) -> None:
        for chunk in iter(lambda: stream.read1(65536), b""):
            held.append(chunk)
            size[0] += len(chunk)
            while size[0] > KEEP_BYTES and len(held) > 1:
                size[0] -= len(held.popleft())

    try:
        step = subprocess.Popen(command, stderr=subprocess.PIPE)
    except OSError as exc:
        print(f"error: cannot run {command[0]}: {exc.strerror}", file=sys.stderr)
        return 127
    reader = threading.Thread(target=hold, args=(step.stderr,), daemon=True)
    reader.start()
    status = step.wait()
    reader.join()
    text = b"".join(held).decode(errors="replace")
    if status != 0:
        line = no_space_line(text, writing)
        if line:
            print(line, file=sys.stderr)
            return 1
    sys.stderr.write(text)
    sys.stderr.flush()
    return status


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    writing = "_build"
    if args[:1] == ["--writing"] and len(args) > 1:
        writing, args = args[1], args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        print("usage: full_disk_guard.py [--writing FOLDER] -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    return run(args, writing)


if __name__ == "__main__":
    sys.exit(main())
