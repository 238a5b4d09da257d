"""The committed full-size results: run records measured once, kept in the repository, shown by every build.

Taught in chapter 6 (doing better) and used by the takeaways and the presentation. A build on a
quick profile cannot afford full-size runs, so ``scripts/measure.sh`` made them once on the
2-core machine and ``results/<name>/`` keeps each one's ``record.json`` (configuration, data,
weights, machine, timing, and the commit and command that made it), ``history.json`` and
``metrics.json``: no model and no predictions, so they stay small. The wheel ships the same
folder as ``cifar_lessons.measured``, so a chapter opened in Colab finds it too.

:data:`LADDER` is the chapter's argument in data: starting from the seed recipe, one change at a
time, each step a record (or, for mirrored test images, the same record's two evaluations).
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import RecordError
from .provenance import source_commit
from .store import RunRecord, load_record

#: Overrides where the committed results are read from (a folder of record folders).
ENV_RESULTS = "CIFAR_LESSONS_RESULTS"


@dataclass(frozen=True)
class Step:
    """One rung of the ladder: what changed, the record that measured it, and which evaluation.

    ``single_pass`` reads the accuracy measured without mirrored test images, which a record made
    with ``flip_test`` keeps beside its main figure: the step before "mirrored test images" is the
    same run, evaluated once. ``test_time`` marks a step that changes only how the test set is
    evaluated (mirrored test images): it trains nothing new, so validation, measured single-pass
    during training, says nothing of it.
    """

    change: str
    record: str
    single_pass: bool = False
    test_time: bool = False


LADDER: tuple[Step, ...] = (
    Step("seed recipe: 10 + 10 epochs, 10⁻⁵", "lite0-32-seed"),
    Step("fine-tune at 10⁻⁴, cosine decay", "lite0-32-cosine"),
    Step("3-epoch head phase", "lite0-32-head3"),
    Step("flips and crops", "lite0-32-better", single_pass=True),
    Step("mirrored test images", "lite0-32-better", test_time=True),
    Step("96-pixel input", "lite0-96-better"),
    Step("128-pixel input: profile better", "lite0-128-better"),
)

#: Committed records shown beside the ladder (in the accuracy-against-time figure and the curves):
#: the 32-pixel winner trained 5 epochs longer, the best measured at the seed's own input size.
EXTRA: tuple[Step, ...] = (
    Step("flips and crops, mirrored test images, 3 + 15 epochs", "lite0-32-better-15"),
)

#: Files a committed record must have, and files it must not (they are large and rebuildable).
COMMITTED_FILES = ("record.json", "history.json", "metrics.json")
NOT_COMMITTED = ("model.keras", "predictions.npz")


def results_root() -> Path:
    """Where the committed records are: ``$CIFAR_LESSONS_RESULTS``, the checkout's ``results/``,
    or, in an installed package (Colab), its copy ``cifar_lessons/measured``.

    The installed copy is found from the package's folder (this file's grandparent), not through
    ``importlib.resources``: the records' folder holds no Python, so it installs as a namespace
    package, whose ``files()`` is a ``MultiplexedPath`` that is not a folder
    (``tests/test_installed_wheel.py``).
    """
    if os.environ.get(ENV_RESULTS):
        return Path(os.path.expanduser(os.environ[ENV_RESULTS]))
    package = Path(__file__).resolve().parents[1]
    checkout = package.parent / "results"
    if checkout.is_dir() and (package.parent / "pyproject.toml").is_file():
        return checkout
    if (package / "measured").is_dir():
        return package / "measured"
    raise RecordError(
        "the committed results are missing: no results/ beside the package and no "
        f"cifar_lessons/measured; set {ENV_RESULTS} to a folder of run records"
    )


def committed_record(name: str, check, root: str | os.PathLike | None = None):
    """``check(folder)`` for the committed record ``results/name``, or ``None`` where it was not measured
    (no such folder, or no results folder at all). A folder that exists but is broken is the check's
    error, never "not measured". Shared by the chapters whose records are not the recipe's (Fashion-MNIST,
    Detection, Segmentation), each with its own ``check``."""
    try:
        base = Path(root) if root is not None else results_root()
    except RecordError:
        return None
    return check(base / name) if (base / name).is_dir() else None


def read_record(
    path: str | os.PathLike,
    files: Sequence[str],
    *,
    what: str,
    script: str,
    kind: Mapping[str, object] | None = None,
) -> tuple[dict, list[str]]:
    """A committed JSON record read back as ``{file stem: contents}``, with the problems found so far.

    Why one function: the records that are not the recipe's (Fashion-MNIST, its transfer run,
    Detection, Segmentation) must answer the same first questions in the same words. A missing file
    ("lacks") or unreadable JSON ("is corrupt") is a one-line :class:`RecordError` at once; a
    ``record.json`` whose fields differ from ``kind`` (a string, or a tuple of allowed strings)
    "is not a {what} run", and :func:`made_by_problems` follow. Each family appends its own checks
    and raises once, so one line says everything that is wrong.
    """
    path = Path(path)
    missing = [f for f in files if not (path / f).exists()]
    if missing:
        raise RecordError(f"{what} record {path} lacks {', '.join(missing)}")
    try:
        rec = {f.split(".")[0]: json.loads((path / f).read_text()) for f in files}
    except ValueError as exc:
        raise RecordError(f"{what} record {path} is corrupt: {exc}") from None
    r = rec["record"]
    problems = []
    for field, allowed in (kind or {}).items():
        if r.get(field) not in ((allowed,) if isinstance(allowed, str) else allowed):
            problems.append(f"is not a {what} run")
            break
    return rec, problems + made_by_problems(r, script)


def made_by_problems(record: Mapping, script: str) -> list[str]:
    """``["does not say which commit and command made it"]`` unless ``record["made_by"]`` names a
    commit and a command that runs ``script`` (e.g. ``measure_fashion.py``), else ``[]``: a
    committed figure is only as good as the way back to the code that measured it."""
    made_by = record.get("made_by") or {}
    if not made_by.get("commit") or script not in str(made_by.get("command", "")):
        return ["does not say which commit and command made it"]
    return []


def measured_by(script: str, argv: Sequence[str] = (), env: Sequence[str] = ()) -> dict:
    """The ``made_by`` that a ``scripts/measure_*.py`` writes into its record: the commit of the
    source and the command, with the values of the environment variables ``env`` that chose the
    run. Warns on one line when the source is not a clean commit, since such a record cannot be
    traced to the code that made it (:func:`made_by_problems` reads it back)."""
    commit = source_commit()
    if commit is None or commit.endswith("+changes"):
        print(
            f"measure: WARNING: the source is not a clean commit ({commit}); commit first, or this "
            "record cannot be traced to the code that made it",
            flush=True,
        )
    settings = [f"{k}={os.environ[k]}" for k in env if os.environ.get(k)]
    command = " ".join([*settings, "python", f"scripts/{script}", *([shlex.join(argv)] if argv else [])])
    return {"commit": commit, "command": command}


def committed(name: str, root: Path | None = None) -> RunRecord:
    """One committed record by name, checked complete (see :func:`check_committed`)."""
    record = load_record((root or results_root()) / name, model=False)
    check_committed(record)
    return record


def check_committed(record: RunRecord) -> None:
    """Raise :class:`RecordError` unless the record says what made it and holds a whole run."""
    kind = record.record.get("kind", "recipe")  # the schema's kind; records before it were the recipe's
    if kind != "recipe":
        raise RecordError(
            f"committed record {record.path.name} is a {kind} run, not one of the recipe's; "
            "its own study reads it (its committed_run or committed_runs)"
        )
    missing = [f for f in COMMITTED_FILES if not (record.path / f).exists()]
    extra = [f for f in NOT_COMMITTED if (record.path / f).exists()]
    made_by = record.record.get("made_by") or {}
    problems = [f"missing {', '.join(missing)}"] if missing else []
    problems += [f"holds {', '.join(extra)}, which is not committed"] if extra else []
    if not made_by.get("commit") or not str(made_by.get("command", "")).startswith("python -m cifar_lessons"):
        problems.append("does not say which commit and command made it")
    if record.metrics is None or record.record.get("stage") != "full":
        problems.append("is not an evaluated run")
    else:
        c = record.config
        epochs = c["head_epochs"] + c["fine_tune_epochs"]
        if len(record.history.get("history", {}).get("val_accuracy", [])) != epochs:
            problems.append(f"has a history shorter than its {epochs} epochs")
        if sum(map(sum, record.metrics["confusion_matrix"])) != record.data["n_test"]:
            problems.append("has a confusion matrix that does not add up to its test images")
        if "run_seconds" not in record.record.get("timing", {}):
            problems.append("has no wall time")
    if problems:
        raise RecordError(f"committed record {record.path.name} " + "; ".join(problems))


def step_accuracy(step: Step, record: RunRecord) -> float:
    """The test accuracy a step stands for (the single-pass one when the step says so)."""
    return record.metrics["without_flip_test"]["accuracy"] if step.single_pass else record.metrics["accuracy"]


def wall_minutes(record: RunRecord) -> float:
    """The whole run's wall time on its machine, start-up and data loading included."""
    return record.record["timing"]["run_seconds"] / 60


def validation_accuracy(record: RunRecord) -> float | None:
    """The accuracy on the held-out validation images at the run's last epoch: the model that was
    then tested. ``None`` where the records hold no validation figure for what a step changed."""
    return record.history["history"]["val_accuracy"][-1]


def standard_error(p: float, n: int) -> float:
    """The standard error of an accuracy ``p`` measured on ``n`` images: sqrt(p(1-p)/n)."""
    return (p * (1 - p) / n) ** 0.5


@dataclass(frozen=True)
class Verdict:
    """What validation says of one step: its validation accuracy, the change from the step before
    with that change's standard error, and whether the step is kept.

    ``validation`` is ``None`` for a step that changes only how the test set is evaluated (mirrored
    test images): training validates single-pass, so the records hold no validation figure for it,
    and a step with no validation evidence is not kept.
    """

    step: Step
    validation: float | None
    n_validation: int
    gain: float | None = None
    gain_se: float | None = None

    @property
    def kept(self) -> bool:
        return self.validation is not None and (self.gain is None or self.gain > 0)

    @property
    def within_noise(self) -> bool:
        """The change is smaller than its own standard error."""
        return self.gain is not None and abs(self.gain) < self.gain_se

    @property
    def says(self) -> str:
        if self.validation is None:
            return "not kept: no validation figure"
        if self.gain is None:
            return "start"
        noise = ", smaller than its uncertainty" if self.within_noise else ""
        return ("kept" if self.kept else "not kept") + noise


def step_validation(step: Step, record: RunRecord) -> float | None:
    """The validation accuracy a step stands for: none for mirrored test images (see :class:`Verdict`)."""
    return None if step.test_time else validation_accuracy(record)


def verdicts(steps=LADDER, root: Path | None = None) -> list[Verdict]:
    """Each step judged on validation accuracy against the last step that has a validation figure.

    The standard error of a change is that of two independent accuracies on ``n`` validation images,
    sqrt(se1² + se2²): the two runs are validated on the same 1,000 images, so this is an upper bound.
    """
    out, previous = [], None
    for step in steps:
        rec = committed(step.record, root)
        n = rec.data["n_val"]
        val = step_validation(step, rec)
        if val is None or previous is None:
            out.append(Verdict(step, val, n))
        else:
            se = (standard_error(val, n) ** 2 + standard_error(previous, n) ** 2) ** 0.5
            out.append(Verdict(step, val, n, val - previous, se))
        previous = val if val is not None else previous
    return out


@dataclass(frozen=True)
class Choice:
    """The recipe chosen on validation, and its test accuracy read once, with its standard error.

    ``seed_tests`` are the single-pass test accuracies of the same recipe trained again at other
    seeds (:data:`SEED_RUNS`), the chosen run's first: one run's standard error says how well the
    test set measures that model, not how much another training run of the recipe would differ."""

    record: str
    validation: float
    n_validation: int
    test: float
    n_test: int
    seed_tests: tuple[float, ...] = ()

    @property
    def test_se(self) -> float:
        return standard_error(self.test, self.n_test)

    @property
    def seed_mean(self) -> float:
        """The mean test accuracy over the seeds (the chosen run alone if no other was measured)."""
        runs = self.seed_tests or (self.test,)
        return sum(runs) / len(runs)

    @property
    def seed_sd(self) -> float | None:
        """The sample standard deviation over the seeds, or ``None`` with fewer than two runs."""
        runs = self.seed_tests
        if len(runs) < 2:
            return None
        mean = self.seed_mean
        return (sum((r - mean) ** 2 for r in runs) / (len(runs) - 1)) ** 0.5


#: The same recipe trained again at other seeds, by the record chosen on validation; a record
#: listed here that is not committed is left out (not measured).
SEED_RUNS: dict[str, tuple[str, ...]] = {
    "lite0-128-better": ("lite0-128-better-seed1", "lite0-128-better-seed2"),
}


def single_pass_test(record: RunRecord) -> float:
    """A record's test accuracy without mirrored test images (a run made with ``--flip-test`` keeps
    the single-pass figure under ``without_flip_test``)."""
    m = record.metrics
    return m["without_flip_test"]["accuracy"] if "without_flip_test" in m else m["accuracy"]


def choose_on_validation(steps=LADDER + EXTRA, root: Path | None = None) -> Choice:
    """The measured recipe with the highest validation accuracy, tested once, single-pass.

    Only a trained configuration can be chosen: one that no record measured has no validation
    figure. Its test accuracy is the single-pass one, because mirrored test images have no
    validation figure (:class:`Verdict`) and so are not chosen. The same recipe's runs at other
    seeds, where committed, give the spread of a new training run.
    """
    best = max((v for v in verdicts(steps, root) if v.validation is not None), key=lambda v: v.validation)
    rec = committed(best.step.record, root)
    test = single_pass_test(rec)
    base = Path(root) if root is not None else results_root()
    others = [committed(n, root) for n in SEED_RUNS.get(best.step.record, ()) if (base / n).is_dir()]
    seeds = (test, *(single_pass_test(o) for o in others)) if others else ()
    return Choice(best.step.record, best.validation, best.n_validation, test, rec.data["n_test"], seeds)


def ladder_rows(steps=LADDER, root: Path | None = None) -> list[dict]:
    """One row per step, every figure read from its committed record: the test accuracy each step
    measured, and what validation says of it (the columns chapter 6 shows)."""
    rows, previous = [], None
    for step, verdict in zip(steps, verdicts(steps, root)):
        rec = committed(step.record, root)
        c = rec.config
        acc = step_accuracy(step, rec)
        val, gain = verdict.validation, verdict.gain
        rows.append(
            {
                "change": step.change,
                "input": f"{c['image_size']} px",
                "epochs": f"{c['head_epochs']} + {c['fine_tune_epochs']}",
                "validation accuracy": "none" if val is None else f"{val:.1%}",
                "validation gain": "" if gain is None else f"{gain * 100:+.1f} ± {verdict.gain_se * 100:.1f}",
                "kept?": verdict.says,
                "test accuracy": f"{acc:.1%}",
                "gain": "" if previous is None else f"{(acc - previous) * 100:+.1f}",
                "wall time": f"{wall_minutes(rec):.1f} min",
                "record": step.record,
            }
        )
        previous = acc
    return rows


def provenance_rows(names, root: Path | None = None) -> list[dict]:
    """Where each record came from: its command, commit, machine and date."""
    rows = []
    for name in dict.fromkeys(names):
        rec = committed(name, root)
        made_by = rec.record["made_by"]
        rows.append(
            {
                "record": name,
                "command": made_by["command"]
                .replace(" --data ../shared/data/cifar10-jpeg.tar.gz", "")
                .replace(f" --out runs/measured/{name} --overwrite --verbose 2", ""),
                "commit": made_by["commit"][:10],
                "device": rec.record["environment"]["device"],
                "written": rec.record.get("written", "")[:10],
                "data": rec.data.get("description", rec.data["kind"]),
            }
        )
    return rows
