"""The recipe's own code, shown in the chapter that teaches it (d2l's ``#@save`` the other way round).

A chapter calls ``show_code(train_head)``: the page shows the source of the very function its run
calls, highlighted, under the file it lives in. The book cannot show one thing and run another,
and ``tests/test_literate_code.py`` checks that each function a chapter shows is one the recipe
runs. The functions shown are written in plain Keras with the course's names; what the package
adds around them (cached features, backups, timing, run cards) lives in other functions.

Imports no TensorFlow: the source is read with :mod:`inspect`, highlighted with Pygments.
"""

from __future__ import annotations

import html
import inspect
import textwrap
from pathlib import Path

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

PACKAGE = Path(__file__).resolve().parents[1]

#: Inline styles, so the code looks the same in the book, the decks and Colab (no style sheet needed).
BOX = (
    "background:#f5f5f5;border-left:4px solid #4c72b0;padding:0.45em 0.8em;margin:0.3em 0 0.6em 0;"
    "overflow-x:auto"
)
PRE = "margin:0;font-size:0.8em;line-height:1.4;white-space:pre-wrap;background:none;border:none;padding:0"
CAPTION = "font-size:0.78em;color:#555;margin:0 0 0.25em 0;font-family:sans-serif"


def where(func) -> str:
    """``cifar_lessons/training.py: train_head``: the file and the name, as a reader finds them."""
    path = Path(inspect.getsourcefile(func)).resolve()
    try:
        shown = path.relative_to(PACKAGE.parent).as_posix()
    except ValueError:
        shown = path.name
    return f"{shown}: {func.__qualname__}"


def source_of(func) -> str:
    """The function's source as written in its module, dedented, without a trailing newline."""
    return textwrap.dedent(inspect.getsource(func)).rstrip()


class ShownCode:
    """A function's source for a notebook: highlighted HTML, and the plain source as text."""

    def __init__(self, func):
        self.func = func
        self.source = source_of(func)
        self.caption = where(func)

    def _repr_html_(self) -> str:
        code = highlight(
            self.source, PythonLexer(), HtmlFormatter(noclasses=True, nowrap=True, style="default")
        )
        return (
            f"<div class='shown-code' style='{BOX}'>"
            f"<p class='shown-code-caption' style='{CAPTION}'>from {html.escape(self.caption)}</p>"
            f"<pre style='{PRE}'>{code}</pre></div>"
        )

    def __repr__(self) -> str:
        return f"# from {self.caption}\n{self.source}"


def show_code(*funcs) -> None:
    """Show each function's source, in order, where the chapter calls this."""
    from IPython.display import display

    for func in funcs:
        display(ShownCode(func))
