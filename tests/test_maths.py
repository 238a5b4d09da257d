"""The formulas the course teaches are typeset (LaTeX, MathJax from the site itself) beside the code
that computes them, in the book and on the slides (issue 25)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_site import HTML, browser, open_page, server  # noqa: F401  (fixtures)

REPO = Path(__file__).resolve().parents[1]

#: Each formula, the chapter that teaches it, and a piece of its LaTeX.
FORMULAS = {
    "cross-correlation, the convolution of CNNs": ("00_seeing_images", r"k[i, j]\; \mathrm{image}[y + i,\ x + j]"),
    "convolution, the kernel flipped": ("00_seeing_images", r"\mathrm{image}[y - i,\ x - j]"),
    "the residual block": ("02_architecture", r"y = \mathrm{ReLU}\big(x + F(x)\big)"),
    "BatchNorm in training": ("02_architecture", r"\hat x = \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}}"),
    "BatchNorm at inference": ("02_architecture", r"y = \gamma (x - \hat\mu) / \sqrt{\hat\sigma^2 + \epsilon} + \beta"),
    "softmax": ("00b_fashion_from_scratch", r"p_c = e^{z_c} / \sum_{j} e^{z_j}"),
    "cross-entropy": ("00b_fashion_from_scratch", r"$-\log p_y$"),
    "Grad-CAM's weights": ("08_where_the_classifier_looks", r"\alpha_k^c = \frac{1}{Z}"),
    "Grad-CAM's map": ("08_where_the_classifier_looks", r"L^c = \mathrm{ReLU}"),
    "IoU": ("09_detection", r"|A \cap B| \,/\, |A \cup B|"),
    "precision and recall": ("09_detection", r"\mathrm{TP}/(\mathrm{TP}+\mathrm{FP})"),
    "all-point AP": ("09_detection", r"\max_{r \ge r_n} p(r)"),
    "Dice": ("10_segmentation", r"D = 2|A \cap B| / (|A| + |B|)"),
}


@pytest.mark.parametrize("name", FORMULAS)
def test_the_formula_is_typeset_in_its_chapter(name):
    stem, latex = FORMULAS[name]
    text = (REPO / "book" / f"{stem}.py").read_text().replace("\n# ", "\n")
    assert latex in text, f"{name}: not in book/{stem}.py"


MATH_PAGES = sorted({stem for stem, _ in FORMULAS.values()})


@pytest.mark.browser
@pytest.mark.parametrize("stem", MATH_PAGES)
def test_the_page_and_the_deck_render_their_formulas_with_no_network(stem, server, browser):  # noqa: F811
    for path in (f"book/{stem}.html", f"slides/{stem}.slides.html"):
        page, failed, outside = open_page(browser, server + path)
        page.wait_for_function("() => document.querySelectorAll('mjx-container').length > 0", timeout=20_000)
        assert outside == [] and failed == [], (path, outside, failed)
        assert page.locator("mjx-container merror").count() == 0, f"a formula on {path} does not parse"
        page.close()
    assert (HTML / "_static" / "mathjax" / "tex-chtml.js").exists()
