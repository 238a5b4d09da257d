"""Measure the Segmentation chapter's U-Net at full size and write its record to results/segmentation-unet.

Run from a clean checkout of a commit, under the shared measurement lock (see HELPERS.md):

    PYTHONPATH=$PWD python scripts/measure_segmentation.py

It builds the scenes (Fashion-MNIST garments on textured backgrounds), trains the U-Net,
scores it and Otsu's threshold on the held-out scenes, and writes record.json, history.json,
metrics.json and predictions.png (held-out scenes: good ones and the worst). No model is kept.

Full size whatever CIFAR_LESSONS_FULL_SIZE says (book builds train at a small build size and show
this record). ``--profile quick --out /tmp/somewhere`` tries the script at the build size in a minute;
results/ takes only full-size runs.
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
    from cifar_lessons.errors import CifarLessonsError
    from cifar_lessons.records.committed import measured_by
    from cifar_lessons.segmentation import config as seg_config
    from cifar_lessons.segmentation import figures as seg_figures
    from cifar_lessons.segmentation import model as seg_model
    from cifar_lessons.segmentation import record as seg_record
    from cifar_lessons.segmentation import scenes as seg_scenes

    try:
        config = seg_config.segment_config(args.profile, full_size=args.profile != "quick", env={})
        if (
            config != seg_config.SegmentConfig(profile=config.profile)
            and out.resolve() == (REPO / "results").resolve()
        ):
            parser.error("results/ holds full-size runs only; give --out for a quick try-out")
        made_by = measured_by("measure_segmentation.py", argv)
        data = seg_scenes.build_scenes(config)
        load_seconds = time.perf_counter() - started
        print(f"measure: garments: {data.source['description']}", flush=True)
        print(
            f"measure: {len(data.train):,} training, {len(data.val):,} validation, {len(data.test):,} "
            "held-out "
            f"scenes of {config.size} px; data and scenes in {load_seconds:.0f} s",
            flush=True,
        )
        model = seg_model.unet(
            config.size, filters=config.filters, bottleneck=config.bottleneck, seed=config.seed
        )
        print(f"measure: U-Net, {model.count_params():,} parameters, {config.epochs} epochs", flush=True)
        run = seg_model.train(model, data, config, verbose=2)
        seg_model.evaluate(model, data, run)
        figure = seg_figures.predictions_figure(data, run, title="Held-out scenes (committed full-size run)")
        seconds = time.perf_counter() - started
        path = seg_record.save_run(
            out / seg_config.COMMITTED,
            config,
            data,
            run,
            figure,
            made_by=made_by,
            run_seconds=seconds,
            overwrite=True,
        )
    except CifarLessonsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    u, o = run.metrics["unet"], run.metrics["otsu"]
    print(
        f"measure: U-Net: mean IoU {u['mean_iou']:.3f} (goal {seg_config.GOAL_MIOU}: "
        f"{'met' if u['mean_iou'] >= seg_config.GOAL_MIOU else 'NOT met'}), pixel accuracy "
        f"{u['pixel_accuracy']:.2%}; "
        f"Otsu: mean IoU {o['mean_iou']:.3f}, pixel accuracy {o['pixel_accuracy']:.2%}",
        flush=True,
    )
    print(f"measure: training {run.seconds:.0f} s, whole run {seconds:.0f} s; record {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
