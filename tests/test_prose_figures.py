"""Figures the chapters' prose quotes from committed records are the records' figures.

Each sentence below was once wrong (it said what the author expected, not what the record shows):
phase 2's gap "kept in check", confusions "through their backgrounds", time "in proportion to the
pixels", "about 15 minutes" for 515 s. The tests read the figure from its record and look for it,
formatted as the chapter writes it, in the chapter's source, so a new record or an edit that
disagrees with it fails here.
"""

from __future__ import annotations

import json
import re

import pytest
from conftest import REPO

from cifar_lessons.records import committed as results

BOOK = REPO / "book"


def prose(name: str) -> str:
    """A chapter's text with the comment markers and line breaks of its .py source removed."""
    lines = (BOOK / f"{name}.py").read_text().splitlines()
    return " ".join(line.lstrip("# ").strip() for line in lines if line.startswith("#"))


def test_chapter_4_quotes_the_seed_runs_gap_between_training_and_validation():
    record = json.loads((REPO / "results" / "lite0-32-seed" / "history.json").read_text())
    h, b = record["history"], record["phase2_start"]
    text = prose("04_fine_tuning")
    after_phase1, best, train = h["val_accuracy"][b - 1], max(h["val_accuracy"][b:]), h["accuracy"][-1]
    assert (f"validation accuracy went from {after_phase1:.1%} after phase 1 to at most {best:.1%}, "
            f"while training accuracy reached {train:.1%}").replace("%", " %") in text
    assert "keep that in check" not in text and "did not keep the gap in check" in text
    assert "keras-team/keras#20285" in text


def test_chapter_5_names_the_seed_runs_three_most_confused_pairs_in_order():
    names = "airplane automobile bird cat deer dog frog horse ship truck".split()
    m = json.loads((REPO / "results" / "lite0-32-seed" / "metrics.json").read_text())["confusion_matrix"]
    pairs = sorted(((m[i][j] + m[j][i], names[i], names[j]) for i in range(10) for j in range(i + 1, 10)), reverse=True)
    text = prose("05_evaluation").lower()
    found = [text.index(f"**{a} and {b}**") if f"**{a} and {b}**" in text else text.index(f"**{b} and {a}**")
             for _, a, b in pairs[:3]]
    assert found == sorted(found), [p[1:] for p in pairs[:3]]
    assert "through their backgrounds" not in text


@pytest.mark.parametrize("name", ["06_doing_better", "07_takeaways"])
def test_the_cost_of_larger_inputs_is_the_records_not_the_pixels(name):
    minutes = {size: results.wall_minutes(results.committed(f"lite0-{size}-better")) for size in (32, 96, 128)}
    text = prose(name)
    assert "in proportion to the" not in text
    if name == "06_doing_better":
        assert f"took {minutes[96]:.1f} minutes instead of {minutes[32]:.1f}" in text
        assert f"16 times (128 px) took {minutes[128]:.1f}" in text
    else:
        assert f"16 times the pixels took about {minutes[128] / minutes[32]:.1f} times as long" in text


def test_chapter_1_gives_the_benchmarks_seconds_in_minutes():
    measured = json.loads((REPO / "benchmarks" / "results" / "resnet50.json").read_text())["package"]
    seconds = sum(measured[phase]["seconds"] for phase in ("setup", "head", "fine_tune", "evaluate"))
    text = prose("01_dataset")
    said = re.search(r"takes about (\d+) minutes with ResNet50", text)
    assert said and int(said.group(1)) == round(seconds / 60), (said and said.group(0), seconds)


def test_chapter_8_gives_the_cost_ratio_of_224_to_96_pixels():
    assert f"(224/96)² ≈ {(224 / 96) ** 2:.1f} times the cost of 96" in prose("08_where_the_classifier_looks")


def test_chapter_6_quotes_each_steps_validation_gain_and_the_chosen_runs_test_accuracy_once():
    text = prose("06_doing_better")
    for v in results.verdicts():
        if v.gain is not None:
            said = f"{v.gain * 100:+.1f} ± {v.gain_se * 100:.1f}".replace("-", "−")
            assert said in text, (v.step.change, said)
    choice = results.choose_on_validation()
    assert f"`{choice.record}`, {choice.validation:.1%} on validation".replace("%", " %") in text
    assert f"**{choice.test:.1%} ± {choice.test_se:.1%}**".replace("%", " %") in text
    extra = results.validation_accuracy(results.committed(results.EXTRA[0].record))
    assert f"reached {extra:.1%} on validation".replace("%", " %") in text
    # the test set is read once: no other test accuracy of the ladder is quoted
    tests = {f"{results.step_accuracy(s, results.committed(s.record)):.1%}".replace("%", " %") for s in results.LADDER}
    assert not [t for t in tests if t in text]


def test_the_seed_recipes_headline_is_the_mean_and_sd_of_three_seeds():
    import statistics

    runs = ["efficientnet_lite0", "efficientnet_lite0-seed1", "efficientnet_lite0-seed2"]
    acc = [json.loads((REPO / "benchmarks" / "results" / f"{r}.json").read_text())["package"]["accuracy"] for r in runs]
    said = f"**{statistics.mean(acc):.1%} ± {statistics.stdev(acc):.1%}**, the mean ± standard deviation of three seeds"
    assert said.replace("%", " %") in prose("06_doing_better")


def accuracy(name: str) -> float:
    return json.loads((REPO / "results" / name / "metrics.json").read_text())["accuracy"]


def single_pass(name: str) -> str:
    """A recipe record's test accuracy without mirrored test images, as the chapters write it."""
    return f"{results.single_pass_test(results.committed(name)):.1%}".replace("%", " %")


def said(name: str) -> str:
    """A record's test accuracy as the chapters write it: ``69.3 %``."""
    return f"{accuracy(name):.1%}".replace("%", " %")


def test_transfer_or_scratch_is_told_as_the_records_measured_it():
    """Chapter 1 and the presentation once said a network from scratch struggles on 10,000 images while an
    ImageNet one does well. Measured, that is false at 32 px and true at 128 px; the prose says so, with the
    records' figures, and would have to change if the records went the other way."""
    scratch, seed, head32, head128 = (said(n) for n in (
        "scratch-cnn-32", "lite0-32-seed", "head-lite0-32", "head-lite0-128"))
    better128 = single_pass("lite0-128-better")
    se = max((accuracy(n) * (1 - accuracy(n)) / 10_000) ** 0.5 for n in ("scratch-cnn-32", "lite0-32-seed"))
    assert accuracy("scratch-cnn-32") - accuracy("lite0-32-seed") > 6 * se  # "far above", at 32 px
    assert accuracy("head-lite0-128") - accuracy("scratch-cnn-32") > 6 * se  # "transfer wins", at 128 px
    ch1, ch7, deck = prose("01_dataset"), prose("07_takeaways"), prose("presentation")
    assert "that contrast is the point of the project" not in ch1
    assert f"reached {scratch} on the test set, far above the seed recipe's ImageNet-initialised network ({seed})" in ch1
    assert f"at 128×128, {head128} with the frozen base and a new head alone, {better128} with the better profile" in ch1
    assert "false at 32 pixels and true at 128" in ch1
    assert (f"reached {scratch} without flips and crops and {said('scratch-cnn-32-flips')} with them" in ch7
            and f"reached {seed}, and its frozen base with only a head {head32}" in ch7)
    assert f"the head alone reached {head128} and the better profile's two phases {better128}" in ch7
    assert f"{said('lite0-32-better')}, {said('lite0-32-better-15')} with five more fine-tuning epochs" in ch7
    assert (f"a small CNN from scratch ({scratch}) beats the seed recipe ({seed}) and the frozen ImageNet base "
            f"with a head ({head32}); at 128 px transfer wins: {head128} with the head alone, {better128}") in deck
    assert "scratch_transfer_figure()" in (REPO / "book" / "07_takeaways.py").read_text()


def test_the_takeaways_say_where_transfer_pays():
    scratch, seed = said("scratch-cnn-32"), said("lite0-32-seed")
    assert (f"transfer wins at 128×128 ({single_pass('lite0-128-better')}); at 32×32 a small CNN from scratch ({scratch}) "
            f"beats the seed recipe ({seed})") in prose("presentation")
    assert f"at 32×32 a small CNN from scratch ({scratch}) beat the seed recipe ({seed}); at 128×128 transfer won" \
        in prose("07_takeaways")
    assert "Transfer learning gets far with 10,000 images" not in prose("presentation")


def test_the_data_size_curve_is_told_as_measured():
    """With 1,000 images the 128-pixel head beats the network from scratch by more than at 10,000, and the
    32-pixel head stays below it at every size: the sentence in chapters 1 and 7 and the presentation."""
    gap = {n: accuracy(f"head-lite0-128{t}") - accuracy(f"scratch-cnn-32-flips{t}") for n, t in ((1, "-n1000"), (10, ""))}
    assert gap[1] > gap[10] > 0
    assert all(accuracy(f"head-lite0-32{t}") < accuracy(f"scratch-cnn-32-flips{t}") for t in ("-n1000", "-n2500", ""))
    sentence = (f"with 1,000 training images the network from scratch reached {said('scratch-cnn-32-flips-n1000')} and "
                f"the frozen base with a head at 128 pixels {said('head-lite0-128-n1000')}, while at 32 pixels that head "
                f"stayed below the network from scratch at every size ({said('head-lite0-32-n1000')} with 1,000 images)")
    for chapter in ("01_dataset", "07_takeaways", "presentation"):
        assert sentence in prose(chapter), chapter


def test_the_best_profiles_headline_is_the_mean_and_sd_of_three_seeds():
    """Issue 24.4: the chosen recipe's figure is its three seeds' mean ± sd, read from the records."""
    choice = results.choose_on_validation()
    assert len(choice.seed_tests) == 3, choice.seed_tests
    headline = f"**{choice.seed_mean:.1%} ± {choice.seed_sd:.1%}**".replace("%", " %")
    assert f"over three seeds it is {headline}, the mean" in prose("06_doing_better")
    others = " and ".join(f"{t:.1%}".replace("%", " %") for t in choice.seed_tests[1:])
    assert f"the same recipe gave {others}" in prose("06_doing_better")
    readme = (REPO / "results" / "README.md").read_text()
    assert f"{choice.seed_mean:.1%} ± {choice.seed_sd:.1%}" in readme.replace(" %", "%")


def test_the_frontier_is_told_as_the_records_measured_it():
    """Issue 26: chapter 6b's larger-backbone runs, judged on validation, their test figures quoted once."""
    from cifar_lessons.display.frontier import FRONTIER_RECORDS, GOAL_ACCURACY, point

    text = prose("06b_larger_backbones")
    lite1, lite1_128, chosen = point("lite1-112-better"), point("lite1-128-better"), point("lite0-128-better")
    pct = lambda x: f"{x:.1%}".replace("%", " %")  # noqa: E731
    assert (f"Lite1 at 112 pixels took {lite1.minutes:.1f} minutes and reached {pct(lite1.validation)} on "
            f"validation, and at 128 pixels {lite1_128.minutes:.1f} minutes and {pct(lite1_128.validation)}: "
            f"both below Lite0 at 128 pixels ({pct(chosen.validation)})") in text
    assert max(lite1.validation, lite1_128.validation) < chosen.validation  # so the profile stays Lite0
    assert (f"they gave {pct(lite1.test)} ± {pct(lite1.test_se)} and "
            f"{pct(lite1_128.test)} ± {pct(lite1_128.test_se)}") in text
    lite2 = point("lite2-96-better")
    assert (f"Lite2 at 96 pixels took {lite2.minutes:.1f} minutes: {pct(lite2.validation)} on validation, "
            f"{pct(lite2.test)} ± {pct(lite2.test_se)} on the test set") in text
    lite2_112 = point("lite2-112-better")
    assert (f"At 112 pixels it took {lite2_112.minutes:.1f} minutes (the machine was also building this book for "
            f"part of them): {pct(lite2_112.validation)} on validation, {pct(lite2_112.test)} ± "
            f"{pct(lite2_112.test_se)} on the test set") in text
    assert max(lite2.validation, lite2_112.validation) < chosen.validation
    smooth = point("lite1-128-better-ls")
    assert smooth.label_smoothing == 0.1 and smooth.image_size == 128
    assert (f"Label smoothing of 0.1 (`--label-smoothing 0.1`) on Lite1 at 128 pixels took {smooth.minutes:.1f} "
            f"minutes: {pct(smooth.validation)} on validation, not above the same run without it, and "
            f"{pct(smooth.test)} ± {pct(smooth.test_se)} on the test set") in text
    assert smooth.validation <= lite1_128.validation < chosen.validation
    lite1_size = json.loads((REPO / "benchmarks" / "results" / "test_size" / "lite1-128-better.json").read_text())
    assert lite1_size["chosen_size"] == 128 and "validation chose 128 pixels itself" in text
    minutes = [point(n).minutes for n in FRONTIER_RECORDS]
    assert f"the runs themselves took {min(minutes):.1f} min to {max(minutes):.1f} min each" in text
    best = max(point(n).test for n in FRONTIER_RECORDS if point(n).minutes <= 30)
    assert (best >= GOAL_ACCURACY) == ("No run reached the 90 % line" not in text)
    size = json.loads((REPO / "benchmarks" / "results" / "test_size" / "lite0-128-better-seed1.json").read_text())
    assert f"gave {size['test_accuracy']:.1%} against".replace("%", " %") in text
