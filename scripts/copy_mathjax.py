"""Copy the parts of MathJax that the chapters' formulas need, from ``node_modules`` (``npm ci``), into a
folder the site serves, so that the book renders its maths with no network (``make site`` runs it
before Jupyter Book; ``_config.yml`` serves the folder and points ``mathjax_path`` at it).

The decks copy the same parts (``build_slides.MATHJAX_PARTS``) beside themselves.

    python scripts/copy_mathjax.py _build/mathjax/mathjax
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from build_slides import MATHJAX_PARTS, NODE


def copy_mathjax(target: Path) -> None:
    source = NODE / "mathjax" / "es5"
    if not source.is_dir():
        sys.exit(f"error: {source} is missing; run `npm ci` (make site does)")
    shutil.rmtree(target, ignore_errors=True)
    for part in MATHJAX_PARTS:
        (target / part).parent.mkdir(parents=True, exist_ok=True)
        if (source / part).is_dir():
            shutil.copytree(source / part, target / part)
        else:
            shutil.copy2(source / part, target / part)


if __name__ == "__main__":
    copy_mathjax(Path(sys.argv[1]))
