"""The recipe search: ``python -m cifar_lessons tune``, KerasTuner choosing the recipe's knobs.

Why KerasTuner and not a loop of our own: it keeps the search's state on disk (a killed search,
started again with the same command, goes on where it stopped and does not run a finished trial
again), it samples the values (random, grid or Bayesian), and it already runs one search on
several machines (a chief serving the oracle over gRPC, workers asking it for trials), with no
scheduler of ours.

A trial is the recipe itself (:func:`cifar_lessons.recipe.train_two_phases`) with the trial's
values in its :class:`~cifar_lessons.config.RunConfig`; its score is the last epoch's validation
accuracy on the images the recipe holds out of the training set (the model the run ends with,
not its best epoch). The test set is never evaluated: a search that looked at it would choose on
it. Each trial writes a run record (``kind: "trial"``, stage ``tuned``, no model kept) in its
KerasTuner folder, ``<dir>/<name>/trial_<id>/record/``, read back like any record with
``load_record(path, model=False)``; a trial killed mid-way resumes after its last finished epoch.
The search's end writes ``summary.json`` beside the trials.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import shlex
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from .backbones import BACKBONE_NAMES
from .config import RunConfig, validate
from .errors import CifarLessonsError, ConfigError, RecordError

#: The knobs a search may vary: the config field, and how a value on the command line is read.
KNOBS: dict[str, type] = {
    "backbone": str,
    "image_size": int,
    "head_learning_rate": float,
    "fine_tune_learning_rate": float,
    "head_epochs": int,
    "augment": bool,
    "label_smoothing": float,
}

#: The options of ``tune`` that fix a knob (``--backbone efficientnet_lite0`` searches no backbone).
KNOB_OPTIONS = {
    "backbone": "backbone",
    "image_size": "image_size",
    "head_learning_rate": "head_lr",
    "fine_tune_learning_rate": "fine_tune_lr",
    "head_epochs": "head_epochs",
    "augment": "augment",
    "label_smoothing": "label_smoothing",
}

#: The metric a trial reports and the search maximises.
OBJECTIVE = "val_accuracy"

#: Test-only: SIGKILL the search when this process begins its N-th trial (the oracle has saved it
#: as started), as a machine that dies mid-trial would.
ENV_TEST_KILL = "CIFAR_LESSONS_TEST_KILL_AT_TRIAL"

TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def default_space(base: RunConfig) -> dict[str, list]:
    """The values tried for each knob unless the command says otherwise.

    Every backbone the package has (:data:`~cifar_lessons.backbones.BACKBONE_NAMES`, whatever it
    holds today), unless the weights are a file, which fits one backbone only; the head phase at
    the profile's length and at a third of it (chapter 6 found 3 epochs of 10 enough); rates
    around the seed's.
    """
    backbones = list(BACKBONE_NAMES) if base.weights in ("imagenet", "none") else [base.backbone]
    return {
        "backbone": backbones,
        "image_size": [32, 64, 96, 128],
        "head_learning_rate": [3e-4, 1e-3, 3e-3],
        "fine_tune_learning_rate": [1e-5, 3e-5, 1e-4],
        "head_epochs": sorted({max(1, round(base.head_epochs / 3)), base.head_epochs}),
        "augment": [False, True],
        "label_smoothing": [0.0, 0.1],
    }


def parse_value(knob: str, text: str):
    """One value of ``--space``, read as its field's type."""
    kind = KNOBS[knob]
    text = text.strip()
    if kind is bool:
        if text.lower() in TRUE + FALSE:
            return text.lower() in TRUE
        raise ConfigError(f"--space {knob}: {text!r} is not on or off (true/false, yes/no, 1/0)")
    try:
        return kind(text)
    except ValueError:
        raise ConfigError(f"--space {knob}: {text!r} is not a number") from None


def search_space(base: RunConfig, space_args: Sequence[str], fixed: Mapping[str, object]) -> dict[str, list]:
    """The values tried for each knob: :func:`default_space`, less the knobs an option fixed
    (``fixed``: knob -> value), with ``--space KNOB=V1,V2`` replacing a knob's values.

    Each value is checked by :func:`~cifar_lessons.config.validate` on ``base`` now, so a typo
    (a backbone the package lacks, an input of 16 pixels) fails in a second, not in trial 7.
    """
    space = {k: v for k, v in default_space(base).items() if k not in fixed}
    for arg in space_args:
        knob, sep, values = arg.partition("=")
        knob = knob.strip().replace("-", "_")
        if not sep or knob not in KNOBS:
            raise ConfigError(f"--space {arg!r}: write KNOB=V1,V2,... with a knob among {', '.join(KNOBS)}")
        if knob in fixed:
            raise ConfigError(f"--space {knob} and the option that fixes it are both given; keep one")
        choices = list(dict.fromkeys(parse_value(knob, v) for v in values.split(",") if v.strip()))
        if not choices:
            raise ConfigError(f"--space {knob}: no values")
        space[knob] = choices
    if len(space.get("backbone", [])) > 1 and base.weights not in ("imagenet", "none"):
        raise ConfigError("a weights file fits one backbone: give --backbone, not several in --space")
    for knob, choices in space.items():
        for value in choices:
            validate(dataclasses.replace(base, **{knob: value}))
    return space


def trial_config(base: RunConfig, values: Mapping[str, object]) -> RunConfig:
    """The run a trial makes: ``base`` with the trial's values (KerasTuner's ``hp.values``)."""
    return validate(dataclasses.replace(base, **{k: v for k, v in values.items() if k in KNOBS}))


def hyperparameters(space: Mapping[str, list]):
    """The space as KerasTuner's ``HyperParameters``: a ``Choice`` per knob, ``Fixed`` for one value."""
    import keras_tuner

    hp = keras_tuner.HyperParameters()
    for knob, choices in space.items():
        if len(choices) == 1:
            hp.Fixed(knob, choices[0])
        else:
            hp.Choice(knob, choices, ordered=KNOBS[knob] in (int, float))
    return hp


def make_oracle(search: str, space: Mapping[str, list], max_trials: int, seed: int):
    """KerasTuner's oracle for ``search`` over ``space``, maximising :data:`OBJECTIVE`."""
    import keras_tuner

    oracles = {
        "random": keras_tuner.oracles.RandomSearchOracle,
        "grid": keras_tuner.oracles.GridSearchOracle,
        "bayesian": keras_tuner.oracles.BayesianOptimizationOracle,
    }
    return oracles[search](
        objective=keras_tuner.Objective(OBJECTIVE, direction="max"),
        max_trials=max_trials,
        hyperparameters=hyperparameters(space),
        allow_new_entries=False,
        tune_new_entries=False,
        seed=seed + 1,  # KerasTuner treats a seed of 0 as none
    )


def is_worker() -> bool:
    """A worker of a distributed search: it asks the chief for trials and runs them."""
    tuner_id = os.environ.get("KERASTUNER_TUNER_ID", "")
    return bool(os.environ.get("KERASTUNER_ORACLE_IP")) and "chief" not in tuner_id


def is_chief() -> bool:
    """The chief of a distributed search: it serves the oracle and runs no trial."""
    return bool(os.environ.get("KERASTUNER_ORACLE_IP")) and "chief" in os.environ.get(
        "KERASTUNER_TUNER_ID", ""
    )


def check_same_search(project: Path, base: RunConfig, space: Mapping[str, list], search: str) -> None:
    """Refuse to resume a search with other options; record them at its start.

    KerasTuner reloads a search's saved space and ignores the command's: a changed option would
    be silently dropped. ``--max-trials`` may change (to extend a search).
    """
    path = project / "search.json"
    options = {"config": base.to_dict(), "space": dict(space), "search": search}
    options = json.loads(json.dumps(options))  # as it reads back: tuples are lists
    if path.exists():
        saved = json.loads(path.read_text())
        if saved != options:
            changed = [
                k
                for part in ("config", "space")
                for k in sorted({**saved[part], **options[part]})
                if saved[part].get(k) != options[part].get(k)
            ]
            changed += ["search"] if saved["search"] != search else []
            raise RecordError(
                f"{project} holds a search with other options ({', '.join(changed)}); run its own "
                "command to resume it, or give another --name"
            )
        return
    project.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(options, indent=2))


def make_tuner(base: RunConfig, space, *, search: str, max_trials: int, directory, name, command: str):
    """The :class:`RecipeTuner` for this search, resumed from ``directory/name`` if it is there."""
    import keras_tuner

    class RecipeTuner(keras_tuner.Tuner):
        """One trial = one run of the recipe with the trial's values; KerasTuner does the rest.

        The one class KerasTuner requires: ``run_trial`` is its documented place for a training
        procedure of one's own, and returns the metrics the oracle compares.
        """

        def run_trial(self, trial, data, verbose="auto"):
            return run_trial(self, trial, data, base=base, command=command, verbose=verbose)

        def on_trial_begin(self, trial):
            super().on_trial_begin(trial)
            self.begun = getattr(self, "begun", 0) + 1
            if os.environ.get(ENV_TEST_KILL) == str(self.begun):
                os.kill(os.getpid(), signal.SIGKILL)

    return RecipeTuner(
        oracle=make_oracle(search, space, max_trials, base.seed),
        directory=str(directory),
        project_name=name,
        overwrite=False,
    )


def run_trial(tuner, trial, data, *, base: RunConfig, command: str, verbose="auto") -> dict[str, float]:
    """Train the recipe with ``trial``'s values, write its record, return its validation metrics.

    A record already in the trial's folder (the process died after writing it, before the oracle
    heard) is read back, not trained again. A diverged run (NaN loss) fails this trial only; a
    problem with the data or the weights (any other of this package's errors) stops the search.
    """
    import keras
    from keras_tuner.errors import FailedTrialError, FatalError

    from .errors import TrainingError
    from .recipe import resume_dir, save_stage, train_two_phases
    from .records.store import load_record

    out = Path(tuner.get_trial_dir(trial.trial_id)) / "record"
    ran = getattr(tuner, "ran", [])
    tuner.ran = ran + [trial.trial_id]
    values = ", ".join(f"{k}={v}" for k, v in trial.hyperparameters.values.items())
    if (out / "record.json").exists():
        print(f"{tuner.tuner_id}: trial {trial.trial_id} was recorded before the search stopped: {values}")
        return metrics_of(load_record(out, model=False).record)
    print(f"{tuner.tuner_id}: trial {trial.trial_id} starts: {values}", flush=True)
    start = time.perf_counter()
    keras.backend.clear_session()  # the last trial's models and graphs: a long search would pile them up
    try:
        config = trial_config(base, trial.hyperparameters.values)
        model, history = train_two_phases(config, data, resume_dir(out), verbose, log=print)
    except TrainingError as exc:
        raise FailedTrialError(str(exc)) from exc
    except CifarLessonsError as exc:
        raise FatalError(str(exc)) from exc
    val = history.history
    scores = {OBJECTIVE: float(val["val_accuracy"][-1]), "val_loss": float(val["val_loss"][-1])}
    history.seconds["run"] = round(time.perf_counter() - start, 2)
    extra = {
        "trial": {
            "id": trial.trial_id,
            "tuner_id": tuner.tuner_id,
            "search": tuner.project_name,
            "hyperparameters": dict(trial.hyperparameters.values),
            "objective": OBJECTIVE,
            **scores,
        }
    }
    save_stage(out, config, data, "tuned", None, history, command=command, kind="trial", extra=extra)
    print(
        f"{tuner.tuner_id}: trial {trial.trial_id} done: validation accuracy {scores[OBJECTIVE]:.4f}",
        flush=True,
    )
    return scores


def metrics_of(record: Mapping) -> dict[str, float]:
    """A trial record's scores, as its ``run_trial`` returned them."""
    return {OBJECTIVE: record["trial"][OBJECTIVE], "val_loss": record["trial"]["val_loss"]}


def summary(oracle, base: RunConfig) -> dict:
    """The search in one small JSON: every trial's values and score, and the best one's run."""
    trials = []
    for trial_id in sorted(oracle.trials):
        t = oracle.trials[trial_id]
        trials.append(
            {
                "id": t.trial_id,
                "status": t.status,
                OBJECTIVE: t.score,
                "hyperparameters": t.hyperparameters.values,
            }
        )
    best = oracle.get_best_trials(1)
    best = best[0] if best and best[0].status == "COMPLETED" else None
    return {
        "objective": OBJECTIVE,
        "max_trials": oracle.max_trials,
        "trials": trials,
        "best": None
        if best is None
        else {
            "id": best.trial_id,
            OBJECTIVE: best.score,
            "hyperparameters": best.hyperparameters.values,
            "config": trial_config(base, best.hyperparameters.values).to_dict(),
        },
    }


def run_command(config: RunConfig) -> str:
    """The ``run`` command that trains ``config`` and tests it once: the best trial, chosen."""
    args = ["run", "--profile", config.profile, "--backbone", config.backbone, "--weights", config.weights]
    args += ["--data", config.data] if config.data else []
    values = {
        "--n": config.n,
        "--image-size": config.image_size,
        "--head-epochs": config.head_epochs,
        "--fine-tune-epochs": config.fine_tune_epochs,
        "--head-lr": config.head_learning_rate,
        "--fine-tune-lr": config.fine_tune_learning_rate,
        "--label-smoothing": config.label_smoothing,
        "--schedule": config.fine_tune_schedule,
        "--batch-size": config.batch_size,
        "--seed": config.seed,
    }
    for option, value in values.items():
        args += [option, str(value)]
    args += ["--augment"] if config.augment else []
    return "python -m cifar_lessons " + shlex.join(args)


def report(result: Mapping, path: Path) -> list[str]:
    """The few lines the search ends with."""
    best = result["best"]
    done = sum(t["status"] == "COMPLETED" for t in result["trials"])
    lines = [f"search over: {done} of {len(result['trials'])} trials completed; summary in {path}"]
    if best is None:
        return lines + ["no trial completed"]
    values = ", ".join(f"{k}={v}" for k, v in best["hyperparameters"].items())
    lines += [
        f"best trial {best['id']}: validation accuracy {best[OBJECTIVE]:.4f}",
        f"  {values}",
        "  train it and test it once: " + run_command(RunConfig.from_dict(best["config"])),
    ]
    return lines


def search(tuner, data, verbose) -> None:
    """``tuner.search``, with the package's error that stopped it (KerasTuner wraps it) raised again."""
    from keras_tuner.errors import FatalError

    try:
        tuner.search(data, verbose=verbose)
    except FatalError as exc:
        if isinstance(exc.__cause__, CifarLessonsError):
            raise exc.__cause__ from None
        raise


def tune_main(args: argparse.Namespace, argv: list[str] | None) -> int:
    """``python -m cifar_lessons tune``: check the options, load the data once, search, report."""
    from .cli import config_from_args
    from .quiet import start_tensorflow

    role = "chief" if is_chief() else os.environ.get("KERASTUNER_TUNER_ID", "tuner0")
    try:
        if args.max_trials is None or args.max_trials < 1:
            raise ConfigError(f"--max-trials must be at least 1, got {args.max_trials}")
        if importlib.util.find_spec("keras_tuner") is None:
            raise ConfigError('the search needs KerasTuner: pip install "cifar-lessons[tune]"')
        base = config_from_args(args)
        fixed = {k: getattr(args, o) for k, o in KNOB_OPTIONS.items() if getattr(args, o) is not None}
        space = search_space(base, args.space, fixed)
        project = Path(os.path.expanduser(args.dir)) / args.name
        if not is_worker():
            check_same_search(project, base, space, args.search)
        start_tensorflow()
        command = "python -m cifar_lessons " + shlex.join(sys.argv[1:] if argv is None else argv)
        tuner = make_tuner(
            base,
            space,
            search=args.search,
            max_trials=args.max_trials,
            directory=project.parent,
            name=args.name,
            command=command,
        )
        data = None
        if not is_chief():
            from .recipe import load_inputs

            data = load_inputs(base)
        search(tuner, data, args.verbose)
    except CifarLessonsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; finished trials are kept: run the same command to resume", file=sys.stderr)
        return 130
    if is_worker():
        ran = ", ".join(getattr(tuner, "ran", [])) or "none"
        print(f"worker {role}: ran trials {ran}; the search is over (the chief reports the best trial)")
        return 0
    result = summary(tuner.oracle, base)
    path = project / "summary.json"
    path.write_text(json.dumps(result, indent=2))
    for line in report(result, path):
        print(line)
    return 0
