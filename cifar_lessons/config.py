"""Run configuration: the profiles and the environment variables that choose a run.

The command line and every chapter of the book build their configuration here, so a
``CIFAR_LESSONS_PROFILE=quick`` set before a book build means the same thing as
``--profile quick`` on the command line. Taught in the introduction and chapter 1. The chapters
that train outside the project's recipe (00b, 00c, 09, 10) train at a small build size unless
``CIFAR_LESSONS_FULL_SIZE`` (or ``full_size=True``) asks for full size: :func:`resolve_full_size`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from .backbones import BACKBONE_NAMES
from .errors import CifarLessonsError, ConfigError, DataError, WeightsError
from .precision import PRECISIONS

#: Environment variables read when an option is not given explicitly.
ENV_PROFILE = "CIFAR_LESSONS_PROFILE"
ENV_BACKBONE = "CIFAR_LESSONS_BACKBONE"
ENV_DATA = "CIFAR_LESSONS_DATA"
ENV_WEIGHTS = "CIFAR_LESSONS_WEIGHTS"
ENV_FULL_SIZE = "CIFAR_LESSONS_FULL_SIZE"
#: Set by ``make site`` (and scripts/execute_chapters.py) while the book's chapters execute.
ENV_BUILD = "CIFAR_LESSONS_BUILD"
#: The folder where chapters 3-7 keep the stages they share (read by ``recipe.runs_root``, set by
#: ``colab.use_drive``); here, with no TensorFlow import, so that setting it stays cheap.
ENV_RUNS = "CIFAR_LESSONS_RUNS"


@dataclass(frozen=True)
class RunConfig:
    """Everything that decides what a run computes. Defaults are the seed recipe.

    ``data=None`` means Keras's own CIFAR-10 download; ``weights="imagenet"`` means Keras's
    ImageNet download, ``"none"`` random initialisation, anything else a weights file.
    ``label_smoothing`` (0: the seed's plain cross-entropy) moves that share of each label's weight
    onto all ten classes evenly; the recipe search (:mod:`cifar_lessons.tuning`) tries it.
    """

    profile: str = "seed"
    n: int = 10_000
    image_size: int = 32
    backbone: str = "resnet50"
    weights: str = "imagenet"
    data: str | None = None
    head: tuple[int, int] = (256, 128)
    dropout: float = 0.3
    head_epochs: int = 10
    fine_tune_epochs: int = 10
    head_learning_rate: float = 1e-3
    fine_tune_learning_rate: float = 1e-5
    fine_tune_schedule: str = "constant"
    batch_size: int = 64
    validation_fraction: float = 0.1
    augment: bool = False
    flip_test: bool = False
    precision: str = "float32"
    seed: int = 42
    label_smoothing: float = 0.0

    #: Fields added after records were committed, written only when they differ from their default:
    #: a configuration that leaves them alone has the dictionary, the :attr:`key` (the folder the
    #: chapters share stages in) and the interrupted-run backup it had before they existed, and the
    #: records made before them read back as the same configuration.
    LATER_FIELDS: ClassVar[tuple[str, ...]] = ("label_smoothing",)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["head"] = list(self.head)
        for name in self.LATER_FIELDS:
            if d[name] == getattr(RunConfig, name):
                del d[name]
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> RunConfig:
        fields = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in fields}
        if "head" in kwargs:
            kwargs["head"] = tuple(kwargs["head"])
        return cls(**kwargs)

    @property
    def key(self) -> str:
        """A short stable name for this configuration, used to share runs between chapters."""
        digest = hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()
        weights = self.weights if self.weights in ("imagenet", "none") else "file"
        return f"{self.profile}-{self.backbone}-{weights}-{digest[:10]}"


#: What each profile changes from the seed recipe. ``seed`` is exactly the course recipe;
#: ``quick`` runs the same steps on fewer images and epochs so that CI and a 2-core laptop
#: finish in minutes. ``better`` is the recipe chosen on validation accuracy in the chapter "Doing
#: better" (``results/``, :func:`cifar_lessons.records.committed.choose_on_validation`): the measured
#: run with the highest validation accuracy, a short head phase, fine-tuning ten times faster with a
#: cosine decay, random flips and crops and 128-pixel input. Mirrored test images are not in it:
#: training validates single-pass, so no record has a validation figure for them. The test set
#: stays whole in all.
PROFILES: dict[str, dict] = {
    "seed": {},
    "quick": {"n": 2_000, "head_epochs": 2, "fine_tune_epochs": 2},
    "better": {
        "head_epochs": 3,
        "fine_tune_epochs": 10,
        "fine_tune_learning_rate": 1e-4,
        "fine_tune_schedule": "cosine",
        "augment": True,
        "image_size": 128,
    },
}

#: Learning-rate schedules for phase 2: constant (the seed recipe) or a cosine decay to zero.
SCHEDULES = ("constant", "cosine")


#: Seeds go to NumPy, which takes 0 to 2**32 - 1; phase 2 uses ``seed + 1``.
MAX_SEED = 2**32 - 2


def _is_power_of_two(k: int) -> bool:
    return _is_int(k) and k > 0 and (k & (k - 1)) == 0


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive_number(value) -> bool:
    return (
        isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    )


def _problem(field: str, message: str, kind: type[CifarLessonsError] = ConfigError) -> CifarLessonsError:
    """An error that remembers which option caused it, so it can name the variable that set it."""
    exc = kind(message)
    exc.field = field
    return exc


def _numbers_problem(config: RunConfig) -> CifarLessonsError | None:
    """The first value that is not a usable number, or None."""
    c = config
    if not _is_int(c.n) or c.n <= 0:
        return _problem("n", f"n must be a positive number of training images, got {c.n!r}")
    if not _is_int(c.image_size) or c.image_size < 32:
        return _problem(
            "image_size", f"image size must be at least 32 (CIFAR-10 is 32x32), got {c.image_size!r}"
        )
    for name in ("head_epochs", "fine_tune_epochs"):
        value = getattr(c, name)
        if not _is_int(value) or value < 0:
            return _problem(name, f"epochs cannot be negative ({name.replace('_', '-')} {value!r})")
    if not _is_int(c.batch_size) or c.batch_size <= 0:
        return _problem("batch_size", f"batch size must be a positive number of images, got {c.batch_size!r}")
    if not _is_int(c.seed) or not 0 <= c.seed <= MAX_SEED:
        return _problem("seed", f"seed must be between 0 and {MAX_SEED:,}, got {c.seed!r}")
    # Each message names what a user typed: the CLI's --head-lr and --fine-tune-lr.
    said = {
        "head_learning_rate": "the head's learning rate (--head-lr)",
        "fine_tune_learning_rate": "the fine-tuning learning rate (--fine-tune-lr)",
    }
    for name, what in said.items():
        if not _positive_number(getattr(c, name)):
            return _problem(name, f"{what} must be a positive number, got {getattr(c, name)!r}")
    if len(c.head) != 2 or not all(_is_power_of_two(k) for k in c.head):
        return _problem("head", f"head must be two powers of two, got {c.head!r}")
    if c.head[0] <= c.head[1]:
        return _problem("head", f"the first head layer must be wider than the second, got {c.head!r}")
    if not isinstance(c.validation_fraction, (int, float)) or not 0 < c.validation_fraction < 1:
        return _problem(
            "validation_fraction", f"validation_fraction must be between 0 and 1, got {c.validation_fraction}"
        )
    if not isinstance(c.dropout, (int, float)) or not 0 <= c.dropout < 1:
        return _problem("dropout", f"dropout must be in [0, 1), got {c.dropout}")
    smoothing = c.label_smoothing
    if not isinstance(smoothing, (int, float)) or isinstance(smoothing, bool) or not 0 <= smoothing < 1:
        return _problem("label_smoothing", f"label smoothing must be in [0, 1), got {smoothing!r}")
    if c.fine_tune_schedule not in SCHEDULES:
        return _problem(
            "fine_tune_schedule",
            f"schedule must be one of {', '.join(SCHEDULES)}, got {c.fine_tune_schedule!r}",
        )
    if c.precision not in PRECISIONS:
        return _problem("precision", f"precision must be one of {', '.join(PRECISIONS)}, got {c.precision!r}")
    return None


def _path_problems(config: RunConfig) -> list[CifarLessonsError]:
    """A missing data path and a missing weights file, both, so one run reports them together."""
    problems = []
    if config.data is not None:
        if not str(config.data).strip():
            problems.append(
                _problem(
                    "data", "--data is empty; give a folder or archive, or leave it out for Keras's download"
                )
            )
        elif not Path(config.data).exists():
            problems.append(_problem("data", f"data path {config.data!r} does not exist", DataError))
    if config.weights not in ("imagenet", "none") and not Path(config.weights).is_file():
        problems.append(_problem("weights", f"weights file {config.weights!r} does not exist", WeightsError))
    return problems


def validate(config: RunConfig) -> RunConfig:
    """Raise a one-line error for any value the recipe cannot use, before anything slow starts.

    Needs neither TensorFlow nor the data: the command line calls it first, so a typo costs
    no start-up time (chapter 1 shows the options).
    """
    if config.profile not in PROFILES:
        raise _problem("profile", f"unknown profile {config.profile!r}; choose one of: {', '.join(PROFILES)}")
    if config.backbone not in BACKBONE_NAMES:
        raise _problem(
            "backbone", f"unknown backbone {config.backbone!r}; choose one of: {', '.join(BACKBONE_NAMES)}"
        )
    problem = _numbers_problem(config)
    if problem is not None:
        raise problem
    problems = _path_problems(config)
    if problems:
        first = problems[0]
        combined = type(first)("; ".join(str(p) for p in problems))
        combined.field = first.field
        raise combined
    return config


def expand_path(value: str | None) -> str | None:
    """``~`` expanded, once, where an option or variable is read; everything after sees real paths."""
    return os.path.expanduser(value) if isinstance(value, str) and value.startswith("~") else value


def resolve_profile(profile: str | None, env: Mapping[str, str] | None, known: Collection[str]) -> str:
    """The profile's name: ``profile``, else ``$CIFAR_LESSONS_PROFILE``, else ``seed``, checked against
    ``known``.

    One function because one variable sets the whole book: the recipe and every chapter with its own
    profiles (Fashion-MNIST, its transfer run, Detection, Segmentation) read it the same way. An unknown
    name is a one-line :class:`ConfigError` listing ``known``; when the variable set it, the message
    names the variable, since the user may have forgotten it. ``env=None`` reads ``os.environ``.
    """
    env = os.environ if env is None else env
    name = profile or env.get(ENV_PROFILE) or "seed"
    if name not in known:
        by = (
            f" (set by the environment variable {ENV_PROFILE})"
            if not profile and env.get(ENV_PROFILE)
            else ""
        )
        raise _problem("profile", f"unknown profile {name!r}; choose one of: {', '.join(known)}{by}")
    return name


#: What ``CIFAR_LESSONS_FULL_SIZE`` may say, case aside: no (unset or empty too), or yes.
FULL_SIZE_NO = ("0", "false", "no")
FULL_SIZE_YES = ("1", "true", "yes")


def resolve_full_size(full_size: bool | None, env: Mapping[str, str] | None) -> bool:
    """Whether a chapter that trains outside the project's recipe trains at full size.

    Those chapters (00b and 00c on Fashion-MNIST, 09 Detection, 10 Segmentation) train at full size
    wherever a student runs them (Colab, their own Jupyter), and at a small *build size* only in the
    book's own build (``$CIFAR_LESSONS_BUILD``, set by ``make site``), so that the whole site builds
    in minutes on 2 cores; their full-size runs are committed records that each chapter shows beside
    its own run. The order: ``full_size`` when given; else ``$CIFAR_LESSONS_FULL_SIZE`` (one variable
    for the whole book, like ``CIFAR_LESSONS_PROFILE``: ``1``, ``true`` or ``yes`` is full size, ``0``,
    ``false`` or ``no`` the build size, anything else a one-line :class:`ConfigError` naming it); else
    the build size in a book build and full size everywhere else. ``env=None`` reads ``os.environ``.
    """
    if full_size is not None:
        return bool(full_size)
    env = os.environ if env is None else env
    value = (env.get(ENV_FULL_SIZE) or "").strip().lower()
    if value in FULL_SIZE_NO:
        return False
    if value in FULL_SIZE_YES:
        return True
    if value:
        raise _problem(
            "full_size",
            f"{ENV_FULL_SIZE}={env[ENV_FULL_SIZE]!r} is not understood; use 1, true "
            "or yes for full size, or 0, false or no for the build size (unset: full size, "
            "but the build size while the book's site builds)",
        )
    return not in_book_build(env)


def in_book_build(env: Mapping[str, str] | None = None) -> bool:
    """True while ``make site`` executes the chapters (it sets ``$CIFAR_LESSONS_BUILD``): the one place
    where the companions train at the build size unless asked otherwise."""
    env = os.environ if env is None else env
    return (env.get(ENV_BUILD) or "").strip().lower() not in ("",) + FULL_SIZE_NO


class TrainingSize:
    """How much a chapter outside the project's recipe trains: full size, or the book's build size.

    Mixed into the frozen configurations of chapters 00b, 00c, 09 and 10, whose defaults are the
    full size; ``build_size`` (the module's ``BUILD_SIZE``) maps the fields the build size shrinks to
    their small values. A committed record's configuration answers the same way as a live one.
    """

    build_size: ClassVar[Mapping[str, int]] = {}

    def full_size(self) -> bool:
        """True when it trains at least as much as the full size in every field the build size shrinks."""
        full = type(self)()
        return all(getattr(self, k) >= getattr(full, k) for k in self.build_size)

    def size_name(self) -> str:
        """``"full size"``, ``"build size"``, or ``"reduced size"`` for any other smaller run (a test's)."""
        if self.full_size():
            return "full size"
        return (
            "build size" if all(getattr(self, k) == v for k, v in self.build_size.items()) else "reduced size"
        )


def sized_values(
    profile: str | None, full_size: bool | None, env: Mapping[str, str] | None, build_size: Mapping[str, int]
) -> dict:
    """A chapter configuration's profile and size: ``{"profile": name}``, plus ``build_size`` unless full
    size.

    The profile is read and checked as everywhere (:func:`resolve_profile` against the book's
    :data:`PROFILES`, so every book profile is accepted) and recorded, but it does not change the
    size: :func:`resolve_full_size` does.
    """
    values = {"profile": resolve_profile(profile, env, PROFILES)}
    if not resolve_full_size(full_size, env):
        values.update(build_size)
    return values


def make_config(
    profile: str | None = None, *, env: Mapping[str, str] | None = None, **overrides
) -> RunConfig:
    """Build a validated configuration: profile defaults, then environment, then explicit options.

    An option passed as ``None`` falls back to its environment variable
    (``CIFAR_LESSONS_PROFILE``, ``_BACKBONE``, ``_DATA``, ``_WEIGHTS``), then to the profile. An
    error caused by a variable's value names the variable, since the user may have forgotten it.
    """
    env = os.environ if env is None else env
    profile = resolve_profile(profile, env, PROFILES)
    from_env: dict[str, str] = {}
    values: dict = {"profile": profile, **PROFILES[profile]}
    for field, var in (("backbone", ENV_BACKBONE), ("data", ENV_DATA), ("weights", ENV_WEIGHTS)):
        if env.get(var) and overrides.get(field) is None:
            values[field] = env[var]
            from_env[field] = var
    values.update({k: v for k, v in overrides.items() if v is not None})
    if isinstance(values.get("weights"), str) and values["weights"].lower() in ("none", "random"):
        values["weights"] = "none"
    for field in ("data", "weights"):
        values[field] = expand_path(values.get(field, getattr(RunConfig, field)))
    if "head" in values:
        values["head"] = tuple(values["head"])
    try:
        config = RunConfig(**values)
    except TypeError as exc:
        raise ConfigError(str(exc)) from None
    try:
        return validate(config)
    except CifarLessonsError as exc:
        raise _named(exc, from_env) from None


def _named(exc: CifarLessonsError, from_env: Mapping[str, str]) -> CifarLessonsError:
    """Add the environment variable that set the offending value, if one did."""
    var = from_env.get(getattr(exc, "field", None))
    if var is None:
        return exc
    named = type(exc)(f"{exc} (set by the environment variable {var})")
    named.field = exc.field
    return named


# --------------------------------------------------------------------------- in a chapter
def chapter_config(**overrides) -> RunConfig:
    """The run this chapter shows: environment variables first, else the seed recipe online."""
    return make_config(None, **overrides)


def progress_verbose() -> int:
    """Keras progress: a live bar (1) interactively, one line per epoch (2) in a book build."""
    return 2 if in_book_build() and "google.colab" not in sys.modules else 1
