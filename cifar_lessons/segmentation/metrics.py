"""Scoring a segmentation: the pixel confusion matrix, pixel accuracy, IoU and Dice per class.

Taught in the chapter Segmentation. A segmentation model labels every pixel, so its scores
count pixels. Everything comes from one confusion matrix, computed in a single ``bincount``;
no TensorFlow is imported.

Masks are arrays of integer class indices ``0 .. num_classes - 1`` of any shape, one image
``(H, W)`` or a batch ``(N, H, W)`` alike (pixels are pooled over the batch, as the
PASCAL VOC and Cityscapes benchmarks do). ``pred`` is the model's ``argmax``, not its
probabilities: float masks are refused. Boolean masks are the binary case, ``False`` as class 0
(background) and ``True`` as class 1, and ``num_classes`` may then be left out. Pixels whose
*target* equals ``ignore_index`` (VOC marks object borders with 255) are left out of every count.
"""

from __future__ import annotations

import numpy as np


def _masks(pred, target) -> tuple[np.ndarray, np.ndarray]:
    """``pred`` and ``target`` as arrays, checked to be label masks of one shape."""
    pred, target = np.asarray(pred), np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"pred has shape {pred.shape} but target {target.shape}")
    for name, mask in (("pred", pred), ("target", target)):
        if not (mask.dtype == bool or np.issubdtype(mask.dtype, np.integer)):
            raise TypeError(
                f"{name} must hold integer class indices or booleans, got {mask.dtype} "
                "(for a model's output, take argmax over the class axis first)"
            )
    return pred, target


def _labels(
    pred, target, num_classes: int | None, ignore_index: int | None
) -> tuple[np.ndarray, np.ndarray, int]:
    """Flat integer ``pred`` and ``target`` of the pixels that count, and the number of classes."""
    pred, target = _masks(pred, target)
    if num_classes is None:
        if pred.dtype != bool or target.dtype != bool:
            raise ValueError("num_classes is needed unless both masks are boolean")
        num_classes = 2
    pred, target = pred.reshape(-1).astype(np.int64), target.reshape(-1).astype(np.int64)
    if ignore_index is not None:
        keep = target != ignore_index
        pred, target = pred[keep], target[keep]
    for name, mask in (("pred", pred), ("target", target)):
        if mask.size and (mask.min() < 0 or mask.max() >= num_classes):
            raise ValueError(
                f"{name} has a class outside 0..{num_classes - 1}: {sorted(set(mask.tolist()))[:10]}"
            )
    return pred, target, num_classes


def confusion(pred, target, num_classes: int | None = None, *, ignore_index: int | None = None) -> np.ndarray:
    """Pixel counts: row ``i``, column ``j`` counts pixels of true class ``i`` predicted as ``j``.

    Taught in the chapter Segmentation. Rows are the target, as in scikit-learn's
    ``confusion_matrix`` and the classification chapters, so the diagonal is the correct pixels,
    a row's sum a class's true area and a column's sum its predicted area.
    """
    pred, target, n = _labels(pred, target, num_classes, ignore_index)
    return np.bincount(target * n + pred, minlength=n * n).reshape(n, n)


def pixel_accuracy(pred, target, *, ignore_index: int | None = None) -> float:
    """The share of pixels labelled correctly (NaN if no pixel counts).

    Taught in the chapter Segmentation, as the score that flatters: where the background is 90%
    of the image, predicting background everywhere already scores 0.9. Per-class IoU does not.
    """
    pred, target = _masks(pred, target)
    keep = np.ones(target.shape, dtype=bool) if ignore_index is None else target != ignore_index
    return float(np.mean(pred[keep] == target[keep])) if keep.any() else float("nan")


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.full(numerator.shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def iou_per_class(
    pred, target, num_classes: int | None = None, *, ignore_index: int | None = None
) -> np.ndarray:
    """Each class's IoU, true pixels / (true + false positive + false negative pixels).

    Taught in the chapter Segmentation. It is the box IoU of the chapter Detection with pixel
    sets for boxes: the overlap of the predicted and the true region over their union. A class
    absent from both masks is NaN, not 0 or 1, because nothing was there to get right or wrong.
    """
    cm = confusion(pred, target, num_classes, ignore_index=ignore_index).astype(np.float64)
    tp = np.diag(cm)
    return _ratio(tp, cm.sum(axis=0) + cm.sum(axis=1) - tp)


def mean_iou(pred, target, num_classes: int | None = None, *, ignore_index: int | None = None) -> float:
    """The mean of :func:`iou_per_class` over the classes present in either mask (mIoU).

    Taught in the chapter Segmentation; the headline number of PASCAL VOC and Cityscapes. NaN
    classes are left out of the mean; NaN only when no pixel counts.
    """
    per_class = iou_per_class(pred, target, num_classes, ignore_index=ignore_index)
    present = per_class[~np.isnan(per_class)]
    return float(present.mean()) if present.size else float("nan")


def dice_per_class(
    pred, target, num_classes: int | None = None, *, ignore_index: int | None = None
) -> np.ndarray:
    """Each class's Dice coefficient (F1 score of its pixels), 2 TP / (2 TP + FP + FN).

    Taught in the chapter Segmentation, beside IoU, because medical imaging reports Dice. It
    ranks predictions exactly as IoU does (Dice = 2 IoU / (1 + IoU)) but reads higher. NaN
    for a class absent from both masks.
    """
    cm = confusion(pred, target, num_classes, ignore_index=ignore_index).astype(np.float64)
    return _ratio(2 * np.diag(cm), cm.sum(axis=0) + cm.sum(axis=1))


def mean_dice(pred, target, num_classes: int | None = None, *, ignore_index: int | None = None) -> float:
    """The mean of :func:`dice_per_class` over the classes present in either mask.

    Taught in the chapter Segmentation.
    """
    per_class = dice_per_class(pred, target, num_classes, ignore_index=ignore_index)
    present = per_class[~np.isnan(per_class)]
    return float(present.mean()) if present.size else float("nan")
