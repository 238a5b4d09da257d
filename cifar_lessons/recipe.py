"""The whole recipe as a few composable stages, shared by the command line and the book.

Stages: load the data, train the head (phase 1, record ``head``), fine-tune (phase 2,
record ``tuned``), evaluate (record ``full``). Chapters 3-5 each run one stage and share
the others through these records: a chapter opened alone (in Colab, say) finds the record
it needs missing and makes it with these same functions.
"""

from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np

from .config import RunConfig
from .data import CifarData, load_cifar10, split_validation
from .evaluate import compute_metrics, predict_probabilities
from .features import can_cache_features, train_head_on_features
from .models import build_classifier, describe_weights
from .pipeline import make_dataset
from .precision import policy_name, set_precision
from .records import RunRecord, check_free, environment, load_record, save_record
from .training import TwoPhaseHistory, fine_tune, train_head

#: Default folder for records shared between chapters (the book build sets it under _build).
ENV_RUNS = "CIFAR_LESSONS_RUNS"


def load_data(config: RunConfig) -> CifarData:
    """CIFAR-10 as the configuration says: source, first ``n`` training images, seed."""
    return load_cifar10(config.data, n=config.n, seed=config.seed)


def training_datasets(data: CifarData, config: RunConfig):
    """Training and validation pipelines; validation is split from the training images."""
    (x_tr, y_tr), (x_val, y_val) = split_validation(data.x_train, data.y_train, config.validation_fraction)
    common = dict(backbone=config.backbone, batch_size=config.batch_size, seed=config.seed)
    train = make_dataset(x_tr, y_tr, shuffle=True, augment=config.augment, **common)
    val = make_dataset(x_val, y_val, **common)
    return train, val


def new_model(config: RunConfig) -> keras.Model:
    """The classifier for this configuration, with seeds set first so runs repeat.

    The dtype policy (``config.precision``) is set here, before any layer is built, and always
    set: a policy left over from an earlier run in the same process would otherwise leak in.
    """
    keras.utils.set_random_seed(config.seed)
    set_precision(config.precision)
    return build_classifier(config.backbone, config.weights, config.image_size, config.head, config.dropout)


def phase1_method(config: RunConfig) -> str:
    """How phase 1 runs: on cached base features, or end to end when augmentation forbids it."""
    return "cached features" if can_cache_features(config.augment) else "end to end"


def record_header(config: RunConfig, data: CifarData, stage: str) -> dict:
    """What every record says about itself: configuration, data source, weights, machine."""
    n_val = len(split_validation(data.x_train, data.y_train, config.validation_fraction)[1][0])
    weights = describe_weights(config.weights, config.backbone)
    return {
        "stage": stage,
        "config": config.to_dict(),
        "data": {**data.source.to_dict(), "n_train": len(data.x_train) - n_val, "n_val": n_val,
                 "n_test": len(data.x_test)},
        "weights": weights,
        "compute": {"phase1": phase1_method(config), "precision": policy_name(config.precision),
                    "batch_size": config.batch_size},
        "environment": environment(),
    }


def train_phase1(config: RunConfig, data: CifarData, model: keras.Model, verbose: int | str = "auto",
                 callbacks: list | None = None) -> TwoPhaseHistory:
    """Phase 1 on ``model``: on cached base features when it can be (the same result, computed
    once instead of once an epoch), end to end through the frozen base when augmenting."""
    common = dict(epochs=config.head_epochs, learning_rate=config.head_learning_rate, verbose=verbose,
                  callbacks=callbacks)
    if can_cache_features(config.augment):
        train, val = split_validation(data.x_train, data.y_train, config.validation_fraction)
        return train_head_on_features(model, train, val, backbone=config.backbone, batch_size=config.batch_size,
                                      seed=config.seed, **common)
    train, val = training_datasets(data, config)
    return train_head(model, train, val, **common)


def run_head(config: RunConfig, data: CifarData, verbose: int | str = "auto"):
    """Phase 1 from scratch: a new model, its head trained on the frozen base."""
    model = new_model(config)
    return model, train_phase1(config, data, model, verbose)


def run_fine_tune(config: RunConfig, data: CifarData, model: keras.Model, history: TwoPhaseHistory,
                  verbose: int | str = "auto") -> TwoPhaseHistory:
    """Phase 2 on a model whose head is trained; extends ``history``."""
    keras.utils.set_random_seed(config.seed + 1)
    train, val = training_datasets(data, config)
    return fine_tune(model, train, val, epochs=config.fine_tune_epochs,
                     learning_rate=config.fine_tune_learning_rate, history=history, verbose=verbose)


def run_evaluation(config: RunConfig, data: CifarData, model: keras.Model, verbose: int | str = "auto"):
    """Predict the whole test set once; return (metrics, probabilities)."""
    probs = predict_probabilities(model, data.x_test, backbone=config.backbone, verbose=verbose)
    return compute_metrics(probs, data.y_test, data.class_names), probs


def save_stage(out: str | os.PathLike, config: RunConfig, data: CifarData, stage: str, model: keras.Model,
               history: TwoPhaseHistory, metrics: dict | None = None, probabilities: np.ndarray | None = None,
               overwrite: bool = False) -> RunRecord:
    """Write a record for a finished stage and return it loaded back."""
    header = record_header(config, data, stage)
    header["timing"] = {f"{k}_seconds": v for k, v in history.seconds.items()}
    path = save_record(out, record=header, history=history.to_dict(), model=model, metrics=metrics,
                       probabilities=probabilities, overwrite=overwrite)
    return load_record(path)


def runs_root() -> Path:
    """Where chapters keep their shared records (``CIFAR_LESSONS_RUNS``, default ``runs/``)."""
    return Path(os.environ.get(ENV_RUNS, "runs"))


def stage_dir(config: RunConfig, stage: str, root: str | os.PathLike | None = None) -> Path:
    return Path(root or runs_root()) / config.key / stage


def _model_stage(config: RunConfig, data: CifarData, stage: str, make, root=None):
    """Load a stage's model and history from its record, or ``make()`` them and record them."""
    path = stage_dir(config, stage, root)
    if (path / "model.keras").exists():
        rec = load_record(path)
        return rec.load_model(), TwoPhaseHistory.from_dict(rec.history)
    model, history = make()
    save_stage(path, config, data, stage, model, history, overwrite=True)
    return model, history


def head_stage(config: RunConfig, data: CifarData, verbose: int | str = "auto", root=None):
    """The phase-1 model and history: loaded from its record, or trained and recorded now."""
    return _model_stage(config, data, "head", lambda: run_head(config, data, verbose), root)


def tuned_stage(config: RunConfig, data: CifarData, verbose: int | str = "auto", root=None):
    """The fine-tuned model and both phases' history: loaded, or made now from the head stage."""
    def make():
        model, history = head_stage(config, data, verbose, root)
        return model, run_fine_tune(config, data, model, history, verbose)

    return _model_stage(config, data, "tuned", make, root)


def full_stage(config: RunConfig, data: CifarData, verbose: int | str = "auto", root=None) -> RunRecord:
    """The finished, evaluated run: loaded from its record, or made now from the tuned stage."""
    path = stage_dir(config, "full", root)
    if (path / "metrics.json").exists():
        return load_record(path)
    model, history = tuned_stage(config, data, verbose, root)
    metrics, probs = run_evaluation(config, data, model, verbose)
    return save_stage(path, config, data, "full", model, history, metrics, probs, overwrite=True)


def run_recipe(config: RunConfig, out: str | os.PathLike, *, overwrite: bool = False,
               verbose: int | str = "auto", log=print) -> RunRecord:
    """The whole recipe end to end, as the command line runs it. Refuses ``out`` up front."""
    check_free(out, overwrite)
    data = load_data(config)
    log(f"data: {data.source.description}; {len(data.x_train):,} training images, {len(data.x_test):,} test images")
    log(f"weights: {describe_weights(config.weights, config.backbone)['description']}; backbone: {config.backbone}")
    log(f"phase 1: training the head for {config.head_epochs} epochs on the frozen base ({phase1_method(config)}; "
        f"precision {policy_name(config.precision)})")
    model, history = run_head(config, data, verbose)
    log(f"phase 2: fine-tuning the whole model for {config.fine_tune_epochs} epochs")
    run_fine_tune(config, data, model, history, verbose)
    log("evaluating on the test set")
    metrics, probs = run_evaluation(config, data, model, verbose)
    return save_stage(out, config, data, "full", model, history, metrics, probs, overwrite=overwrite)
