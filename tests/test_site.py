"""The built site in headless Chromium: every page renders, figures load, links resolve.

Needs ``make site`` first. Locally the tests skip when the site is not built; CI sets
``CIFAR_LESSONS_REQUIRE_SITE=1`` so that a missing site fails instead.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
HTML = REPO / "_build" / "html"
TOC = yaml.safe_load((REPO / "_toc.yml").read_text())
CONFIG = yaml.safe_load((REPO / "_config.yml").read_text())
#: The student's own notebooks (starter and solution): plain Keras, so no run card and no deck.
PROJECT_PART = "Your project"
CHAPTERS = [c["file"] for part in TOC["parts"] for c in part["chapters"]
            if c["file"].endswith(".ipynb") and part["caption"] != PROJECT_PART]
PROJECT = [c["file"] for part in TOC["parts"] for c in part["chapters"]
           if c["file"].endswith(".ipynb") and part["caption"] == PROJECT_PART]
APPENDIX = [c["file"] for part in TOC["parts"] for c in part["chapters"] if not c["file"].endswith(".ipynb")]
PAGES = (["book/intro.html"] + [f.replace(".ipynb", ".html") for f in CHAPTERS + PROJECT]
         + [f"{f}.html" for f in APPENDIX])
CHROMIUM = "/usr/bin/chromium"

pytestmark = pytest.mark.browser


def _require_site():
    if not (HTML / "index.html").exists():
        if os.environ.get("CIFAR_LESSONS_REQUIRE_SITE"):
            pytest.fail("the site is not built: run `make site` first")
        pytest.skip("the site is not built (run `make site`)")


@pytest.fixture(scope="module")
def server():
    _require_site()
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    _require_site()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


def open_page(browser, url):
    """Open a page; return (page, failed same-host requests, outside requests)."""
    page = browser.new_page()
    failed, outside = [], []
    host = urlparse(url).netloc

    def on_response(resp):
        if urlparse(resp.url).netloc == host and resp.status >= 400:
            failed.append(f"{resp.status} {resp.url}")

    def on_request(req):
        if urlparse(req.url).scheme in ("http", "https") and urlparse(req.url).netloc != host:
            outside.append(req.url)

    page.on("response", on_response)
    page.on("request", on_request)
    resp = page.goto(url, wait_until="load")
    assert resp is not None and resp.status == 200, url
    return page, failed, outside


def test_site_root_leads_to_the_landing_page(server, browser):
    page = browser.new_page()
    page.goto(server + "index.html")
    page.wait_for_url("**/book/intro.html")
    assert "Transfer learning on CIFAR-10" in page.locator("h1").first.inner_text()
    page.close()


@pytest.mark.parametrize("path", PAGES)
def test_page_renders_with_its_figures(path, server, browser):
    page, failed, _ = open_page(browser, server + path)
    assert page.locator("main h1").count() >= 1 or page.locator("h1").count() >= 1
    broken = page.evaluate("""() => Array.from(document.images)
        .filter(img => !img.complete || img.naturalWidth === 0).map(img => img.src)""")
    assert broken == [], f"images that did not load on {path}: {broken}"
    assert failed == [], f"requests that failed on {path}: {failed}"
    page.close()


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_has_outputs_figures_run_card_and_colab_link(chapter, server, browser):
    page, _, _ = open_page(browser, server + chapter.replace(".ipynb", ".html"))
    assert page.locator(".cell_output").count() > 0, "no executed output"
    assert page.locator(".run-card").count() >= 1, "no run card"
    card = page.locator(".run-card").first.inner_text()
    if "random initialisation" in card or "quick:" in card:
        assert page.locator(".admonition.warning").count() >= 1, "offline or quick build without its warning"
        assert "Not the real result" in page.content()
    if chapter.rsplit("/", 1)[-1] not in ("07_takeaways.ipynb",):
        assert page.locator(".cell_output img").count() >= 1, "chapter shows no figure"
    hrefs = page.eval_on_selector_all("a[href*='colab.research.google.com']", "els => els.map(e => e.href)")
    assert hrefs, "no Colab launch button"
    org_repo = urlparse(CONFIG["repository"]["url"]).path.strip("/")
    expected = f"https://colab.research.google.com/github/{org_repo}/blob/main/{chapter}"
    assert expected in hrefs, f"{hrefs} lacks {expected}"
    assert (REPO / chapter).exists()
    page.close()


@pytest.mark.parametrize("notebook", PROJECT)
def test_the_students_notebooks_show_their_outputs_and_open_in_colab(notebook, server, browser):
    page, _, _ = open_page(browser, server + notebook.replace(".ipynb", ".html"))
    assert page.locator(".cell_output").count() >= 10, "every check (starter) or step (solution) shows its output"
    hrefs = page.eval_on_selector_all("a[href*='colab.research.google.com']", "els => els.map(e => e.href)")
    org_repo = urlparse(CONFIG["repository"]["url"]).path.strip("/")
    assert f"https://colab.research.google.com/github/{org_repo}/blob/main/{notebook}" in hrefs, hrefs
    assert page.locator("a.present-link").count() == 0, "no deck: these are notebooks to work in"
    page.close()


def test_no_internal_link_is_broken(server, browser):
    seen, broken = set(), []
    for path in PAGES:
        page, _, _ = open_page(browser, server + path)
        links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        page.close()
        for link in links:
            target = urljoin(server + path, link).split("#")[0]
            if not target.startswith(server) or target in seen:
                continue
            seen.add(target)
            rel = target[len(server):] or "index.html"
            file = HTML / rel
            if file.is_dir():
                file = file / "index.html"
            if not file.exists():
                broken.append(f"{path} -> {rel}")
    assert len(seen) > len(PAGES)
    assert broken == [], broken


# Chapter 6 shows what validation says (tests/test_honest_selection.py); the takeaways show what was measured.
@pytest.mark.parametrize("path", ["book/07_takeaways.html"])
def test_measured_tables_show_the_committed_records(path, server, browser):
    """What a reader sees in the ladder table is what results/ holds, row by row."""
    from cifar_lessons.records.committed import ladder_rows

    page, _, _ = open_page(browser, server + path)
    tables = page.locator("table.dataframe")
    seen = None
    for i in range(tables.count()):
        table = tables.nth(i)
        if not table.is_visible():
            continue
        head = [th.inner_text().strip() for th in table.locator("thead th").all()]
        if "test accuracy" in head and "record" in head:
            seen = [dict(zip(head, [td.inner_text().strip() for td in tr.locator("td").all()]))
                    for tr in table.locator("tbody tr").all()]
            break
    assert seen, f"no visible table of committed results on {path}"
    expected = ladder_rows()
    assert [r["record"] for r in seen] == [r["record"] for r in expected]
    assert [r["test accuracy"] for r in seen] == [r["test accuracy"] for r in expected]
    assert [r["wall time"] for r in seen] == [r["wall time"] for r in expected]
    assert page.locator(".cell_output img").count() >= 1  # the accuracy-against-time figure
    page.close()
