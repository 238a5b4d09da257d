"""Chapter 6's ladder as the book shows it: the table of its steps, its validation figure, and accuracy
against wall time.

The steps and their records are data (:data:`cifar_lessons.records.committed.LADDER`); this is
how they look.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from ..records.committed import (
    EXTRA,
    LADDER,
    committed,
    ladder_rows,
    standard_error,
    step_accuracy,
    validation_accuracy,
    verdicts,
    wall_minutes,
)
from .plots import accuracy_against_time

#: The columns the takeaways and the presentation show: what each run measured.
MEASURED = ("change", "input", "epochs", "test accuracy", "gain", "wall time", "record")
#: Chapter 6's columns: each step judged on validation, and what it cost; no test accuracy.
JUDGED = ("change", "validation accuracy", "validation gain", "kept?", "wall time")


def ladder_table(steps=LADDER, root: Path | None = None, columns=MEASURED):
    """:func:`ladder_rows` as a DataFrame, with ``columns`` (chapter 6 asks for :data:`JUDGED`)."""
    import pandas as pd

    return pd.DataFrame(ladder_rows(steps, root))[list(columns)]


def accuracy_time_figure(steps=LADDER + EXTRA, root: Path | None = None, on: str = "test"):
    """Accuracy against wall time, one point per measured run (single-pass and test-time-only steps
    left out: their run is another step's). ``on="validation"`` plots the figure chapter 6 chooses
    by, the last epoch's validation accuracy; ``"test"`` the test accuracy each run measured."""
    if on not in ("test", "validation"):
        raise ValueError(f"on must be 'test' or 'validation', got {on!r}")
    points = []
    for step in steps:
        if step.single_pass or (on == "validation" and step.test_time):
            continue
        rec = committed(step.record, root)
        acc = validation_accuracy(rec) if on == "validation" else step_accuracy(step, rec)
        points.append((wall_minutes(rec), acc, f"{step.record} ({acc:.1%})"))
    minutes, accuracy, labels = zip(*points)
    what = "Validation" if on == "validation" else "Test"
    return accuracy_against_time(
        minutes,
        accuracy,
        labels,
        title=f"Committed runs: {what.lower()} accuracy against wall time (EfficientNet-Lite0, 2 CPU cores)",
        ylabel=f"{what.lower()} accuracy (%)",
    )


def validation_figure(steps=LADDER, root: Path | None = None):
    """The ladder as chapter 6 judges it: each step's validation accuracy ± one standard error, in
    the order the steps were added, kept steps filled and dropped ones hollow. A step whose bar of
    uncertainty overlaps the one before is no evidence either way; that is the picture's point.
    Steps with no validation figure (mirrored test images) are left out: nothing judged them."""
    judged = [v for v in verdicts(steps, root) if v.validation is not None]
    fig, ax = plt.subplots(figsize=(8, 2.9))
    for i, v in enumerate(judged):
        acc, se = v.validation * 100, standard_error(v.validation, v.n_validation) * 100
        ax.errorbar(
            acc,
            i,
            xerr=se,
            fmt="o",
            color="tab:blue",
            capsize=3,
            markerfacecolor="tab:blue" if v.kept else "white",
            markersize=7,
        )
        ax.annotate(
            f"{acc:.1f} %  {v.says}",
            (acc + se, i),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
            color="0.25",
        )
    ax.set_yticks(range(len(judged)), [v.step.change for v in judged], fontsize=8)
    ax.invert_yaxis()
    low = min(v.validation for v in judged) * 100
    ax.set_xlim(low - 4, 100)
    ax.set_xlabel(f"validation accuracy (%), ± one standard error on {judged[0].n_validation:,} images")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("One change at a time: filled, kept; hollow, dropped", fontsize=10)
    fig.tight_layout()
    plt.close(fig)
    return fig
