"""The segmentation chapter's configuration: what the U-Net's training computes, and at which size.

Every book build, whatever its profile, trains at the small :data:`BUILD_SIZE` (800 scenes,
3 epochs), so that the whole site builds in minutes; full size is an explicit choice,
``full_size=True`` or ``CIFAR_LESSONS_FULL_SIZE=1`` (:func:`cifar_lessons.config.resolve_full_size`).
The full-size run is measured once by ``scripts/measure_segmentation.py`` and committed as
``results/segmentation-unet`` (:data:`COMMITTED`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from ..config import TrainingSize, sized_values

#: Fashion-MNIST pixels at or above this value (of 255) are the garment; below it, background.
#: Fashion-MNIST's own background is 0, and a few faint pixels at a garment's edge are under 16.
GARMENT_THRESHOLD = 16


#: The committed full-size record, in ``results/``.
COMMITTED = "segmentation-unet"


#: What the full-size run is designed to reach on held-out scenes (the chapter's claim).
GOAL_MIOU = 0.85


#: The record's figure of held-out scenes. The package's copy of ``results/`` (``cifar_lessons.measured``,
#: for Colab) ships it too; reading still treats it as optional, so an older install shows a line instead.
FIGURE = "predictions.png"


#: What every book build trains, whatever its profile, so that the whole site builds in minutes.
#: Full size (the defaults of :class:`SegmentConfig`) is an explicit choice (:func:`segment_config`).
BUILD_SIZE: dict[str, int] = {"n_train": 800, "n_val": 200, "n_test": 300, "epochs": 3}


@dataclass(frozen=True)
class SegmentConfig(TrainingSize):
    """Everything that decides what the chapter's training computes. Defaults are full size
    (``full_size()`` and ``size_name()`` say whether it is: :class:`cifar_lessons.config.TrainingSize`)."""

    build_size = BUILD_SIZE

    profile: str = "seed"
    n_train: int = 4000
    n_val: int = 500
    n_test: int = 1000
    size: int = 48
    epochs: int = 8
    batch_size: int = 32
    learning_rate: float = 2e-3
    filters: tuple = (16, 32, 64)
    bottleneck: int = 128
    threshold: int = GARMENT_THRESHOLD
    seed: int = 42

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["filters"] = list(self.filters)
        return d


def segment_config(
    profile: str | None = None, *, full_size: bool | None = None, env: Mapping[str, str] | None = None
) -> SegmentConfig:
    """The build's configuration: the :data:`BUILD_SIZE` in every profile, unless full size is asked for.

    ``full_size``, else ``CIFAR_LESSONS_FULL_SIZE`` (:func:`cifar_lessons.config.resolve_full_size`),
    decides the size; the profile (``profile``, else ``CIFAR_LESSONS_PROFILE``, else ``seed``) is
    checked and recorded.
    """
    return SegmentConfig(**sized_values(profile, full_size, env, BUILD_SIZE))
