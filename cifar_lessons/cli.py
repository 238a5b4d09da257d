"""Command line: ``python -m cifar_lessons run --profile seed|quick ...``, and ``tune`` (the recipe
search, :mod:`cifar_lessons.tuning`).

``run`` runs the whole recipe with Keras's progress bars, prints the test accuracy and where the
record went. A user error prints one line and exits with status 2, with no traceback. Options
and the output folder are checked before TensorFlow is imported, so a typo costs no start-up;
TensorFlow's own start-up log is hidden (:mod:`cifar_lessons.quiet`), so an error found later,
in the data's contents say, is one line too.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from datetime import datetime
from pathlib import Path

from .backbones import BACKBONE_NAMES
from .config import PROFILES, SCHEDULES, expand_path, make_config
from .errors import CifarLessonsError
from .precision import PRECISIONS
from .quiet import start_tensorflow
from .records.store import prepare_out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cifar_lessons",
        description="Transfer learning on CIFAR-10, as taught in the cifar-lessons book.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the two-phase recipe end to end and write a run record")
    _recipe_options(run)
    run.add_argument(
        "--out",
        help="record folder (default: runs/<profile>-<backbone>-<time>); a run killed "
        "and started again with the same command resumes from its backup beside it",
    )
    run.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing run record (never a folder that is not one)",
    )
    run.add_argument(
        "--flip-test",
        action="store_true",
        default=None,
        help="average each test prediction with its mirror image's (off in every profile)",
    )
    tune = sub.add_parser(
        "tune",
        help="search the recipe's knobs with KerasTuner on validation accuracy (one machine or several)",
        description="Each trial runs the two-phase recipe with the trial's values and writes a run record "
        "(kind trial) in its folder; the test set is never evaluated. A knob given as an option is "
        "fixed; --space sets the values tried for one. The same command, run again, resumes the search. "
        "Several machines: the same command on each, with KERASTUNER_TUNER_ID (chief on one, tuner0, "
        "tuner1, ... on the others), KERASTUNER_ORACLE_IP and KERASTUNER_ORACLE_PORT (the chief's).",
    )
    _recipe_options(tune)
    tune.add_argument(
        "--space",
        action="append",
        default=[],
        metavar="KNOB=V1,V2,...",
        help="the values tried for a knob (repeatable): backbone, image_size, head_learning_rate, "
        "fine_tune_learning_rate, head_epochs, augment, label_smoothing; one value fixes it",
    )
    tune.add_argument("--max-trials", type=int, default=10, help="trials to run at most (default 10)")
    tune.add_argument(
        "--search", choices=("random", "grid", "bayesian"), default="random", help="KerasTuner's oracle"
    )
    tune.add_argument("--dir", default="runs/tune", help="the tuner's folder (default runs/tune)")
    tune.add_argument("--name", default="search", help="the search's name: its folder in --dir")
    export = sub.add_parser(
        "export",
        help="export a run's model.keras to ONNX for the book's Try the classifier page",
    )
    export.add_argument("run_dir", help="a run record folder holding model.keras (from `run --out DIR`)")
    export.add_argument("--out", required=True, help="folder for model.onnx, card.json, keras_check.npz")
    export.add_argument(
        "--data", help="CIFAR-10 copy for the check images (default: the run's, else $CIFAR_LESSONS_DATA)"
    )
    return parser


def _recipe_options(run: argparse.ArgumentParser) -> None:
    """The options ``run`` and ``tune`` share: what the recipe computes."""
    run.add_argument(
        "--profile", help=f"one of {', '.join(PROFILES)} (default: $CIFAR_LESSONS_PROFILE or seed)"
    )
    run.add_argument(
        "--backbone", help=f"{', '.join(BACKBONE_NAMES)} (default resnet50; $CIFAR_LESSONS_BACKBONE)"
    )
    run.add_argument(
        "--data", help="local CIFAR-10 copy: folder or .tar.gz ($CIFAR_LESSONS_DATA; default: Keras download)"
    )
    run.add_argument("--weights", help="imagenet (default), none, or a weights file ($CIFAR_LESSONS_WEIGHTS)")
    run.add_argument("--n", type=int, help="training images to keep (overrides the profile)")
    run.add_argument("--image-size", type=int, help="resize inside the model to this size (>= 32)")
    run.add_argument("--head-epochs", type=int, help="phase-1 epochs (overrides the profile)")
    run.add_argument("--fine-tune-epochs", type=int, help="phase-2 epochs (overrides the profile)")
    run.add_argument("--fine-tune-lr", type=float, help="phase-2 learning rate (seed 1e-5; better 1e-4)")
    run.add_argument("--head-lr", type=float, help="phase-1 learning rate (default 1e-3)")
    run.add_argument(
        "--label-smoothing", type=float, help="share of each label spread over all classes (default 0)"
    )
    run.add_argument(
        "--schedule",
        choices=SCHEDULES,
        help="phase-2 learning rate: constant (seed) or cosine decay to zero (better)",
    )
    run.add_argument("--batch-size", type=int, help="batch size (default 64)")
    run.add_argument("--seed", type=int, help="random seed (default 42)")
    run.add_argument(
        "--augment",
        action="store_true",
        default=None,
        help="random flips and crops while training (off in seed and quick)",
    )
    run.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="mixed: compute in bfloat16 (CPU with AVX-512 BF16/AMX) or float16 (GPU); default float32",
    )
    run.add_argument(
        "--verbose",
        type=int,
        choices=(0, 1, 2),
        default=1,
        help="Keras progress: 1 bar, 2 one line per epoch",
    )


def export_main(args: argparse.Namespace) -> int:
    """``python -m cifar_lessons export RUN_DIR --out DIR``: one line per file written."""
    run_dir = Path(expand_path(args.run_dir))
    if not (run_dir / "model.keras").is_file():
        print(f"error: {run_dir} holds no model.keras (a run folder from `run --out DIR`)", file=sys.stderr)
        return 2
    try:
        start_tensorflow()
        from .export import export_run

        card = export_run(run_dir, expand_path(args.out), data=expand_path(args.data))
    except ImportError as exc:
        print(f"error: the ONNX export needs tf2onnx and onnxruntime ({exc})", file=sys.stderr)
        return 2
    except CifarLessonsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    accuracy = card.get("test_accuracy")
    said = f", test accuracy {accuracy:.4f}" if accuracy is not None else ""
    print(
        f"exported {card['run']} ({card['size']}{said}) to {Path(expand_path(args.out)) / 'model.onnx'}"
        f" ({card['onnx']['bytes'] / 1e6:.1f} MB)"
    )
    return 0


def config_from_args(args: argparse.Namespace):
    """Options given on the command line override the environment, which overrides the profile."""
    return make_config(
        args.profile,
        backbone=args.backbone,
        data=args.data,
        weights=args.weights,
        n=args.n,
        image_size=args.image_size,
        head_epochs=args.head_epochs,
        fine_tune_epochs=args.fine_tune_epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        augment=args.augment,
        precision=args.precision,
        fine_tune_learning_rate=args.fine_tune_lr,
        fine_tune_schedule=args.schedule,
        flip_test=getattr(args, "flip_test", None),
        head_learning_rate=args.head_lr,
        label_smoothing=args.label_smoothing,
    )


def default_out(config, root: str = "runs") -> str:
    """``runs/<profile>-<backbone>-<time>``, unless an interrupted run of this very configuration
    left its backup there: then its folder, so that the same command, run again, resumes it."""
    prefix = f"{config.profile}-{config.backbone}-"
    for backup in sorted(Path(root).glob(f".{prefix}*.resume"), reverse=True):
        try:
            saved = json.loads((backup / "config.json").read_text())
        except (OSError, ValueError):
            continue
        if saved == config.to_dict():
            return str(Path(root) / backup.name[1 : -len(".resume")])
    return str(Path(root) / f"{prefix}{datetime.now():%Y%m%d-%H%M%S}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "tune":
        from .tuning import tune_main

        return tune_main(args, argv)
    if args.command == "export":
        return export_main(args)
    out = None
    try:
        config = config_from_args(args)
        out = expand_path(args.out) or default_out(config)
        prepare_out(out, args.overwrite)  # before TensorFlow starts and any data is loaded
        start_tensorflow()  # its start-up log held back: an error after this is still one line
        from .recipe import run_recipe

        command = "python -m cifar_lessons " + shlex.join(sys.argv[1:] if argv is None else argv)
        record = run_recipe(config, out, overwrite=args.overwrite, verbose=args.verbose, command=command)
    except CifarLessonsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        resume = (
            f"; finished epochs are kept: run the same command (or add --out {out}) to resume" if out else ""
        )
        print(f"interrupted; no record was written{resume}", file=sys.stderr)
        return 130
    m = record.metrics
    print(f"test accuracy: {m['accuracy']:.4f} (loss {m['loss']:.4f}) on {m['n_test']:,} test images")
    if "without_flip_test" in m:
        print(f"  without the mirrored test images: {m['without_flip_test']['accuracy']:.4f}")
    print(f"weights: {record.weights['description']}")
    if not record.weights["pretrained"]:
        print("warning: random weights, not ImageNet: these figures say nothing about transfer learning")
    print(f"record written to {record.path}")
    return 0
