"""A network from scratch on Fashion-MNIST: the data, a dense network, a small CNN, measured.

Taught in the Foundations chapter "A network from scratch on Fashion-MNIST"
(``book/00b_fashion_from_scratch``), before the CIFAR-10 project: there the networks start from
random weights and learn everything from 28x28 grey pictures of clothing, so a student sees layers,
softmax, the loss and epochs at work, and why convolutions beat a dense network on images, before
the project borrows a pretrained one.

Every book build, whatever its profile, trains at the small :data:`BUILD_SIZE` (10,000 images,
2 epochs each), so that the whole site builds in minutes; full size (all 60,000 images, the real
epochs) is an explicit choice, ``full_size=True`` or ``CIFAR_LESSONS_FULL_SIZE=1``
(:func:`cifar_lessons.config.resolve_full_size`). The full-size runs are measured once by
``scripts/measure_fashion.py`` and committed as small run records (``results/fashion-dense``,
``results/fashion-cnn``), which the chapter shows beside its own run.
"""

from __future__ import annotations

import dataclasses
import html
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import studies
from ..config import TrainingSize, sized_values
from ..data import FASHION_MNIST_CLASS_NAMES, DataSource, load_fashion_mnist_with_source, split_validation
from ..errors import ConfigError
from ..studies import (
    compile_with_cosine,
    config_of,
    device,
    epoch_timer,
    machine,
    parameter_count,
    steps_per_epoch,
    study_record,
    timing,
)

#: The committed full-size records, by model, in ``results/``.
COMMITTED = {"dense": "fashion-dense", "cnn": "fashion-cnn"}
MODEL_NAMES = {"dense": "dense network", "cnn": "small CNN"}
#: The test accuracies the full-size runs are designed to reach on 2 CPU cores (published baselines:
#: about 88 % for a dense network, 91-93 % for a small CNN).
GOALS = {"dense": 0.89, "cnn": 0.925}
#: What a committed record must hold (no model: the script remakes it).


#: What every book build trains, whatever its profile: small enough to run in about a minute on
#: 2 cores, so that the whole site builds in minutes. Full size (the defaults of
#: :class:`FashionConfig`) is an explicit choice (:func:`fashion_config`).
BUILD_SIZE: dict[str, int] = {"n": 10_000, "dense_epochs": 2, "cnn_epochs": 2}


@dataclass(frozen=True)
class FashionConfig(TrainingSize):
    """Everything that decides what the chapter's two trainings compute. Defaults are full size.

    Full size: all 60,000 training images (54,000 to fit, the last 6,000 to validate), the dense
    network for 30 epochs and the CNN for 15, Adam at 10⁻³ with a cosine decay, batches of 128.
    ``full_size()`` and ``size_name()`` say whether it is (:class:`cifar_lessons.config.TrainingSize`).
    """

    build_size = BUILD_SIZE

    profile: str = "seed"
    n: int = 60_000
    dense_epochs: int = 30
    cnn_epochs: int = 15
    batch_size: int = 128
    learning_rate: float = 1e-3
    validation_fraction: float = 0.1
    seed: int = 42

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def epochs(self, kind: str) -> int:
        return {"dense": self.dense_epochs, "cnn": self.cnn_epochs}[kind]

    @property
    def n_val(self) -> int:
        """Training images held out to validate (the last ones), as :func:`split_validation` takes them."""
        return max(1, int(round(self.n * self.validation_fraction)))

    @property
    def steps_per_epoch(self) -> int:
        """Batches in one epoch: one pass over the ``n - n_val`` images the network fits."""
        return -(-(self.n - self.n_val) // self.batch_size)


def fashion_config(
    profile: str | None = None, *, full_size: bool | None = None, env: Mapping[str, str] | None = None
) -> FashionConfig:
    """The build's configuration: the :data:`BUILD_SIZE` in every profile, unless full size is asked for.

    ``full_size``, else ``CIFAR_LESSONS_FULL_SIZE`` (:func:`cifar_lessons.config.resolve_full_size`),
    decides the size; the profile (``profile``, else ``CIFAR_LESSONS_PROFILE``, else ``seed``) is
    checked against the book's profiles and recorded, as in :func:`cifar_lessons.config.make_config`.
    An unknown profile or a bad variable is a one-line :class:`ConfigError` that names the variable.
    """
    return FashionConfig(**sized_values(profile, full_size, env, BUILD_SIZE))


@dataclass(frozen=True)
class FashionData:
    """The first ``n`` training images and all 10,000 test images, ``uint8`` 28x28, labels ``int64``."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: DataSource
    class_names: tuple[str, ...] = FASHION_MNIST_CLASS_NAMES


def load(config: FashionConfig, *, local_dir: str | os.PathLike | None = None) -> FashionData:
    """Fashion-MNIST as Keras gives it, keeping the first ``config.n`` training images (the chapter).

    The data comes from :func:`cifar_lessons.data.load_fashion_mnist_with_source`: Keras's
    download online, Debian's ``dataset-fashion-mnist`` copied into Keras's cache offline, and
    never anything else; ``source`` says which, for the run card. The official training order is
    already shuffled, so the first ``n`` are a fair sample; the test set always stays whole.
    """
    (x_tr, y_tr), (x_te, y_te), source = load_fashion_mnist_with_source(local_dir=local_dir)
    if config.n > len(x_tr):
        raise ConfigError(f"n={config.n} but Fashion-MNIST has only {len(x_tr)} training images")
    return FashionData(x_tr[: config.n], y_tr[: config.n], x_te, y_te, source)


def scale(x: np.ndarray) -> np.ndarray:
    """``uint8`` pixels 0-255 as ``float32`` in [0, 1], with a channel axis: ``(N, 28, 28, 1)``.

    Why /255 (the chapter): these networks start from random weights, and Keras initialises them
    for inputs of about unit size; pixels in the hundreds would make the first layer's outputs and
    gradients hundreds of times too large. A pretrained network is different: ResNet50's
    ``preprocess_input`` takes 0-255 and applies the scaling *its* weights were trained with.
    """
    x = np.asarray(x)
    if x.dtype != np.uint8:
        raise ConfigError(f"scale() takes uint8 pixels 0-255, got {x.dtype}")
    return (x.astype(np.float32) / 255.0)[..., np.newaxis]


def dense_model(hidden: tuple[int, ...] = (256, 128), dropout: float = 0.2, seed: int = 42):
    """784 -> 256 -> 128 -> 10: every pixel connected to every unit, softmax on top (the chapter).

    Flatten throws away where each pixel is: the network must learn a shirt at every position
    separately. Dropout (20 %) after each hidden layer slows its memorising of the training images.
    """
    import keras

    keras.utils.set_random_seed(seed)
    layers = [keras.Input((28, 28, 1), name="image"), keras.layers.Flatten(name="flatten")]
    for i, units in enumerate(hidden, 1):
        layers += [
            keras.layers.Dense(units, activation="relu", name=f"dense_{i}"),
            keras.layers.Dropout(dropout, name=f"dropout_{i}"),
        ]
    layers.append(keras.layers.Dense(10, activation="softmax", name="classes"))
    return keras.Sequential(layers, name="dense")


def small_cnn(
    filters: tuple[int, ...] = (32, 64, 128), dense: int = 128, dropout: float = 0.3, seed: int = 42
):
    """Three convolution blocks (3x3, BatchNorm, ReLU, 2x2 max-pool), then Dense 128 and softmax (the
    chapter).

    A 3x3 filter is the same 9 (x channels) weights slid over every position, so a pattern learnt
    in one place is found in all of them, with few parameters: the three convolutions have about
    92,000 weights, against 200,000 in the dense network's first layer. Pooling halves the map three
    times, 28 -> 14 -> 7 -> 3, so the Dense layer reads 3x3x128 features instead of 784 raw pixels.
    Why three blocks and one light dropout: the committed two-block version (32, 64 filters, dropout
    25 % and 50 %) ended with its training accuracy below its validation accuracy, 91.8 % on the test
    set: it was held back, not memorising. A third block adds capacity where it is cheap.
    """
    import keras

    keras.utils.set_random_seed(seed)
    layers = [keras.Input((28, 28, 1), name="image")]
    for i, f in enumerate(filters, 1):
        layers += [
            keras.layers.Conv2D(f, 3, padding="same", use_bias=False, name=f"conv_{i}"),
            keras.layers.BatchNormalization(momentum=0.9, name=f"batchnorm_{i}"),
            keras.layers.Activation("relu", name=f"relu_{i}"),
            keras.layers.MaxPooling2D(2, name=f"pool_{i}"),
        ]
    layers += [
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(dense, activation="relu", name="dense"),
        keras.layers.Dropout(dropout, name="dropout"),
        keras.layers.Dense(10, activation="softmax", name="classes"),
    ]
    return keras.Sequential(layers, name="small_cnn")


def build(kind: str, seed: int = 42):
    """``dense_model`` or ``small_cnn`` by name (``"dense"``, ``"cnn"``), as the script and the chapter call
    them."""
    if kind not in MODEL_NAMES:
        raise ConfigError(f"unknown model {kind!r}; choose one of: {', '.join(MODEL_NAMES)}")
    return dense_model(seed=seed) if kind == "dense" else small_cnn(seed=seed)


def layer_table(model):
    """One row per layer: its kind, output shape and parameters, for the book and a slide (the chapter)."""
    import pandas as pd

    rows = [
        {
            "layer": layer.name,
            "kind": layer.__class__.__name__,
            "output": " × ".join(str(d) for d in layer.output.shape[1:]),
            "parameters": f"{layer.count_params():,}",
        }
        for layer in model.layers
    ]
    rows.append({"layer": "total", "kind": "", "output": "", "parameters": f"{model.count_params():,}"})
    return pd.DataFrame(rows)


@dataclass
class FashionRun:
    """One training: its Keras history, time per epoch and in all, and its test evaluation."""

    kind: str
    epochs: int
    history: dict
    epoch_seconds: list
    seconds: float
    parameters: int
    probabilities: np.ndarray | None = None
    metrics: dict | None = None


def train(
    model, data: FashionData, epochs: int, config: FashionConfig, *, verbose: int | str = "auto"
) -> FashionRun:
    """Fit on the training images, validating on the last 10 % of them; never on the test set (the chapter).

    Adam at ``config.learning_rate`` decays along a cosine to zero over all the epochs: large
    steps first, small ones at the end, so the last epoch's weights are the ones kept (no early
    stopping, which would cut the decay short). ``TerminateOnNaN`` stops a run whose loss
    diverges. One epoch is one pass over the fitting images, ``ceil(N / batch)`` steps.
    """
    import keras

    from ..pipeline import array_dataset

    if not isinstance(epochs, int) or epochs < 1:
        raise ConfigError(f"epochs must be a positive whole number, got {epochs!r}")
    (x_fit, y_fit), (x_val, y_val) = split_validation(data.x_train, data.y_train, config.validation_fraction)
    compile_with_cosine(model, config.learning_rate, epochs * steps_per_epoch(len(x_fit), config.batch_size))
    keras.utils.set_random_seed(config.seed)
    times: list[float] = []
    start = time.perf_counter()
    # Arrays through a tf.data pipeline with the autotuner off, so no epoch starts with a wait
    # (cifar_lessons.pipeline.array_dataset): batches of the same size as fit(x, y, shuffle=True)'s,
    # in another (seeded) order.
    train_ds = array_dataset(
        scale(x_fit), y_fit, batch_size=config.batch_size, shuffle=True, seed=config.seed
    )
    val_ds = array_dataset(scale(x_val), y_val, batch_size=config.batch_size)
    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=epochs,
        verbose=verbose,
        shuffle=False,
        callbacks=[keras.callbacks.TerminateOnNaN(), epoch_timer(times)],
    )
    seconds = time.perf_counter() - start
    hist = {k: [float(v) for v in vs] for k, vs in history.history.items()}
    kind = "cnn" if model.name == "small_cnn" else "dense" if model.name == "dense" else model.name
    return FashionRun(kind, epochs, hist, times, seconds, parameter_count(model))


def evaluate(model, data: FashionData, run: FashionRun) -> FashionRun:
    """Test accuracy, loss, per-class report and confusion matrix, once, after training (the chapter)."""
    from ..evaluate import compute_metrics

    run.probabilities = model.predict(scale(data.x_test), batch_size=512, verbose=0)
    run.metrics = compute_metrics(run.probabilities, data.y_test, data.class_names)
    return run


# --------------------------------------------------------------------------- records
def record_dict(
    config: FashionConfig,
    data: FashionData,
    run: FashionRun,
    *,
    made_by: dict | None = None,
    run_seconds: float | None = None,
) -> dict:
    """What ``record.json`` says about one training: configuration, data, machine, time, what made it."""
    return study_record(
        "fashion-mnist",
        run.kind,
        config,
        epochs=run.epochs,
        parameters=run.parameters,
        data=studies.data_record(config, data),
        timing=timing(run.seconds, run_seconds),
        made_by=made_by,
    )


def save_run(
    out: str | os.PathLike,
    config: FashionConfig,
    data: FashionData,
    run: FashionRun,
    *,
    made_by: dict,
    run_seconds: float,
    overwrite: bool = False,
) -> Path:
    """Write a committable record (:func:`cifar_lessons.studies.save_run`): record, history, metrics."""
    record = record_dict(config, data, run, made_by=made_by, run_seconds=run_seconds)
    history = {"history": run.history, "epoch_seconds": [round(t, 2) for t in run.epoch_seconds]}
    return studies.save_run(out, record, history, run.metrics, overwrite=overwrite)


def check_record(path: str | os.PathLike) -> dict:
    """A committed record read back, or a one-line :class:`RecordError` saying what is wrong with it."""
    return studies.check_record(
        path,
        what="Fashion-MNIST",
        script="measure_fashion.py",
        kind={"kind": "fashion-mnist", "model": MODEL_NAMES},
        history="val_accuracy",
        metrics=("accuracy",),
        scores="test accuracy",
    )


def committed_runs(root: str | os.PathLike | None = None) -> dict[str, dict | None]:
    """The committed full-size records by model (``None`` where not measured yet), for the chapter.

    Read from :func:`cifar_lessons.records.committed.results_root` (the checkout's ``results/``, or the
    copy the package ships to Colab). A folder that exists but is incomplete is an error, not
    "not measured": a broken record must never pass for a missing one.
    """
    from ..records.committed import committed_record

    return {kind: committed_record(name, check_record, root) for kind, name in COMMITTED.items()}


# --------------------------------------------------------------------------- the page
def comparison_table(
    runs: Mapping[str, FashionRun], config: FashionConfig, committed: Mapping[str, dict | None]
):
    """Dense against CNN, side by side: parameters, epochs, time, test accuracy, and where each came from."""
    import pandas as pd

    rows = []
    for kind, run in runs.items():
        rows.append(
            {
                "model": MODEL_NAMES[kind],
                "from": f"this build ({config.size_name()}, n = {config.n:,})",
                "parameters": f"{run.parameters:,}",
                "epochs": run.epochs,
                "train time": f"{run.seconds:.0f} s",
                "test accuracy": f"{run.metrics['accuracy']:.1%}" if run.metrics else "not evaluated",
            }
        )
    for kind, name in COMMITTED.items():
        rec = committed.get(kind)
        if rec is None:
            rows.append(
                {
                    "model": MODEL_NAMES[kind],
                    "from": f"full size: results/{name}",
                    "parameters": "",
                    "epochs": "",
                    "train time": "",
                    "test accuracy": "not measured yet",
                }
            )
            continue
        r = rec["record"]
        rows.append(
            {
                "model": MODEL_NAMES[kind],
                "from": f"full size: results/{name}",
                "parameters": f"{r['parameters']:,}",
                "epochs": r["epochs"],
                "train time": f"{r['timing']['train_seconds'] / 60:.1f} min",
                "test accuracy": f"{rec['metrics']['accuracy']:.1%}",
            }
        )
    return pd.DataFrame(rows)


def run_card(config: FashionConfig, source: Mapping, record: Mapping | None = None):
    """This chapter's run card: size, data source, machine, time; a warning when it is not full size.

    ``record`` (a committed ``record.json``) makes it the card of that record, with its machine,
    training time and date, headed by its name.
    """
    env = machine(record)  # its device goes in the line
    n_val = config.n_val
    rows = [
        (
            "size",
            f"{config.size_name()}: n = {config.n:,} ({config.n - n_val:,} to fit, {n_val:,} to validate), "
            f"dense {config.dense_epochs} epochs, CNN {config.cnn_epochs} epochs, batch {config.batch_size}, "
            f"seed {config.seed}",
        ),
        (
            "data",
            html.escape(source["description"])
            + (f" (sha256 {source['sha256'][:12]}&hellip;)" if source.get("sha256") else ""),
        ),
    ]
    full = FashionConfig()
    shortfall = (
        f"{config.n:,} training images and {config.dense_epochs} + {config.cnn_epochs} "
        f"epochs instead of all {full.n:,} and {full.dense_epochs} + {full.cnn_epochs} "
        "(the committed full-size records, at the end): the networks here are "
        "half-trained, and their accuracies are lower."
    )
    # One line on a slide (the notes hold the whole card): size, data and where it came from, machine.
    data = "official Fashion-MNIST" if source.get("official") else "Fashion-MNIST, not the official files"
    via = {
        "keras-download": "Keras's download",
        "debian-copy": "Debian's copy",
        "keras-cache": "Keras's cache",
    }.get(source.get("kind"), source.get("kind", ""))
    line = [config.size_name(), f"{data} ({via})", html.escape(device(env))]
    return studies.run_card(config, source, record, rows, shortfall=shortfall, line=line)


def record_card(rec: Mapping):
    """The run card of a committed record (as :func:`committed_runs` returns it)."""
    r = rec["record"]
    return run_card(config_of(FashionConfig, r), r["data"], {**r, "name": rec["name"]})


def committed_line(committed: Mapping[str, dict | None]):
    """One markdown line: the committed full-size accuracies, or plainly that they are not measured yet."""
    from IPython.display import Markdown

    if not any(committed.values()):
        return Markdown(
            "Full size: **not measured yet**. `python scripts/measure_fashion.py` makes "
            + " and ".join(f"`results/{name}`" for name in COMMITTED.values())
            + "."
        )
    parts = [
        f"{MODEL_NAMES[kind]} **{rec['metrics']['accuracy']:.1%}**"
        if (rec := committed.get(kind))
        else f"{MODEL_NAMES[kind]} **not measured yet**"
        for kind in COMMITTED
    ]
    return Markdown("Full size, committed records: " + "; ".join(parts) + ".")
