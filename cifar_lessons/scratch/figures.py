"""Transfer or from scratch, as a picture: every committed run's test accuracy against its cost, and
the data-size curve, each point with its standard error.

Drawn from the committed records only (``results/``: this study's and the two-phase recipe's), so the
figure in the book is the measurement and nothing else. Reads JSON; imports no TensorFlow.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..records.committed import committed, single_pass_test, wall_minutes
from .study import FULL_N, RUNS, committed_runs

#: The two-phase recipe's committed records shown beside the study, and which profile made each.
RECIPE = {
    "lite0-32-seed": "two-phase recipe, seed profile, 32 px",
    "lite0-128-better": "two-phase recipe, better profile, 128 px",
}
#: A run that started with a 1-minute load average above this shared its 2 cores (marked † in the figure).
BUSY_LOAD = 2.0
COLOURS = {"scratch": "tab:orange", "head": "tab:blue", "recipe": "tab:green"}
FAMILY_NAMES = {
    "scratch": "from scratch (small CNN, 32 px)",
    "head": "ImageNet base frozen, head only",
    "recipe": "ImageNet base, two-phase recipe",
}


def standard_error(p: float, n: int) -> float:
    """The standard error of an accuracy ``p`` measured on ``n`` test images: ``sqrt(p(1-p)/n)``.

    Why it matters here: at n = 10,000 it is about half a point, so two runs closer than about a
    point (twice the error of their difference) are not shown to differ by one test set.
    """
    return math.sqrt(p * (1 - p) / n)


@dataclass(frozen=True)
class Point:
    """One committed run as the figure shows it."""

    name: str
    label: str
    family: str  # scratch, head or recipe
    n: int  # training images, the validation tenth included
    image_size: int
    minutes: float
    accuracy: float
    n_test: int
    busy: bool
    cpu_minutes: float | None = None  # the process's CPU time; the recipe's records do not keep it

    @property
    def se(self) -> float:
        return standard_error(self.accuracy, self.n_test)


def study_point(rec: Mapping) -> Point:
    """A point from one of this study's records (as :func:`.study.check_record` reads it)."""
    r, spec = rec["record"], rec["record"]["run"]
    aug = " + flips, crops" if spec["augment"] else ""
    label = f"{'from scratch' if spec['method'] == 'scratch' else 'head only'}, {spec['image_size']} px{aug}"
    return Point(
        rec["name"],
        label,
        spec["method"],
        spec["n"],
        spec["image_size"],
        r["timing"]["run_seconds"] / 60,
        rec["metrics"]["accuracy"],
        r["data"]["n_test"],
        r["load_average"]["start"][0] > BUSY_LOAD,
        r["timing"]["cpu_seconds"] / 60,
    )


def recipe_point(name: str, root=None) -> Point:
    """A point from a committed record of the two-phase recipe (its load was not recorded)."""
    rec = committed(name, root)
    return Point(
        name,
        RECIPE[name],
        "recipe",
        rec.config["n"],
        rec.config["image_size"],
        wall_minutes(rec),
        single_pass_test(rec),  # as every other point: without mirrored test images
        rec.data["n_test"],
        False,
    )


def points(root: str | os.PathLike | None = None) -> list[Point]:
    """Every committed run of the comparison, the recipe's two first; runs not measured yet are left out."""
    runs = committed_runs(root)
    study = [study_point(runs[spec.name]) for spec in RUNS if runs[spec.name]]
    return [recipe_point(name, root) for name in RECIPE] + study


def _errorbar(ax, xs: Sequence[float], ys: Sequence[Point], family: str, **style) -> None:
    ax.errorbar(
        xs,
        [p.accuracy * 100 for p in ys],
        yerr=[p.se * 100 for p in ys],
        color=COLOURS[family],
        capsize=3,
        zorder=3,
        **style,
    )


def label_heights(pts: Sequence[Point], gap: float = 3.5, near: float = 6.0) -> list[float]:
    """Where each point's two-line label goes (percentage points): at its point, or ``gap`` above the
    label of a point less than ``near`` minutes to its side, so two close runs' labels never overlap."""
    placed: list[tuple[float, float]] = []  # (minutes, label height) of the labels placed so far
    heights = {}
    for p in sorted(pts, key=lambda p: p.accuracy):
        below = [h for m, h in placed if abs(m - p.minutes) < near]
        heights[p.name] = max([p.accuracy * 100, *(h + gap for h in below)])
        placed.append((p.minutes, heights[p.name]))
    return [heights[p.name] for p in pts]


def cost_panel(ax, pts: Sequence[Point]) -> None:
    """Test accuracy against the whole run's wall time, one labelled point per full-size run."""
    full = [p for p in pts if p.n == FULL_N]
    for family in COLOURS:
        mine = [p for p in full if p.family == family]
        if mine:
            _errorbar(ax, [p.minutes for p in mine], mine, family, fmt="o", label=FAMILY_NAMES[family])
    for p, label_y in zip(full, label_heights(full)):
        moved = label_y - p.accuracy * 100 > 0.5
        ax.annotate(
            f"{p.label}{' †' if p.busy else ''}\n{p.accuracy:.1%} ± {p.se:.1%}"
            + (f", CPU {p.cpu_minutes:.1f} min" if p.cpu_minutes is not None else ""),
            (p.minutes, p.accuracy * 100),
            xytext=(p.minutes + (2.5 if moved else 0.6), label_y - 1.2),
            textcoords="data",
            fontsize=7.5,
            arrowprops=dict(arrowstyle="-", color="grey", lw=0.6) if moved else None,
        )
    ax.set_xlim(0, max(p.minutes for p in full) * 1.45)
    ax.set_xlabel("wall time of the whole run (minutes, 2 CPU cores)")
    ax.set_ylabel("test accuracy (%), ± 1 standard error")
    ax.set_title("10,000 training images: accuracy against cost", fontsize=10)
    ax.legend(fontsize=7.5, loc="lower right")
    ax.grid(alpha=0.3)


def size_panel(ax, pts: Sequence[Point]) -> None:
    """Test accuracy against the number of training images, one line per method."""
    lines = {
        "from scratch, 32 px + flips, crops": (
            "scratch",
            lambda p: p.family == "scratch" and "flips" in p.name,
        ),
        "head only, 32 px": ("head", lambda p: p.family == "head" and p.image_size == 32),
        "head only, 128 px": ("head", lambda p: p.family == "head" and p.image_size == 128),
    }
    for label, (family, keep) in lines.items():
        mine = sorted((p for p in pts if keep(p)), key=lambda p: p.n)
        if mine:
            style = "s--" if label.endswith("32 px") else "o-"
            _errorbar(ax, [p.n for p in mine], mine, family, fmt=style, label=label)
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xlim(800, 13_000)
    ax.set_xticks([1_000, 2_500, 10_000], ["1,000", "2,500", "10,000"])
    ax.set_ylabel("test accuracy (%)")
    ax.set_xlabel("training images n (the last 10 % validate)")
    ax.set_title("Data size (same test set; equal optimiser steps)", fontsize=10)
    ax.legend(fontsize=7.5, loc="best")
    ax.grid(alpha=0.3)


def scratch_transfer_figure(root: str | os.PathLike | None = None):
    """The two panels side by side, from the committed records (``root``: another results folder)."""
    import matplotlib.pyplot as plt

    pts = points(root)
    fig, (cost, size) = plt.subplots(1, 2, figsize=(12, 4.6), gridspec_kw={"width_ratios": [1.4, 1]})
    cost_panel(cost, pts)
    size_panel(size, pts)
    if any(p.busy for p in pts):
        fig.text(
            0.01,
            0.01,
            "† started with a 1-minute load average above 2 on the shared 2-core machine: its wall time is "
            "longer than on a quiet one.\nCPU: the minutes of CPU time the run used; on 2 quiet cores its "
            "wall time would be at least half that.",
            fontsize=7.5,
        )
    fig.suptitle(
        "Transfer or from scratch: CIFAR-10, all 10,000 test images (EfficientNet-Lite0 for transfer)",
        fontsize=11,
    )
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    plt.close(fig)
    return fig
