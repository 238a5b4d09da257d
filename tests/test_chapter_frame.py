"""Every chapter has the same frame: what you will learn (3-5 objectives), what it builds on, how long
it takes (from the committed records), a closing summary, then exercises (issue 25)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "book"
CHAPTERS = sorted(p.stem for p in BOOK.glob("[0-9][0-9]*_*.py"))

#: The time a chapter states, and the records (and timing keys) it comes from.
TIMES = {
    "00b_fashion_from_scratch": [("fashion-dense", "run_seconds"), ("fashion-cnn", "run_seconds")],
    "00c_fashion_transfer": [("fashion-transfer", "run_seconds")],
    "03_training_the_head": [("lite0-32-seed", "head_seconds")],
    "04_fine_tuning": [("lite0-32-seed", "fine_tune_seconds")],
    "05_evaluation": [("lite0-32-seed", "evaluate_seconds")],
    "08_where_the_classifier_looks": [("gradcam-lite0-96", "run_seconds")],
    "09_detection": [("detection-grid", "run_seconds")],
    "10_segmentation": [("segmentation-unet", "run_seconds")],
}


def _text(stem: str) -> str:
    return (BOOK / f"{stem}.py").read_text()


def _frame(stem: str) -> str:
    text = _text(stem)
    start = text.find("# ## In this chapter")
    assert start > 0, f"{stem} has no 'In this chapter' frame"
    return text[start:text.index("\n\n", start)]


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min".replace(".0 min", " min")


@pytest.mark.parametrize("stem", CHAPTERS)
def test_every_chapter_opens_with_objectives_prerequisites_and_time(stem):
    frame = _frame(stem)
    objectives = re.findall(r"^# - ", frame, re.M)
    assert 3 <= len(objectives) <= 5, f"{stem}: {len(objectives)} objectives"
    assert "You will learn to:" in frame and "**Before it:**" in frame and "**Time:**" in frame
    assert "On a Colab GPU: not measured" in frame, "a time nobody measured is not given"
    title = _text(stem).index("\n# # ")
    assert _text(stem).index("# ## In this chapter") - title < 1000, "the frame comes right after the title"
    for link in re.findall(r"\]\(([^)]+\.ipynb)\)", frame):
        assert (BOOK / link).with_suffix(".py").exists(), f"{stem}: the prerequisite {link} is not a chapter"


@pytest.mark.parametrize("stem", CHAPTERS)
def test_every_chapter_closes_with_a_summary_before_its_exercises(stem):
    text = _text(stem)
    assert "# ## Takeaways" in text
    if "# ## Exercises" in text:
        assert text.index("# ## Takeaways") < text.index("# ## Exercises")


@pytest.mark.parametrize("stem", sorted(TIMES))
def test_a_chapters_time_is_its_records(stem):
    seconds = 0.0
    for name, key in TIMES[stem]:
        seconds += json.loads((REPO / "results" / name / "record.json").read_text())["timing"][key]
        assert f"`results/{name}`" in _frame(stem)
    assert f"about {_duration(seconds)} on 2 CPU cores" in " ".join(_frame(stem).replace("# ", "").split())
