"""Chapter 6's ladder as the book shows it: the table of its steps and accuracy against wall time.

The steps and their records are data (:data:`cifar_lessons.records.committed.LADDER`); this is
how they look.
"""

from __future__ import annotations

from pathlib import Path

from ..records.committed import EXTRA, LADDER, committed, ladder_rows, step_accuracy, wall_minutes
from .plots import accuracy_against_time


def ladder_table(steps=LADDER, root: Path | None = None):
    """:func:`ladder_rows` as a DataFrame, for the book, the takeaways and the presentation."""
    import pandas as pd

    return pd.DataFrame(ladder_rows(steps, root))


def accuracy_time_figure(steps=LADDER + EXTRA, root: Path | None = None):
    """Test accuracy against wall time, one point per measured run (single-pass steps left out:
    their run is the same as the next step's)."""
    points = []
    for step in steps:
        if step.single_pass:
            continue
        rec = committed(step.record, root)
        points.append(
            (wall_minutes(rec), step_accuracy(step, rec), f"{step.record} ({step_accuracy(step, rec):.1%})")
        )
    minutes, accuracy, labels = zip(*points)
    return accuracy_against_time(
        minutes,
        accuracy,
        labels,
        title="Committed runs: test accuracy against wall time (EfficientNet-Lite0, 2 CPU cores)",
    )
