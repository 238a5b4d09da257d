"""The full-size run behind results/gradcam-lite0-96, for the chapter Where the classifier looks.

Run once on the project's 2-core machine, from a clean checkout (the record names the commit that
made it), with nothing else measuring:

    .venv/bin/python scripts/measure_grad_cam.py            # full size, into results/gradcam-lite0-96
    .venv/bin/python scripts/measure_grad_cam.py --fine-tune   # fine-tuned, into
    results/gradcam-lite0-96-tuned

The chapter's model at full size: EfficientNet-Lite0 with its ImageNet weights (from its pip
package, offline), 96-pixel input, the base frozen, the head trained for 10 epochs on the base's cached
features; 10,000 training images (9,000 to fit, 1,000 to validate), all 10,000 test images, the
shared CIFAR-10 copy (``--data``, else ``CIFAR_LESSONS_DATA``, else ``../shared/data/cifar10-jpeg.tar.gz``).
Then Grad-CAM: the first correct test image of each class, the 8 most confident mistakes (maps of
the predicted and of the true class), and the measured figures (centre share, sanity check with a
randomised head) on the first 1,000 test images. Written as record.json (with the measured figures),
history.json, metrics.json and the two grids as PNGs (correct.png, mistakes.png); no model.

``--fine-tune`` trains the same model as chapter 6's training pieces would at 96 pixels without
augmentation: a 3-epoch head phase on cached features, then 3 epochs of fine-tuning the whole model at
1e-4 with a cosine decay; everything else is the same.

``--profile quick --out /tmp/somewhere`` tries the script in a few minutes; results/ takes only
full-size runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--profile", default="seed", help="seed (full size, the default) or quick (a try-out)"
    )
    parser.add_argument(
        "--data",
        default=os.environ.get("CIFAR_LESSONS_DATA")
        or str(REPO.parent / "shared" / "data" / "cifar10-jpeg.tar.gz"),
    )
    parser.add_argument(
        "--fine-tune", action="store_true", help="fine-tune the base for 3 epochs after the head"
    )
    parser.add_argument(
        "--out", default=None, help="the record folder (default results/gradcam-lite0-96[-tuned])"
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    from cifar_lessons.errors import CifarLessonsError
    from cifar_lessons.gradcam import study
    from cifar_lessons.gradcam.method import last_conv_layer, preprocessed
    from cifar_lessons.models import base_of
    from cifar_lessons.recipe import load_inputs, run_evaluation
    from cifar_lessons.records.committed import measured_by

    results = REPO / "results" / (study.TUNED if args.fine_tune else study.RECORD)
    out = Path(args.out) if args.out else results
    try:
        config = study.study_config(
            args.profile,
            env={},
            backbone="efficientnet_lite0",
            weights="imagenet",
            data=args.data,
            **(study.TUNED_OVERRIDES if args.fine_tune else {}),
        )
        if config.n != 10_000 and out.resolve() == results.resolve():
            parser.error("results/ holds full-size runs only; give --out for a quick try-out")
        command = measured_by("measure_grad_cam.py", argv)["command"]  # the record's header adds the commit
        data = load_inputs(config)
        print(
            f"measure: data: {data.source.description}; {len(data.x_train):,} training images, "
            f"{len(data.x_test):,} test images; {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        model, history = study.train(config, data, verbose=2)
        side = last_conv_layer(base_of(model))
        print(
            f"measure: head trained in {history.seconds['head']:.0f} s (features included)"
            + (f", fine-tuned in {history.seconds['fine_tune']:.0f} s" if config.fine_tune_epochs else "")
            + f"; last feature map {side.height}x{side.width}",
            flush=True,
        )
        t0 = time.perf_counter()
        metrics, probs = run_evaluation(config, data, model, verbose=2)
        history.seconds["evaluate"] = round(time.perf_counter() - t0, 2)
        print(
            f"measure: test accuracy {metrics['accuracy']:.2%} ({history.seconds['evaluate']:.0f} s)",
            flush=True,
        )

        t0 = time.perf_counter()
        label = (
            " (full size" + (", fine-tuned" if config.fine_tune_epochs else "") + ")"
            if config.n == 10_000
            else f" ({config.profile} profile, n = {config.n:,})"
        )
        figures = study.grids(model, data, probs, config.backbone, label=label)
        m = study.MEASURED_IMAGES[config.profile]
        measured = study.measure_maps(
            model, preprocessed(data.x_test[:m], config.backbone), probs[:m].argmax(axis=1), seed=config.seed
        )
        summ = study.summary(measured, probs[:m].argmax(axis=1) == data.y_test[:m])
        summ["feature_map"] = [side.height, side.width]
        history.seconds["grad_cam"] = round(time.perf_counter() - t0, 2)
        print(f"measure: Grad-CAM in {history.seconds['grad_cam']:.0f} s:\n{study.dumps(summ)}", flush=True)
        path = study.save_study(
            out,
            config,
            data,
            history,
            metrics,
            summ,
            figures,
            command=command,
            run_seconds=time.perf_counter() - started,
            overwrite=True,
        )
    except CifarLessonsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"measure: done in {time.perf_counter() - started:.0f} s; record "
        f"{path}\n{study.record_line(study.check_study(path))}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
