"""The backbone names and what each is, without importing Keras.

Options are checked before TensorFlow starts (a mistyped ``--backbone`` gets its one-line error
at once), so the names live here; :mod:`cifar_lessons.models` attaches the Keras constructors
and preprocessing to them (chapter 2, the architecture).
"""

from __future__ import annotations

#: Every backbone the recipe can use, with the description run records and run cards show.
BACKBONE_DESCRIPTIONS: dict[str, str] = {
    "resnet50": "ResNet50 (He et al. 2015), 23.6 M parameters without its top",
    "efficientnetb0": "EfficientNetB0 (Tan & Le 2019), 4.0 M parameters without its top",
    "efficientnet_lite0": "EfficientNet-Lite0 (no squeeze-and-excitation, ReLU6), 3.4 M parameters without its top; "
                          "its ImageNet weights come from a pip package, so they work offline",
}

BACKBONE_NAMES: tuple[str, ...] = tuple(BACKBONE_DESCRIPTIONS)

#: The backbone whose real ImageNet weights need no network (see :mod:`cifar_lessons.lite0`).
OFFLINE_BACKBONE = "efficientnet_lite0"
