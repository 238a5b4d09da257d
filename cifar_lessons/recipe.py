"""The whole recipe as a few composable stages, shared by the command line and the book.

Stages: load the data, split the validation images off once, the head phase
(:func:`head_phase`, record ``head``), fine-tuning (:func:`fine_tune_phase`, record ``tuned``),
evaluate (record ``full``). The Keras code of each phase is :mod:`cifar_lessons.training`'s,
which the chapters show; this module adds what a run needs around it. Chapters 3-5 each run one
stage and share the others through these records: a chapter opened alone (in Colab, say) finds the record
it needs missing and makes it with these same functions.

Each phase backs itself up after every epoch in a folder beside its record
(``.<record>.resume/<phase>/``, see :mod:`cifar_lessons.resume`): a run or a chapter killed
mid-phase and started again resumes after its last finished epoch. Writing the record removes
the backup.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import time
from pathlib import Path

import keras
import numpy as np

from .backbones import describe_weights
from .config import ENV_RUNS, RunConfig
from .data import CifarData, load_cifar10, split_validation, validation_size
from .errors import CifarLessonsError, DataError, RecordError, TrainingError, WeightsError
from .evaluate import compute_metrics, predict_probabilities
from .features import can_cache_features, feature_datasets, train_head_on_features
from .models import base_of, build_base, build_classifier, cosine_decay, smoothed_crossentropy
from .pipeline import make_dataset
from .pointwise import use_matmul
from .precision import policy_name, set_precision
from .records.provenance import environment, source_commit
from .records.store import RunRecord, load_record, out_lock, prepare_out, save_record
from .resume import finished_epochs, resume_callbacks
from .training import TwoPhaseHistory, run_phase


def load_data(config: RunConfig) -> CifarData:
    """CIFAR-10 as the configuration says: source, first ``n`` training images, seed."""
    return load_cifar10(config.data, n=config.n, seed=config.seed)


Split = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def split_data(config: RunConfig, data: CifarData) -> Split:
    """``(fit_images, fit_labels), (val_images, val_labels)``: the training images less the
    validation images held out from them (:func:`cifar_lessons.data.split_validation`). A run splits
    once and hands the split to both phases."""
    return split_validation(data.x_train, data.y_train, config.validation_fraction)


def training_datasets(config: RunConfig, split: Split):
    """Training and validation pipelines of a :func:`split_data`."""
    (fit_images, fit_labels), (val_images, val_labels) = split
    common = dict(backbone=config.backbone, batch_size=config.batch_size, seed=config.seed)
    train = make_dataset(fit_images, fit_labels, shuffle=True, augment=config.augment, **common)
    val = make_dataset(val_images, val_labels, **common)
    return train, val


def new_model(config: RunConfig) -> keras.Model:
    """The classifier for this configuration, with seeds set first so runs repeat.

    The dtype policy (``config.precision``) is set here, before any layer is built, and always
    set: a policy left over from an earlier run in the same process would otherwise leak in.
    """
    keras.utils.set_random_seed(config.seed)
    set_precision(config.precision)
    return build_classifier(config.backbone, config.weights, config.image_size, config.head, config.dropout)


def head_method(config: RunConfig) -> str:
    """How the head phase runs: on cached base features, or end to end when augmentation forbids it."""
    return "cached features" if can_cache_features(config.augment) else "end to end"


@functools.cache
def run_commit() -> str | None:
    """The source commit, read once per process, when the first run starts: its records name the
    code that ran, even if the working tree changes while it trains. Not at import, which would
    run ``git`` for every ``import cifar_lessons.recipe``."""
    return source_commit()


def record_header(
    config: RunConfig, data: CifarData, stage: str, command: str | None = None, kind: str = "recipe"
) -> dict:
    """What every record says about itself: configuration, data source, weights, machine, and what
    made it (the source commit and the command, or the book's chapters). ``kind`` is ``recipe``, or
    the study that runs the recipe's stages for its own ends (``grad-cam``)."""
    n_val = validation_size(len(data.x_train), config.validation_fraction)
    weights = describe_weights(config.weights, config.backbone)
    return {
        "kind": kind,
        "stage": stage,
        "config": config.to_dict(),
        "data": {
            **data.source.to_dict(),
            "n_train": len(data.x_train) - n_val,
            "n_val": n_val,
            "n_test": len(data.x_test),
        },
        "weights": weights,
        "compute": {
            "phase1": head_method(config),
            "precision": policy_name(config.precision),
            "batch_size": config.batch_size,
            "phase2_convolutions": "those on maps of 2x2 or less as matrix products "
            "(cifar_lessons.pointwise)",
        },
        "environment": environment(),
        "made_by": {
            "commit": run_commit(),
            "command": command or "the book's chapters (cifar_lessons.recipe stages)",
        },
    }


def head_phase(
    config: RunConfig,
    model: keras.Model,
    split: Split,
    verbose: int | str = "auto",
    resume: Path | None = None,
) -> TwoPhaseHistory:
    """The head phase on ``model`` (:func:`cifar_lessons.training.train_head`): on cached base
    features when it can be (the same result, with the base run once instead of once an epoch),
    end to end through the frozen base when augmenting.

    With ``resume`` (a phase's backup folder) it resumes after the last epoch backed up there;
    the cached features are simply computed again.
    """
    run_commit()
    common = dict(
        epochs=config.head_epochs,
        learning_rate=config.head_learning_rate,
        verbose=verbose,
        loss=smoothed_crossentropy(config.label_smoothing),
    )
    if can_cache_features(config.augment):
        start = time.perf_counter()
        train, val = feature_datasets(
            model, *split, backbone=config.backbone, batch_size=config.batch_size, seed=config.seed
        )
        extraction = time.perf_counter() - start
        callbacks = resume_callbacks(resume, train) if resume else None
        history = train_head_on_features(model, train, val, callbacks=callbacks, **common)
        history.seconds["head"] = round(
            history.seconds["head"] + extraction, 2
        )  # the features are the head phase's work
    else:
        train, val = training_datasets(config, split)
        callbacks = resume_callbacks(resume, train) if resume else None
        history = run_phase("head", model, base_of(model), train, val, callbacks=callbacks, **common)
    _add_restored_time(history, "head", callbacks)
    return history


def fine_tune_phase(
    config: RunConfig,
    model: keras.Model,
    split: Split,
    history: TwoPhaseHistory,
    verbose: int | str = "auto",
    resume: Path | None = None,
) -> TwoPhaseHistory:
    """Fine-tuning (:func:`cifar_lessons.training.fine_tune`) of a model whose head is trained;
    extends ``history`` (resumes as :func:`head_phase`)."""
    run_commit()
    keras.utils.set_random_seed(config.seed + 1)
    train, val = training_datasets(config, split)
    callbacks = resume_callbacks(resume, train) if resume else None
    # The same arithmetic, faster: convolutions on the last 1x1 and 2x2 maps as matrix products.
    use_matmul(model)
    run_phase(
        "fine_tune",
        model,
        base_of(model),
        train,
        val,
        epochs=config.fine_tune_epochs,
        learning_rate=fine_tune_rate(config, int(train.cardinality())),
        history=history,
        callbacks=callbacks,
        verbose=verbose,
        loss=smoothed_crossentropy(config.label_smoothing),
    )
    _add_restored_time(history, "fine_tune", callbacks)
    return history


def fine_tune_rate(config: RunConfig, steps_per_epoch: int):
    """Phase 2's learning rate: the seed's constant, or a cosine decay from it to zero over
    all of phase 2's steps, so that a rate ten times the seed's settles at the end."""
    if config.fine_tune_schedule == "cosine":
        steps = config.fine_tune_epochs * steps_per_epoch
        return cosine_decay(config.fine_tune_learning_rate, steps)
    return config.fine_tune_learning_rate


def _add_restored_time(history: TwoPhaseHistory, phase: str, callbacks) -> None:
    """A resumed phase's time includes the epochs the killed process had finished."""
    restored = sum(getattr(cb, "restored_seconds", 0.0) for cb in callbacks or [])
    if restored:
        history.seconds[phase] = round(history.seconds.get(phase, 0.0) + restored, 2)


def run_evaluation(config: RunConfig, data: CifarData, model: keras.Model, verbose: int | str = "auto"):
    """Predict the whole test set; return (metrics, probabilities).

    With ``config.flip_test`` each image is predicted twice, as it is and mirrored, and the two
    probabilities averaged (test-time augmentation); the metrics then keep the single-pass accuracy
    and loss too, under ``without_flip_test``, so the gain is visible.
    """
    probs = predict_probabilities(model, data.x_test, backbone=config.backbone, verbose=verbose)
    if not config.flip_test:
        return compute_metrics(probs, data.y_test, data.class_names), probs
    single = compute_metrics(probs, data.y_test, data.class_names)
    mirrored = predict_probabilities(
        model, data.x_test[:, :, ::-1], backbone=config.backbone, verbose=verbose
    )
    probs = (probs + mirrored) / 2
    metrics = compute_metrics(probs, data.y_test, data.class_names)
    metrics["without_flip_test"] = {"accuracy": single["accuracy"], "loss": single["loss"]}
    return metrics, probs


def resume_dir(out: str | os.PathLike) -> Path:
    """The backups of a record's phases, beside it: ``.<name>.resume/`` (one subfolder per phase)."""
    out = Path(out)
    return out.parent / f".{out.name}.resume"


def save_stage(
    out: str | os.PathLike,
    config: RunConfig,
    data: CifarData,
    stage: str,
    model: keras.Model,
    history: TwoPhaseHistory,
    metrics: dict | None = None,
    probabilities: np.ndarray | None = None,
    overwrite: bool = False,
    command: str | None = None,
    kind: str = "recipe",
    extra: dict | None = None,
) -> RunRecord:
    """Write a record for a finished stage, remove its phases' backup, and return it loaded back.

    ``kind`` and ``extra`` (more top-level keys) are :func:`record_header`'s for a run that is not
    the recipe's own: a search's trial (:mod:`cifar_lessons.tuning`). ``model=None`` keeps no model.
    """
    header = record_header(config, data, stage, command, kind=kind)
    header.update(extra or {})
    header["timing"] = {f"{k}_seconds": v for k, v in history.seconds.items()}
    # A stage the chapters write, one chapter at a time, has no whole-run clock: its phases' time so far.
    header["timing"].setdefault("run_seconds", round(sum(history.seconds.values()), 2))
    path = save_record(
        out,
        record=header,
        history=history.to_dict(),
        model=model,
        metrics=metrics,
        probabilities=probabilities,
        overwrite=overwrite,
    )
    shutil.rmtree(resume_dir(path), ignore_errors=True)
    return load_record(path, model=model is not None)


def runs_root() -> Path:
    """Where chapters keep their shared records: ``CIFAR_LESSONS_RUNS`` (the book build sets it under
    _build; in Colab, :func:`cifar_lessons.colab.use_drive` sets it to a folder in Google Drive), else
    ``runs/``.

    Read at every call, so a folder set after the package was imported still counts."""
    return Path(os.path.expanduser(os.environ.get(ENV_RUNS, "runs")))


def stage_dir(config: RunConfig, stage: str, root: str | os.PathLike | None = None) -> Path:
    return Path(root or runs_root()) / config.key / stage


def stage_backup(config: RunConfig, stage: str, root=None) -> Path:
    """Where a chapter's ``stage`` ("head" or "tuned") backs up its epochs, for the ``resume`` of
    :func:`head_phase` (chapter 3) and :func:`fine_tune_phase` (chapter 4): a training cell interrupted,
    or whose kernel restarted, resumes after its last finished epoch when it is run again. In Colab the
    backup lives as long as the runtime's files do, unless the runs folder is in Google Drive
    (:func:`cifar_lessons.colab.use_drive`)."""
    return _phase_backup(stage_dir(config, stage, root), stage)


def _phase_backup(out: Path, stage: str) -> Path:
    return resume_dir(out) / ("head" if stage == "head" else "fine_tune")


def _model_stage(config: RunConfig, data: CifarData, stage: str, make, root=None):
    """Load a stage's model and history from its record, or ``make()`` them and record them."""
    path = stage_dir(config, stage, root)
    if (path / "model.keras").exists():
        rec = load_record(path)
        return rec.load_model(), TwoPhaseHistory.from_dict(rec.history)
    run_commit()  # the commit the stage starts from, before it trains
    model, history = make(_phase_backup(path, stage))
    save_stage(path, config, data, stage, model, history, overwrite=True)
    return model, history


def head_stage(config: RunConfig, data: CifarData, verbose: int | str = "auto", root=None):
    """The head phase's model and history: loaded from its record, or trained (resumably) and recorded now."""

    def make(backup):
        model = new_model(config)
        return model, head_phase(config, model, split_data(config, data), verbose, backup)

    return _model_stage(config, data, "head", make, root)


def tuned_stage(config: RunConfig, data: CifarData, verbose: int | str = "auto", root=None):
    """The fine-tuned model and both phases' history: loaded, or made now from the head stage."""

    def make(backup):
        model, history = head_stage(config, data, verbose, root)
        return model, fine_tune_phase(config, model, split_data(config, data), history, verbose, backup)

    return _model_stage(config, data, "tuned", make, root)


def full_stage(config: RunConfig, data: CifarData, verbose: int | str = "auto", root=None) -> RunRecord:
    """The finished, evaluated run: loaded from its record, or made now from the tuned stage."""
    path = stage_dir(config, "full", root)
    if (path / "metrics.json").exists():
        return load_record(path)
    model, history = tuned_stage(config, data, verbose, root)
    metrics, probs = run_evaluation(config, data, model, verbose)
    return save_stage(path, config, data, "full", model, history, metrics, probs, overwrite=True)


def load_inputs(config: RunConfig) -> CifarData:
    """Check the weights, then load the data; report the problems of both together, in one line.

    The weights come first (downloaded, converted or read now, then cached), so a weights file that
    does not fit is reported before any data is loaded; the data is still tried, so that offline a
    user learns about both missing downloads at once.
    """
    problems: list[CifarLessonsError] = []
    data = None
    if config.weights != "none":
        try:
            build_base(config.backbone, config.weights, config.image_size)
        except WeightsError as exc:
            problems.append(exc)
    try:
        data = load_data(config)
    except DataError as exc:
        problems.append(exc)
    if problems:
        raise type(problems[0])("; also: ".join(str(p) for p in problems))
    return data


def _start_backup(folder: Path, config: RunConfig) -> None:
    """Create the run's backup folder, or accept the one left by the same command, killed earlier."""
    meta = folder / "config.json"
    if meta.exists():
        try:
            saved = json.loads(meta.read_text())
        except ValueError:
            saved = None
        if saved != config.to_dict() and any(p.name != "config.json" for p in folder.iterdir()):
            changed = sorted(k for k in config.to_dict() if (saved or {}).get(k) != config.to_dict()[k])
            raise RecordError(
                f"{folder} holds an interrupted run with other options ({', '.join(changed)}); "
                "run that command again to resume it, or delete the folder to start over"
            )
        if saved == config.to_dict():
            return  # the same command, killed earlier: resume it
    folder.mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps(config.to_dict(), indent=2))


def _phase_note(backup: Path, phase: int, epochs: int, first: int) -> str | None:
    done = finished_epochs(backup)
    if done is None:
        return None
    if done - first >= epochs:
        return f"phase {phase}: already finished, restored from {backup}"
    return f"resuming phase {phase} after epoch {done} (backed up in {backup})"


def train_two_phases(
    config: RunConfig, data: CifarData, backup: Path, verbose: int | str = "auto", log=print
) -> tuple[keras.Model, TwoPhaseHistory]:
    """Both phases on a new model, each resumed from its backup in ``backup`` (``head/``,
    ``fine_tune/``), validated on :func:`split_data`'s held-out images; the test set is not touched.

    What :func:`run_recipe` trains before it evaluates, and what a search's trial trains
    (:mod:`cifar_lessons.tuning`), so that a trial is the recipe itself with other values.
    """
    log(
        _phase_note(backup / "head", 1, config.head_epochs, 0)
        or f"phase 1: training the head for {config.head_epochs} epochs on the frozen base "
        f"({head_method(config)}; precision {policy_name(config.precision)})"
    )
    split = split_data(config, data)
    model = new_model(config)
    history = head_phase(config, model, split, verbose, backup / "head")
    log(
        _phase_note(backup / "fine_tune", 2, config.fine_tune_epochs, config.head_epochs)
        or f"phase 2: fine-tuning the whole model for {config.fine_tune_epochs} epochs"
    )
    fine_tune_phase(config, model, split, history, verbose, backup / "fine_tune")
    return model, history


def run_recipe(
    config: RunConfig,
    out: str | os.PathLike,
    *,
    overwrite: bool = False,
    verbose: int | str = "auto",
    log=print,
    command: str | None = None,
) -> RunRecord:
    """The whole recipe end to end, as the command line runs it.

    ``out`` is checked (and locked against a second run) before anything is loaded; a killed run
    started again with the same command resumes from the backup beside ``out``. A NaN loss ends
    the run with :class:`TrainingError` and removes the backup: the diverged model is no result.
    """
    run_start = time.perf_counter()
    run_commit()  # the commit this run starts from
    out = prepare_out(out, overwrite)
    with out_lock(out):
        backup = resume_dir(out)
        _start_backup(backup, config)
        try:
            data = load_inputs(config)
            log(
                f"data: {data.source.description}; {len(data.x_train):,} training images, "
                f"{len(data.x_test):,} test images"
            )
            log(
                f"weights: {describe_weights(config.weights, config.backbone)['description']}; "
                f"backbone: {config.backbone}"
            )
            model, history = train_two_phases(config, data, backup, verbose, log)
        except TrainingError:
            shutil.rmtree(backup, ignore_errors=True)
            raise
        except CifarLessonsError:
            if not any(p.name != "config.json" for p in backup.iterdir()):
                shutil.rmtree(backup, ignore_errors=True)  # nothing trained yet: leave nothing behind
            raise
        log("evaluating on the test set" + (" (each image also mirrored)" if config.flip_test else ""))
        start = time.perf_counter()
        metrics, probs = run_evaluation(config, data, model, verbose)
        history.seconds["evaluate"] = round(time.perf_counter() - start, 2)
        history.seconds["run"] = round(time.perf_counter() - run_start, 2)  # loading and start-up included
        return save_stage(
            out, config, data, "full", model, history, metrics, probs, overwrite=overwrite, command=command
        )
