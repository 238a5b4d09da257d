"""The full-size transfer-learning run on Fashion-MNIST behind results/fashion-transfer.

Run once on the project's 2-core machine, from a clean checkout (the record names the commit that
made it), with nothing else measuring, offline as the book builds:

    CIFAR_LESSONS_BACKBONE=efficientnet_lite0 CIFAR_LESSONS_WEIGHTS=imagenet \\
        .venv/bin/python scripts/measure_fashion_transfer.py

All 60,000 training images (54,000 to fit, the last 6,000 to validate), all 10,000 test images, the
sizes and epochs of cifar_lessons.fashion.transfer.TransferConfig. The backbone comes from the
environment as in the book (EfficientNetB0 with Keras's download when unset, which needs a network);
the record says which it was and where its weights came from. Written as three small files
(record.json, history.json, metrics.json) into results/fashion-transfer/, replacing an earlier
record there; no model is kept. Keras prints one line per epoch; the end prints the test accuracy
and the wall time.

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
    parser.add_argument(
        "--profile",
        default="seed",
        help="seed (full size, the default) or quick (a try-out at the book's build size)",
    )
    parser.add_argument(
        "--out", default=str(REPO / "results"), help="folder of the record folder (default results/)"
    )
    args = parser.parse_args(argv)
    out = Path(args.out)

    started = time.perf_counter()

    from cifar_lessons.backbones import describe_weights
    from cifar_lessons.errors import CifarLessonsError
    from cifar_lessons.fashion import scratch as fashion
    from cifar_lessons.fashion import transfer as ft
    from cifar_lessons.records.committed import measured_by

    try:
        config = ft.transfer_config(args.profile, full_size=args.profile != "quick")
        if not config.full_size() and out.resolve() == (REPO / "results").resolve():
            parser.error("results/ holds full-size runs only; give --out for a quick try-out")
        made_by = measured_by(
            "measure_fashion_transfer.py", argv, env=("CIFAR_LESSONS_BACKBONE", "CIFAR_LESSONS_WEIGHTS")
        )
        data = fashion.load(fashion.FashionConfig(profile=config.profile, n=config.n))
        weights = describe_weights(config.weights, config.backbone)
        print(f"measure: data: {data.source.description}", flush=True)
        print(
            f"measure: {len(data.x_train):,} training images ({config.validation_fraction:.0%} held out "
            "to validate), "
            f"{len(data.x_test):,} test images; backbone {config.backbone}, {weights['description']}; "
            f"{config.image_size}x{config.image_size}, head {config.head_epochs} + fine-tuning "
            f"{config.fine_tune_epochs} epochs",
            flush=True,
        )
        model = ft.build_classifier(config)
        history = ft.train_head(model, data, config, verbose=2)
        print(
            f"measure: features {history.seconds['features']:.0f} s, head {history.seconds['head']:.0f} s",
            flush=True,
        )
        history = ft.fine_tune(model, data, config, history, verbose=2)
        run = ft.evaluate(model, data, history)
        seconds = time.perf_counter() - started
        path = ft.save_run(
            out / ft.COMMITTED,
            config,
            data,
            run,
            weights=weights,
            made_by=made_by,
            run_seconds=seconds,
            overwrite=True,
        )
    except CifarLessonsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    accuracy = run.metrics["accuracy"]
    print(
        f"measure: test accuracy {accuracy:.2%} (goal {ft.GOAL:.1%}: "
        f"{'met' if accuracy >= ft.GOAL else 'NOT met'}), "
        f"training {run.train_seconds:.0f} s ({run.seconds}), whole run {seconds:.0f} s; record {path}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
