"""The full-size run of the chapter Detection's small detector, behind results/detection-grid.

Run once on the project's 2-core machine, from a clean checkout (the record names the commit that
made it), with nothing else measuring:

    .venv/bin/python scripts/measure_detection.py

It builds the scenes (Fashion-MNIST garments pasted on textured 64x64 canvases; training scenes
from the training garments, held-out scenes from the test garments), trains the small CNN detector
of cifar_lessons.detection.model from scratch for the epochs of DetectorConfig, and measures mAP@0.5 and
each class's AP on the held-out scenes. The record (record.json with the configuration, data,
machine, timing and the command and commit that made it; history.json; metrics.json; no model) is
written to results/detection-grid/, replacing an earlier one.

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
    from cifar_lessons.detection import config as det_config
    from cifar_lessons.detection import model as detector
    from cifar_lessons.detection import record as det_record
    from cifar_lessons.detection import scenes as det_scenes
    from cifar_lessons.errors import CifarLessonsError
    from cifar_lessons.records.committed import measured_by

    try:
        config = det_config.detector_config(args.profile, full_size=args.profile != "quick", env={})
        if (
            config != det_config.DetectorConfig(profile=config.profile)
            and out.resolve() == (REPO / "results").resolve()
        ):
            parser.error("results/ holds full-size runs only; give --out for a quick try-out")
        made_by = measured_by("measure_detection.py", argv)
        train, val, test, source = det_scenes.load_scenes(config)
        scene_seconds = time.perf_counter() - started
        print(f"measure: data: {source['description']}", flush=True)
        print(
            f"measure: {len(train):,} training scenes, {len(val):,} validation scenes, {len(test):,} "
            "held-out scenes "
            f"({sum(len(b) for b in test.boxes):,} objects); made in {scene_seconds:.0f} s",
            flush=True,
        )
        model = detector.small_detector(config)
        run = detector.train(model, train, config, val_scenes=val, verbose=2)
        detector.evaluate(model, test, config, run)
        seconds = time.perf_counter() - started
        path = det_record.save_run(
            out / det_config.COMMITTED,
            config,
            source,
            run,
            made_by=made_by,
            run_seconds=seconds,
            overwrite=True,
        )
    except CifarLessonsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    m = run.metrics["map50"]
    print(
        f"measure: mAP@0.5 {m:.3f} on {len(test):,} held-out scenes (goal {det_config.GOAL}: "
        f"{'met' if m >= det_config.GOAL else 'NOT met'}); training {run.seconds:.0f} s, whole run "
        f"{seconds:.0f} s; "
        f"record {path}",
        flush=True,
    )
    for name, ap in run.metrics["ap50_per_class"].items():
        print(f"  {name:12s} AP@0.5 {ap:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
