"""Train at one input size, test at another: a trained run's model evaluated at larger resizes.

A network trained on images upsampled to 128 px sees, at test time, the same 32 px images upsampled
further; the objects then look as large as the random crops made them look in training, which can
help (Touvron et al. 2019, "Fixing the train-test resolution discrepancy"). It costs no training,
only evaluation. The size is chosen on the run's own validation images (the same split it trained
with), and the test set is read once, at the chosen size::

    python scripts/measure_test_size.py RUN_DIR --sizes 128 144 160 176 192

It prints one line per size and writes ``benchmarks/results/test_size/<run>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a run folder with record.json and model.keras")
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 144, 160, 176, 192])
    parser.add_argument(
        "--out", default=None, help="JSON to write (default benchmarks/results/test_size/<run>.json)"
    )
    args = parser.parse_args()

    import keras

    from cifar_lessons.config import RunConfig
    from cifar_lessons.evaluate import compute_metrics, predict_probabilities
    from cifar_lessons.recipe import load_data, new_model, split_data

    run = Path(args.run)
    record = json.loads((run / "record.json").read_text())
    config = RunConfig.from_dict(record["config"])
    data = load_data(config)
    _, (val_images, val_labels) = split_data(config, data)
    trained = keras.models.load_model(run / "model.keras", compile=False)
    weights = trained.get_weights()

    def at(size: int):
        model = new_model(RunConfig.from_dict({**record["config"], "image_size": size, "weights": "none"}))
        model.set_weights(weights)
        return model

    rows = []
    for size in args.sizes:
        start = time.perf_counter()
        probs = predict_probabilities(at(size), val_images, backbone=config.backbone, verbose=0)
        acc = float((probs.argmax(1) == val_labels).mean())
        rows.append({"size": size, "validation": acc, "seconds": round(time.perf_counter() - start, 1)})
        print(
            f"{size} px: validation {acc:.1%} on {len(val_labels):,} images ({rows[-1]['seconds']} s)",
            flush=True,
        )
    chosen = max(rows, key=lambda r: (r["validation"], -r["size"]))
    start = time.perf_counter()
    probs = predict_probabilities(at(chosen["size"]), data.x_test, backbone=config.backbone, verbose=0)
    test = compute_metrics(probs, data.y_test, data.class_names)["accuracy"]
    se = (test * (1 - test) / len(data.y_test)) ** 0.5
    print(
        f"chosen on validation: {chosen['size']} px; test {test:.2%} ± {se:.2%} "
        f"on {len(data.y_test):,} images "
        f"({time.perf_counter() - start:.0f} s); trained at {config.image_size} px"
    )
    out = Path(args.out or REPO / "benchmarks" / "results" / "test_size" / f"{run.name}.json")
    out.write_text(
        json.dumps(
            {
                "run": run.name,
                "trained_at": config.image_size,
                "validation_by_size": rows,
                "chosen_size": chosen["size"],
                "test_accuracy": test,
                "test_se": se,
                "n_test": len(data.y_test),
                "command": "python scripts/measure_test_size.py " + " ".join(sys.argv[1:]),
                "load_average": os.getloadavg(),
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
