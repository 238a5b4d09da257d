"""The speed and build-time figures in ``benchmarks/README.md`` (and wherever else they are quoted) are the
committed benchmark's (``benchmarks/results``), not retyped.

The benchmark itself is never run here: its timings are measurements, not test outcomes.
"""

from __future__ import annotations

import json
import re

import pytest
from conftest import REPO

PHASES = ("setup", "head", "fine_tune", "evaluate")


def load(name: str) -> dict:
    return json.loads((REPO / "benchmarks" / "results" / f"{name}.json").read_text())


BENCHMARKS = REPO / "benchmarks" / "README.md"


def section(heading: str) -> str:
    """One ``## `` section of benchmarks/README.md, up to the next one."""
    text = BENCHMARKS.read_text()
    start = text.index(f"\n## {heading}")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else len(text)]


def speed_section() -> str:
    """The speed benchmark and what was tried for phase 2."""
    return section("Speed") + section("Where phase 2's time went")


def total(side: dict) -> float:
    return sum(side[phase]["seconds"] for phase in PHASES)


@pytest.mark.parametrize("name", sorted(p.stem for p in (REPO / "benchmarks" / "results").glob("*.json")))
def test_each_committed_benchmark_names_a_clean_commit_and_the_full_recipe(name):
    results = load(name)
    assert re.fullmatch(r"[0-9a-f]{40}", results["commit"] or ""), results["commit"]
    assert (results["n"], results["head_epochs"], results["fine_tune_epochs"]) == (10_000, 10, 10)


def test_benchmarks_readme_quotes_the_resnet50_benchmark():
    results, text = load("resnet50"), speed_section()
    plain, package = total(results["plain"]), total(results["package"])
    row = re.search(r"\| \*\*total\*\* \| \*\*([\d,.]+) s\*\* \| \*\*([\d,.]+) s\*\* \| \*\*([\d.]+)×\*\* \|", text)
    assert row, "benchmarks/README.md's speed table has no total row"
    assert row.groups() == (f"{plain:,.1f}", f"{package:,.1f}", f"{plain / package:.2f}")
    for phase, label in (("head", "phase 1"), ("fine_tune", "phase 2"), ("evaluate", "evaluation")):
        line = next(row for row in text.splitlines() if row.startswith(f"| {label}"))
        p, q = results["plain"][phase], results["package"][phase]
        assert f"| {p['seconds']:,.1f} s" in line and f"| {q['seconds']:,.1f} s" in line, line
        assert line.rstrip().endswith(f"| {p['seconds'] / q['seconds']:.1f}× |"), line
    line = next(row for row in text.splitlines() if row.startswith("| phase 2"))
    assert f"({results['plain']['fine_tune']['images_per_second']:.0f} img/s)" in line
    assert f"({results['package']['fine_tune']['images_per_second']:.0f} img/s)" in line
    assert f"commit {results['commit'][:7]}" in text


def test_phase2_arithmetic_is_the_benchmarks_own():
    """The GFLOP/s sentence uses the benchmark's formula: 3 forward passes a training image."""
    results, text = load("resnet50"), " ".join(speed_section().split())
    peak = results["peak"]
    rates = {}
    for side in ("plain", "package"):
        rate = results[side]["train_images_per_second_phase2"]
        rates[side] = 3 * peak["flops_per_image_forward"] * rate / 1e9
    package_rate = results["package"]["train_images_per_second_phase2"]
    assert f"at {package_rate:.0f} training images a second" in text
    assert f"{rates['package']:.0f} GFLOP/s: {100 * rates['package'] * 1e9 / peak['matmul_peak_float32']:.0f} %" in text
    assert f"{peak['matmul_peak_float32'] / 1e9:.0f} GFLOP/s a large float32 matrix product" in text
    assert f"(the plain notebook: {rates['plain']:.0f} GFLOP/s" in text


def test_the_recipes_time_quoted_outside_the_speed_table_is_the_benchmarks():
    package = total(load("resnet50")["package"])
    seconds = f"{package:.0f} s"
    assert f"The package's {seconds} is the seed recipe's own training" in " ".join(section("Speed").split())
    appendix = (REPO / "book" / "appendix_command_line.md").read_text()
    seed_row = next(line for line in appendix.splitlines() if line.startswith("| `seed` |"))
    assert seed_row.rstrip(" |").split("|")[-1].strip().startswith(f"{seconds} (the project's benchmark"), seed_row
    assert f"({seconds} in the project's benchmark)" in (REPO / "book" / "01_dataset.py").read_text()
    # The README's results table quotes the unrounded figure.
    assert f"{package:,.1f} s against {total(load('resnet50')['plain']):,.1f} s" in (REPO / "README.md").read_text()


def test_benchmarks_readme_quotes_the_lite0_benchmark():
    results, text = load("efficientnet_lite0"), " ".join(speed_section().split())
    p, q = total(results["plain"]), total(results["package"])
    assert f"plain {p:,.1f} s, package {q:,.1f} s, **{p / q:.2f}×**" in text
    phase1 = results["plain"]["head"]["seconds"] / results["package"]["head"]["seconds"]
    phase2 = results["plain"]["fine_tune"]["seconds"] / results["package"]["fine_tune"]["seconds"]
    assert f"(phase 1 {phase1:.1f}×, phase 2 {phase2:.2f}×)" in text


ACCURACY_RUNS = {"42": "efficientnet_lite0", "1": "efficientnet_lite0-seed1", "2": "efficientnet_lite0-seed2"}


def test_lite0_accuracy_table_is_the_benchmarks_runs_at_three_seeds():
    text = speed_section()
    rows = {m[0]: m[1:] for m in re.findall(r"^\| (\d+|\*\*mean\*\*) \| \**([\d.]+) %\** \| \**([\d.]+) %\** \| "
                                             r"\**\+?([-\d.]+)\** \| (?:`([\w.-]+)`)? *\|", text, re.M)}
    assert set(rows) == {*ACCURACY_RUNS, "**mean**"}, rows
    plains, packages = [], []
    for seed, name in ACCURACY_RUNS.items():
        results = load(name)
        assert results.get("seed", 42) == int(seed) and results["backbone"] == "efficientnet_lite0"
        assert results["weights"] == "imagenet" and results["package"]["batch_size"] == 64
        plain, package = 100 * results["plain"]["accuracy"], 100 * results["package"]["accuracy"]
        assert rows[seed] == (f"{plain:.2f}", f"{package:.2f}", f"{package - plain:.2f}", f"{name}.txt"), seed
        out = (REPO / "benchmarks" / "results" / f"{name}.txt").read_text()
        assert f"test accuracy: plain {results['plain']['accuracy']:.4f}, package {package / 100:.4f}" in out
        plains.append(plain)
        packages.append(package)
    mean_p, mean_q = sum(plains) / 3, sum(packages) / 3
    assert rows["**mean**"] == (f"{mean_p:.2f}", f"{mean_q:.2f}", f"{mean_q - mean_p:.2f}", "")
    flat = " ".join(text.split())
    if "ahead in all three runs" in flat:
        assert all(q > p for p, q in zip(plains, packages))
    if "under the goal of 1 point" in flat:
        assert mean_q - mean_p < 1
    assert f"mean difference, **{mean_q - mean_p:.2f} points**" in flat
    assert f"spans {max(packages) - min(packages):.2f} points" in flat
    b32 = load("efficientnet_lite0-batch32")
    assert b32["package"]["batch_size"] == 32 and b32["plain"]["accuracy"] == load(ACCURACY_RUNS["42"])["plain"]["accuracy"]
    b32_plain, b32_package = 100 * b32["plain"]["accuracy"], 100 * b32["package"]["accuracy"]
    assert f"reached {b32_package:.2f} %, {b32_package - b32_plain:.2f} points above the plain notebook's {b32_plain:.2f} %" in flat


PROJECT = ("01_dataset", "02_architecture", "03_training_the_head", "04_fine_tuning", "05_evaluation",
           "06_doing_better", "07_takeaways", "presentation")


def chapter_seconds(name: str) -> dict[str, float]:
    """Each chapter's execution time in a committed build log: Jupyter Book's own lines (builds that
    executed one chapter at a time inside Jupyter Book) or scripts/execute_chapters.py's."""
    text = (REPO / "benchmarks" / "results" / name).read_text()
    lines = (re.findall(r"book/(\w+)\.ipynb: Executed notebook in ([\d.]+) seconds", text)
             + re.findall(r"book/(\w+)\.ipynb: executed in ([\d.]+) s", text))
    assert len({m[0] for m in lines}) == len(lines), f"{name} times a chapter twice"
    return {m[0]: float(m[1]) for m in lines}


def executed(name: str) -> tuple[int, int]:
    """scripts/execute_chapters.py's summary in a build log: (seconds, chapters at a time)."""
    m = re.search(r"^execute: \d+ chapters in (\d+) s, (\d) at a time", (REPO / "benchmarks" / "results" / name).read_text(), re.M)
    assert m, f"{name} has no 'execute: ... chapters in ... s' line (scripts/execute_chapters.py's summary)"
    return int(m[1]), int(m[2])


def site_seconds(name: str) -> int:
    text = (REPO / "benchmarks" / "results" / name).read_text()
    return int((re.search(r"site \(book \+ decks\) in (\d+) s", text) or re.search(r"site built in (\d+) s", text))[1])


def test_build_times_are_the_committed_build_logs():
    """benchmarks/README.md's build-time table and the sentences under it are the committed build logs' figures."""
    text = section("How long a build takes")
    flat = " ".join(text.split())
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| `")}
    chapters = {p.stem for p in (REPO / "book").glob("*.ipynb")}
    # The student's starter and solution notebooks came after these builds; the latest log has them.
    later = {"project_starter", "project_solution"}
    # Chapter 6b (larger backbones) was split from chapter 6 after every committed build log.
    newest = {"06b_larger_backbones"}
    chapters -= newest
    for log in ("site_build_seed.txt", "site_build_seed_jobs1.txt", "site_build_quick.txt", "site_build_seed_485ef92.txt"):
        assert set(chapter_seconds(log)) == chapters - later, f"{log} must time every chapter of its time once"
    latest = chapter_seconds("site_build_quick_d3b1d28.txt")
    assert set(latest) == chapters, "site_build_quick_d3b1d28.txt must time every chapter once"
    assert (f"`project_solution` executed in {latest['project_solution']:.0f} s and `project_starter` "
            f"in {latest['project_starter']:.0f} s") in flat

    seed, (seed_exec, jobs) = site_seconds("site_build_seed.txt"), executed("site_build_seed.txt")
    assert jobs == 2 and seed <= 600, "the seed build's log must be two at a time, within issue 10's 10 minutes"
    row = next(r for k, r in rows.items() if k.startswith("`seed` (commit"))
    assert f"| {seed_exec:,} s, two at a time | **{seed:,} s ({seed / 60:.1f} min)** |" in row, row
    assert f"The whole site builds in {round(seed / 60)} minutes on 2 CPU cores" in flat
    readme = " ".join((REPO / "README.md").read_text().split())
    assert f"| built in {round(seed / 60)} minutes |" in readme, "the README's results table quotes the seed build"

    one, (one_exec, jobs) = site_seconds("site_build_seed_jobs1.txt"), executed("site_build_seed_jobs1.txt")
    assert jobs == 1
    row = next(r for k, r in rows.items() if k.startswith("`seed`, one chapter at a time"))
    assert f"| {one_exec:,} s | {one:,} s |" in row, row
    two_at_a_time, alone = chapter_seconds("site_build_seed.txt"), chapter_seconds("site_build_seed_jobs1.txt")
    assert (f"Two at a time saves {one_exec - seed_exec:,} s here ({one_exec:,} s of chapters one at a time, "
            f"{seed_exec:,} s two at a time): one at a time, the whole site took {one:,} s, over the 10 minutes") in flat
    assert one > 600
    assert (f"chapter 04 took {two_at_a_time['04_fine_tuning']:.1f} s beside chapter 08, against "
            f"{alone['04_fine_tuning']:.1f} s alone, and 08 took {two_at_a_time['08_where_the_classifier_looks']:.1f} s "
            f"against {alone['08_where_the_classifier_looks']:.1f} s") in flat

    quick, (quick_exec, jobs) = site_seconds("site_build_quick.txt"), executed("site_build_quick.txt")
    row = next(r for k, r in rows.items() if k.startswith("`quick`"))
    assert jobs == 2 and f"| {quick_exec:,} s, two at a time | {quick:,} s, set-up" in row, row

    old = chapter_seconds("site_build_seed_485ef92.txt")
    row = next(r for k, r in rows.items() if "at full size, one at a time" in k)
    assert f"| {sum(old.values()):,.0f} s | {site_seconds('site_build_seed_485ef92.txt'):,} s (43 min) |" in row, row

    full, (full_exec, jobs) = site_seconds("site_build_seed_full_size.txt"), executed("site_build_seed_full_size.txt")
    assert set(chapter_seconds("site_build_seed_full_size.txt")) == chapters - later and jobs == 2
    row = next(r for k, r in rows.items() if "CIFAR_LESSONS_FULL_SIZE=1" in k)
    assert f"| {full_exec:,} s, two at a time | {full:,} s ({full / 60:.0f} min) |" in row, row
    assert f"the last row's {full / 60:.0f}-minute build ({full:,} s two at a time" in flat

    # The sizes the text gives are the code's: the build size, and the full size in brackets.
    from cifar_lessons.detection import config as det_config
    from cifar_lessons.fashion import scratch as fashion
    from cifar_lessons.fashion import transfer as fashion_transfer
    from cifar_lessons.segmentation import config as seg_config
    f, t, d, g = fashion.FashionConfig(), fashion_transfer.TransferConfig(), det_config.DetectorConfig(), seg_config.SegmentConfig()
    fb, tb, db, gb = fashion.BUILD_SIZE, fashion_transfer.BUILD_SIZE, det_config.BUILD_SIZE, seg_config.BUILD_SIZE
    assert (f"00b on {fb['n']:,} Fashion-MNIST images for {fb['dense_epochs']} + {fb['cnn_epochs']} epochs "
            f"(full size: {f.n:,}, {f.dense_epochs} + {f.cnn_epochs}), 00c on {tb['n']:,} images for "
            f"{tb['head_epochs']} + {tb['fine_tune_epochs']} epochs ({t.n:,}, {t.head_epochs} + {t.fine_tune_epochs}), "
            f"09 on {db['n_train']:,} scenes for {db['epochs']} epochs ({d.n_train:,}, {d.epochs}), 10 on "
            f"{gb['n_train']:,} scenes for {gb['epochs']} epochs ({g.n_train:,}, {g.epochs})") in flat

    # The pipeline change between two earlier one-at-a-time builds.
    seed_before, seed_after = chapter_seconds("site_build_seed_0584785.txt"), old
    for chapter in ("00b_fashion_from_scratch", "00c_fashion_transfer", "09_detection", "10_segmentation"):
        assert f"({seed_before[chapter]:.0f} to {seed_after[chapter]:.0f} s" in flat, chapter
    assert (f"went from {sum(seed_before[k] for k in PROJECT):.0f} to "
            f"{sum(seed_after[k] for k in PROJECT):.0f} s") in flat


def test_the_committed_segmentation_wait_probe_is_quoted():
    text = (REPO / "benchmarks" / "results" / "epoch_start_wait_unet.txt").read_text()
    fits = {m[0]: m[1:] for m in re.findall(r"^(numpy|package): fit ([\d.]+) s, of which waiting "
                                            r"before first steps ([\d.]+) s", text, re.M)}
    waits = dict(re.findall(r"^numpy epoch (\d+): wait before the first step +([\d.]+) s", text, re.M))
    longest = max(waits, key=lambda e: float(waits[e]))
    readme = " ".join(section("How long a build takes").split())
    ordinal = {"1": "first", "2": "second", "3": "third", "4": "fourth", "5": "fifth", "6": "sixth",
               "7": "seventh", "8": "eighth"}[longest]
    assert (f"waited {waits[longest]} s before its {ordinal} epoch's first step, "
            f"{fits['numpy'][1]} s of a {fits['numpy'][0]} s fit") in readme
    assert f"waited {fits['package'][1]} s, in a {fits['package'][0]} s fit" in readme
