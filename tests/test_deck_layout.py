"""What an audience sees on every slide of every deck, at 1280×720 and 1024×768.

Each deck is opened once per screen size in headless Chromium; every slide is shown with
all its fragments, and measured: nothing outside the slide's box and nothing scrolled or
clipped inside it, no text under 16 px as rendered (computed size × reveal's scale), no log
line or progress bar, and every figure visible and at least 200 px on its longer side.
The PDF of each deck has one page per slide.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from test_site import CHAPTERS, HTML, browser, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
DECKS = [Path(c).stem for c in CHAPTERS]
SCREENS = [(1280, 720), (1024, 768)]
MIN_TEXT_PX = 16
MIN_IMAGE_PX = 200
LOG_PATTERNS = [r"WARNING:", r"I0000", r"E0000", r"W0000", r"cuInit", r"cuda_", r"oneDNN", r"Epoch \d+/\d+",
                r"ms/step", r"Traceback"]

# Runs in the page for the slide on screen; returns every problem found, as short strings.
MEASURE = r"""
({minText, minImage}) => {
  const problems = [];
  const box = document.querySelector('.reveal .slides').getBoundingClientRect();
  const scale = Reveal.getScale();
  const slide = Reveal.getCurrentSlide();
  const tol = 1.5;
  const label = el => {
    const text = (el.innerText || el.alt || '').trim().replace(/\s+/g, ' ').slice(0, 50);
    return `<${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : ''}> "${text}"`;
  };
  const shown = el => {
    if (el.closest('aside.notes')) return false;
    // MathJax's copy of a formula for screen readers: clipped to nothing on purpose, drawn beside it.
    if (el.closest('mjx-assistive-mml')) return false;
    if (el.getClientRects().length === 0) return false;
    const s = getComputedStyle(el);
    return s.visibility !== 'hidden' && parseFloat(s.opacity) > 0;
  };
  const reported = [];  // report the outermost offender only, not each of its descendants
  for (const el of [slide, ...slide.querySelectorAll('*')]) {
    if (!shown(el) || reported.some(p => p.contains(el))) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.left < box.left - tol || r.right > box.right + tol || r.top < box.top - tol || r.bottom > box.bottom + tol) {
      reported.push(el);
      problems.push(`outside the slide by ${Math.round(Math.max(box.left - r.left, r.right - box.right, box.top - r.top, r.bottom - box.bottom))} px: ${label(el)}`);
    }
    const s = getComputedStyle(el);
    const clipsX = s.overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 2;
    const clipsY = s.overflowY !== 'visible' && el.scrollHeight > el.clientHeight + 2;
    if (clipsX || clipsY) {
      reported.push(el);
      problems.push(`clipped or scrolled inside (${el.scrollWidth}x${el.scrollHeight} in ${el.clientWidth}x${el.clientHeight}): ${label(el)}`);
    }
  }
  const walker = document.createTreeWalker(slide, NodeFilter.SHOW_TEXT);
  const small = new Set();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || !shown(el)) continue;
    const px = parseFloat(getComputedStyle(el).fontSize) * scale;
    if (px < minText - 0.05) small.add(`text at ${px.toFixed(1)} px: ${label(el.closest('p, li, td, th, pre, h1, h2, h3, div') || el)}`);
  }
  problems.push(...small);
  for (const img of slide.querySelectorAll('img')) {
    if (img.closest('aside.notes')) continue;
    const r = img.getBoundingClientRect();
    if (!shown(img) || !img.complete || img.naturalWidth === 0) {
      problems.push(`image not visible: ${img.src.slice(0, 40)}`);
    } else if (Math.max(r.width, r.height) < minImage) {
      problems.push(`image only ${Math.round(r.width)}x${Math.round(r.height)} px`);
    }
  }
  return {problems, text: slide.innerText, images: slide.querySelectorAll('img').length};
}
"""


def measure_deck(browser, server, stem, width, height):  # noqa: F811
    """{(h, v): {"problems": [...], "text": str}} for every slide of one deck at one screen size."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{server}slides/{stem}.slides.html", wait_until="load")
    page.wait_for_function("() => window.Reveal && window.Reveal.isReady()", timeout=20_000)
    page.evaluate("() => Reveal.configure({transition: 'none', backgroundTransition: 'none'})")
    slides = page.evaluate("() => Reveal.getSlides().map(s => { const i = Reveal.getIndices(s); "
                           "return [i.h, i.v || 0, s.querySelectorAll('.fragment').length]; })")
    report = {}
    for h, v, fragments in slides:
        page.evaluate("([h, v, f]) => Reveal.slide(h, v, f)", [h, v, fragments - 1 if fragments else -1])
        # Wait for the slide's images to be decoded, as an audience would, and let reveal size them.
        # On a loaded machine decoding a slide's figure took more than 5 s (CI, 2026-11-29, with two
        # trainings beside it), so the bound is generous; it costs nothing when images load, and an
        # image that never loads is still reported by MEASURE.
        try:
            page.wait_for_function("() => Array.from(Reveal.getCurrentSlide().querySelectorAll('img'))"
                                   ".every(i => i.complete && i.naturalWidth > 0)", timeout=30_000)
        except PlaywrightTimeout:
            pass
        # A shown fragment (an image, say) fades in over 0.2 s; measured mid-fade its opacity is 0 and
        # it reads as invisible (seen in CI on loaded machines). Measure it as the audience sees it.
        try:
            page.wait_for_function("() => Array.from(Reveal.getCurrentSlide().querySelectorAll('.fragment.visible'))"
                                   ".every(f => getComputedStyle(f).opacity === '1')", timeout=10_000)
        except PlaywrightTimeout:
            pass
        page.evaluate("() => Reveal.layout()")
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        report[(h, v)] = page.evaluate(MEASURE, {"minText": MIN_TEXT_PX, "minImage": MIN_IMAGE_PX})
    page.close()
    return report


@pytest.fixture(scope="module")
def measured(server, browser):  # noqa: F811
    cache = {}

    def get(stem, width, height):
        if (stem, width, height) not in cache:
            deck = HTML / "slides" / f"{stem}.slides.html"
            assert deck.exists(), f"{deck} was not built"
            cache[stem, width, height] = measure_deck(browser, server, stem, width, height)
        return cache[stem, width, height]

    return get


@pytest.mark.parametrize("width,height", SCREENS, ids=lambda s: str(s))
@pytest.mark.parametrize("stem", DECKS)
def test_every_slide_fits_is_readable_and_shows_no_logs(stem, width, height, measured):
    report = measured(stem, width, height)
    problems = []
    for (h, v), slide in report.items():
        found = list(slide["problems"])
        logs = {line.strip()[:90] for line in slide["text"].splitlines()
                if any(re.search(pattern, line) for pattern in LOG_PATTERNS)}
        found += [f"log text: {line!r}" for line in sorted(logs)]
        problems += [f"slide {h}/{v}: {p}" for p in found]
    assert problems == [], f"{stem} at {width}x{height}:\n" + "\n".join(problems)


def slide_count(stem):
    from test_slides import expected_slides

    return expected_slides(stem)


@pytest.mark.parametrize("stem", DECKS)
def test_every_deck_is_a_pdf_with_one_page_per_slide(stem, measured):
    from pypdf import PdfReader

    pdf = HTML / "slides" / f"{stem}.pdf"
    assert pdf.exists(), f"{pdf} was not built"
    reader = PdfReader(pdf)
    slides = len(measured(stem, 1280, 720))
    assert len(reader.pages) == slides == slide_count(stem), (len(reader.pages), slides)
    first = reader.pages[0].extract_text() or ""
    assert len(first.split()) >= 3, f"the first page of {pdf.name} has no text: {first!r}"
