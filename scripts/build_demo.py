"""Put the "Try the classifier" page's files into the site, under ``_build/html/demo/`` (issue 27).

Run by ``make site`` after Jupyter Book, before the decks (whose last slide runs the same model).
Which model the page runs:

- the committed full-size model, ``demo/lite0-128-better-seed1/`` (exported with
  ``python -m cifar_lessons export``), when it is in the checkout: what the published site shows;
- else this build's own quick model, chapter 5's finished run (``$CIFAR_LESSONS_RUNS/<key>/full``),
  exported now into ``_build/demo/``.

``card.json`` says which, and the page says it plainly. The folder gets ``model.onnx``, ``card.json``,
20 of the check images as PNGs, two of each class (``samples/``, with ``samples.json``), and ONNX
Runtime Web's single-threaded WebAssembly build from ``node_modules`` (``npm ci``): no CDN.
The check file (``keras_check.npz``, Keras's probabilities for 500 test images) is copied to
``_build/demo-check.npz`` for the browser test, not published.

    python scripts/build_demo.py
"""

from __future__ import annotations

import io
import json
import shutil
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SITE_DEMO = REPO / "_build" / "html" / "demo"
BUILD_DEMO = REPO / "_build" / "demo"
#: Keras's probabilities for the site's model, for the browser test (tests/test_classifier_page.py).
CHECK = REPO / "_build" / "demo-check.npz"
COMMITTED = REPO / "demo" / "lite0-128-better-seed1"
#: ONNX Runtime Web's WebAssembly build as one ES module (its loader bundled in) and its binary.
#: The binary is the "threaded" one, which runs single-threaded with numThreads = 1 and then needs
#: no SharedArrayBuffer (so no cross-origin isolation).
ORT = REPO / "node_modules" / "onnxruntime-web" / "dist"
ORT_FILES = ("ort.wasm.bundle.min.mjs", "ort-wasm-simd-threaded.wasm")
SAMPLES = 20


def build_run() -> Path:
    """Chapter 5's finished run of this build's settings (the chapters wrote it)."""
    from cifar_lessons.config import chapter_config
    from cifar_lessons.recipe import stage_dir

    return stage_dir(chapter_config(), "full")


def choose_source(committed: Path = COMMITTED) -> tuple[Path, str]:
    """The export folder the page uses, and ``"committed"`` or ``"build"``."""
    if (committed / "model.onnx").is_file():
        return committed, "committed"
    run = build_run()
    if not (run / "model.keras").is_file():
        sys.exit(f"error: {run} holds no model.keras: execute the chapters first (make site does)")
    onnx = BUILD_DEMO / "model.onnx"
    if not onnx.is_file() or onnx.stat().st_mtime < (run / "model.keras").stat().st_mtime:
        from cifar_lessons.export import export_run
        from cifar_lessons.quiet import start_tensorflow

        start_tensorflow()
        export_run(run, BUILD_DEMO)
    return BUILD_DEMO, "build"


def sample_order(labels: np.ndarray, n: int = SAMPLES) -> list[int]:
    """``n`` check images in turn by class (airplane, automobile, ..., then a second of each): their
    positions in the check set."""
    classes = sorted(set(labels.tolist()))
    by_class = {c: [i for i, y in enumerate(labels.tolist()) if y == c] for c in classes}
    order = [by_class[c][r] for r in range(n) for c in classes if r < len(by_class[c])]
    return order[:n]


def write_samples(check: Path, out: Path, class_names: list[str], n: int = SAMPLES) -> list[dict]:
    """The first ``n`` check images as PNGs in ``out``, and their list (file, label, class)."""
    from PIL import Image

    out.mkdir(parents=True, exist_ok=True)
    with np.load(check, allow_pickle=False) as f:
        images, labels = f["images"], f["labels"]
    listing = []
    for i, k in enumerate(sample_order(labels, n)):
        img, label = images[k], labels[k]
        name = f"test{i:02d}.png"
        buf = io.BytesIO()
        Image.fromarray(img.astype(np.uint8), "RGB").save(buf, format="PNG")
        (out / name).write_bytes(buf.getvalue())
        listing.append({"file": f"samples/{name}", "label": int(label), "class": class_names[int(label)]})
    return listing


def main() -> int:
    source, how = choose_source()
    missing = [f for f in ORT_FILES if not (ORT / f).is_file()]
    if missing:
        sys.exit(f"error: {ORT} lacks {', '.join(missing)}; run `npm ci` (make site does)")
    shutil.rmtree(SITE_DEMO, ignore_errors=True)
    (SITE_DEMO / "ort").mkdir(parents=True)
    for name in ORT_FILES:
        shutil.copy2(ORT / name, SITE_DEMO / "ort" / name)
    shutil.copy2(source / "model.onnx", SITE_DEMO / "model.onnx")
    card = json.loads((source / "card.json").read_text())
    card["shown"] = how
    (SITE_DEMO / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    samples = write_samples(source / "keras_check.npz", SITE_DEMO / "samples", card["class_names"])
    (SITE_DEMO / "samples.json").write_text(json.dumps(samples, indent=1) + "\n")
    shutil.copy2(source / "keras_check.npz", CHECK)
    accuracy = card.get("test_accuracy")
    print(
        f"demo: {SITE_DEMO.relative_to(REPO)}: the {how} model {card['run']} ({card['size']}"
        + (f", test accuracy {accuracy:.1%}" if accuracy is not None else "")
        + f"), {card['onnx']['bytes'] / 1e6:.1f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
