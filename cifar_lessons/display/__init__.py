"""What the chapters show beyond figures of their own subject: run cards, tables and the recipe's plots.

- :mod:`~cifar_lessons.display.cards`: the run card every chapter starts with, one renderer for all;
- :mod:`~cifar_lessons.display.plots`: the recipe's figures (matplotlib and seaborn).

Nothing here imports a study (``fashion``, ``gradcam``, ``detection``, ``segmentation``) or trains
anything: each study draws its own figures in its ``figures`` module, with the helpers here.
"""
