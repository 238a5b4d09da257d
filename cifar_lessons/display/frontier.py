"""Accuracy against compute for the backbones and input sizes measured (chapter 6b, "the frontier").

Each committed recipe run is a point: the whole run's wall minutes on 2 CPU cores, and its
single-pass test accuracy with its standard error. The frontier joins the runs that no other run
beats on both counts, faster *and* at least as accurate: what a reader with a time budget should
choose from. The choice of a recipe is still made on validation (chapter 6's table); this chart
only shows what the measured runs cost and gave, once each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ..backbones import backbone_name
from ..records.committed import committed, single_pass_test, standard_error, validation_accuracy, wall_minutes
from .plots import stacked_label_heights

#: The recipe runs the frontier shows: Lite0's better recipe at 32, 96 and 128 px, the larger
#: backbones, and Lite1 at 128 px with label smoothing (its label says so). The 128 px run's other
#: seeds are left out: the same recipe, whose wall times were stretched by other work on the machine
#: (their spread is chapter 6's headline instead).
FRONTIER_RECORDS: tuple[str, ...] = (
    "lite0-32-better",
    "lite0-96-better",
    "lite0-128-better",
    "lite1-112-better",
    "lite1-128-better",
    "lite1-128-better-ls",
    "lite2-96-better",
    "lite2-112-better",
)

#: Where the 90 % goal and the 30-minute budget of issue 26 are drawn.
GOAL_ACCURACY = 0.90
BUDGET_MINUTES = 30.0
#: The right panel enlarges the runs within this many points of the best test accuracy.
ZOOM_POINTS = 4.0


@dataclass(frozen=True)
class Point:
    """One run on the chart."""

    record: str
    backbone: str
    image_size: int
    minutes: float
    test: float
    n_test: int
    validation: float | None
    label_smoothing: float = 0.0

    @property
    def test_se(self) -> float:
        return standard_error(self.test, self.n_test)

    @property
    def label(self) -> str:
        """The point's label on the chart: its input size, and what else differs from the better recipe."""
        smoothing = f", label smoothing {self.label_smoothing:g}" if self.label_smoothing else ""
        return f"{self.image_size} px{smoothing}"


def point(name: str, root: Path | None = None) -> Point:
    rec = committed(name, root)
    config = rec.record["config"]
    return Point(
        record=name,
        backbone=config["backbone"],
        image_size=int(config["image_size"]),
        minutes=wall_minutes(rec),
        test=single_pass_test(rec),
        n_test=int(rec.metrics["n_test"]),
        validation=validation_accuracy(rec),
        # Records made before the option existed have no such field: they ran without smoothing.
        label_smoothing=float(config.get("label_smoothing", 0.0)),
    )


def pareto_front(minutes: Sequence[float], accuracy: Sequence[float]) -> list[int]:
    """The indices of the runs no other run dominates (no slower, no less accurate, better in one),
    ordered by time: the frontier's corners."""
    runs = list(zip(minutes, accuracy))
    front = []
    for i, (m, a) in enumerate(runs):
        if not any(m2 <= m and a2 >= a and (m2 < m or a2 > a) for m2, a2 in runs):
            front.append(i)
    return sorted(front, key=lambda i: (minutes[i], accuracy[i]))


def frontier_figure(names: Sequence[str] = FRONTIER_RECORDS, root: Path | None = None) -> Figure:
    """Test accuracy ± one standard error against wall minutes, one colour per backbone, with the
    frontier drawn as a staircase and the 90 % goal and the 30-minute budget as dashed lines.

    Two panels: every run on the left; on the right the runs within :data:`ZOOM_POINTS` of the best,
    where most of them crowd, enlarged and labelled one per line so that no label hides another."""
    points = [point(n, root) for n in names]
    best = max(p.test for p in points) * 100
    top = max(GOAL_ACCURACY * 100, best) + 1.0
    near = [p for p in points if p.test * 100 >= best - ZOOM_POINTS]
    fig, (ax, zoom) = plt.subplots(1, 2, figsize=(9.5, 4.8), gridspec_kw={"width_ratios": [1, 1.25]})
    backbones = list(dict.fromkeys(p.backbone for p in points))
    colours = dict(zip(backbones, ("tab:blue", "tab:orange", "tab:green", "tab:purple")))
    markers = dict(zip(backbones, ("o", "s", "D", "^")))
    front = pareto_front([p.minutes for p in points], [p.test for p in points])
    xs = [points[i].minutes for i in front]
    ys = [points[i].test * 100 for i in front]
    for panel in (ax, zoom):
        for b in backbones:
            mine = [p for p in points if p.backbone == b]
            panel.errorbar(
                [p.minutes for p in mine],
                [p.test * 100 for p in mine],
                yerr=[p.test_se * 100 for p in mine],
                fmt=markers[b],
                color=colours[b],
                capsize=3,
                label=backbone_name(b),
                zorder=3,
            )
        panel.step(xs, ys, where="post", color="0.4", lw=1, ls="-", zorder=2, label="frontier")
        panel.axhline(GOAL_ACCURACY * 100, color="tab:red", ls="--", lw=0.8)
        panel.axvline(BUDGET_MINUTES, color="tab:red", ls=":", lw=0.8)
        panel.grid(alpha=0.3)
        panel.set_xlabel("wall time of the whole run (min, 2 CPU cores)")
    # Left: every run; only the runs outside the zoom are labelled here.
    for p in points:
        if p not in near:
            ax.annotate(
                p.label,
                (p.minutes, p.test * 100),
                xytext=(5, -11),
                textcoords="offset points",
                fontsize=9,
                color="0.3",
            )
    low = min(p.test for p in points) * 100
    ax.set_ylim(max(0, low - 3), top)
    ax.set_xlim(0, max(max(p.minutes for p in points) * 1.1, BUDGET_MINUTES * 1.2))
    ax.text(1, GOAL_ACCURACY * 100 + 0.2, "goal: 90 %", color="tab:red", fontsize=9, va="bottom")
    ax.text(
        BUDGET_MINUTES - 0.5, max(0, low - 3) + 0.5, "budget: 30 min", color="tab:red", fontsize=9, ha="right"
    )
    ax.set_ylabel("test accuracy, single pass (%)")
    ax.set_title("Every run", fontsize=10)
    ax.legend(fontsize=9, loc="center right")
    # Right: the crowded top, each label on its own line, joined to its point when it had to move.
    lo = min(p.test for p in near) * 100 - 1.0
    gap = (top - lo) / 14
    left, right = min(p.minutes for p in near) - 1.5, max(max(p.minutes for p in near), BUDGET_MINUTES) + 1.0
    label_x = right + 0.5
    placed = stacked_label_heights([p.test * 100 for p in near], gap)
    for p, label_y in zip(near, placed):
        y = p.test * 100
        zoom.annotate(
            f"{backbone_name(p.backbone).removeprefix('EfficientNet-')} {p.label}",
            (p.minutes, y),
            xytext=(label_x, label_y),
            textcoords="data",
            va="center",
            fontsize=9,
            color="0.25",
            arrowprops=dict(arrowstyle="-", color="0.6", lw=0.6),
        )
    zoom.set_ylim(lo, max(top, max(placed) + gap))
    zoom.set_xlim(left, right + (right - left) * 1.15)
    zoom.set_title(f"The runs within {ZOOM_POINTS:g} points of the best, enlarged", fontsize=10)
    fig.suptitle("Accuracy against compute: each committed run once, ± one standard error", fontsize=11)
    fig.tight_layout()
    plt.close(fig)
    return fig


def frontier_rows(names: Sequence[str] = FRONTIER_RECORDS, root: Path | None = None) -> list[dict]:
    """The records' table: backbone, size, validation and test accuracy, wall time."""
    rows = []
    for p in (point(n, root) for n in names):
        rows.append(
            {
                "record": p.record,
                "backbone": backbone_name(p.backbone),
                "input": p.label,
                "validation accuracy": "none" if p.validation is None else f"{p.validation:.1%}",
                "test accuracy": f"{p.test:.1%} ± {p.test_se:.1%}",
                "wall time": f"{p.minutes:.1f} min",
            }
        )
    return rows
