"""The full-size Fashion-MNIST runs behind results/fashion-dense and results/fashion-cnn.

Run once on the project's 2-core machine, from a clean checkout (the records name the commit that
made them), one after the other and with nothing else running:

    .venv/bin/python scripts/measure_fashion.py             # both: the dense network, then the CNN
    .venv/bin/python scripts/measure_fashion.py cnn         # only one

All 60,000 training images (54,000 to fit, the last 6,000 to validate), all 10,000 test images, the
epochs of cifar_lessons.fashion.scratch.FashionConfig. Each run is written as a record of three small files
(record.json with the configuration, data source, machine, timing and the command and commit that
made it; history.json; metrics.json) straight into results/<name>/, replacing an earlier record there;
no model is kept. Keras prints one line per epoch; the end prints each test accuracy and wall time.

Full size whatever CIFAR_LESSONS_FULL_SIZE says (book builds train at a small build size and show
this record). ``--profile quick --out /tmp/somewhere`` tries the script at the build size in a minute
or two; results/ takes only full-size runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", help="dense, cnn or both (the default)")
    parser.add_argument(
        "--profile",
        default="seed",
        help="seed (full size, the default) or quick (a try-out at the book's build size)",
    )
    parser.add_argument(
        "--out", default=str(REPO / "results"), help="folder of the record folders (default results/)"
    )
    args = parser.parse_args(argv)
    models = args.models or ["dense", "cnn"]
    unknown = [m for m in models if m not in ("dense", "cnn")]
    if unknown:
        parser.error(f"unknown model {unknown[0]!r}; choose dense or cnn")
    out = Path(args.out)

    started = time.perf_counter()
    from cifar_lessons.errors import CifarLessonsError
    from cifar_lessons.fashion import scratch as fashion
    from cifar_lessons.records.committed import measured_by

    try:
        config = fashion.fashion_config(args.profile, full_size=args.profile != "quick", env={})
        if (
            config != fashion.FashionConfig(profile=config.profile)
            and out.resolve() == (REPO / "results").resolve()
        ):
            parser.error("results/ holds full-size runs only; give --out for a quick try-out")
        made_by = measured_by("measure_fashion.py", argv)
        data = fashion.load(config)
        load_seconds = time.perf_counter() - started
        print(f"measure: data: {data.source.description}", flush=True)
        print(
            f"measure: {len(data.x_train):,} training images ({config.validation_fraction:.0%} held out "
            "to validate), "
            f"{len(data.x_test):,} test images; loaded in {load_seconds:.0f} s",
            flush=True,
        )
        summary = []
        for kind in models:
            t0 = time.perf_counter()
            model = fashion.build(kind, seed=config.seed)
            print(
                f"measure: {fashion.MODEL_NAMES[kind]}, {model.count_params():,} parameters, "
                f"{config.epochs(kind)} epochs",
                flush=True,
            )
            run = fashion.train(model, data, config.epochs(kind), config, verbose=2)
            fashion.evaluate(model, data, run)
            seconds = time.perf_counter() - t0
            path = fashion.save_run(
                out / fashion.COMMITTED[kind],
                config,
                data,
                run,
                made_by=made_by,
                run_seconds=seconds,
                overwrite=True,
            )
            accuracy = run.metrics["accuracy"]
            goal = fashion.GOALS[kind]
            print(
                f"measure: {fashion.MODEL_NAMES[kind]}: test accuracy {accuracy:.2%} (goal {goal:.1%}: "
                f"{'met' if accuracy >= goal else 'NOT met'}), training {run.seconds:.0f} s, "
                f"build + training + test {seconds:.0f} s; record {path}",
                flush=True,
            )
            summary.append((kind, accuracy, run.seconds, goal))
    except CifarLessonsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"measure: done in {time.perf_counter() - started:.0f} s (data loading {load_seconds:.0f} s)")
    for kind, accuracy, seconds, goal in summary:
        print(
            f"  {fashion.MODEL_NAMES[kind]:14s} test accuracy {accuracy:.2%}  training "
            f"{seconds / 60:.1f} min  "
            f"goal {goal:.1%} {'met' if accuracy >= goal else 'NOT met'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
