"""Chapters read like lectures (issue 24, item 5): provenance one click away, not in the way.

- Each chapter shows exactly one provenance box (``cifar_lessons.display.provenance``): its own run
  card and the records it quotes, collapsed; no run card or record card is displayed outside it.
- On the built site each chapter page has one ``<details class='provenance'>`` and at most one
  build warning, and no code cell is wider than the page at 1280 px.
- The chapters' prose (outside the appendix and the collapsed boxes) talks about vision more than
  about the project: "committed", "this build" and commit hashes are counted and capped.

The browser tests skip when the site is not built, as ``tests/test_site.py``'s do.
"""

from __future__ import annotations

import ast
import json
import re

import pytest
import yaml
from conftest import REPO

TOC = yaml.safe_load((REPO / "_toc.yml").read_text())
#: Every chapter with a run card: all notebooks but the student's own (plain Keras, no card).
CHAPTERS = [c["file"].removesuffix(".ipynb").removeprefix("book/") for part in TOC["parts"]
            for c in part["chapters"] if c["file"].endswith(".ipynb") and part["caption"] != "Your project"]
NOTEBOOKS = [c["file"].removesuffix(".ipynb").removeprefix("book/") for part in TOC["parts"]
             for c in part["chapters"] if c["file"].endswith(".ipynb")]
CARDS = {"run_card", "record_card"}


def _code(name: str) -> str:
    cells = json.loads((REPO / "book" / f"{name}.ipynb").read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def _called(node: ast.Call) -> str:
    f = node.func
    return f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")


@pytest.mark.parametrize("name", CHAPTERS)
def test_each_chapter_shows_one_provenance_box_and_no_card_outside_it(name):
    tree = ast.parse(_code(name).replace("\n%", "\n#%").replace("\n!", "\n#!"))
    boxes = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _called(n) == "provenance"]
    assert len(boxes) == 1, f"{name}: {len(boxes)} provenance boxes"
    # a card is made for the box: passed to it, or kept in a name the box is given (``card = run_card(...)``)
    given = {n.id for n in ast.walk(boxes[0]) if isinstance(n, ast.Name)}
    inside = {id(n) for n in ast.walk(boxes[0])}
    kept_in = {}
    for statement in ast.walk(tree):
        if isinstance(statement, (ast.Assign, ast.AugAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            names = {t.id for t in targets if isinstance(t, ast.Name)}
            kept_in.update({id(n): names for n in ast.walk(statement.value)})
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _called(node) in CARDS and id(node) not in inside:
            names = kept_in.get(id(node), set())
            assert names and names <= given, f"{name}: a card shown outside the box (line {node.lineno})"


# ------------------------------------------------------------------------- the prose
HASH = re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b")
#: Counted in the chapters' markdown cells, outside <details> boxes: 23, 21 and 1 before issue 24's
#: item 5, 0, 0 and 0 after it; the caps leave a little room for prose that needs the word.
CAPS = {"committed": 5, "this build": 5, "commit hashes": 0}


def prose_counts() -> dict[str, int]:
    counts = dict.fromkeys(CAPS, 0)
    for name in NOTEBOOKS:
        cells = json.loads((REPO / "book" / f"{name}.ipynb").read_text())["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        text = re.sub(r"<details.*?</details>", "", text, flags=re.S)
        counts["committed"] += len(re.findall("committed", text, re.I))
        counts["this build"] += len(re.findall("this build", text, re.I))
        counts["commit hashes"] += len(HASH.findall(text))
    return counts


def test_the_chapters_prose_talks_about_vision_more_than_about_the_project():
    counts = prose_counts()
    assert all(counts[k] <= CAPS[k] for k in CAPS), counts


def test_how_the_numbers_were_made_is_an_appendix_page():
    chapters = [c["file"] for part in TOC["parts"] for c in part["chapters"]]
    assert "book/appendix_how_numbers_were_made" in chapters
    for name in NOTEBOOKS:
        cells = json.loads((REPO / "book" / f"{name}.ipynb").read_text())["cells"]
        text = " ".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        for word in ("oneDNN", "ONEDNN_VERBOSE", "py-spy", "profiler", "Profile before"):
            assert word not in text, f"{name}'s prose mentions {word}: the appendix says how numbers were made"


# ------------------------------------------------------------------------- the built pages
HTML = REPO / "_build" / "html"


@pytest.fixture(scope="module")
def pages():
    if not (HTML / "index.html").exists():
        pytest.skip("the site is not built (run `make site`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 720})

        def open_page(name):
            page.goto((HTML / "book" / f"{name}.html").as_uri(), wait_until="load")
            return page

        yield open_page
        browser.close()


@pytest.mark.browser
@pytest.mark.parametrize("name", CHAPTERS)
def test_a_chapter_page_has_one_closed_provenance_box_and_at_most_one_warning(name, pages):
    page = pages(name)
    assert page.locator("details.provenance").count() == 1
    assert page.locator("details.provenance[open]").count() == 0
    assert page.locator(".admonition.warning").count() <= 1


#: Chapter 6's page at 1280 px when issue 24 was filed, mostly eight run cards with a warning each.
#: That page had no exercises: issue 25 added the section, with its solutions folded, afterwards.
CHAPTER_6_FIRST_HEIGHT = 12_460


@pytest.mark.browser
def test_chapter_6_is_a_third_of_its_first_height(pages):
    """Issue 24.5: the page shrinks to a third, measured like for like: the lecture above the exercise
    section, which the first page did not have. The frontier of larger backbones is chapter 6b's page."""
    page = pages("06_doing_better")
    lecture = page.evaluate("""() => Array.from(document.querySelectorAll('h2'))
        .find(h => h.textContent.startsWith('Exercises')).getBoundingClientRect().top + window.scrollY""")
    height = page.evaluate("document.body.scrollHeight")
    assert lecture <= CHAPTER_6_FIRST_HEIGHT / 3, f"chapter 6's lecture is {lecture:.0f} px of {height} at 1280 px"


@pytest.mark.browser
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_no_code_cell_scrolls_sideways_at_1280_px(name, pages):
    page = pages(name)
    wide = page.evaluate("""() => Array.from(document.querySelectorAll('div.cell_input pre, div.cell_output pre, article div.highlight pre'))
        .filter(pre => pre.scrollWidth > pre.clientWidth + 1)
        .map(pre => pre.innerText.split('\\n').reduce((a, b) => a.length >= b.length ? a : b).slice(0, 80))""")
    assert wide == [], f"{name}: code cells wider than the page: {wide}"


#: A code cell at 1280 px holds 77 characters (14 px monospace in a 684 px box with 16 px padding).
PAGE_CHARACTERS = 77
#: The course's own line, which the solution shows whole (tests/test_student_notebooks.py): CSS wraps it.
COURSE_LINES = ('    base_model = keras.applications.ResNet50(weights="imagenet", include_top=False, '
                'input_shape=(32, 32, 3))',)


@pytest.mark.parametrize("name", ["06_doing_better", "06b_larger_backbones", "project_solution"])
def test_chapter_6_and_the_solution_keep_their_code_lines_within_the_page(name):
    cells = json.loads((REPO / "book" / f"{name}.ipynb").read_text())["cells"]
    shown = [c for c in cells if c["cell_type"] == "code" and "remove-cell" not in c["metadata"].get("tags", [])]
    long = [line for c in shown for line in "".join(c["source"]).splitlines()
            if len(line) > PAGE_CHARACTERS and line not in COURSE_LINES]
    assert long == [], long


def test_the_box_warns_once_for_the_run_and_in_one_line_for_records_that_differ():
    from cifar_lessons.display.cards import CardParts
    from cifar_lessons.display.provenance import provenance_html

    run = CardParts((("profile", "quick"),), "<b>Run:</b> quick", ("<b>Quick profile.</b>", "<b>Data:</b> copy."))
    same = CardParts((("profile", "seed"),), "line", ("<b>Data:</b> copy.",), record_name="lite0-32-seed")
    other = CardParts((("profile", "better"),), "line", ("<b>Not the seed recipe.</b> 128 px",),
                      record_name="lite0-128-better", made_by={"commit": "0123456789abcdef", "command": "python -m x"})
    html = provenance_html([run, same, other])
    shown, box = html.split("<details", 1)
    assert shown.count("admonition warning") == 1
    assert "Quick profile" in shown and "128 px" not in shown
    assert "1 of the 2 records it quotes differ" in shown
    assert "128 px" in box and "0123456789" in box and "python -m x" in box
    assert "this page's run, and 2 records" in box
    assert "<details class='provenance'>" in "<details" + box and "open" not in box.split(">", 1)[0]


def test_a_page_that_trains_nothing_warns_only_in_the_records_line():
    """Chapters 6 and 6b only read full-size records: no warning box about a run that never happened,
    and the records' differences from the seed recipe in the box's one-line summary."""
    from cifar_lessons.display.cards import CardParts
    from cifar_lessons.display.provenance import provenance_html

    same = CardParts((("profile", "seed"),), "line", (), record_name="lite0-32-seed")
    other = CardParts((("profile", "better"),), "line", ("<b>Not the seed recipe.</b> 128 px",),
                      record_name="lite0-128-better")
    html = provenance_html([same, other], trains=False)
    shown, box = html.split("<details", 1)
    assert "admonition warning" not in html, "full-size records are real results: no warning box"
    summary = box[box.index("<summary>"):box.index("</summary>")]
    assert "1 of the 2 records it quotes differ from the seed recipe" in summary
    assert "this page trains nothing" in summary
    assert "128 px" not in shown and "128 px" not in summary and "128 px" in box
    assert "this page's run" not in html
    assert "Figures:</b> 2 records, full size &middot; not the seed recipe" in shown
    assert "Not the real result" not in html
    plain = provenance_html([same], trains=False)
    assert "admonition warning" not in plain and "1 record; this page trains nothing" in plain


def test_chapter_6_which_trains_nothing_loads_no_data_and_shows_no_run_card():
    code = _code("06_doing_better")
    assert "load_data(" not in code and "run_card(" not in code, "chapter 6 would load CIFAR-10 for a card"
    assert "provenance(None, " in code
