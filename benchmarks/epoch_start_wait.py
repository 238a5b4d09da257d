"""How long each epoch waits before its first step: Keras's NumPy path against the package's pipeline.

    .venv/bin/python benchmarks/epoch_start_wait.py numpy      # NumPy arrays into fit, as the plain notebook
    .venv/bin/python benchmarks/epoch_start_wait.py package    # cifar_lessons.pipeline.make_dataset

The probe behind the README's "idle time": phase 1 of the plain notebook (ResNet50 frozen, the head
trained through it, random weights and random images, so nothing downloads), five epochs by default.
With tf.data's autotuner on, Keras's destroying the last epoch's iterator can wait for the
autotuner's thread before the next epoch's first step, with the CPU idle; ``package`` runs the same
model on the package's pipeline, which has the autotuner off (:func:`cifar_lessons.pipeline.without_autotune`).
It prints, per epoch, the wait before the first step and the epoch's wall time. Which epochs wait
varies from run to run. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pipeline", choices=("numpy", "package"))
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32, help="Keras's default, as the plain notebook")
    args = parser.parse_args()

    import keras
    import numpy as np

    from cifar_lessons.models import build_classifier, compile_classifier, set_base_trainable
    from cifar_lessons.pipeline import make_dataset

    model = build_classifier("resnet50", "none", 32)
    set_base_trainable(model, False)
    compile_classifier(model, 1e-3)
    x = np.random.default_rng(0).integers(0, 256, (9000, 32, 32, 3), dtype=np.uint8)
    y = np.random.default_rng(1).integers(0, 10, 9000)
    marks: list[list[float]] = []

    class Marks(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            marks.append([time.perf_counter()])

        def on_train_batch_begin(self, batch, logs=None):
            if batch == 0:
                marks[-1].append(time.perf_counter())

        def on_epoch_end(self, epoch, logs=None):
            marks[-1].append(time.perf_counter())

    if args.pipeline == "numpy":  # Keras builds its own tf.data pipeline, autotuner on
        from cifar_lessons.models import get_backbone

        inputs = get_backbone("resnet50").preprocess(x.astype("float32"))
        model.fit(inputs, y, batch_size=args.batch_size, epochs=args.epochs, verbose=2, callbacks=[Marks()])
    else:
        ds = make_dataset(x, y, backbone="resnet50", batch_size=args.batch_size, shuffle=True)
        model.fit(ds, epochs=args.epochs, verbose=2, callbacks=[Marks()])
    for i, (begin, first, end) in enumerate(marks, 1):
        print(f"{args.pipeline} epoch {i}: wait before the first step {first - begin:5.1f} s, epoch {end - begin:5.1f} s")


if __name__ == "__main__":
    main()
