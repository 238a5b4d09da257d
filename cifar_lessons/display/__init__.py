"""What the chapters show beyond figures of their own subject: run cards, tables and the recipe's plots.

- :mod:`~cifar_lessons.display.cards`: the run card every chapter starts with, one renderer for all;
- :mod:`~cifar_lessons.display.tables`: tables without pandas' index, fewer columns on a slide;
- :mod:`~cifar_lessons.display.plots`: the recipe's figures (matplotlib and seaborn);
- :mod:`~cifar_lessons.display.code`: the recipe's own functions, shown in the chapter that teaches them.
- :mod:`~cifar_lessons.display.concepts`: diagrams of the ideas the chapters teach (a kernel sliding over
  an image, a residual block, the two-phase recipe, feature maps).

The names a chapter calls are importable from here (``from cifar_lessons.display import run_card``);
the figures are not, so that a card does not import matplotlib. Nothing here imports a study
(``fashion``, ``gradcam``, ``detection``, ``segmentation``) or trains anything.
"""

from .cards import model_line, record_card, run_card, run_card_line, shown_backbone, training_line
from .code import show_code
from .provenance import provenance
from .tables import results_table, show_results, show_table

__all__ = [
    "model_line",
    "provenance",
    "record_card",
    "results_table",
    "run_card",
    "run_card_line",
    "show_code",
    "show_results",
    "show_table",
    "shown_backbone",
    "training_line",
]
