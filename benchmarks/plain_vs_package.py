"""The seed recipe two ways, on the same machine in one invocation: a plain notebook and the package.

    .venv/bin/python benchmarks/plain_vs_package.py                       # timing: ResNet50
    .venv/bin/python benchmarks/plain_vs_package.py --backbone efficientnet_lite0 --weights imagenet

*plain* is the recipe as a student writes it after the course: NumPy arrays into ``model.fit``,
a ``Sequential`` model, Keras's default batch size (32), and the head trained through the whole
frozen network in every epoch. It keeps BatchNorm frozen when unfreezing, as chapter 4
teaches, so the two sides differ in speed, not in what they compute.

*package* is ``cifar_lessons``'s fastest faithful configuration: phase 1 on cached features
(:mod:`cifar_lessons.features`), phase 2 with the convolutions on the smallest maps computed as
matrix products (:mod:`cifar_lessons.pointwise`), ``tf.data`` pipelines without the autotuner's
idle waits between epochs (:func:`cifar_lessons.pipeline.without_autotune`), and the options given
here (defaults: float32, batch 64 and learning rate 1e-5, the recipe's own; benchmarks/README.md lists what
else was tried and what it gave).

Each side runs in a fresh subprocess, one after the other (never in parallel), so their peak
memory and Keras state are their own. Data loading is the same for both and is not timed.
For each phase it prints wall time, images a second and peak memory; then the ratios, the
test accuracies, and phase 2's share of this CPU's measured matrix-multiply peak. Results are
also written as JSON (``--json``). A benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "cifar10-jpeg.tar.gz"


# --------------------------------------------------------------------------- measuring
def reset_peak_memory() -> None:
    """Reset the kernel's resident-set high-water mark (VmHWM) for this process."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_memory_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Phase:
    """Time a phase and record its peak memory: ``with Phase(results, "head", images): ...``."""

    def __init__(self, results: dict, name: str, images: int):
        self.results, self.name, self.images = results, name, images

    def __enter__(self):
        reset_peak_memory()
        self.start = time.perf_counter()

    def __exit__(self, *exc):
        seconds = time.perf_counter() - self.start
        self.results[self.name] = {
            "seconds": round(seconds, 2),
            "images": self.images,
            "images_per_second": round(self.images / seconds, 1),
            "peak_memory_mb": round(peak_memory_mb()),
        }
        print(f"  {self.name}: {seconds:.1f} s", flush=True)


def images_seen(n_fit: int, n_val: int, epochs: int) -> int:
    """Images through the network in a phase: training and validation passes, every epoch."""
    return (n_fit + n_val) * epochs


# --------------------------------------------------------------------------- the two sides
def load(args):
    from cifar_lessons.data import load_cifar10

    data = load_cifar10(args.data, n=args.n, seed=42)
    return data


def run_plain(args) -> dict:
    """The seed recipe as a plain notebook: arrays, Sequential, default batch size."""
    import keras

    from cifar_lessons.backbones import efficientnet_lite as lite

    data = load(args)
    keras.utils.set_random_seed(args.seed)
    out: dict = {}
    with Phase(out, "setup", 0):
        if args.backbone == "resnet50":
            preprocess = keras.applications.resnet50.preprocess_input
            base = keras.applications.ResNet50(
                include_top=False,
                input_shape=(32, 32, 3),
                weights=None if args.weights == "none" else "imagenet",
            )
        else:  # offline, the one backbone with real ImageNet weights here
            preprocess = lite.preprocess_input
            base = lite.EfficientNetLite0(
                include_top=False,
                input_shape=(32, 32, 3),
                weights=None if args.weights == "none" else "imagenet",
            )
        x_train = preprocess(data.x_train.astype("float32"))
        x_test = preprocess(data.x_test.astype("float32"))
        y_train, y_test = data.y_train, data.y_test
        base.trainable = False
        model = keras.Sequential(
            [
                keras.Input(shape=(32, 32, 3)),
                base,
                keras.layers.GlobalAveragePooling2D(),
                keras.layers.Dense(256, activation="relu"),
                keras.layers.Dropout(0.3),
                keras.layers.Dense(128, activation="relu"),
                keras.layers.Dropout(0.3),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
        model.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
    n_val = int(round(len(x_train) * 0.1))
    with Phase(out, "head", images_seen(len(x_train) - n_val, n_val, args.head_epochs)):
        model.fit(x_train, y_train, epochs=args.head_epochs, validation_split=0.1, verbose=2)
    base.trainable = True
    for layer in base.layers:  # chapter 4: BatchNorm stays in inference mode
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    model.compile(
        optimizer=keras.optimizers.Adam(1e-5), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    with Phase(out, "fine_tune", images_seen(len(x_train) - n_val, n_val, args.fine_tune_epochs)):
        model.fit(x_train, y_train, epochs=args.fine_tune_epochs, validation_split=0.1, verbose=2)
    with Phase(out, "evaluate", len(x_test)):
        loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    out["accuracy"] = float(accuracy)
    out["batch_size"], out["precision"] = 32, "float32"
    out["train_images_per_second_phase2"] = images_rate(
        len(x_train) - n_val, args.fine_tune_epochs, out["fine_tune"]["seconds"]
    )
    return out


def run_package(args) -> dict:
    """The seed recipe through cifar_lessons's stages, with the fast options."""
    from cifar_lessons.config import make_config
    from cifar_lessons.precision import policy_name
    from cifar_lessons.recipe import fine_tune_phase, head_phase, new_model, run_evaluation, split_data

    overrides = {
        k: v
        for k, v in dict(
            batch_size=args.batch_size, precision=args.precision, fine_tune_learning_rate=args.fine_tune_lr
        ).items()
        if v is not None
    }
    config = make_config(
        "seed",
        env={},
        backbone=args.backbone,
        weights=args.weights,
        data=str(args.data),
        n=args.n,
        head_epochs=args.head_epochs,
        fine_tune_epochs=args.fine_tune_epochs,
        seed=args.seed,
        **overrides,
    )
    data = load(args)
    out: dict = {}
    split = split_data(config, data)
    n_fit, n_val = len(split[0][0]), len(split[1][0])
    with Phase(out, "setup", 0):
        model = new_model(config)
    with Phase(out, "head", images_seen(n_fit, n_val, config.head_epochs)):
        history = head_phase(config, model, split, verbose=2)
    with Phase(out, "fine_tune", images_seen(n_fit, n_val, config.fine_tune_epochs)):
        fine_tune_phase(config, model, split, history, verbose=2)
    with Phase(out, "evaluate", len(data.x_test)):
        metrics, _ = run_evaluation(config, data, model, verbose=0)
    out["accuracy"] = metrics["accuracy"]
    out["batch_size"], out["precision"] = config.batch_size, policy_name(config.precision)
    out["fine_tune_learning_rate"] = config.fine_tune_learning_rate
    out["train_images_per_second_phase2"] = images_rate(
        n_fit, config.fine_tune_epochs, out["fine_tune"]["seconds"]
    )
    return out


def images_rate(n_fit: int, epochs: int, seconds: float) -> float:
    return round(n_fit * epochs / seconds, 1)


# --------------------------------------------------------------------------- arithmetic peak
def forward_flops(backbone: str, image_size: int = 32) -> float:
    """Forward-pass FLOPs of one image through the classifier, from TensorFlow's graph profiler."""
    import tensorflow as tf

    from cifar_lessons.models import build_classifier

    model = build_classifier(backbone, "none", image_size)
    fn = tf.function(lambda x: model(x, training=False)).get_concrete_function(
        tf.TensorSpec([1, 32, 32, 3], tf.float32)
    )
    opts = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    opts["output"] = "none"
    info = tf.compat.v1.profiler.profile(graph=fn.graph, options=opts)
    return float(info.total_float_ops)


def matmul_peak(dtype: str, n: int = 2048, repeats: int = 20) -> float:
    """FLOP/s of a large square matrix multiply on this CPU: the practical arithmetic peak."""
    import tensorflow as tf

    a = tf.random.normal((n, n), dtype=tf.float32)
    a = tf.cast(a, dtype)

    @tf.function
    def step(x):
        for _ in range(repeats):
            x = tf.linalg.matmul(x, a) * tf.cast(1e-3, dtype)
        return x

    step(a).numpy()
    start = time.perf_counter()
    step(a).numpy()
    return 2 * n**3 * repeats / (time.perf_counter() - start)


def run_peak(args) -> dict:
    return {
        "flops_per_image_forward": forward_flops(args.backbone),
        "matmul_peak_float32": matmul_peak("float32"),
        "matmul_peak_bfloat16": matmul_peak("bfloat16"),
    }


# --------------------------------------------------------------------------- report
def report(results: dict) -> None:
    plain, pkg, peak = results["plain"], results["package"], results["peak"]
    print(
        f"\n{results['backbone']} ({results['weights']} weights), n = {results['n']:,}, "
        f"{results['head_epochs']} + {results['fine_tune_epochs']} epochs, {results['device']}, "
        f"seed {results.get('seed', 42)}, commit {results.get('commit') or 'unknown'}"
    )
    print(
        f"{'phase':<10} {'plain s':>9} {'img/s':>8} {'peak MB':>8}   {'package s':>9} {'img/s':>8} "
        f"{'peak MB':>8}   {'ratio':>6}"
    )
    for phase in ("setup", "head", "fine_tune", "evaluate"):
        p, q = plain[phase], pkg[phase]
        ratio = p["seconds"] / q["seconds"] if q["seconds"] else float("nan")
        print(
            f"{phase:<10} {p['seconds']:>9.1f} {p['images_per_second']:>8.0f} {p['peak_memory_mb']:>8.0f}   "
            f"{q['seconds']:>9.1f} {q['images_per_second']:>8.0f} {q['peak_memory_mb']:>8.0f}   "
            f"{ratio:>5.2f}x"
        )
    total_p = sum(plain[k]["seconds"] for k in ("setup", "head", "fine_tune", "evaluate"))
    total_q = sum(pkg[k]["seconds"] for k in ("setup", "head", "fine_tune", "evaluate"))
    print(
        f"{'total':<10} {total_p:>9.1f} {'':>8} {'':>8}   {total_q:>9.1f} {'':>8} {'':>8}   "
        f"{total_p / total_q:>5.2f}x"
    )
    print(
        f"test accuracy: plain {plain['accuracy']:.4f}, package {pkg['accuracy']:.4f} "
        f"(difference {100 * (pkg['accuracy'] - plain['accuracy']):+.2f} points)"
    )
    print(
        f"package options: batch {pkg['batch_size']}, precision {pkg['precision']}, "
        f"fine-tuning learning rate {pkg['fine_tune_learning_rate']:g}; plain: batch 32, float32, 1e-05"
    )
    # A training step costs about three forward passes (forward, and backward for activations and weights).
    for name, side in (("plain", plain), ("package", pkg)):
        achieved = 3 * peak["flops_per_image_forward"] * side["train_images_per_second_phase2"]
        ref = peak["matmul_peak_bfloat16"] if "bfloat16" in side["precision"] else peak["matmul_peak_float32"]
        print(
            f"phase 2 arithmetic, {name}: {achieved / 1e9:.0f} GFLOP/s = {100 * achieved / ref:.0f} % "
            "of this CPU's "
            f"measured {side['precision'].replace('mixed_', '')} matmul peak ({ref / 1e9:.0f} GFLOP/s); "
            f"{peak['flops_per_image_forward'] / 1e9:.2f} GFLOP per image forward"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbone", default="resnet50", choices=("resnet50", "efficientnet_lite0"))
    parser.add_argument("--weights", default=None, help="none (default for resnet50 offline) or imagenet")
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--head-epochs", type=int, default=10)
    parser.add_argument("--fine-tune-epochs", type=int, default=10)
    parser.add_argument(
        "--precision",
        default="float32",
        choices=("float32", "mixed"),
        help="package precision (default float32: on the 2-core machine bfloat16 was not faster)",
    )
    parser.add_argument(
        "--batch-size", type=int, default=None, help="package phase-2 batch (default: the recipe's 64)"
    )
    parser.add_argument(
        "--fine-tune-lr", type=float, default=None, help="package fine-tuning rate (default 1e-5)"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=42,
        help="both sides' initialisation, dropout and shuffling (the data stay the same): "
        "rerun with other seeds to see how far two runs of one recipe differ",
    )
    parser.add_argument("--json", default=None, help="also write the results here")
    parser.add_argument("--side", choices=("plain", "package", "peak"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.weights = args.weights or ("imagenet" if args.backbone == "efficientnet_lite0" else "none")
    if args.side:  # a child: run one side, print its results as the last line
        result = {"plain": run_plain, "package": run_package, "peak": run_peak}[args.side](args)
        print("RESULT " + json.dumps(result), flush=True)
        return 0
    from cifar_lessons.records.provenance import environment, source_commit

    results = {
        k: getattr(args, k) for k in ("backbone", "weights", "n", "head_epochs", "fine_tune_epochs", "seed")
    }
    results["device"] = environment()["device"]
    results["commit"] = source_commit()  # "+changes" when the code measured is not a commit
    child = [
        f"--{k.replace('_', '-')}={v}"
        for k, v in vars(args).items()
        if v is not None and k not in ("json", "side")
    ]
    for side in ("plain", "package", "peak"):
        print(f"{side} ...", flush=True)
        # Keras's one line per epoch streams through as it comes (long work shows progress);
        # TensorFlow's start-up log goes to stderr and is shown only if the child fails.
        with subprocess.Popen(
            [sys.executable, __file__, *child, "--side", side],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as proc:
            lines = []
            for line in proc.stdout:
                lines.append(line.rstrip("\n"))
                if not line.startswith("RESULT "):
                    print("    " + line, end="", flush=True)
            stderr = proc.stderr.read()
        if proc.returncode:
            sys.exit(f"error: the {side} run failed:\n{stderr[-4000:]}")
        results[side] = json.loads(next(line for line in reversed(lines) if line.startswith("RESULT "))[7:])
    report(results)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
