"""Every deck in headless Chromium: loads offline, right slide count, arrow key, figures."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from test_site import CHAPTERS, HTML, REPO, browser, open_page, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
DECKS = [Path(c).stem for c in CHAPTERS]


def expected_slides(stem: str) -> int:
    """Slides that nbconvert makes from the executed notebook's slideshow metadata."""
    nb = nbformat.read(REPO / "_build" / "jupyter_execute" / "book" / f"{stem}.ipynb", as_version=4)
    kinds = [c.metadata.get("slideshow", {}).get("slide_type", "-") for c in nb.cells
             if "remove-cell" not in c.metadata.get("tags", [])]
    kinds = [k for k in kinds if k != "skip"]
    starts = sum(k in ("slide", "subslide") for k in kinds)
    return starts + (0 if kinds and kinds[0] in ("slide", "subslide") else 1)


@pytest.mark.parametrize("stem", DECKS)
def test_deck_loads_offline_and_presents(stem, server, browser):  # noqa: F811
    deck = HTML / "slides" / f"{stem}.slides.html"
    assert deck.exists(), f"{deck} was not built"
    errors = []
    page, failed, outside = open_page(browser, f"{server}slides/{stem}.slides.html")
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.wait_for_function("() => window.Reveal && window.Reveal.isReady()", timeout=20_000)
    total = page.evaluate("() => Reveal.getTotalSlides()")
    assert total == expected_slides(stem) and total >= 4
    before = page.evaluate("() => Reveal.getIndices()")
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)
    after = page.evaluate("() => Reveal.getIndices()")
    assert (after["h"], after["v"]) != (before["h"], before["v"]), "the right arrow did not move on"
    images = page.evaluate("() => Array.from(document.images).map(i => [i.complete && i.naturalWidth > 0, i.src.slice(0, 40)])")
    assert all(ok for ok, _ in images), images
    if stem not in ("07_takeaways",):
        assert len(images) >= 1, "a deck without a figure"
    assert page.locator("aside.notes").count() >= 1, "no speaker notes"
    assert page.locator(".run-card").count() >= 1, "the deck does not say which run it shows"
    card = page.locator(".run-card").first.text_content()
    if "quick:" in card or "build size" in card or "random initialisation" in card:
        assert "Not the real result" in page.content(), "an offline or quick deck without its warning"
    assert outside == [], f"requests left the machine: {outside}"
    assert failed == [], failed
    assert errors == [], errors
    page.close()


def test_chapter_pages_link_their_decks_and_pdfs_and_the_landing_page_lists_all(server, browser):  # noqa: F811
    page, _, _ = open_page(browser, server + "book/intro.html")
    listed = page.eval_on_selector_all("a[href*='slides/']", "els => els.map(e => e.getAttribute('href'))")
    page.close()
    decks = [f"../slides/{stem}.slides.html" for stem in DECKS]
    pdfs = [f"../slides/{stem}.pdf" for stem in DECKS]
    assert sorted(listed) == sorted(decks + pdfs)
    for stem in DECKS:
        page, _, _ = open_page(browser, f"{server}book/{stem}.html")
        link = page.locator("a.present-link")
        assert link.count() == 1 and "Present this chapter" in link.inner_text()
        assert link.get_attribute("href") == f"../slides/{stem}.slides.html"
        pdf = page.locator("a.pdf-link")
        assert pdf.count() == 1 and "PDF" in pdf.inner_text(), "no PDF link beside the deck link"
        assert pdf.get_attribute("href") == f"../slides/{stem}.pdf"
        page.close()
