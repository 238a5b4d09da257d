"""The accuracy-against-compute frontier of chapter 6 (issue 26): which runs it keeps, and its figure."""

from __future__ import annotations

import pytest


def test_the_front_keeps_only_runs_nothing_beats_on_both_time_and_accuracy():
    from cifar_lessons.display.frontier import pareto_front

    minutes = [6.0, 17.0, 29.0, 20.0, 35.0, 29.0]
    accuracy = [0.68, 0.866, 0.882, 0.85, 0.88, 0.882]
    # 20 min at 85 % is beaten by 17 min at 86.6 %; 35 min at 88 % by 29 min at 88.2 %;
    # of two equal runs neither dominates the other, so both stay.
    assert pareto_front(minutes, accuracy) == [0, 1, 2, 5]


def test_every_point_is_the_single_pass_test_accuracy():
    from cifar_lessons.display.frontier import point

    p = point("lite0-128-better")
    assert p.test == pytest.approx(0.882)  # not the 88.7 % with mirrored test images
    assert p.test_se == pytest.approx((0.882 * 0.118 / 10_000) ** 0.5)
    assert p.backbone == "efficientnet_lite0" and p.image_size == 128


def test_the_figure_draws_each_record_and_the_frontier():
    from cifar_lessons.display.frontier import FRONTIER_RECORDS, frontier_figure, frontier_rows

    fig = frontier_figure()
    ax = fig.axes[0]
    drawn = sum(len(c.get_children()) > 0 for c in ax.containers)
    assert drawn == len({r["backbone"] for r in frontier_rows()})
    assert any(line.get_label() == "frontier" for line in ax.get_lines())
    assert [r["record"] for r in frontier_rows()] == list(FRONTIER_RECORDS)


def test_a_run_with_label_smoothing_says_so_on_the_chart_and_in_the_table(tmp_path):
    """A point that differs from the better recipe in more than its size must not pass for it."""
    import json
    import shutil

    from conftest import REPO

    from cifar_lessons.display.frontier import frontier_figure, frontier_rows, point

    for name in ("lite0-96-better", "lite0-128-better"):
        shutil.copytree(REPO / "results" / name, tmp_path / name)
    record = tmp_path / "lite0-128-better" / "record.json"
    data = json.loads(record.read_text())
    data["config"]["label_smoothing"] = 0.1
    record.write_text(json.dumps(data))
    names = ("lite0-96-better", "lite0-128-better")
    assert point("lite0-96-better", tmp_path).label == "96 px"
    assert [r["input"] for r in frontier_rows(names, tmp_path)] == ["96 px", "128 px, label smoothing 0.1"]
    texts = [t.get_text() for ax in frontier_figure(names, tmp_path).axes for t in ax.texts]
    assert "Lite0 128 px, label smoothing 0.1" in texts and "Lite0 96 px" in texts


def test_labels_stack_bottom_up_at_least_a_gap_apart_in_the_order_given():
    from cifar_lessons.display.plots import stacked_label_heights

    # 88.8 is 0.6 above 88.2 and stays; 89.0 is only 0.2 above 88.8, so it moves up to 88.8 + 0.5.
    assert stacked_label_heights([88.2, 89.0, 88.8], 0.5) == pytest.approx([88.2, 89.3, 88.8])
    assert stacked_label_heights([], 0.5) == []
