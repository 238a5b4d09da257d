"""Every chapter ends with exercises whose solutions stay folded until asked for; solutions with code
execute with the chapter; decks leave them all out (issue 25).

The exercises are sphinx-exercise's directives in the chapters' Markdown cells: ``{exercise}`` with a
``:label:``, answered by ``{solution}`` (text) or by the gated ``{solution-start}`` ... ``{solution-end}``
around code cells, every cell of them tagged ``exercises``.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from conftest import executed_chapter
from test_site import HTML, _require_site

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "book"
CHAPTERS = sorted(p.stem for p in BOOK.glob("[0-9][0-9]*_*.py"))

EXERCISE = re.compile(r"```\{exercise\}[^\n]*\n:label: (\S+)")
TEXT_SOLUTION = re.compile(r"```\{solution\} (\S+)")
CODE_SOLUTION = re.compile(r"```\{solution-start\} (\S+)")


def cells(stem: str):
    return nbformat.read(BOOK / f"{stem}.ipynb", as_version=4).cells




def exercise_cells(stem: str):
    """The chapter's exercise section: every cell from the one that opens it to the end."""
    all_cells = cells(stem)
    start = next((i for i, c in enumerate(all_cells) if "## Exercises" in c.source), None)
    assert start is not None, f"{stem} has no exercise section"
    return all_cells[start:]


@pytest.mark.parametrize("stem", CHAPTERS)
def test_every_chapter_has_three_or_more_exercises_each_with_a_folded_solution(stem):
    section = exercise_cells(stem)
    text = "\n".join(c.source for c in section if c.cell_type == "markdown")
    labels = EXERCISE.findall(text)
    assert len(labels) >= 3, f"{stem}: {len(labels)} exercises"
    assert len(set(labels)) == len(labels) and all(label.startswith(f"ex-{stem.split('_')[0]}-") for label in labels)
    answered = TEXT_SOLUTION.findall(text) + CODE_SOLUTION.findall(text)
    assert sorted(answered) == sorted(labels), "each exercise has exactly one solution"
    assert text.count(":class: dropdown") == len(labels), "solutions stay folded until asked for"
    assert CODE_SOLUTION.findall(text), "at least one exercise is answered by code that runs"
    assert text.count("{solution-start}") == text.count("{solution-end}")


@pytest.mark.parametrize("stem", CHAPTERS)
def test_the_exercise_section_is_the_end_of_the_chapter_and_tagged_out_of_the_deck(stem):
    untagged = [c.source[:60] for c in exercise_cells(stem) if "exercises" not in c.metadata.get("tags", [])]
    assert untagged == [], "every cell of the exercises is tagged `exercises`, which decks leave out"
    before = cells(stem)[: len(cells(stem)) - len(exercise_cells(stem))]
    assert not any("exercises" in c.metadata.get("tags", []) for c in before)


@pytest.mark.parametrize("stem", CHAPTERS)
def test_every_solution_ran_in_the_build_and_printed_something(stem):
    _require_site()
    executed = executed_chapter(stem).cells
    start = next(i for i, c in enumerate(executed) if "## Exercises" in c.source)
    code = [c for c in executed[start:] if c.cell_type == "code"]
    assert code, f"{stem}: no solution code executed"
    for cell in code:
        assert cell.outputs, f"{stem}: a solution printed nothing: {cell.source[:60]!r}"
        assert not [o for o in cell.outputs if o.output_type == "error"]


@pytest.mark.parametrize("stem", CHAPTERS)
def test_the_page_shows_the_exercises_and_the_deck_shows_none(stem):
    _require_site()
    page = (HTML / "book" / f"{stem}.html").read_text()
    assert page.count('class="exercise admonition"') >= 3
    assert re.search(r'class="[^"]*solution[^"]*dropdown', page), "the solutions are folded"
    deck = (HTML / "slides" / f"{stem}.slides.html").read_text()
    assert "Exercises" not in deck and "solution-start" not in deck and "{exercise}" not in deck
