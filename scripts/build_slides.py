"""Build a reveal.js deck and its PDF for every executed chapter, into ``_build/html/slides/``.

Run by ``make site`` after Jupyter Book has built the book. The decks use the executed
notebooks from the build's execution cache (``_build/.jupyter_cache``, filled by
``scripts/execute_chapters.py``), so they show the same outputs and figures as the book. What
reaches a slide:

- code only from cells tagged ``slides-show-code``;
- printed text (stdout) only from cells tagged ``slides-show-output``, and even then without
  log lines or progress bars; stderr never (TensorFlow's start-up log, warnings);
- a cell tagged ``slides-output-to-notes`` keeps its code on the slide and puts its outputs
  in the speaker notes (a model summary, say);
- a figure is stretched to the height left on its slide (reveal.js's ``r-stretch``);
- cells with ``slide_type: notes`` and HTML with class ``deck-notes`` (the full run card)
  become speaker notes (press S).

Each deck is then printed to ``<deck>.pdf`` by headless Chromium through reveal.js's print
view (``?print-pdf``), one page per slide. Everything the decks load is copied into the site
from ``node_modules`` (``npm ci``), so they work with no network at all.
"""

from __future__ import annotations

import copy
import functools
import http.server
import os
import re
import shutil
import sys
import threading
from pathlib import Path

import nbformat
import yaml
from nbconvert import SlidesExporter
from nbconvert.preprocessors import CoalesceStreamsPreprocessor, Preprocessor, TagRemovePreprocessor
from traitlets.config import Config

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / "_build" / ".jupyter_cache"
SLIDES = REPO / "_build" / "html" / "slides"
#: TOC parts whose notebooks get no deck: the student's starter and solution are worked in, not presented.
NO_DECK_PARTS = ("Your project",)
NODE = REPO / "node_modules"
#: What the site and the decks copy of MathJax (``make site`` copies the same into the book's static files).
MATHJAX_PARTS = ("tex-chtml.js", "output/chtml/fonts", "input/tex/extensions", "ui", "a11y")
ASSETS = {  # source in node_modules -> name under slides/
    "reveal.js/dist": "reveal.js/dist",
    "reveal.js/plugin/notes": "reveal.js/plugin/notes",
    "requirejs/require.js": "require.js",
    "jquery/dist/jquery.min.js": "jquery.min.js",
    # MathJax for the chapters' formulas: the TeX-to-HTML build, its fonts, and the parts it loads
    # on demand (TeX extensions, the right-click menu and its accessibility), not the 24 MB whole.
    **{f"mathjax/es5/{part}": f"mathjax/{part}" for part in MATHJAX_PARTS},
}
# The slide canvas reveal.js scales to the screen: at 1280x720 it is drawn at 0.99 of its size, at
# 1024x768 at 0.94, so the template's smallest text (19 px) renders at 17.8 px or more.
WIDTH, HEIGHT, MARGIN = 1050, 700, 0.04
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"

SHOW_OUTPUT, OUTPUT_TO_NOTES, FIGURE = "slides-show-output", "slides-output-to-notes", "slides-figure"
# Lines of printed output that never reach a slide: TensorFlow/absl logging (I0000 ..., E0000 ...,
# WARNING: ...), CUDA and oneDNN notices, Keras's epoch and progress lines, tracebacks.
LOG_LINE = re.compile(
    r"^\s*(WARNING:|[IWEF]\d{4} |Epoch \d+/\d+|\d+/\d+ [-━\[])|cuInit|cuda_|oneDNN|ms/step|s/step"
    r"|Traceback|━|\r"
)


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


def is_log(line: str) -> bool:
    return bool(LOG_LINE.search(line.rstrip("\n")))


class DeckOutputs(Preprocessor):
    """Only what a slide should show: no stderr, no log lines or progress bars, stdout by tag only."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        show = SHOW_OUTPUT in cell.metadata.get("tags", [])
        kept = []
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                if out.name != "stdout" or not show:
                    continue
                text = "".join(line for line in out.text.splitlines(keepends=True) if not is_log(line))
                if not text.strip():
                    continue
                out = copy.deepcopy(out)
                out.text = text
            kept.append(out)
        cell.outputs = kept
        return cell, resources


def exporter() -> SlidesExporter:
    c = Config()
    c.SlidesExporter.reveal_url_prefix = "reveal.js"
    c.SlidesExporter.require_js_url = "require.js"
    c.SlidesExporter.jquery_url = "jquery.min.js"
    c.SlidesExporter.mathjax_url = "mathjax/tex-chtml.js"  # from the site, as reveal.js is
    c.SlidesExporter.font_awesome_url = ""
    c.SlidesExporter.reveal_scroll = False  # a slide never scrolls: its content is made to fit
    c.SlidesExporter.reveal_width = str(WIDTH)
    c.SlidesExporter.reveal_height = str(HEIGHT)
    c.SlidesExporter.exclude_input_prompt = True  # no "In [3]:" / "Out[3]:" in front of an audience
    c.SlidesExporter.exclude_output_prompt = True
    c.SlidesExporter.reveal_theme = "white"  # its fonts ship with reveal.js ("simple" fetches Google Fonts)
    c.SlidesExporter.extra_template_basedirs = [str(REPO / "slides")]
    c.SlidesExporter.template_name = "cifar_reveal"
    # A chapter's exercises and their solutions are for reading, not presenting.
    c.TagRemovePreprocessor.remove_cell_tags = {"remove-cell", "exercises"}
    c.TagRemovePreprocessor.remove_input_tags = {"slides-hide-code"}
    c.TagRemovePreprocessor.enabled = True
    ex = SlidesExporter(config=c)
    ex.register_preprocessor(TagRemovePreprocessor(config=c), enabled=True)
    ex.register_preprocessor(DeckOutputs(), enabled=True)
    ex.register_preprocessor(CoalesceStreamsPreprocessor(), enabled=True)
    return ex


def has_figure(cell) -> bool:
    return any(k.startswith("image/") for out in cell.get("outputs", []) for k in out.get("data", {}))


def prepare(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Hide code unless a cell asks to show it; mark figures; move outputs to notes where asked."""
    cells = []
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        cells.append(cell)
        if cell.cell_type != "code":
            continue
        if "slides-show-code" not in tags:
            tags.append("slides-hide-code")
        if has_figure(cell):
            tags.append(FIGURE)
        if OUTPUT_TO_NOTES in tags:
            notes = copy.deepcopy(cell)
            notes.metadata["slideshow"] = {"slide_type": "notes"}
            notes.metadata["tags"] = [
                t for t in tags if t not in ("slides-show-code", OUTPUT_TO_NOTES, FIGURE)
            ]
            notes.metadata["tags"] += ["slides-hide-code", SHOW_OUTPUT]
            notes["id"] = f"{cell.get('id', 'cell')}-notes"[:64]
            cell.outputs = []
            cells.append(notes)
    nb.cells = cells
    return nb


@functools.cache
def _serve(root: Path) -> str:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{httpd.server_address[1]}/"


def print_pdfs(stems: list[str]) -> None:
    """Each deck to ``<stem>.pdf`` with reveal.js's print view in headless Chromium: a page per slide."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        sys.exit(
            f"error: {CHROMIUM} is missing: the PDFs need Chromium (make setup installs it; or set CHROMIUM)"
        )
    # The whole site is served, not only slides/: the presentation's live slide loads ../_static and ../demo.
    base = _serve(SLIDES.parent) + "slides/"
    page_w, page_h = int(WIDTH * (1 + MARGIN)), int(HEIGHT * (1 + MARGIN))  # what reveal's print view uses
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for stem in stems:
            page = browser.new_page(viewport={"width": page_w, "height": page_h})
            page.goto(f"{base}{stem}.slides.html?print-pdf", wait_until="load")
            page.wait_for_function(
                "() => window.Reveal && Reveal.isReady() && document.querySelector('.pdf-page')",
                timeout=60_000,
            )
            page.wait_for_timeout(300)  # reveal lays the pages out over a few animation frames
            # and MathJax typesets the formulas once loaded (deferred): wait for it to finish.
            page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
            # and the live classifier (the presentation's last slide) shows its first prediction.
            page.evaluate("() => window.cifarDemo ? window.cifarDemo.ready : null")
            slides, pages = page.evaluate(
                "() => [Reveal.getTotalSlides(), document.querySelectorAll('.pdf-page').length]"
            )
            if slides != pages:
                sys.exit(f"error: {stem}: {pages} print pages for {slides} slides")
            out = SLIDES / f"{stem}.pdf"
            tmp = out.with_suffix(".tmp")
            page.pdf(path=str(tmp), print_background=True, prefer_css_page_size=True)
            tmp.replace(out)
            print(f"slides: {out.relative_to(REPO)} ({pages} pages)")
            page.close()
        browser.close()


def executed(chapter: str) -> nbformat.NotebookNode:
    """The chapter with this build's outputs, from the execution cache the book was built from.

    Not ``_build/jupyter_execute``: when the book reads a chapter from the cache, myst-nb writes
    the notebook there without its outputs.
    """
    from jupyter_cache import get_cache

    source = nbformat.read(REPO / chapter, as_version=4)
    try:
        _, nb = get_cache(str(CACHE)).merge_match_into_notebook(source)
    except KeyError:
        sys.exit(
            f"error: {chapter} has no executed copy in {CACHE.relative_to(REPO)}; build the book first "
            "(make site)"
        )
    return nb


def chapters() -> list[str]:
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    # Notebooks only: the appendix's Markdown pages have no deck, nor the student's own notebooks (their
    # project part), which are worked in rather than presented.
    return [
        c["file"]
        for part in toc["parts"]
        for c in part["chapters"]
        if c["file"].endswith(".ipynb") and part.get("caption") not in NO_DECK_PARTS
    ]


def main(only: list[str] | None = None) -> int:
    """Every chapter's deck, or only those named by stem (``build_slides.py 09_detection``): one
    chapter's deck in seconds, from its executed notebook, while writing it."""
    SLIDES.mkdir(parents=True, exist_ok=True)
    copy_assets()
    ex = exporter()
    stems = []
    wanted = chapters() if not only else [c for c in chapters() if Path(c).stem in only]
    if only and len(wanted) != len(set(only)):
        sys.exit(f"error: not in _toc.yml: {', '.join(sorted(set(only) - {Path(c).stem for c in wanted}))}")
    for chapter in wanted:
        nb = prepare(executed(chapter))
        body, _ = ex.from_notebook_node(
            nb, resources={"metadata": {"name": Path(chapter).stem}, "deck": {"margin": MARGIN}}
        )
        out = SLIDES / f"{Path(chapter).stem}.slides.html"
        tmp = out.with_suffix(".tmp")
        tmp.write_text(body, encoding="utf-8")
        tmp.replace(out)
        print(f"slides: {out.relative_to(REPO)} ({body.count('<section')} sections)")
        stems.append(Path(chapter).stem)
    print_pdfs(stems)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
