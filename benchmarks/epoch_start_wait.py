"""How long each epoch waits before its first step: Keras's NumPy path against the package's pipeline.

    .venv/bin/python benchmarks/epoch_start_wait.py numpy      # NumPy arrays into fit, as the plain notebook
    .venv/bin/python benchmarks/epoch_start_wait.py package    # cifar_lessons.pipeline.make_dataset
    .venv/bin/python benchmarks/epoch_start_wait.py numpy --model unet     # the Segmentation chapter, full
    size
    .venv/bin/python benchmarks/epoch_start_wait.py package --model unet   # ... on pipeline.array_dataset

The probe behind "Idle time" in benchmarks/README.md: phase 1 of the plain notebook (ResNet50 frozen, the head
trained through it, random weights and random images, so nothing downloads), five epochs by default.
With tf.data's autotuner on, Keras's destroying the last epoch's iterator can wait for the
autotuner's thread before the next epoch's first step, with the CPU idle; ``package`` runs the same
model on the package's pipeline, which has the autotuner off
(:func:`cifar_lessons.pipeline.without_autotune`).
``--model unet`` runs the Segmentation chapter's full-size training instead (its scenes, its U-Net,
all its epochs, validation included), on NumPy arrays as it was written first, or on
:func:`cifar_lessons.pipeline.array_dataset` as it trains now. It prints, per epoch, the wait before
the first step and the epoch's wall time, then the whole fit's. Which epochs wait varies from run
to run. A benchmark, not a test.
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
    parser.add_argument(
        "--model",
        choices=("resnet50", "unet"),
        default="resnet50",
        help="resnet50: the plain notebook's phase 1; unet: the Segmentation chapter at full size",
    )
    args = parser.parse_args()

    import keras

    marks: list[list[float]] = []
    fit: list[float] = []

    class Marks(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            fit.append(time.perf_counter())

        def on_train_end(self, logs=None):
            fit.append(time.perf_counter())

        def on_epoch_begin(self, epoch, logs=None):
            marks.append([time.perf_counter()])

        def on_train_batch_begin(self, batch, logs=None):
            if batch == 0:
                marks[-1].append(time.perf_counter())

        def on_epoch_end(self, epoch, logs=None):
            marks[-1].append(time.perf_counter())

    (segmentation if args.model == "unet" else phase1)(args, Marks())
    for i, (begin, first, end) in enumerate(marks, 1):
        print(
            f"{args.pipeline} epoch {i}: wait before the first step {first - begin:5.1f} s, epoch "
            f"{end - begin:5.1f} s"
        )
    print(
        f"{args.pipeline}: fit {fit[1] - fit[0]:.1f} s, of which waiting before first steps "
        f"{sum(first - begin for begin, first, _ in marks):.1f} s"
    )


def phase1(args, marks) -> None:
    """The plain notebook's phase 1: ResNet50 frozen under the head, random weights and images."""
    import numpy as np

    from cifar_lessons.models import build_classifier, compile_classifier, get_backbone, set_base_trainable
    from cifar_lessons.pipeline import make_dataset

    model = build_classifier("resnet50", "none", 32)
    set_base_trainable(model, False)
    compile_classifier(model, 1e-3)
    x = np.random.default_rng(0).integers(0, 256, (9000, 32, 32, 3), dtype=np.uint8)
    y = np.random.default_rng(1).integers(0, 10, 9000)
    if args.pipeline == "numpy":  # Keras builds its own tf.data pipeline, autotuner on
        inputs = get_backbone("resnet50").preprocess(x.astype("float32"))
        model.fit(inputs, y, batch_size=args.batch_size, epochs=args.epochs, verbose=2, callbacks=[marks])
    else:
        ds = make_dataset(x, y, backbone="resnet50", batch_size=args.batch_size, shuffle=True)
        model.fit(ds, epochs=args.epochs, verbose=2, callbacks=[marks])


def segmentation(args, marks) -> None:
    """The Segmentation chapter's full-size training (``cifar_lessons.segmentation.model.train``'s own
    steps)."""
    import keras

    from cifar_lessons.pipeline import array_dataset
    from cifar_lessons.segmentation import config as seg_config
    from cifar_lessons.segmentation import model as seg_model
    from cifar_lessons.segmentation import scenes as seg_scenes

    config = seg_config.segment_config("seed", full_size=True, env={})
    data = seg_scenes.build_scenes(config)
    model = seg_model.unet(
        config.size, filters=config.filters, bottleneck=config.bottleneck, seed=config.seed
    )
    seg_model.compile_unet(model, config)
    keras.utils.set_random_seed(config.seed)
    train = (seg_model.scale(data.train.images), data.train.masks[..., None])
    val = (seg_model.scale(data.val.images), data.val.masks[..., None])
    if args.pipeline == "numpy":  # as the chapter was first written
        model.fit(
            *train,
            validation_data=val,
            epochs=config.epochs,
            batch_size=config.batch_size,
            shuffle=True,
            verbose=2,
            callbacks=[marks],
        )
    else:
        model.fit(
            array_dataset(*train, batch_size=config.batch_size, shuffle=True, seed=config.seed),
            validation_data=array_dataset(*val, batch_size=config.batch_size),
            epochs=config.epochs,
            shuffle=False,
            verbose=2,
            callbacks=[marks],
        )


if __name__ == "__main__":
    main()
