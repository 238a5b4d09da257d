"""The detector's configuration: what the chapter's detector computes, and at which size.

Every book build, whatever its profile, trains at the small :data:`BUILD_SIZE` (5,000 scenes,
5 epochs: half-trained), so that the whole site builds in minutes; full size is an explicit choice,
``full_size=True`` or ``CIFAR_LESSONS_FULL_SIZE=1`` (:func:`cifar_lessons.config.resolve_full_size`).
The full size is measured once by ``scripts/measure_detection.py`` and committed as
``results/detection-grid`` (:data:`COMMITTED`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from ..config import TrainingSize, sized_values
from ..errors import ConfigError

#: The committed full-size record, in ``results/``.
COMMITTED = "detection-grid"


#: What the full-size run is designed to reach: mAP@0.5 on held-out scenes.
GOAL = 0.8


#: What every book build trains, whatever its profile, so that the whole site builds in minutes.
#: Full size (the defaults of :class:`DetectorConfig`) is an explicit choice (:func:`detector_config`).
BUILD_SIZE: dict[str, int] = {"n_train": 5000, "n_test": 300, "epochs": 5}


@dataclass(frozen=True)
class DetectorConfig(TrainingSize):
    """Everything that decides what the chapter's detector computes. Defaults are full size
    (``full_size()`` and ``size_name()`` say whether it is: :class:`cifar_lessons.config.TrainingSize`)."""

    build_size = BUILD_SIZE

    profile: str = "seed"
    n_train: int = 20_000
    n_test: int = 1000
    canvas: int = 64
    stride: int = 8
    min_objects: int = 1
    max_objects: int = 3
    min_size: int = 20
    max_size: int = 32
    epochs: int = 10
    fresh_scenes: bool = True
    batch_size: int = 64
    learning_rate: float = 3e-3
    score_threshold: float = 0.01
    nms_iou: float = 0.5
    seed: int = 42

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def grid(self) -> int:
        return self.canvas // self.stride


def detector_config(
    profile: str | None = None,
    *,
    full_size: bool | None = None,
    env: Mapping[str, str] | None = None,
    **overrides,
) -> DetectorConfig:
    """The build's configuration: the :data:`BUILD_SIZE` in every profile, unless full size is asked for.

    ``full_size``, else ``CIFAR_LESSONS_FULL_SIZE`` (:func:`cifar_lessons.config.resolve_full_size`),
    decides the size; the profile (``profile``, else ``CIFAR_LESSONS_PROFILE``, else ``seed``) is
    checked and recorded. The detector trains from scratch, so the book's backbone and weights
    variables do not apply here.
    """
    config = DetectorConfig(**{**sized_values(profile, full_size, env, BUILD_SIZE), **overrides})
    if config.canvas % config.stride:
        raise ConfigError(f"the canvas ({config.canvas}) must be a whole number of cells of {config.stride}")
    return config
