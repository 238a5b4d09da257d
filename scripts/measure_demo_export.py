"""Export a run for the Try the classifier page and measure what the browser would get (issue 27).

Exports ``RUN_DIR`` into ``OUT`` (``python -m cifar_lessons export``), then, with ONNX Runtime on the
CPU, on every test image of the data (the package's loader): the float model's accuracy, and that of
its dynamic int8 quantisation (``onnxruntime.quantization.quantize_dynamic``), against the accuracy
Keras measured (the run's metrics.json). Writes ``OUT/MEASURED.txt``: sizes, accuracies, the commands,
and which file the site uses. The int8 file is measured, not kept.

The rule (issue 27): the float model is used if it is at most 20 MB; a quantised one only if it is
at most 6 MB and loses at most 0.5 points of test accuracy.

    .venv/bin/python scripts/measure_demo_export.py /work/runs/lite0-128-better-seed1 \\
        demo/lite0-128-better-seed1 --data ../shared/data/cifar10-jpeg.tar.gz
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FLOAT_LIMIT_MB, QUANTISED_LIMIT_MB, MAX_LOSS_POINTS = 20.0, 6.0, 0.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--data", help="CIFAR-10 copy (default: the run's own, else $CIFAR_LESSONS_DATA)")
    args = parser.parse_args()

    from cifar_lessons.quiet import start_tensorflow

    start_tensorflow()
    from cifar_lessons.data import load_cifar10
    from cifar_lessons.export import export_run, onnx_probabilities, quantize_dynamic_int8
    from cifar_lessons.records.store import load_record

    record = load_record(args.run_dir, model=False)
    start = time.perf_counter()
    card = export_run(args.run_dir, args.out, data=args.data)
    export_seconds = time.perf_counter() - start
    data = load_cifar10(args.data or record.data["path"], n=1, seed=record.config.get("seed", 42))
    labels = np.asarray(data.y_test).reshape(-1)
    keras_accuracy = record.metrics["accuracy"]

    def accuracy(path: Path) -> float:
        return float((onnx_probabilities(path, data.x_test).argmax(1) == labels).mean())

    float_path = args.out / "model.onnx"
    float_mb, float_acc = float_path.stat().st_size / 1e6, accuracy(float_path)
    with tempfile.TemporaryDirectory() as tmp:
        int8_path = quantize_dynamic_int8(float_path, Path(tmp) / "model.int8.onnx")
        int8_mb, int8_acc = int8_path.stat().st_size / 1e6, accuracy(int8_path)
    int8_ok = int8_mb <= QUANTISED_LIMIT_MB and 100 * (float_acc - int8_acc) <= MAX_LOSS_POINTS
    used = "float" if float_mb <= FLOAT_LIMIT_MB else ("int8" if int8_ok else "none")
    git = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=REPO)
    commit, source = git.stdout.strip(), Path(data.source.path or "the data").name
    command = "python scripts/measure_demo_export.py " + shlex.join(sys.argv[1:])
    lines = [
        f"# The Try the classifier page's model: {card['run']} ({card['size']}), exported and measured "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit}.",
        f"# {command}",
        f"# Accuracy on all {len(labels):,} test images of {source}, with ONNX Runtime (CPU) in Python.",
        f"Keras (the run's metrics.json)          test accuracy {keras_accuracy:.4f}",
        f"ONNX float32  model.onnx  {float_mb:6.2f} MB  test accuracy {float_acc:.4f}  "
        f"({100 * (float_acc - keras_accuracy):+.2f} points vs Keras)",
        f"ONNX int8 (dynamic, QUInt8 weights) {int8_mb:6.2f} MB  test accuracy {int8_acc:.4f}  "
        f"({100 * (int8_acc - float_acc):+.2f} points vs float)",
        f"export took {export_seconds:.0f} s.",
        f"Rule: float if <= {FLOAT_LIMIT_MB:g} MB, else int8 if <= {QUANTISED_LIMIT_MB:g} MB and <= "
        f"{MAX_LOSS_POINTS} points lost. Used: {used}"
        + (
            " (model.onnx, committed here; the browser test's 1e-3 bound on Keras's probabilities holds "
            "for it, not for int8)"
            if used == "float"
            else ""
        ),
    ]
    text = "\n".join(lines) + "\n"
    (args.out / "MEASURED.txt").write_text(text)
    print(text, end="")
    print(json.dumps({"float_mb": float_mb, "int8_mb": int8_mb, "used": used}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
