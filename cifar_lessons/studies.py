"""What every study outside the recipe shares: its timer, its optimiser, its records and its run card.

The studies are the Fashion-MNIST networks (:mod:`cifar_lessons.fashion`), the detector
(:mod:`cifar_lessons.detection`) and the U-Net (:mod:`cifar_lessons.segmentation`). Each trains its
own small model at the book's build size or at full size (:class:`cifar_lessons.config.TrainingSize`),
and keeps a full-size run as a committed record in ``results/``. They must train, record and show a
run in the same way, so that a reader comparing two chapters compares the models, not the plumbing:
this module is that way, written once. It imports neither Keras nor a study, and Keras only inside
the functions that train.
"""

from __future__ import annotations

import dataclasses
import html
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from .errors import ConfigError, RecordError

#: How a reader asks for full size, as the run cards' warnings say it.
FULL_SIZE_HOW = "Set CIFAR_LESSONS_FULL_SIZE=1 or pass full_size=True"

Config = TypeVar("Config")


# --------------------------------------------------------------------------- training
def epoch_timer(times: list):
    """A Keras callback that appends each epoch's wall time to ``times``: the seconds a run card and
    a record report."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self._start)

    return EpochTimer()


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Batches in one pass over ``n`` examples, the last one partial: ``ceil(n / batch_size)``."""
    return -(-n // batch_size)


def compile_with_cosine(model, learning_rate: float, decay_steps: int, **compile_args) -> None:
    """Adam whose rate falls along a cosine from ``learning_rate`` to zero over ``decay_steps``.

    Every study trains this way: large steps first, small ones at the end, so the last epoch's
    weights are the ones kept (no early stopping, which would cut the decay short).
    ``compile_args`` are :func:`cifar_lessons.models.compile_classifier`'s ``loss`` and ``metrics``.
    """
    from .models import compile_classifier, cosine_decay

    compile_classifier(model, cosine_decay(learning_rate, decay_steps), **compile_args)


def parameter_count(model) -> int:
    """All the weights a model holds, trainable or not (BatchNorm's running statistics included)."""
    return int(model.count_params())


# --------------------------------------------------------------------------- records
def timing(train_seconds: float, run_seconds: float | None = None, **more) -> dict:
    """A record's ``timing``: training seconds, any ``more``, and the whole run's. A chapter that trains
    a study has no whole-run clock (loading happened cells before), so its run is its training."""
    out: dict[str, Any] = {"train_seconds": round(train_seconds, 1), **more}
    out["run_seconds"] = round(train_seconds if run_seconds is None else run_seconds, 1)
    return out


def data_record(config, data) -> dict:
    """A record's ``data``: where the images came from (``data.source``), and how many trained,
    validated and tested; the validation images are the last ones, as ``split_validation`` takes them."""
    from .data import validation_size

    n_val = validation_size(len(data.x_train), config.validation_fraction)
    return {
        **data.source.to_dict(),
        "n_train": len(data.x_train) - n_val,
        "n_val": n_val,
        "n_test": len(data.x_test),
    }


def study_record(
    kind: str,
    model: str,
    config,
    *,
    epochs,
    parameters,
    data: Mapping,
    timing: Mapping,
    made_by: Mapping | None,
    weights: Mapping | None = None,
) -> dict:
    """``record.json`` of a study's run: what ran, on what, on which machine, in what time, made by what.

    Every study's record has the keys of ``cifar_lessons/records/record.schema.json``, as the
    recipe's do: ``weights`` is the backbone's :func:`~cifar_lessons.backbones.describe_weights`, or,
    for a network trained from scratch (no ``weights``), the same object saying so. A run the book's
    chapter makes (no ``made_by``) names the source commit and the chapter.
    """
    from .backbones import describe_weights
    from .records.provenance import environment, source_commit

    return {
        "kind": kind,
        "stage": "full",  # a study's record is written once, when it has been evaluated
        "model": model,
        "config": config.to_dict(),
        "epochs": epochs,
        "parameters": parameters,
        "weights": dict(weights) if weights is not None else describe_weights(None, backbone=None),
        "data": dict(data),
        "environment": environment(),
        "timing": dict(timing),
        "made_by": dict(made_by or {"commit": source_commit(), "command": "the book's chapter"}),
    }


def save_run(
    out: str | os.PathLike,
    record: dict,
    history: dict,
    metrics: dict | None,
    *,
    overwrite: bool,
    what: str = "test metrics",
) -> Path:
    """Write a committable record: ``record.json``, ``history.json``, ``metrics.json``, and no model.

    Written atomically by :func:`cifar_lessons.records.store.save_record`; an existing folder is
    replaced only with ``overwrite`` and only if this package wrote it. ``what`` names the metrics
    in the error raised when the run was never evaluated.
    """
    from .records.store import save_record

    if metrics is None:
        raise ConfigError(f"evaluate the run before saving it: a committed record carries its {what}")
    return save_record(out, record=record, history=history, model=None, metrics=metrics, overwrite=overwrite)


def check_record(
    path: str | os.PathLike,
    *,
    what: str,
    script: str,
    kind: Mapping[str, object],
    metrics: Sequence[str],
    scores: str,
    history: str | None = None,
    checks: Callable[[dict], Sequence[str]] | None = None,
) -> dict:
    """A committed record read back as ``{"record", "history", "metrics", "name"}``, or one
    :class:`RecordError` line naming everything wrong with it.

    :func:`cifar_lessons.records.committed.read_record` asks the questions every record answers
    (files, JSON, kind, what made it). Then: the ``history`` curve (a Keras history key) has one
    value per epoch; ``checks(rec)`` adds the study's own problems; and every one of ``metrics``
    and the whole run's time are there (``scores`` names the metrics in the message).
    """
    from .records.committed import COMMITTED_FILES, read_record

    path = Path(path)
    rec, problems = read_record(path, COMMITTED_FILES, what=what, script=script, kind=kind)
    r = rec["record"]
    if history is not None and len(rec["history"].get("history", {}).get(history, [])) != r.get("epochs"):
        problems.append("has a history that is not as long as its epochs")
    problems += checks(rec) if checks else []
    if any(m not in rec["metrics"] for m in metrics) or "run_seconds" not in r.get("timing", {}):
        problems.append(f"has no {scores} or wall time")
    if problems:
        raise RecordError(f"{what} record {path.name} " + "; ".join(problems))
    return {**rec, "name": path.name}


def config_of(cls: type[Config], record: Mapping, **convert: Callable) -> Config:
    """The configuration a record was made with, as ``cls``; fields ``cls`` no longer has are left
    out, and ``convert`` turns a JSON value back into its field's type (a list into a tuple, say)."""
    fields = {f.name for f in dataclasses.fields(cls)}
    values = {k: convert[k](v) if k in convert else v for k, v in record["config"].items() if k in fields}
    return cls(**values)


# --------------------------------------------------------------------------- run cards
def run_name(record: Mapping | None) -> tuple[str, str]:
    """A card's "run" row: ``this build``, or the committed record it shows."""
    return ("run", f"committed record {html.escape(str(record.get('name', '')))}" if record else "this build")


def line_label(record: Mapping | None) -> str:
    """How a card's one line starts: ``<b>Run:</b>``, or ``<b>Record name:</b>``."""
    label = "Record " + html.escape(str(record.get("name", ""))) if record else "Run"
    return f"<b>{label}:</b> "


def device(env: Mapping) -> str:
    """The machine as a slide says it: ``2 CPU cores``, or the device as recorded."""
    cores = re.search(r"(\d+) cores", env["device"])
    return f"{cores.group(1)} CPU cores" if env["device"].startswith("CPU") and cores else env["device"]


def machine(record: Mapping | None) -> dict:
    """The environment a card reports: the record's, or this process's."""
    from .records.provenance import environment

    return (record or {}).get("environment") or environment()


def time_row(record: Mapping | None) -> tuple[str, str]:
    """A card's "time" row: a committed record's training and whole-run seconds and when it was
    written, or, for this build's own run, when the card was made."""
    if not record:
        return ("time", f"recorded {datetime.now(UTC).isoformat(timespec='seconds')}")
    t = record["timing"]
    return (
        "time",
        f"training {t['train_seconds']:.0f} s, whole run {t.get('run_seconds', 0):.0f} s; "
        f"recorded {record.get('written', '')}",
    )


def size_warning(config, text: str) -> list[str]:
    """A card's warning below full size: its size, ``text`` (how much less it trained, and what that
    does to its scores), and how to train at full size; no warning at full size."""
    if config.full_size():
        return []
    return [f"<b>{config.size_name().capitalize()}.</b> {text} {FULL_SIZE_HOW} to train at full size."]


def data_warning(source: Mapping, label: str = "Data") -> list[str]:
    """A card's warning when the data are not the official files: what they are instead."""
    return (
        [] if source.get("official") else [f"<b>{label}:</b> {html.escape(source.get('description', ''))}."]
    )


def run_card(
    config,
    source: Mapping,
    record: Mapping | None,
    rows: Sequence[tuple[str, str]],
    *,
    shortfall: str,
    line: Sequence[str],
    data_label: str = "Data",
):
    """A study's run card: which run, the study's own ``rows``, the machine and the time; a warning
    below full size (``shortfall`` says how much less it trained and what that costs) and one when
    the data are not the official files. ``line`` is what a slide shows, item by item.
    """
    from .display.cards import study_card

    env = machine(record)
    rows = [run_name(record), *rows, ("hardware", html.escape(env["device"])), time_row(record)]
    warnings = size_warning(config, shortfall) + data_warning(source, data_label)
    return study_card(rows, line_label(record) + " &middot; ".join(line), warnings, record=record)
