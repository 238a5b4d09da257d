"""The solution notebook run at full size, offline, behind results/solution-lite0-32.

Run once on the project's 2-core machine, from a clean checkout (the record names the commit that
made it), with nothing else measuring:

    nice .venv/bin/python scripts/measure_solution.py

It executes book/project_solution.ipynb itself, top to bottom, exactly as a student would run it, with
the offline settings the book builds with: the shared CIFAR-10 JPEG copy (``CIFAR_LESSONS_DATA``,
default ``../shared/data/cifar10-jpeg.tar.gz``), EfficientNet-Lite0 with its ImageNet weights
(``CIFAR_LESSONS_BACKBONE``/``CIFAR_LESSONS_WEIGHTS``) and the full size: the first 10,000 training
images (9,000 to fit, the last 1,000 to validate), 10 + 10 epochs, all 10,000 test images. One cell
appended after the notebook's own cells hands back its histories and its test predictions, from which
three small files are written into results/solution-lite0-32/ in the shape of the package's records
(record.json, history.json, metrics.json), so the two can be compared side by side.

``--profile quick --out /tmp/somewhere`` tries the script at the notebook's quick size in a minute or
two; results/ takes only full-size runs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
NOTEBOOK = REPO / "book" / "project_solution.ipynb"
COMMITTED = "solution-lite0-32"
ENV = ("CIFAR_LESSONS_PROFILE", "CIFAR_LESSONS_DATA", "CIFAR_LESSONS_BACKBONE", "CIFAR_LESSONS_WEIGHTS")

# Appended to the notebook: everything the record needs, read from the kernel after the last step.
HAND_BACK = """
import json as _json
_probabilities = model.predict(test_inputs, batch_size=256, verbose=0)
_json.dump({
    "config": {"n": N_TRAIN, "image_size": 32, "backbone": BACKBONE, "weights": WEIGHTS, "data": DATA,
               "head": [256, 128], "dropout": 0.3, "head_epochs": HEAD_EPOCHS,
               "fine_tune_epochs": FINE_TUNE_EPOCHS, "head_learning_rate": HEAD_LR,
               "fine_tune_learning_rate": FINE_TUNE_LR, "batch_size": BATCH_SIZE,
               "validation_fraction": VAL_FRACTION, "seed": SEED},
    "counts": {"n_train": len(fit_images), "n_val": len(val_images), "n_test": len(test_images)},
    "history_head": history_head.history, "history_tune": history_tune.history,
    "evaluate": {"loss": float(test_loss), "accuracy": float(test_accuracy)},
    "probabilities": _probabilities.tolist(), "labels": test_labels.tolist(),
}, open(%r, "w"))
"""


def cell_seconds(cell) -> float:
    """How long a cell ran, from the timestamps nbclient writes into its metadata."""
    t = cell.metadata["execution"]
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return round((parse(t["shell.execute_reply"]) - parse(t["iopub.execute_input"])).total_seconds(), 2)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--profile",
        default="seed",
        choices=("seed", "quick"),
        help="seed (full size, the default) or quick (a try-out at the notebook's quick size)",
    )
    parser.add_argument(
        "--out", default=str(REPO / "results"), help="folder of the record folder (default results/)"
    )
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.profile == "quick" and out.resolve() == (REPO / "results").resolve():
        parser.error("results/ holds full-size runs only; give --out for a quick try-out")
    os.environ["CIFAR_LESSONS_PROFILE"] = args.profile
    os.environ.setdefault(
        "CIFAR_LESSONS_DATA", str((REPO.parent / "shared" / "data" / "cifar10-jpeg.tar.gz").resolve())
    )
    os.environ.setdefault("CIFAR_LESSONS_BACKBONE", "efficientnet_lite0")
    os.environ.setdefault("CIFAR_LESSONS_WEIGHTS", "imagenet")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    import nbformat
    import numpy as np
    from nbclient import NotebookClient

    from cifar_lessons.data import CLASS_NAMES, sha256_of
    from cifar_lessons.evaluate import compute_metrics
    from cifar_lessons.models import describe_weights
    from cifar_lessons.records.committed import measured_by
    from cifar_lessons.records.provenance import environment

    made_by = measured_by("measure_solution.py", argv, env=ENV)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    with tempfile.TemporaryDirectory() as tmp:
        handed = Path(tmp) / "run.json"
        nb.cells.append(nbformat.v4.new_code_cell(HAND_BACK % str(handed)))
        print(
            f"measure: executing {NOTEBOOK.relative_to(REPO)} with "
            + ", ".join(f"{k}={os.environ[k]}" for k in ENV),
            flush=True,
        )
        started = time.perf_counter()
        NotebookClient(
            nb,
            timeout=3600,
            kernel_name="python3",
            record_timing=True,
            resources={"metadata": {"path": str(NOTEBOOK.parent)}},
        ).execute()
        run_seconds = round(time.perf_counter() - started, 2)
        run = json.loads(handed.read_text())
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("name") == "stdout" and cell.source.startswith(("DATA", "test_loss")):
                print("notebook:", output["text"].strip(), flush=True)

    def timed(marker: str) -> float:
        (cell,) = [c for c in nb.cells if c.cell_type == "code" and marker in c.source]
        return cell_seconds(cell)

    config = {"profile": args.profile, **run["config"]}
    head, tune = run["history_head"], run["history_tune"]
    keys = ("accuracy", "loss", "val_accuracy", "val_loss")
    history = {k: head[k] + tune[k] for k in keys}
    history["learning_rate"] = [config["head_learning_rate"]] * len(head["loss"]) + [
        config["fine_tune_learning_rate"]
    ] * len(tune["loss"])
    timing = {
        "head_seconds": timed("history_head = model.fit"),
        "fine_tune_seconds": timed("history_tune = model.fit"),
        "evaluate_seconds": timed("model.evaluate("),
        "run_seconds": run_seconds,
    }
    metrics = compute_metrics(
        np.asarray(run["probabilities"], dtype=np.float32), np.asarray(run["labels"]), CLASS_NAMES
    )
    metrics["notebook_evaluate"] = run["evaluate"]  # what the notebook's own model.evaluate printed
    data_path = config["data"]
    record = {
        "producer": "cifar_lessons",
        "kind": "solution-notebook",
        "stage": "full",
        "notebook": str(NOTEBOOK.relative_to(REPO)),
        "config": config,
        "data": {
            "path": data_path,
            "sha256": sha256_of(data_path) if data_path and Path(data_path).is_file() else None,
            "description": "the class-folder JPEG copy, read by cifar_lessons.data.load_cifar10 (seed 42)"
            if data_path
            else "keras.datasets.cifar10.load_data()",
            **run["counts"],
        },
        "weights": describe_weights(config["weights"], config["backbone"]),
        "compute": {
            "phase1": "the frozen base runs on every batch (no cached features)",
            "precision": "float32",
            "batch_size": config["batch_size"],
        },
        "environment": environment(),
        "made_by": made_by,
        "timing": timing,
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    folder = out / COMMITTED
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "record.json").write_text(json.dumps(record, indent=2) + "\n")
    (folder / "history.json").write_text(
        json.dumps(
            {
                "history": history,
                "phase2_start": len(head["loss"]),
                "seconds": {k.removesuffix("_seconds"): v for k, v in timing.items()},
            },
            indent=2,
        )
        + "\n"
    )
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    p = metrics["accuracy"]
    print(
        f"measure: test accuracy {p:.2%} ± {(p * (1 - p) / metrics['n_test']) ** 0.5:.2%} (standard error), "
        f"whole run {run_seconds / 60:.1f} min; record {folder}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
