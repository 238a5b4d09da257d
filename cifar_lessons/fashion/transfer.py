"""Transfer learning on Fashion-MNIST: an ImageNet network, grey 28x28 pictures, two phases.

Taught in the Foundations chapter "Transfer learning on Fashion-MNIST"
(``book/00c_fashion_transfer``), right after the from-scratch networks of ``book/00b``: the same
data, but the network starts from weights learnt on ImageNet. Grey 28x28 pictures become 3-channel
pictures of a size the network accepts (inside the model, so nothing outside it can disagree); the
pretrained base is frozen under a small new head, the head is trained on the base's features (run
once and cached, :mod:`cifar_lessons.features`), then everything is unfrozen and fine-tuned with a
low learning rate that decays along a cosine.

The backbone is chosen as in the project chapters: online (Colab) the course's EfficientNetB0 with
Keras's ImageNet weights; offline (``CIFAR_LESSONS_BACKBONE=efficientnet_lite0
CIFAR_LESSONS_WEIGHTS=imagenet``, as the CI build runs) EfficientNet-Lite0 with the ImageNet
weights of its pip package (:mod:`cifar_lessons.backbones.lite0`). Each backbone gets its own preprocessing
from :data:`cifar_lessons.models.BACKBONES`. Every book build, whatever its profile, trains at the
small :data:`BUILD_SIZE` (4,000 images, 2 + 1 epochs), so that the whole site builds in minutes;
full size is an explicit choice, ``full_size=True`` or ``CIFAR_LESSONS_FULL_SIZE=1``
(:func:`cifar_lessons.config.resolve_full_size`). The full-size run is measured once by
``scripts/measure_fashion_transfer.py`` and committed as ``results/fashion-transfer``.
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
from ..backbones import BACKBONE_NAMES, backbone_name
from ..config import ENV_BACKBONE, ENV_WEIGHTS, TrainingSize, sized_values
from ..data import split_validation
from ..errors import ConfigError, RecordError
from ..studies import (
    compile_with_cosine,
    config_of,
    device,
    machine,
    steps_per_epoch,
    study_record,
    timing,
)
from .scratch import FashionData

#: The committed full-size record of this chapter, in ``results/``.
COMMITTED = "fashion-transfer"
#: What the full-size run is designed to reach (the chapter's claim; the test checks the record).
GOAL = 0.93
#: The course's backbone, used online; offline runs name theirs in the environment.
DEFAULT_BACKBONE = "efficientnetb0"
#: The classifier's pooling layer: everything before it is the frozen feature extractor
#: (the name :data:`cifar_lessons.features.POOL_LAYER` looks for).
POOL_LAYER = "pool"


#: What every book build trains, whatever its profile: about a minute on 2 cores, so that the
#: whole site builds in minutes. Full size (the defaults of :class:`TransferConfig`) is an explicit
#: choice (:func:`transfer_config`).
BUILD_SIZE: dict[str, int] = {"n": 4_000, "head_epochs": 2, "fine_tune_epochs": 1}


@dataclass(frozen=True)
class TransferConfig(TrainingSize):
    """Everything that decides what the chapter trains. Defaults are full size.

    Full size: all 60,000 training images (54,000 to fit, the last 6,000 to validate), 48x48
    input, the head for 3 epochs on cached features (Adam 10⁻³), then the whole network for
    4 epochs (Adam 2x10⁻⁴ decaying along a cosine to zero), random horizontal flips while
    fine-tuning, batches of 64. Why (the chapter): a first full-size run at 32x32 with 4
    fine-tuning epochs at 10⁻⁴ reached only 90.5 %, still underfitting; on 8,000 images 48x48
    beat 32x32 by 4 points after one epoch for about 1.3 times the time; at 48x48, 2
    fine-tuning epochs reached 92.1 % with validation accuracy still rising. ``full_size()`` is
    true when it trains as much as that (its backbone and weights aside;
    :class:`cifar_lessons.config.TrainingSize`).
    """

    build_size = BUILD_SIZE

    profile: str = "seed"
    backbone: str = DEFAULT_BACKBONE
    weights: str = "imagenet"
    n: int = 60_000
    image_size: int = 48
    head_epochs: int = 3
    fine_tune_epochs: int = 4
    head_learning_rate: float = 1e-3
    fine_tune_learning_rate: float = 2e-4
    batch_size: int = 64
    dense: int = 256
    dropout: float = 0.3
    flip: bool = True
    validation_fraction: float = 0.1
    seed: int = 42

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def n_val(self) -> int:
        return max(1, int(round(self.n * self.validation_fraction)))


def transfer_config(
    profile: str | None = None,
    *,
    full_size: bool | None = None,
    env: Mapping[str, str] | None = None,
    **overrides,
) -> TransferConfig:
    """The build's configuration: the size, backbone and weights from the book's environment variables.

    The :data:`BUILD_SIZE` in every profile unless ``full_size``, else ``CIFAR_LESSONS_FULL_SIZE``,
    asks for full size (:func:`cifar_lessons.config.resolve_full_size`); ``CIFAR_LESSONS_PROFILE`` is
    checked and recorded as everywhere; ``CIFAR_LESSONS_BACKBONE`` and ``CIFAR_LESSONS_WEIGHTS`` as in
    the project chapters, except that the default backbone is the course's EfficientNetB0. An unknown
    value is a one-line :class:`ConfigError` naming the variable that set it.
    """
    env = os.environ if env is None else env
    values = sized_values(profile, full_size, env, BUILD_SIZE)
    if env.get(ENV_BACKBONE):
        values["backbone"] = env[ENV_BACKBONE]
    if env.get(ENV_WEIGHTS):
        values["weights"] = env[ENV_WEIGHTS]
    values.update(overrides)
    config = TransferConfig(**values)
    if config.backbone not in BACKBONE_NAMES:
        by = (
            f" (set by the environment variable {ENV_BACKBONE})"
            if "backbone" not in overrides and env.get(ENV_BACKBONE)
            else ""
        )
        raise ConfigError(
            f"unknown backbone {config.backbone!r}; choose one of: {', '.join(BACKBONE_NAMES)}{by}"
        )
    if config.weights != "imagenet":
        raise ConfigError(
            f"this chapter is about ImageNet weights; got weights={config.weights!r} "
            f"(set {ENV_WEIGHTS}=imagenet or leave it unset)"
        )
    if config.image_size < 32:
        raise ConfigError(
            f"image size must be at least 32 (the networks' smallest input), got {config.image_size}"
        )
    return config


# --------------------------------------------------------------------------- grey to RGB
def grey_to_rgb(x: np.ndarray, size: int | None = None) -> np.ndarray:
    """``uint8`` grey ``(N, 28, 28)`` -> ``float32`` 0-255 RGB ``(N, size, size, 3)``, as the model does it.

    The same grey value in all three channels (an ImageNet network expects three), resized with
    bilinear interpolation. For pictures; the classifier does this itself (:func:`build_classifier`).
    """
    import keras

    x = np.asarray(x)
    if x.ndim != 3 or x.dtype != np.uint8:
        raise ConfigError(f"grey_to_rgb() takes uint8 images (N, height, width), got {x.dtype} {x.shape}")
    img = as_input(x)
    if size is not None and size != x.shape[1]:
        img = keras.ops.convert_to_numpy(keras.layers.Resizing(size, size, interpolation="bilinear")(img))
    return np.repeat(img, 3, axis=-1)


def build_classifier(config: TransferConfig, *, seed: int | None = None):
    """grey 28x28 -> (flip) -> resize -> RGB -> the backbone's preprocessing -> frozen base -> pool -> head.

    Everything from the raw picture to the probabilities is one model, so the cached features,
    the fine-tuning and the test predictions all see exactly the same pixels. The base is the
    project's (:func:`cifar_lessons.models.build_base`): Keras's ImageNet download, or
    EfficientNet-Lite0's packaged weights offline, never random weights in silence. The base is
    called with ``training=False`` and starts frozen; :func:`cifar_lessons.models.set_base_trainable`
    unfreezes it later with its BatchNorm layers kept frozen (Keras 3's ``fit`` overrides
    ``training=False`` in nested models). The flip is active only while training.
    """
    import keras

    from ..models import build_base, get_backbone

    keras.utils.set_random_seed(config.seed if seed is None else seed)
    spec = get_backbone(config.backbone)
    base = build_base(config.backbone, config.weights, config.image_size)
    base.trainable = False
    inputs = keras.Input((28, 28, 1), name="grey")
    x = inputs
    if config.flip:
        x = keras.layers.RandomFlip("horizontal", seed=config.seed, name="flip")(x)
    x = keras.layers.Resizing(config.image_size, config.image_size, interpolation="bilinear", name="resize")(
        x
    )
    x = keras.layers.Concatenate(name="grey_to_rgb")([x, x, x])
    x = keras.layers.Lambda(spec.preprocess, name="preprocess")(x)
    x = base(x, training=False)
    x = keras.layers.GlobalAveragePooling2D(name=POOL_LAYER)(x)
    x = keras.layers.Dense(config.dense, activation="relu", name="dense")(x)
    x = keras.layers.Dropout(config.dropout, name="dropout")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="classes", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=f"{config.backbone}_fashion")


def layer_table(model):
    """One row per layer of the classifier: kind, output shape, parameters and whether they train."""
    import pandas as pd

    rows = []
    for layer in model.layers[1:]:
        params = sum(int(np.prod(w.shape)) for w in layer.weights)
        trainable = sum(int(np.prod(w.shape)) for w in layer.trainable_weights)
        rows.append(
            {
                "layer": layer.name,
                "kind": layer.__class__.__name__
                if layer.__class__.__name__ != "Functional"
                else "pretrained base",
                "output": " × ".join(str(d) for d in layer.output.shape[1:]),
                "parameters": f"{params:,}" if params else "",
                "trainable": (
                    "all" if trainable == params else "frozen" if trainable == 0 else f"{trainable:,}"
                )
                if params
                else "",
            }
        )
    return pd.DataFrame(rows)


def as_input(x: np.ndarray) -> np.ndarray:
    """``uint8`` ``(N, 28, 28)`` as the classifier takes it: ``float32`` 0-255 with a channel axis."""
    return np.asarray(x, dtype=np.float32)[..., np.newaxis]


# --------------------------------------------------------------------------- the two phases
@dataclass
class TransferRun:
    """Both phases: the joined history (phase 2 starts at ``phase2_start``), times, and the test
    evaluation."""

    history: dict
    phase2_start: int
    seconds: dict
    parameters: dict
    probabilities: np.ndarray | None = None
    metrics: dict | None = None

    @property
    def train_seconds(self) -> float:
        return float(sum(self.seconds.values()))


def train_head(model, data: FashionData, config: TransferConfig, *, verbose: int | str = "auto"):
    """Phase 1: run the frozen base once over the training images, then train the head on its features.

    :func:`cifar_lessons.features.train_head_on_features` does the training: the head's layers are
    the classifier's own, so the classifier holds the trained head afterwards. Returns the
    :class:`cifar_lessons.training.TwoPhaseHistory`, its ``seconds["features"]`` the base's pass.
    """
    from ..features import feature_extractor, train_head_on_features
    from ..models import set_base_trainable
    from ..pipeline import array_dataset

    set_base_trainable(model, False)
    (x_fit, y_fit), (x_val, y_val) = split_validation(data.x_train, data.y_train, config.validation_fraction)
    start = time.perf_counter()
    extractor = feature_extractor(model)
    f_fit = extractor.predict(as_input(x_fit), batch_size=256, verbose=0)
    f_val = extractor.predict(as_input(x_val), batch_size=256, verbose=0)
    feature_seconds = time.perf_counter() - start
    train_ds = array_dataset(f_fit, y_fit, batch_size=config.batch_size, shuffle=True, seed=config.seed)
    val_ds = array_dataset(f_val, y_val, batch_size=config.batch_size)
    history = train_head_on_features(
        model,
        train_ds,
        val_ds,
        epochs=config.head_epochs,
        learning_rate=config.head_learning_rate,
        verbose=verbose,
    )
    history.seconds["features"] = round(feature_seconds, 2)
    return history


def fine_tune(model, data: FashionData, config: TransferConfig, history, *, verbose: int | str = "auto"):
    """Phase 2: unfreeze the base (BatchNorm stays frozen), Adam at a low rate decaying along a cosine.

    A low rate because the pretrained weights are already good: large steps from a head that is
    only a few epochs old would wreck them. The rate falls to zero by the last step, so the last
    epoch's weights are the ones kept.
    """
    import keras

    from ..models import set_base_trainable
    from ..pipeline import array_dataset
    from ..pointwise import use_matmul
    from ..training import log_learning_rate

    (x_fit, y_fit), (x_val, y_val) = split_validation(data.x_train, data.y_train, config.validation_fraction)
    set_base_trainable(model, True)
    use_matmul(model)  # the same arithmetic, faster (cifar_lessons.pointwise)
    compile_with_cosine(
        model,
        config.fine_tune_learning_rate,
        config.fine_tune_epochs * steps_per_epoch(len(x_fit), config.batch_size),
    )
    keras.utils.set_random_seed(config.seed + 1)
    done = history.epochs
    start = time.perf_counter()
    train_ds = array_dataset(
        as_input(x_fit), y_fit, batch_size=config.batch_size, shuffle=True, seed=config.seed + 1
    )
    val_ds = array_dataset(as_input(x_val), y_val, batch_size=config.batch_size)
    h = model.fit(
        train_ds,
        validation_data=val_ds,
        initial_epoch=done,
        epochs=done + config.fine_tune_epochs,
        verbose=verbose,
        shuffle=False,
        callbacks=[keras.callbacks.TerminateOnNaN(), log_learning_rate(model)],
    )
    history.append(h, "fine_tune", time.perf_counter() - start)
    return history


def evaluate(model, data: FashionData, history) -> TransferRun:
    """Test accuracy, loss, per-class report and confusion matrix, once, after both phases."""
    from ..evaluate import compute_metrics
    from ..models import trainable_counts

    counts = trainable_counts(model)
    run = TransferRun(
        history.history,
        history.phase2_start,
        dict(history.seconds),
        {"total": int(counts["total"]), "trainable_in_fine_tuning": int(counts["trainable"])},
    )
    run.probabilities = model.predict(as_input(data.x_test), batch_size=256, verbose=0)
    run.metrics = compute_metrics(run.probabilities, data.y_test, data.class_names)
    return run


# --------------------------------------------------------------------------- records
def record_dict(
    config: TransferConfig,
    data: FashionData,
    run: TransferRun,
    *,
    weights: Mapping,
    made_by: dict | None = None,
    run_seconds: float | None = None,
) -> dict:
    """What ``record.json`` says: configuration, data, weights, machine, time, what made it."""
    return study_record(
        "fashion-mnist",
        "transfer",
        config,
        epochs={"head": config.head_epochs, "fine_tune": config.fine_tune_epochs},
        parameters=run.parameters,
        weights=weights,
        data=studies.data_record(config, data),
        timing=timing(run.train_seconds, run_seconds, phases=run.seconds),
        made_by=made_by,
    )


def save_run(
    out: str | os.PathLike,
    config: TransferConfig,
    data: FashionData,
    run: TransferRun,
    *,
    weights: Mapping,
    made_by: dict,
    run_seconds: float,
    overwrite: bool = False,
) -> Path:
    """A committable record (:func:`cifar_lessons.studies.save_run`): record, history, metrics, no model."""
    record = record_dict(config, data, run, weights=weights, made_by=made_by, run_seconds=run_seconds)
    history = {"history": run.history, "phase2_start": run.phase2_start, "seconds": run.seconds}
    return studies.save_run(out, record, history, run.metrics, overwrite=overwrite)


def _problems(rec: dict) -> list[str]:
    r, h, problems = rec["record"], rec["history"], []
    epochs = r.get("epochs") or {}
    if len(h.get("history", {}).get("val_accuracy", [])) != epochs.get("head", -1) + epochs.get(
        "fine_tune", -1
    ) or h.get("phase2_start") != epochs.get("head"):
        problems.append("has a history that does not match its epochs")
    if not (r.get("weights") or {}).get("pretrained"):
        problems.append("does not say it used pretrained weights")
    return problems


def check_record(path: str | os.PathLike) -> dict:
    """The committed record read back, or a one-line :class:`RecordError` saying what is wrong with it."""
    return studies.check_record(
        path,
        what="Fashion-MNIST transfer",
        script="measure_fashion_transfer.py",
        kind={"kind": "fashion-mnist", "model": "transfer"},
        checks=_problems,
        metrics=("accuracy",),
        scores="test accuracy",
    )


def committed_run(root: str | os.PathLike | None = None) -> dict | None:
    """The committed full-size record (``None`` if not measured yet); a broken one is an error."""
    from ..records.committed import committed_record

    return committed_record(COMMITTED, check_record, root)


def earlier_runs(root: str | os.PathLike | None = None) -> list[dict]:
    """Earlier full-size records kept beside the chapter's (``results/fashion-transfer-*``), oldest recipe
    first.

    They show why the chapter's recipe is what it is (the 32-pixel run, then the 48-pixel run with
    two fine-tuning epochs, that it replaced); each is checked as strictly as the chapter's own.
    """
    from ..records.committed import results_root

    try:
        base = Path(root) if root is not None else results_root()
    except RecordError:
        return []
    return [check_record(p) for p in sorted(base.glob(f"{COMMITTED}-*")) if p.is_dir()]


def choices_table(records: list[dict]):
    """The full-size recipes measured, one row each: input, epochs, fine-tuning rate, time, test accuracy."""
    import pandas as pd

    rows = []
    for rec in records:
        r, c = rec["record"], rec["record"]["config"]
        rows.append(
            {
                "record": rec["name"],
                "input": f"{c['image_size']}×{c['image_size']}",
                "epochs": f"{c['head_epochs']} + {c['fine_tune_epochs']}",
                "fine-tuning rate": f"{c['fine_tune_learning_rate']:g}, cosine",
                "wall time": f"{r['timing']['run_seconds'] / 60:.1f} min",
                "validation accuracy": f"{rec['history']['history']['val_accuracy'][-1]:.1%}",
                "test accuracy": f"{rec['metrics']['accuracy']:.1%}",
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- the page
def run_card(config: TransferConfig, source: Mapping, weights: Mapping, record: Mapping | None = None):
    """The chapter's run card: size, backbone and weights, data, machine, time; warnings when it
    is not the full size or not the course's EfficientNetB0. ``record`` makes it a committed record's card."""
    env = machine(record)  # its device goes in the line
    n_val = config.n_val
    rows = [
        (
            "size",
            f"{config.size_name()}: n = {config.n:,} ({config.n - n_val:,} to fit, {n_val:,} to validate), "
            f"{config.image_size}&times;{config.image_size} input, head {config.head_epochs} epochs "
            f"(Adam {config.head_learning_rate:g}), fine-tuning {config.fine_tune_epochs} epochs "
            f"(Adam {config.fine_tune_learning_rate:g}, cosine), batch {config.batch_size}, "
            f"seed {config.seed}",
        ),
        ("backbone", f"{backbone_name(config.backbone)}: {html.escape(weights.get('description', ''))}"),
        ("data", html.escape(source["description"])),
    ]
    full = TransferConfig()
    shortfall = (
        f"{config.n:,} training images and {config.head_epochs} + "
        f"{config.fine_tune_epochs} epochs instead of all {full.n:,} and "
        f"{full.head_epochs} + {full.fine_tune_epochs} (the committed full-size record, "
        "at the end): the network here is half-trained, and its accuracy is lower."
    )
    if config.backbone != DEFAULT_BACKBONE:
        # Labelled, not a warning: a full-size record made offline is the real result for its backbone.
        rows.insert(
            2,
            (
                "note",
                f"<b>Not the course's backbone.</b> The course uses EfficientNetB0 with Keras's "
                f"ImageNet weights (the default online, as in Colab); this run used "
                f"{backbone_name(config.backbone)} with {html.escape(weights.get('description', ''))}, "
                "because Keras's download is not available offline.",
            ),
        )
    line = [
        config.size_name(),
        backbone_name(config.backbone) + " (ImageNet)",
        f"{config.image_size}&times;{config.image_size}",
        html.escape(device(env)),
    ]
    return studies.run_card(config, source, record, rows, shortfall=shortfall, line=line)


def record_card(rec: Mapping):
    """The run card of the committed record (as :func:`committed_run` returns it)."""
    r = rec["record"]
    return run_card(config_of(TransferConfig, r), r["data"], r["weights"], {**r, "name": rec["name"]})


def comparison_table(
    run: TransferRun | None,
    config: TransferConfig,
    committed_scratch: Mapping[str, dict | None],
    committed_transfer: dict | None,
):
    """Dense, CNN and transfer side by side, each row saying where it came from (this build or a record)."""
    import pandas as pd

    from .scratch import COMMITTED as SCRATCH
    from .scratch import MODEL_NAMES

    rows = []
    for kind, name in SCRATCH.items():
        rec = committed_scratch.get(kind)
        rows.append(
            {
                "model": MODEL_NAMES[kind],
                "from": f"record {name}",
                "parameters (trained)": f"{rec['record']['parameters']:,}" if rec else "",
                "epochs": str(rec["record"]["epochs"]) if rec else "",
                "train time": f"{rec['record']['timing']['train_seconds'] / 60:.1f} min" if rec else "",
                "test accuracy": f"{rec['metrics']['accuracy']:.1%}" if rec else "not measured yet",
            }
        )
    if run is not None:
        rows.append(
            {
                "model": f"{backbone_name(config.backbone)} + head",
                "from": f"this build ({config.size_name()}, n = {config.n:,})",
                "parameters (trained)": f"{run.parameters['trainable_in_fine_tuning']:,}",
                "epochs": f"{config.head_epochs} + {config.fine_tune_epochs}",
                "train time": f"{run.train_seconds / 60:.1f} min",
                "test accuracy": f"{run.metrics['accuracy']:.1%}" if run.metrics else "not evaluated",
            }
        )
    if committed_transfer:
        r = committed_transfer["record"]
        rows.append(
            {
                "model": f"{backbone_name(r['config']['backbone'])} + head",
                "from": f"record {COMMITTED}",
                "parameters (trained)": f"{r['parameters']['trainable_in_fine_tuning']:,}",
                "epochs": f"{r['epochs']['head']} + {r['epochs']['fine_tune']}",
                "train time": f"{r['timing']['train_seconds'] / 60:.1f} min",
                "test accuracy": f"{committed_transfer['metrics']['accuracy']:.1%}",
            }
        )
    else:
        rows.append(
            {
                "model": "transfer",
                "from": f"record {COMMITTED}",
                "parameters (trained)": "",
                "epochs": "",
                "train time": "",
                "test accuracy": "not measured yet",
            }
        )
    return pd.DataFrame(rows)
