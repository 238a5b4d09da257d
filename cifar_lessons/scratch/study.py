"""Transfer or from scratch, measured: the runs, how each trains, and their committed records.

Taught in chapter 7 (takeaways, the figure of :mod:`cifar_lessons.scratch.figures`); chapter 1 and the
presentation quote the records.

The question (chapter 1 and the presentation): on 10,000 CIFAR-10 images, does a network trained
from random weights lose to one that starts from ImageNet? Every run here uses the same data as the
recipe: the first ``n`` training images of the shared copy (shuffled with seed 42, the last 10 % of
them held out to validate; never the test set), and all 10,000 test images.

Two kinds of run:

- **from scratch** (:func:`train_scratch`): :func:`cifar_lessons.scratch.model.small_cnn` at 32 px,
  Adam at 10⁻³ with a cosine decay (:func:`cifar_lessons.studies.compile_with_cosine`), with or
  without flips and crops. At n = 10,000 it trains :data:`SCRATCH_EPOCHS` epochs, chosen so that a
  run takes about the seed recipe's six minutes on 2 cores; at a smaller ``n`` it takes the same
  number of optimiser steps (:func:`equal_steps_epochs`), so every point of the data-size curve has
  the same compute.
- **head only** (:func:`train_head_only`): the recipe's classifier on EfficientNet-Lite0 with its
  ImageNet weights, the base frozen, the seed profile's head trained on cached features
  (:func:`cifar_lessons.recipe.head_phase`) with no fine-tuning, at 32 or 128 px. At a smaller ``n``
  it too keeps the steps of its 10,000-image run.

The two-phase recipe is not run again: its committed records (``lite0-32-seed``, ``lite0-128-better``)
stand beside these (:mod:`cifar_lessons.scratch.figures`). The machine is shared, so each record keeps
the load average at its start and end, and the process's CPU seconds beside the wall time.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .. import studies
from ..data import CifarData, load_cifar10, split_validation
from ..errors import ConfigError
from .model import FILTERS, IMAGE_SIZE

#: The script that makes the committed records, as their ``made_by`` names it.
SCRIPT = "measure_scratch_vs_transfer.py"
#: ``record.json``'s ``kind`` for every run of this study.
KIND = "scratch-vs-transfer"
#: ``record.json``'s ``model`` for each kind of run.
MODELS = {"scratch": "small CNN from scratch", "head": "EfficientNet-Lite0 (ImageNet), frozen, head only"}
#: Epochs of a from-scratch run on 10,000 images: about six minutes on 2 quiet cores (an epoch
#: over 9,000 images took 22-35 s, depending on the load), like the seed recipe's 367 s.
SCRATCH_EPOCHS = 15
#: Images in the full-size runs; the data-size curve's smaller sizes.
FULL_N = 10_000
SIZES = (1_000, 2_500, 10_000)
#: The recipe's head phase as the seed profile trains it: 10 epochs (batch 64) on 10,000 images.
HEAD_EPOCHS = 10
HEAD_BATCH = 64


@dataclass(frozen=True)
class ScratchConfig:
    """Everything that decides what a from-scratch run computes. Defaults are the full-size run."""

    profile: str = "seed"
    n: int = FULL_N
    image_size: int = IMAGE_SIZE
    epochs: int = SCRATCH_EPOCHS
    batch_size: int = 128
    learning_rate: float = 1e-3
    augment: bool = False
    filters: tuple[int, ...] = FILTERS
    dropout: float = 0.3
    validation_fraction: float = 0.1
    data: str | None = None
    seed: int = 42

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "filters": list(self.filters)}


@dataclass(frozen=True)
class RunSpec:
    """One committed run: its folder name, what it is in a sentence, and how it trains."""

    name: str
    what: str
    method: str  # "scratch" or "head"
    n: int
    image_size: int
    augment: bool = False


def _spec(method: str, n: int, size: int, augment: bool = False) -> RunSpec:
    """A run's spec with its name and sentence made from its settings, so the two cannot disagree."""
    tail = "" if n == FULL_N else f"-n{n}"
    if method == "scratch":
        name = f"scratch-cnn-{size}{'-flips' if augment else ''}{tail}"
        what = f"small CNN from scratch, {size} px, {'with' if augment else 'without'} flips and crops"
    else:
        name = f"head-lite0-{size}{tail}"
        what = f"EfficientNet-Lite0 frozen, head only, {size} px"
    return RunSpec(name, f"{what}, n = {n:,}", method, n, size, augment)


#: Every run of the study, in the order the script runs them (the cheap and the central ones first).
RUNS: tuple[RunSpec, ...] = (
    _spec("head", FULL_N, 32),
    _spec("scratch", FULL_N, 32),
    _spec("scratch", FULL_N, 32, augment=True),
    _spec("head", FULL_N, 128),
    *(_spec("head", n, size) for size in (32, 128) for n in SIZES[:-1]),
    *(_spec("scratch", n, 32, augment=True) for n in SIZES[-2::-1]),
)
RUNS_BY_NAME: dict[str, RunSpec] = {spec.name: spec for spec in RUNS}


# --------------------------------------------------------------------------- configurations
def fit_images(n: int, validation_fraction: float = 0.1) -> int:
    """How many of ``n`` training images a run fits on: the rest validate (:func:`split_validation`)."""
    return n - max(1, int(round(n * validation_fraction)))


def equal_steps_epochs(n: int, epochs: int, batch_size: int, full_n: int = FULL_N) -> int:
    """Epochs at ``n`` images that take as many optimiser steps as ``epochs`` at ``full_n``.

    Why steps, not epochs: ten epochs over 900 images are a tenth of the work of ten over 9,000, and
    a from-scratch network given a tenth of the training would lose for that reason alone. Keeping
    the steps keeps the compute, so the data-size curve shows what the data alone does.
    """
    full = studies.steps_per_epoch(fit_images(full_n), batch_size) * epochs
    return max(1, round(full / studies.steps_per_epoch(fit_images(n), batch_size)))


def scratch_config(spec: RunSpec, data: str | None, **overrides) -> ScratchConfig:
    """A from-scratch run's configuration: the spec's images and augmentation, steps kept at small ``n``."""
    base = ScratchConfig(n=spec.n, augment=spec.augment, data=data)
    epochs = equal_steps_epochs(spec.n, base.epochs, base.batch_size)
    return dataclasses.replace(base, **{"epochs": epochs, **overrides})


def transfer_config(spec: RunSpec, data: str | None, **overrides):
    """A head-only run's configuration: the seed profile's head phase and no fine-tuning, at the
    spec's input size, EfficientNet-Lite0 with its ImageNet weights (offline, from pip)."""
    from ..config import make_config

    epochs = equal_steps_epochs(spec.n, HEAD_EPOCHS, HEAD_BATCH)
    values = dict(n=spec.n, image_size=spec.image_size, head_epochs=epochs, fine_tune_epochs=0)
    values.update({"backbone": "efficientnet_lite0", "weights": "imagenet", "data": data, **overrides})
    return make_config("seed", env={}, **values)


# --------------------------------------------------------------------------- training
@dataclass
class StudyRun:
    """One finished run: its history, time per epoch and in all, its size and its test metrics."""

    model: str
    epochs: int
    history: dict
    epoch_seconds: list = field(default_factory=list)
    seconds: float = 0.0
    parameters: int = 0
    metrics: dict | None = None
    timing: dict = field(default_factory=dict)  # more seconds for the record: the evaluation's


def load(config) -> CifarData:
    """The first ``config.n`` training images (seeded shuffle, as the recipe) and the whole test set."""
    return load_cifar10(config.data, n=config.n, seed=config.seed)


def scratch_datasets(data: CifarData, config: ScratchConfig):
    """Training and validation pipelines of ``uint8`` images; flips and crops on training batches only.

    The validation images are the last 10 % of the training images, never the test set, and never
    augmented: they measure the network, not the augmenter.
    """
    import tensorflow as tf

    from ..pipeline import PARALLEL_CALLS, array_dataset
    from .model import flips_and_crops

    (x_fit, y_fit), (x_val, y_val) = split_validation(data.x_train, data.y_train, config.validation_fraction)
    train = array_dataset(x_fit, y_fit, batch_size=config.batch_size, shuffle=True, seed=config.seed)
    if config.augment:
        aug = flips_and_crops(config.seed)
        train = train.map(
            lambda x, y: (aug(tf.cast(x, tf.float32), training=True), y), num_parallel_calls=PARALLEL_CALLS
        )
    return train, array_dataset(x_val, y_val, batch_size=config.batch_size)


def train_scratch(config: ScratchConfig, data: CifarData, verbose: int | str = "auto"):
    """Train the small CNN from random weights; return ``(model, StudyRun)`` (not yet evaluated)."""
    import keras

    from .model import small_cnn

    model = small_cnn(config.filters, config.dropout, config.seed)
    train, val = scratch_datasets(data, config)
    steps = studies.steps_per_epoch(fit_images(config.n, config.validation_fraction), config.batch_size)
    studies.compile_with_cosine(model, config.learning_rate, config.epochs * steps)
    times: list[float] = []
    start = time.perf_counter()
    h = model.fit(
        train,
        validation_data=val,
        epochs=config.epochs,
        verbose=verbose,
        callbacks=[keras.callbacks.TerminateOnNaN(), studies.epoch_timer(times)],
    )
    history = {k: [float(v) for v in vs] for k, vs in h.history.items()}
    run = StudyRun(MODELS["scratch"], config.epochs, history, times, time.perf_counter() - start)
    run.parameters = studies.parameter_count(model)
    return model, run


def evaluate_scratch(model, data: CifarData, run: StudyRun) -> StudyRun:
    """Test accuracy, loss, per-class report and confusion matrix, once, after training."""
    from ..evaluate import compute_metrics

    probabilities = model.predict(data.x_test, batch_size=512, verbose=0)
    run.metrics = compute_metrics(probabilities, data.y_test, data.class_names)
    return run


def train_head_only(config, data: CifarData, verbose: int | str = "auto") -> StudyRun:
    """The recipe's head phase alone on the frozen ImageNet base, then the test set: a ``StudyRun``.

    Its seconds are the head phase's (the base's pass over the training images included) plus the
    test evaluation (the base's pass over the 10,000 test images), the whole cost of the method.
    """
    from ..recipe import head_phase, new_model, run_evaluation, split_data

    model = new_model(config)
    history = head_phase(config, model, split_data(config, data), verbose)
    start = time.perf_counter()
    metrics, _ = run_evaluation(config, data, model, verbose)
    history.seconds["evaluate"] = round(time.perf_counter() - start, 2)
    run = StudyRun(MODELS["head"], config.head_epochs, history.history)
    run.seconds, run.parameters, run.metrics = (
        history.seconds["head"],
        studies.parameter_count(model),
        metrics,
    )
    run.timing = {"evaluate_seconds": history.seconds["evaluate"]}
    return run


# --------------------------------------------------------------------------- records
def load_average() -> list[float]:
    """The machine's 1-, 5- and 15-minute load averages: on a shared 2-core machine a wall time means
    little without them (a load of 4 halves this run's share of the CPU)."""
    return [round(x, 2) for x in os.getloadavg()]


@dataclass
class Conditions:
    """What the machine was doing around a run: load averages at start and end, CPU seconds used."""

    load_start: list[float]
    load_end: list[float] | None = None
    cpu_start: float = field(default_factory=time.process_time)
    cpu_seconds: float | None = None

    def finish(self) -> Conditions:
        self.load_end, self.cpu_seconds = load_average(), round(time.process_time() - self.cpu_start, 1)
        return self


def record_dict(
    spec: RunSpec, config, data: CifarData, run: StudyRun, conditions: Conditions, *, made_by, run_seconds
) -> dict:
    """``record.json``: the shared study record (:func:`cifar_lessons.studies.study_record`), plus the
    run's spec and the machine's load and the CPU seconds used."""
    weights = None
    if spec.method == "head":
        from ..backbones import describe_weights

        weights = describe_weights(config.weights, config.backbone)
    more = {"cpu_seconds": conditions.cpu_seconds, **run.timing}
    record = studies.study_record(
        KIND,
        run.model,
        config,
        epochs=run.epochs,
        parameters=run.parameters,
        weights=weights,
        data=studies.data_record(config, data),
        timing=studies.timing(run.seconds, run_seconds, **more),
        made_by=made_by,
    )
    record["run"] = dataclasses.asdict(spec)
    record["load_average"] = {"start": conditions.load_start, "end": conditions.load_end}
    return record


def save_study_run(
    out: str | os.PathLike, spec: RunSpec, config, data, run: StudyRun, conditions: Conditions, **how
) -> Path:
    """Write a committable record (:func:`cifar_lessons.studies.save_run`). ``how``: ``made_by``,
    ``run_seconds`` and ``overwrite``."""
    overwrite = how.pop("overwrite", False)
    record = record_dict(spec, config, data, run, conditions, **how)
    history = {"history": run.history}
    if spec.method == "scratch":
        history["epoch_seconds"] = [round(t, 2) for t in run.epoch_seconds]
    return studies.save_run(out, record, history, run.metrics, overwrite=overwrite)


def _own_problems(rec: Mapping) -> list[str]:
    """What only this study asks of a record: its spec is a known run, and it says how loaded the
    machine was."""
    r = rec["record"]
    problems = [] if r.get("run", {}).get("name") in RUNS_BY_NAME else ["names no known run"]
    load = r.get("load_average") or {}
    if not (load.get("start") and load.get("end")):
        problems.append("does not say how loaded the machine was")
    return problems


def check_record(path: str | os.PathLike) -> dict:
    """A committed record read back, or one :class:`cifar_lessons.errors.RecordError` line saying what
    is wrong with it."""
    return studies.check_record(
        path,
        what="scratch-vs-transfer",
        script=SCRIPT,
        kind={"kind": KIND, "model": tuple(MODELS.values())},
        history="val_accuracy",
        metrics=("accuracy",),
        scores="test accuracy",
        checks=_own_problems,
    )


def committed_runs(root: str | os.PathLike | None = None) -> dict[str, dict | None]:
    """Every run of the study by name: its committed record, or ``None`` where not measured yet."""
    from ..records.committed import committed_record

    return {spec.name: committed_record(spec.name, check_record, root) for spec in RUNS}


def spec_named(name: str) -> RunSpec:
    """A run's spec by its record name, or a :class:`ConfigError` listing the names."""
    if name not in RUNS_BY_NAME:
        raise ConfigError(f"unknown run {name!r}; choose from: {', '.join(RUNS_BY_NAME)}")
    return RUNS_BY_NAME[name]
