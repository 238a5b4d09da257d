"""Build a reveal.js deck for every executed chapter, into ``_build/html/slides/``.

Run by ``make site`` after Jupyter Book has executed the chapters. The decks use the
executed notebooks, so they show the same outputs and figures as the book. Code cells are
hidden unless tagged ``slides-show-code``; cells with ``slide_type: notes`` become speaker
notes (press S). Everything the decks load is copied into the site from ``node_modules``
(``npm ci``), so they work with no network at all.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import nbformat
import yaml
from nbconvert import SlidesExporter
from nbconvert.preprocessors import TagRemovePreprocessor
from traitlets.config import Config

REPO = Path(__file__).resolve().parents[1]
EXECUTED = REPO / "_build" / "jupyter_execute"
SLIDES = REPO / "_build" / "html" / "slides"
NODE = REPO / "node_modules"
ASSETS = {  # source in node_modules -> name under slides/
    "reveal.js/dist": "reveal.js/dist",
    "reveal.js/plugin/notes": "reveal.js/plugin/notes",
    "requirejs/require.js": "require.js",
    "jquery/dist/jquery.min.js": "jquery.min.js",
}


def copy_assets() -> None:
    for src, dst in ASSETS.items():
        source, target = NODE / src, SLIDES / dst
        if not source.exists():
            sys.exit(f"error: {source} is missing; run `npm ci` (make site does)")
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)


def exporter() -> SlidesExporter:
    c = Config()
    c.SlidesExporter.reveal_url_prefix = "reveal.js"
    c.SlidesExporter.require_js_url = "require.js"
    c.SlidesExporter.jquery_url = "jquery.min.js"
    c.SlidesExporter.mathjax_url = ""
    c.SlidesExporter.font_awesome_url = ""
    c.SlidesExporter.reveal_scroll = True
    c.SlidesExporter.exclude_input_prompt = True  # no "In [3]:" / "Out[3]:" in front of an audience
    c.SlidesExporter.exclude_output_prompt = True
    c.SlidesExporter.reveal_theme = "white"  # its fonts ship with reveal.js ("simple" fetches Google Fonts)
    c.SlidesExporter.extra_template_basedirs = [str(REPO / "slides")]
    c.SlidesExporter.template_name = "cifar_reveal"
    c.TagRemovePreprocessor.remove_cell_tags = {"remove-cell"}
    c.TagRemovePreprocessor.remove_input_tags = {"slides-hide-code"}
    c.TagRemovePreprocessor.enabled = True
    ex = SlidesExporter(config=c)
    ex.register_preprocessor(TagRemovePreprocessor(config=c), enabled=True)
    return ex


def prepare(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Hide code unless a cell asks to show it; the audience sees outputs and figures."""
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if cell.cell_type == "code" and "slides-show-code" not in tags:
            tags.append("slides-hide-code")
    return nb


def chapters() -> list[str]:
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    return [c["file"] for part in toc["parts"] for c in part["chapters"]]


def main() -> int:
    SLIDES.mkdir(parents=True, exist_ok=True)
    copy_assets()
    ex = exporter()
    for chapter in chapters():
        executed = EXECUTED / chapter
        if not executed.exists():
            sys.exit(f"error: {executed} is missing; build the book first (make site)")
        nb = prepare(nbformat.read(executed, as_version=4))
        body, _ = ex.from_notebook_node(nb, resources={"metadata": {"name": Path(chapter).stem}})
        out = SLIDES / f"{Path(chapter).stem}.slides.html"
        tmp = out.with_suffix(".tmp")
        tmp.write_text(body, encoding="utf-8")
        tmp.replace(out)
        print(f"slides: {out.relative_to(REPO)} ({body.count('<section')} sections)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
