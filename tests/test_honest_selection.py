"""Chapter 6 and the ``better`` profile choose on validation accuracy, and test once (issue 24, item 4).

Each ladder step is judged on the last epoch's validation accuracy from its record's
``history.json``; the recipe chosen is the measured run with the highest one, and only its test
accuracy is reported, with its standard error. The tests below would fail if the choice were made
on test accuracy: mirrored test images (+0.9 points on the test set, no validation figure) would be
kept, and in a made-up ladder whose test and validation disagree the test's favourite would win.
"""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import REPO

from cifar_lessons.config import make_config
from cifar_lessons.records import committed as results
from cifar_lessons.records.committed import EXTRA, LADDER, Step, choose_on_validation, verdicts

RESULTS = REPO / "results"
TRAINING = ("head_epochs", "fine_tune_epochs", "fine_tune_learning_rate", "fine_tune_schedule", "augment",
            "image_size", "n", "head", "dropout")


def test_the_better_profile_is_the_run_chosen_on_validation_without_mirrored_test_images():
    choice = choose_on_validation()
    validation = {s.record: json.loads((RESULTS / s.record / "history.json").read_text())["history"]
                  ["val_accuracy"][-1] for s in LADDER + EXTRA}
    assert choice.record == max(validation, key=validation.get)
    chosen = json.loads((RESULTS / choice.record / "record.json").read_text())["config"]
    better = make_config("better", env={})
    assert {k: getattr(better, k) for k in TRAINING} == {k: (tuple(chosen[k]) if k == "head" else chosen[k])
                                                          for k in TRAINING}
    # judged on the test set alone (+0.9 points there), mirroring has no validation figure: not chosen
    assert better.flip_test is False


def test_mirrored_test_images_are_not_kept_though_they_gain_on_the_test_set():
    step = next(v for v in verdicts() if v.step.test_time)
    rows = {r["change"]: r for r in results.ladder_rows()}
    assert float(rows[step.step.change]["gain"]) > 0  # the test set says keep
    assert step.validation is None and not step.kept   # validation has no figure: not kept


def test_a_step_smaller_than_its_uncertainty_says_so():
    judged = {v.step.change: v for v in verdicts()}
    flips = judged["flips and crops"]
    assert flips.gain < 0 and abs(flips.gain) < flips.gain_se and not flips.kept
    assert flips.says == "not kept, smaller than its uncertainty"
    for v in judged.values():
        if v.gain is not None:
            assert v.within_noise == (abs(v.gain) < v.gain_se)
            assert ("smaller than its uncertainty" in v.says) == v.within_noise


def _ladder_where_test_and_validation_disagree(tmp_path):
    """Two copies of real records: ``a`` is better on the test set, ``b`` on validation."""
    for name, val, test in (("a", 0.60, 0.90), ("b", 0.70, 0.50)):
        shutil.copytree(RESULTS / "lite0-32-head3", tmp_path / name)
        h = json.loads((tmp_path / name / "history.json").read_text())
        h["history"]["val_accuracy"][-1] = val
        (tmp_path / name / "history.json").write_text(json.dumps(h))
        m = json.loads((tmp_path / name / "metrics.json").read_text())
        m["accuracy"] = test
        (tmp_path / name / "metrics.json").write_text(json.dumps(m))
    return (Step("start", "a"), Step("change", "b"))


def test_the_choice_follows_validation_when_the_test_set_disagrees(tmp_path):
    steps = _ladder_where_test_and_validation_disagree(tmp_path)
    choice = choose_on_validation(steps, root=tmp_path)
    assert choice.record == "b" and choice.test == 0.50
    assert choice.test_se == pytest.approx((0.5 * 0.5 / 10_000) ** 0.5)
    assert [v.kept for v in verdicts(steps, root=tmp_path)] == [True, True]
    gain = verdicts(steps, root=tmp_path)[1]
    assert gain.gain == pytest.approx(0.10)
    assert gain.gain_se == pytest.approx((0.6 * 0.4 / 1000 + 0.7 * 0.3 / 1000) ** 0.5)


def test_chapter_6_shows_no_test_accuracy_column():
    from cifar_lessons.display.ladder import JUDGED, ladder_table

    code = (REPO / "book" / "06_doing_better.py").read_text()
    assert "show_table(ladder.ladder_table(columns=ladder.JUDGED))" in code
    shown = list(ladder_table(columns=JUDGED).columns)
    assert "validation accuracy" in shown and "test accuracy" not in shown and "gain" not in shown


def test_the_ladder_figure_shows_each_judged_step_with_its_noise_and_whether_it_was_kept():
    """Chapter 6's picture of the rule: one point per step validation judged, ± one standard error,
    filled when kept and hollow when dropped; the step with no validation figure is not drawn."""
    from matplotlib.colors import to_rgba

    from cifar_lessons.display.ladder import validation_figure
    from cifar_lessons.records.committed import standard_error, verdicts

    judged = [v for v in verdicts() if v.validation is not None]
    ax = validation_figure().axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [v.step.change for v in judged]
    assert len(ax.containers) == len(judged)
    for v, bars in zip(judged, ax.containers):
        point, _caps, (lines,) = bars
        assert point.get_xdata()[0] == pytest.approx(v.validation * 100)
        (low, high), = [seg[:, 0] for seg in lines.get_segments()]
        assert high - low == pytest.approx(2 * standard_error(v.validation, v.n_validation) * 100)
        hollow = to_rgba(point.get_markerfacecolor()) == to_rgba("white")
        assert hollow == (not v.kept), v.step.change
    assert any(not v.kept for v in judged), "the ladder has a dropped step to show"
