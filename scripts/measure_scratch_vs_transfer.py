"""The full-size runs behind results/scratch-* and results/head-lite0-*: transfer or from scratch, measured.

Run on the project's 2-core machine from a clean checkout (each record names the commit and the
command that made it), one run after the other:

    .venv/bin/python scripts/measure_scratch_vs_transfer.py                 # every run, in order
    .venv/bin/python scripts/measure_scratch_vs_transfer.py scratch-cnn-32  # only the runs named

The runs (cifar_lessons.scratch.study.RUNS): a small CNN from scratch at 32 px on the first 10,000
training images, without and with flips and crops, 15 epochs (about the seed recipe's six minutes);
EfficientNet-Lite0 with its ImageNet weights, frozen, the seed profile's head only, at 32 and 128 px;
and the data-size curve, 1,000 and 2,500 images, from scratch (with flips and crops) and head only,
each with as many optimiser steps as its 10,000-image run. All 10,000 test images; the last 10 % of
the training images validate. Each record keeps the load average at its start and end and the CPU
seconds the process used, since the machine is shared. The two-phase recipe is not run again: its
records lite0-32-seed and lite0-128-better stand beside these in the figure.

``--n-scale 0.1 --epochs 1 --out /tmp/somewhere`` tries the script in a minute or two; results/ takes
only full-size runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="*", help="record names (default: every run)")
    parser.add_argument(
        "--data",
        default=os.environ.get("CIFAR_LESSONS_DATA")
        or str(REPO.parent / "shared" / "data" / "cifar10-jpeg.tar.gz"),
    )
    parser.add_argument("--out", default=str(REPO / "results"), help="folder of the record folders")
    parser.add_argument("--n-scale", type=float, default=1.0, help="a try-out: this fraction of each n")
    parser.add_argument("--epochs", type=int, default=None, help="a try-out: this many epochs in every run")
    args = parser.parse_args(argv)
    tryout = args.n_scale != 1.0 or args.epochs is not None
    if tryout and Path(args.out).resolve() == (REPO / "results").resolve():
        parser.error("results/ holds full-size runs only; give --out for a try-out")
    return args


def measure(spec, args, made_by: dict) -> str:
    """Train, evaluate and record one run; return its one-line summary."""
    from cifar_lessons.scratch import study

    conditions = study.Conditions(study.load_average())
    started = time.perf_counter()
    n = max(100, round(spec.n * args.n_scale))
    if spec.method == "scratch":
        config = study.scratch_config(
            spec, args.data, n=n, **({"epochs": args.epochs} if args.epochs else {})
        )
        data = study.load(config)
        model, run = study.train_scratch(config, data, verbose=2)
        study.evaluate_scratch(model, data, run)
    else:
        config = study.transfer_config(
            spec, args.data, n=n, **({"head_epochs": args.epochs} if args.epochs else {})
        )
        data = study.load(config)
        run = study.train_head_only(config, data, verbose=2)
    seconds = time.perf_counter() - started
    path = study.save_study_run(
        Path(args.out) / spec.name,
        spec,
        config,
        data,
        run,
        conditions.finish(),
        made_by=made_by,
        run_seconds=seconds,
        overwrite=True,
    )
    study.check_record(path)
    return (
        f"{spec.name}: test accuracy {run.metrics['accuracy']:.2%}, "
        f"validation {run.history['val_accuracy'][-1]:.2%}, "
        f"{run.epochs} epochs, whole run {seconds:.0f} s, CPU {conditions.cpu_seconds:.0f} s, "
        f"load {conditions.load_start} -> {conditions.load_end}"
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    from cifar_lessons.errors import CifarLessonsError
    from cifar_lessons.records.committed import measured_by
    from cifar_lessons.scratch import study

    made_by = measured_by(study.SCRIPT, argv)
    try:
        specs = [study.spec_named(name) for name in args.runs] if args.runs else list(study.RUNS)
        for spec in specs:
            print(f"measure: {spec.name}: {spec.what}", flush=True)
            print(f"measure: {measure(spec, args, made_by)}", flush=True)
    except CifarLessonsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
