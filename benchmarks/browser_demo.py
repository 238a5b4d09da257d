"""The Try the classifier page in headless Chromium (issue 27): the model's size, the time to load the
page and the model, and the milliseconds per prediction. A measurement, not a test.

Needs the built site (``make site``). Each of ``--loads`` loads is a fresh browser context (no cache),
timed from the navigation to the first prediction shown (ONNX Runtime Web, the model, one warm-up run
and the first test image); the predictions are the page's own (``window.cifarDemo.classify``), one
image at a time, on the check images. Targets: model <= 20 MB, load <= 3 s, <= 100 ms per image.

    .venv/bin/python benchmarks/browser_demo.py --out benchmarks/results/browser_demo.txt
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
from build_slides import CHROMIUM, _serve  # noqa: E402

HTML = REPO / "_build" / "html"
CHECK = REPO / "_build" / "demo-check.npz"
PAGE = "book/try_the_classifier.html"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def measure(loads: int, images: int) -> dict:
    from playwright.sync_api import sync_playwright

    base = _serve(HTML)
    with np.load(CHECK) as check:
        pixels = check["images"][:images].astype(np.uint8)
    packed = base64.b64encode(pixels.tobytes()).decode()
    load_seconds, page_loaded, per_image = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for i in range(loads):
            context = browser.new_context()
            page = context.new_page()
            start = time.perf_counter()
            page.goto(base + PAGE)
            page.evaluate("() => window.cifarDemo.ready")
            load_seconds.append(time.perf_counter() - start)
            page_loaded.append(
                page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd") / 1000
            )
            if i == loads - 1:
                per_image = page.evaluate(
                    """async (packed) => {
                        const bytes = Uint8Array.from(atob(packed), (c) => c.charCodeAt(0));
                        const ms = [];
                        for (let i = 0; i < bytes.length; i += 32 * 32 * 3) {
                            const t = performance.now();
                            await window.cifarDemo.classify(bytes.subarray(i, i + 32 * 32 * 3));
                            ms.push(performance.now() - t);
                        }
                        return ms;
                    }""",
                    packed,
                )
            context.close()
        browser.close()
    return {"load_seconds": load_seconds, "page_loaded": page_loaded, "ms_per_image": per_image}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loads", type=int, default=5, help="page loads, each in a fresh context")
    parser.add_argument("--images", type=int, default=200, help="check images predicted one at a time")
    parser.add_argument("--out", type=Path, help="write the results here (.txt)")
    args = parser.parse_args()
    card = json.loads((HTML / "demo" / "card.json").read_text())
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    result = measure(args.loads, args.images)
    load_after = Path("/proc/loadavg").read_text().split()[:3]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO)
    size_mb = (HTML / "demo" / "model.onnx").stat().st_size / 1e6
    wasm_mb = sum(f.stat().st_size for f in (HTML / "demo" / "ort").iterdir()) / 1e6
    loads, ms = result["load_seconds"], result["ms_per_image"]
    config, accuracy = card["config"], card.get("test_accuracy", 0)
    lines = [
        f"# The Try the classifier page in headless Chromium (benchmarks/browser_demo.py), commit "
        f"{commit.stdout.strip()}, {os.cpu_count()} CPU cores, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        f"# .venv/bin/python benchmarks/browser_demo.py {shlex.join(sys.argv[1:])}",
        f"# Load average (1, 5, 15 min) before: {' '.join(load_before)}; after: {' '.join(load_after)}"
        " (the machine is shared: a full-size training run and other builds ran beside it).",
        "# Targets: model <= 20 MB; load <= 3 s; <= 100 ms per image.",
        f"model: the {card['shown']} model {card['run']} ({card['size']}, {config['backbone']}, "
        f"{config['image_size']} px inside the model, test accuracy {accuracy:.2%})",
        f"model.onnx                       {size_mb:8.1f} MB",
        f"ONNX Runtime Web (module + wasm) {wasm_mb:8.1f} MB",
        f"load, page to first prediction   {statistics.median(loads):8.2f} s median of {len(loads)} "
        f"fresh loads (min {min(loads):.2f}, max {max(loads):.2f})",
        f"  of which the page itself (to its load event) {statistics.median(result['page_loaded']):.2f} s",
        f"one prediction                   {statistics.median(ms):8.1f} ms median of {len(ms)} images, "
        f"one at a time (mean {statistics.mean(ms):.1f}, max {max(ms):.1f})",
    ]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
