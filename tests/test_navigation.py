"""Navigation (issue 25, item 8): the introduction, the sidebar and the "next" links list every page in order.

The sidebar is ``_toc.yml``. The introduction must link every page of it, first mention in the TOC's
order, and the built site's "next" links must lead from the introduction through every page once, in
the same order, to the last appendix page. The browser test needs ``make site`` first, as the other
browser tests do (``tests/test_site.py``), and skips without it.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
import test_site
import yaml

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "book"
TOC = yaml.safe_load((REPO / "_toc.yml").read_text())
#: Every page after the root, in the sidebar's order, as ``book/<name>`` without a suffix.
TOC_PAGES = [re.sub(r"\.(ipynb|md)$", "", c["file"]) for part in TOC["parts"] for c in part["chapters"]]
#: The built site served over HTTP and headless Chromium, as the site's own tests use them (they skip
#: when the site is not built).
server, browser = test_site.server, test_site.browser
APPENDIX = [re.sub(r"\.(ipynb|md)$", "", c["file"]) for c in TOC["parts"][-1]["chapters"]]


def intro_links() -> list[str]:
    """The book pages the introduction links, in order of first mention, as ``book/<name>``."""
    text = (BOOK / "intro.md").read_text()
    seen: list[str] = []
    for target in re.findall(r"\]\(([^)#\s]+)", text):
        if "://" in target or target.startswith("../"):
            continue
        page = "book/" + re.sub(r"\.(ipynb|md)$", "", target)
        if page not in seen:
            seen.append(page)
    return seen


def test_the_introduction_links_every_page_in_the_sidebars_order():
    links = intro_links()
    missing = [p for p in TOC_PAGES if p not in links]
    assert not missing, f"the introduction does not link {missing}"
    assert [p for p in links if p in TOC_PAGES] == TOC_PAGES
    assert all(p in TOC_PAGES for p in links), "the introduction links a page the sidebar does not list"


def test_every_page_in_book_is_in_the_sidebar():
    """A Markdown or notebook page left out of ``_toc.yml`` is never built (``only_build_toc_files``): unreachable."""
    pages = {f"book/{p.stem}" for p in BOOK.glob("*.md")} | {f"book/{p.stem}" for p in BOOK.glob("*.ipynb")}
    assert pages - {TOC["root"]} == set(TOC_PAGES)


def test_the_appendix_holds_the_reference_pages():
    assert {"book/glossary", "book/reading_list", "book/teachers_guide", "book/appendix_command_line"} <= set(APPENDIX)


def test_the_glossary_defines_the_books_vocabulary():
    text = (BOOK / "glossary.md").read_text()
    body = text.split("```{glossary}", 1)[1].split("```", 1)[0]
    terms = [line for line in body.splitlines() if line and not line.startswith(" ")]
    assert terms == sorted(terms, key=str.lower), "terms in alphabetical order"
    for term in ("recipe", "profile", "phase", "head", "fine-tuning", "build size", "full size", "run record",
                 "committed record", "seed", "backbone", "transfer learning", "validation set", "test set",
                 "BatchNorm", "augmentation", "IoU", "mAP", "Dice", "Grad-CAM"):
        assert term in terms, f"the glossary does not define {term!r}"
    seed = body.split("\nseed\n", 1)[1].split("\n\n", 1)[0]
    assert "`seed` profile" in seed and "random" in seed, "'seed' has both of its meanings"


# --- the built site --------------------------------------------------------------------------------


@pytest.mark.browser
def test_next_leads_from_the_first_page_through_every_page_once(server, browser):
    page = browser.new_page()
    url = urljoin(server, "book/intro.html")
    visited = []
    while url and len(visited) <= len(TOC_PAGES) + 1:
        page.goto(url)
        visited.append(urlparse(page.url).path.lstrip("/").removesuffix(".html"))
        link = page.locator("a.right-next")
        url = urljoin(page.url, link.first.get_attribute("href")) if link.count() else None
    page.close()
    assert visited[0] == TOC["root"]
    assert visited[1:] == TOC_PAGES, "following 'next' from the introduction"
    assert len(set(visited)) == len(visited), "no page twice"


@pytest.mark.browser
def test_the_sidebar_lists_every_page_in_order(server, browser):
    page = browser.new_page()
    page.goto(urljoin(server, "book/intro.html"))
    hrefs = page.eval_on_selector_all("nav.bd-docs-nav a.reference.internal", "els => els.map(e => e.href)")
    page.close()
    listed = []
    for href in hrefs:
        path = urlparse(href).path.lstrip("/").removesuffix(".html")
        if path not in listed and path.startswith("book/"):
            listed.append(path)
    assert [p for p in listed if p != TOC["root"]] == TOC_PAGES
