"""Screenshot every slide of every built deck, to look at what an audience sees.

    python scripts/screenshot_decks.py [OUT_DIR] [WIDTHxHEIGHT] [deck ...]

Serves ``_build/html`` locally, opens each deck in headless Chromium at the given screen size
(1280x720 by default), shows every slide with all its fragments, and writes
``OUT_DIR/<deck>-NN.png`` (default ``_build/screenshots``).
"""

from __future__ import annotations

import functools
import http.server
import sys
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HTML = REPO / "_build" / "html"


def main(argv: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(REPO / "scripts"))
    from build_slides import CHROMIUM

    out = Path(argv[0]) if argv else REPO / "_build" / "screenshots"
    width, height = map(int, (argv[1] if len(argv) > 1 else "1280x720").split("x"))
    decks = argv[2:] or [
        p.name.removesuffix(".slides.html") for p in sorted((HTML / "slides").glob("*.slides.html"))
    ]
    out.mkdir(parents=True, exist_ok=True)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(HTML)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for deck in decks:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/slides/{deck}.slides.html")
            page.wait_for_function("() => window.Reveal && Reveal.isReady()")
            page.evaluate("() => Reveal.configure({transition: 'none'})")
            slides = page.evaluate(
                "() => Reveal.getSlides().map(s => { const i = Reveal.getIndices(s); "
                "return [i.h, i.v || 0, s.querySelectorAll('.fragment').length]; })"
            )
            for n, (h, v, fragments) in enumerate(slides, 1):
                page.evaluate(
                    "([h, v, f]) => Reveal.slide(h, v, f)", [h, v, fragments - 1 if fragments else -1]
                )
                page.wait_for_timeout(150)
                page.screenshot(path=str(out / f"{deck}-{n:02d}.png"))
            print(f"{deck}: {len(slides)} slides -> {out}")
            page.close()
        browser.close()
    httpd.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
