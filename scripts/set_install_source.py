"""Write the one package source every chapter's Colab install cell installs.

    .venv/bin/python scripts/set_install_source.py            # the repository at tag v<version>
    .venv/bin/python scripts/set_install_source.py --pypi     # cifar-lessons==<version> from PyPI

The book's version is ``version`` in pyproject.toml, and its repository is ``repository.url`` in
_config.yml. A notebook must install the helpers of the same version as its own text, so each install
cell names that version exactly, never a branch: before a release is on PyPI, the repository at the tag
``v<version>`` (which the release workflow, .github/workflows/release.yml, publishes to PyPI);
once it is, ``cifar-lessons==<version>``. A fork changes the url in _config.yml (or a new version
changes pyproject.toml), runs this script, and every chapter follows; tests/test_book.py fails while
any chapter names another source.

The script rewrites the string of the ``SOURCE = "..."`` line of each book/*.py install cell, then syncs the
paired notebooks with jupytext.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "book"
#: The install cell's line that names the source; the one line this script writes.
SOURCE_LINE = re.compile(r'^SOURCE = "([^"\n]*)"', re.M)


def version() -> str:
    """The book's version: pyproject.toml's ``project.version`` (the package's too)."""
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]


def repository_url() -> str:
    """The book's repository, as _config.yml names it for the Colab buttons."""
    return yaml.safe_load((REPO / "_config.yml").read_text())["repository"]["url"].rstrip("/")


def install_source(pypi: bool = False) -> str:
    """The pip requirement for this version: from PyPI, or from the repository at tag ``v<version>``."""
    if pypi:
        return f"cifar-lessons=={version()}"
    return f"cifar-lessons @ git+{repository_url()}@v{version()}"


def allowed_sources() -> tuple[str, str]:
    """The two sources a chapter may name for this version (the test accepts either, if all agree)."""
    return install_source(pypi=False), install_source(pypi=True)


def chapters() -> list[Path]:
    """Every book/*.py with a paired notebook (the chapters and the presentation)."""
    return sorted(p for p in BOOK.glob("*.py") if p.with_suffix(".ipynb").exists())


def set_source(source: str, paths: list[Path]) -> list[Path]:
    """Write ``source`` into each file's install cell; return the files that changed.

    A file without exactly one ``SOURCE = "..."`` line is an error: its install cell was edited by
    hand into a shape this script no longer recognises, and silently skipping it would leave a
    chapter installing something else.
    """
    changed = []
    for path in paths:
        text = path.read_text()
        if len(SOURCE_LINE.findall(text)) != 1:
            raise SystemExit(f"{path}: expected one line starting 'SOURCE = \"...\"' in its install cell")
        new = SOURCE_LINE.sub(lambda _: f'SOURCE = "{source}"', text)  # the line's comment stays
        if new != text:
            path.write_text(new)
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--pypi", action="store_true", help="install from PyPI (once this version is released there)"
    )
    args = parser.parse_args(argv)
    source = install_source(args.pypi)
    paths = chapters()
    changed = set_source(source, paths)
    if changed:
        # Sync from the .py files just written, so the notebooks carry the same line.
        subprocess.run(
            [sys.executable, "-m", "jupytext", "--quiet", "--sync", *map(str, changed)], check=True, cwd=REPO
        )
    print(f"{len(paths)} chapters install {source!r} ({len(changed)} changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
