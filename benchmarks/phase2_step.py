"""Phase 2's training step alone, on random data: images a second for one precision and batch size.

    .venv/bin/python benchmarks/phase2_step.py float32 64
    .venv/bin/python benchmarks/phase2_step.py mixed_bfloat16 256

The probe behind benchmarks/README.md's "what was tried" for phase 2: ResNet50 at 32x32, the base unfrozen
with BatchNorm frozen (as the recipe fine-tunes it), ten batches per epoch for two epochs. It prints
the median time of a batch as images a second (the median ignores the first, compiling step and
the occasional stall of a shared machine). A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("policy", choices=("float32", "mixed_bfloat16", "mixed_float16"))
    parser.add_argument("batch_size", type=int)
    parser.add_argument("--backbone", default="resnet50")
    parser.add_argument(
        "--convolutions",
        choices=("keras", "matmul"),
        default="matmul",
        help="matmul: cifar_lessons.pointwise, as the package's phase 2 runs (default)",
    )
    args = parser.parse_args()

    import keras
    import numpy as np

    from cifar_lessons.models import build_classifier, compile_classifier, set_base_trainable
    from cifar_lessons.pointwise import use_matmul

    keras.mixed_precision.set_global_policy(args.policy)
    model = build_classifier(args.backbone, "none", 32)
    set_base_trainable(model, True)
    if args.convolutions == "matmul":
        use_matmul(model)
    compile_classifier(model, 1e-5)
    n = args.batch_size * 10
    x = (np.random.default_rng(0).random((n, 32, 32, 3)) * 255).astype("float32")
    y = np.random.default_rng(1).integers(0, 10, n)
    ends: list[float] = []
    timer = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: ends.append(time.perf_counter())
    )
    model.fit(x, y, batch_size=args.batch_size, epochs=2, verbose=0, callbacks=[timer])
    step = float(np.median(np.diff(ends)))
    print(
        f"{args.backbone} {args.policy} {args.convolutions} batch {args.batch_size}: "
        f"{args.batch_size / step:.0f} images/s "
        f"(median step {step * 1000:.0f} ms)"
    )


if __name__ == "__main__":
    main()
