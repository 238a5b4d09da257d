"""The README's speed figures are the committed benchmark's (``benchmarks/results``), not retyped.

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


def speed_section() -> str:
    text = (REPO / "README.md").read_text()
    return text[text.index("## Speed"):text.index("## Layout")]


def total(side: dict) -> float:
    return sum(side[phase]["seconds"] for phase in PHASES)


@pytest.mark.parametrize("name", ["resnet50", "efficientnet_lite0"])
def test_each_committed_benchmark_names_a_clean_commit_and_the_full_recipe(name):
    results = load(name)
    assert re.fullmatch(r"[0-9a-f]{40}", results["commit"] or ""), results["commit"]
    assert (results["n"], results["head_epochs"], results["fine_tune_epochs"]) == (10_000, 10, 10)


def test_readme_quotes_the_resnet50_benchmark():
    results, text = load("resnet50"), speed_section()
    plain, package = total(results["plain"]), total(results["package"])
    row = re.search(r"\| \*\*total\*\* \| \*\*([\d,.]+) s\*\* \| \*\*([\d,.]+) s\*\* \| \*\*([\d.]+)×\*\* \|", text)
    assert row, "the README's speed table has no total row"
    assert row.groups() == (f"{plain:,.1f}", f"{package:,.1f}", f"{plain / package:.2f}")
    for phase, label in (("head", "phase 1"), ("fine_tune", "phase 2")):
        line = next(l for l in text.splitlines() if l.startswith(f"| {label}, 10 epochs"))
        assert f"{results['plain'][phase]['seconds']:,.1f} s" in line, line
        assert f"{results['package'][phase]['seconds']:,.1f} s" in line, line
    assert f"commit {results['commit'][:7]}" in text


def test_readme_quotes_the_lite0_benchmark_accuracies_and_ratio():
    results, text = load("efficientnet_lite0"), " ".join(speed_section().split())
    plain, package = results["plain"]["accuracy"], results["package"]["accuracy"]
    assert f"plain **{100 * plain:.2f} %**" in text
    assert f"package **{100 * package:.2f} %**" in text
    assert f"{abs(package - plain) * 100:.2f} points apart" in text
    ratio = total(results["plain"]) / total(results["package"])
    assert f"**{ratio:.2f}×**" in text
