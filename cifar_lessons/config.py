"""Run configuration: the two profiles and the environment variables that choose a run.

The command line and every chapter of the book build their configuration here, so a
``CIFAR_LESSONS_PROFILE=quick`` set before a book build means the same thing as
``--profile quick`` on the command line. Taught in the introduction and chapter 1.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError, WeightsError

#: Environment variables read when an option is not given explicitly.
ENV_PROFILE = "CIFAR_LESSONS_PROFILE"
ENV_BACKBONE = "CIFAR_LESSONS_BACKBONE"
ENV_DATA = "CIFAR_LESSONS_DATA"
ENV_WEIGHTS = "CIFAR_LESSONS_WEIGHTS"


@dataclass(frozen=True)
class RunConfig:
    """Everything that decides what a run computes. Defaults are the seed recipe.

    ``data=None`` means Keras's own CIFAR-10 download; ``weights="imagenet"`` means Keras's
    ImageNet download, ``"none"`` random initialisation, anything else a weights file.
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
    batch_size: int = 64
    validation_fraction: float = 0.1
    augment: bool = False
    precision: str = "float32"
    seed: int = 42

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["head"] = list(self.head)
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
#: finish in minutes. The test set stays whole in both.
PROFILES: dict[str, dict] = {
    "seed": {},
    "quick": {"n": 2_000, "head_epochs": 2, "fine_tune_epochs": 2},
}


def _is_power_of_two(k: int) -> bool:
    return isinstance(k, int) and k > 0 and (k & (k - 1)) == 0


def validate(config: RunConfig) -> RunConfig:
    """Raise :class:`ConfigError` with a clear message for any value the recipe cannot use."""
    from .models import BACKBONES  # late import: models imports keras

    if config.profile not in PROFILES:
        raise ConfigError(f"unknown profile {config.profile!r}; choose one of: {', '.join(PROFILES)}")
    if config.backbone not in BACKBONES:
        raise ConfigError(f"unknown backbone {config.backbone!r}; choose one of: {', '.join(BACKBONES)}")
    if not isinstance(config.n, int) or config.n <= 0:
        raise ConfigError(f"n must be a positive number of training images, got {config.n!r}")
    if config.image_size < 32:
        raise ConfigError(f"image size must be at least 32 (CIFAR-10 is 32x32), got {config.image_size}")
    if len(config.head) != 2 or not all(_is_power_of_two(k) for k in config.head):
        raise ConfigError(f"head must be two powers of two, got {config.head!r}")
    if config.head[0] <= config.head[1]:
        raise ConfigError(f"the first head layer must be wider than the second, got {config.head!r}")
    if config.head_epochs < 0 or config.fine_tune_epochs < 0:
        raise ConfigError("epochs cannot be negative")
    if not 0 < config.validation_fraction < 1:
        raise ConfigError(f"validation_fraction must be between 0 and 1, got {config.validation_fraction}")
    if config.weights not in ("imagenet", "none") and not Path(config.weights).expanduser().is_file():
        raise WeightsError(f"weights file {config.weights!r} does not exist")
    if config.precision not in ("float32", "mixed"):
        raise ConfigError(f"precision must be float32 or mixed, got {config.precision!r}")
    if not 0 <= config.dropout < 1:
        raise ConfigError(f"dropout must be in [0, 1), got {config.dropout}")
    return config


def make_config(profile: str | None = None, *, env: Mapping[str, str] | None = None, **overrides) -> RunConfig:
    """Build a validated configuration: profile defaults, then environment, then explicit options.

    An option passed as ``None`` falls back to its environment variable
    (``CIFAR_LESSONS_PROFILE``, ``_BACKBONE``, ``_DATA``, ``_WEIGHTS``), then to the profile.
    """
    env = os.environ if env is None else env
    profile = profile or env.get(ENV_PROFILE) or "seed"
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r}; choose one of: {', '.join(PROFILES)}")
    values: dict = {"profile": profile, **PROFILES[profile]}
    for field, var in (("backbone", ENV_BACKBONE), ("data", ENV_DATA), ("weights", ENV_WEIGHTS)):
        if env.get(var):
            values[field] = env[var]
    values.update({k: v for k, v in overrides.items() if v is not None})
    if isinstance(values.get("weights"), str) and values["weights"].lower() in ("none", "random"):
        values["weights"] = "none"
    if "head" in values:
        values["head"] = tuple(values["head"])
    try:
        config = RunConfig(**values)
    except TypeError as exc:
        raise ConfigError(str(exc)) from None
    return validate(config)
