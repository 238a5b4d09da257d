"""Boxes, overlap, non-maximum suppression and mean average precision, in plain NumPy.

Taught in the chapter Detection. Everything here is a few lines of array arithmetic on
purpose: a detector's output is only useful after these steps, and the chapter shows each one
by hand before any library does it. No TensorFlow is imported, so the functions run anywhere.

**Box convention.** A box is ``(x1, y1, x2, y2)`` in pixels as floats: ``(x1, y1)`` the top-left
corner, ``(x2, y2)`` the bottom-right, ``x`` to the right and ``y`` down, as in image arrays.
Coordinates are continuous: a box covering pixel columns 0 and 1 is ``x1=0, x2=2``, and its
area is ``(x2 - x1) * (y2 - y1)`` with no ``+1`` (the convention of torchvision and COCO; the
old PASCAL VOC devkit added 1, which makes small boxes overlap more). A box with ``x2 <= x1`` or
``y2 <= y1`` has zero area; it overlaps nothing, so its IoU with anything is 0, never NaN.
Several boxes are an ``(N, 4)`` array.

**Detections and ground truth for** :func:`mean_average_precision` are two lists with one entry
per image, in the same order (the shape torchvision's detectors return and torchmetrics reads)::

    detections    = [{"boxes": (n, 4) floats, "scores": (n,) floats, "labels": (n,) ints}, ...]
    ground_truths = [{"boxes": (m, 4) floats, "labels": (m,) ints}, ...]

Labels are class indices ``0 .. num_classes - 1``. An image with nothing in it has empty arrays.
(torchvision's detectors keep label 0 for the background and number classes from 1; pass
``num_classes`` = largest label + 1 and class 0, having no ground truth, is left out of the mean.
torchmetrics reads the same lists, but its default number is COCO's AP, not this module's.)
There are no "difficult" or "crowd" flags: every ground-truth box must be found.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def _boxes(boxes, name: str = "boxes") -> np.ndarray:
    """``boxes`` as an ``(N, 4)`` float array; an empty list or array is ``(0, 4)``."""
    b = np.asarray(boxes, dtype=np.float64)
    if b.size == 0:
        return np.zeros((0, 4))
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f"{name} must have shape (N, 4) as (x1, y1, x2, y2), got {b.shape}")
    return b


def box_area(boxes) -> np.ndarray:
    """Areas of ``(N, 4)`` boxes, ``(x2 - x1) * (y2 - y1)``; a flipped box counts as 0, not negative.

    Taught in the chapter Detection, as the first half of IoU.
    """
    b = _boxes(boxes)
    return np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)


def iou_matrix(boxes_a, boxes_b) -> np.ndarray:
    """Intersection over union of every box in ``boxes_a`` (N) with every box in ``boxes_b`` (M).

    Taught in the chapter Detection. IoU is the standard "how well do these two boxes agree":
    1 for the same box, 0 for boxes that do not overlap (touching edges share no area). Where
    the union is zero (two zero-area boxes) the IoU is defined as 0 rather than 0/0. Computed by
    broadcasting, an ``(N, M)`` array, so matching many detections costs one call, not a loop.
    """
    a, b = _boxes(boxes_a, "boxes_a"), _boxes(boxes_b, "boxes_b")
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(bottom_right - top_left, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    out = np.zeros_like(inter)
    np.divide(inter, union, out=out, where=union > 0)
    return out


def iou(a, b) -> float:
    """IoU of two single boxes ``(x1, y1, x2, y2)``; see :func:`iou_matrix`.

    Taught in the chapter Detection, on two squares worked by hand.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != (4,) or b.shape != (4,):
        raise ValueError(f"iou takes two boxes of shape (4,), got {a.shape} and {b.shape}")
    return float(iou_matrix(a[None], b[None])[0, 0])


def nms(boxes, scores, iou_threshold: float = 0.5) -> np.ndarray:
    """Greedy non-maximum suppression: indices of the boxes kept, highest score first.

    Taught in the chapter Detection. A detector proposes many overlapping boxes for one object;
    NMS keeps the best and drops the others. Boxes are visited from the highest score down; each
    is kept unless its IoU with an already kept box is **greater than** ``iou_threshold`` (so an
    IoU exactly equal to the threshold survives), as ``torchvision.ops.nms`` defines it. Classes
    are ignored: every box can suppress every other (see :func:`batched_nms` for per-class NMS).

    Ties: boxes with equal scores are visited in their input order (a stable sort), so the
    result never depends on the sorting algorithm. torchvision leaves that order unspecified.
    """
    b = _boxes(boxes)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(s) != len(b):
        raise ValueError(f"{len(b)} boxes but {len(s)} scores")
    if np.isnan(s).any():
        raise ValueError("scores contain NaN, which has no place in an order")
    order = np.argsort(-s, kind="stable")
    keep = []
    while order.size:
        best, order = order[0], order[1:]
        keep.append(best)
        order = order[iou_matrix(b[best][None], b[order])[0] <= iou_threshold]
    return np.array(keep, dtype=np.int64)


def batched_nms(boxes, scores, labels, iou_threshold: float = 0.5) -> np.ndarray:
    """NMS within each class separately: a cat box never suppresses an overlapping dog box.

    Taught in the chapter Detection, as the last step of a detector's post-processing. Returns
    the kept indices of all classes together, highest score first (ties in input order).
    """
    b = _boxes(boxes)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    lab = np.asarray(labels).reshape(-1)
    if not len(s) == len(lab) == len(b):
        raise ValueError(f"{len(b)} boxes, {len(s)} scores and {len(lab)} labels")
    keep = [np.flatnonzero(lab == c)[nms(b[lab == c], s[lab == c], iou_threshold)] for c in np.unique(lab)]
    kept = np.concatenate(keep) if keep else np.zeros(0, dtype=np.int64)
    return kept[np.lexsort((kept, -s[kept]))].astype(np.int64)


# --- average precision ---------------------------------------------------------------------


def _check_images(
    detections: Sequence[Mapping], ground_truths: Sequence[Mapping], num_classes: int | None
) -> None:
    if len(detections) != len(ground_truths):
        raise ValueError(
            f"{len(detections)} images of detections but {len(ground_truths)} of ground truth; "
            "give one entry per image, in the same order (an empty image has empty arrays)"
        )
    for kind, images, keys in (
        ("detections", detections, ("boxes", "scores", "labels")),
        ("ground_truths", ground_truths, ("boxes", "labels")),
    ):
        for i, image in enumerate(images):
            n = len(_boxes(image["boxes"], f"{kind}[{i}]['boxes']"))
            for key in keys[1:]:
                if np.asarray(image[key]).reshape(-1).size != n:
                    raise ValueError(f"{kind}[{i}] has {n} boxes but {np.asarray(image[key]).size} {key}")
            labels = np.asarray(image["labels"]).reshape(-1)
            if num_classes is not None and labels.size and (labels.min() < 0 or labels.max() >= num_classes):
                raise ValueError(f"{kind}[{i}] has a label outside 0..{num_classes - 1}: {labels.tolist()}")


def match_detections(
    detections: Sequence[Mapping], ground_truths: Sequence[Mapping], label: int, iou_threshold: float = 0.5
) -> tuple[np.ndarray, np.ndarray, int]:
    """Mark each detection of class ``label`` as a true or false positive, best score first.

    Taught in the chapter Detection. Returns ``(scores, is_true_positive, n_ground_truth)``, the
    scores sorted from highest to lowest. Detections of all images are ranked together, because
    AP measures one ranking over the whole data set. Each detection, in that order, is matched
    to the **unmatched** ground-truth box of the same class in the same image with the highest
    IoU, if that IoU is at least ``iou_threshold``; it is then a true positive and that box is
    used up. Otherwise it is a false positive, so a second detection of an object already found
    counts against the detector. (Matching only unmatched boxes is COCO's rule. The PASCAL VOC
    devkit's ``VOCevaldet.m`` takes the highest-IoU box whether matched or not and calls the
    detection false if that box is taken; the two differ only on crowded objects. Both accept an
    IoU equal to the threshold, as here; the strict ``>`` of some ports comes from py-faster-rcnn.)

    Ties: equal scores keep image order, then the order within the image; equal IoUs go to the
    ground-truth box listed first, where COCO's code takes the last one.
    """
    _check_images(detections, ground_truths, None)
    scores, image_of, box_of = [], [], []
    for i, image in enumerate(detections):
        mine = np.flatnonzero(np.asarray(image["labels"]).reshape(-1) == label)
        scores.append(np.asarray(image["scores"], dtype=np.float64).reshape(-1)[mine])
        image_of.append(np.full(len(mine), i))
        box_of.append(mine)
    scores, image_of, box_of = (np.concatenate(x) if x else np.zeros(0) for x in (scores, image_of, box_of))
    if np.isnan(scores).any():
        raise ValueError("detection scores contain NaN")
    order = np.argsort(-scores, kind="stable")

    truth = []
    for image in ground_truths:
        boxes = _boxes(image["boxes"])
        truth.append(boxes[np.asarray(image["labels"]).reshape(-1) == label])
    n_truth = sum(len(t) for t in truth)
    found = [_boxes(image["boxes"]) for image in detections]
    used = [np.zeros(len(t), dtype=bool) for t in truth]

    is_tp = np.zeros(len(order), dtype=bool)
    for rank, d in enumerate(order):
        i = int(image_of[d])
        if not len(truth[i]):
            continue
        box = found[i][int(box_of[d])]
        overlaps = np.where(used[i], -1.0, iou_matrix(box[None], truth[i])[0])
        best = int(np.argmax(overlaps))
        if overlaps[best] >= iou_threshold:
            is_tp[rank] = True
            used[i][best] = True
    return scores[order], is_tp, n_truth


def precision_recall(is_true_positive, n_ground_truth: int) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall after each detection of a ranking, best first.

    Taught in the chapter Detection. After the first ``k`` detections, precision is the share of
    them that are true, recall the share of all ground-truth boxes found. Ground truth that no
    detection found still counts in recall's denominator, so a detector that misses objects
    never reaches recall 1. Each detection is its own point, even when scores tie.
    """
    tp = np.cumsum(np.asarray(is_true_positive, dtype=bool))
    k = np.arange(1, len(tp) + 1)
    precision = tp / k if len(tp) else np.zeros(0)
    recall = tp / n_ground_truth if n_ground_truth > 0 else np.full(len(tp), np.nan)
    return precision, recall


def area_under_pr(precision, recall, *, interpolate: bool = True) -> float:
    """Average precision: the area under a precision-recall curve.

    Taught in the chapter Detection. With ``interpolate=True`` (the definition used here, PASCAL
    VOC's since 2010, "all-point interpolation"), precision at each recall is first replaced by
    the best precision reached at that recall or any higher one, which makes the curve a
    monotone staircase; AP is the area under it, summed where recall steps up. This is not the
    11-point average of VOC 2007, nor COCO's 101-point one, which give slightly different
    numbers. With ``interpolate=False`` it is the plain sum of recall steps times precision,
    the definition of scikit-learn's ``average_precision_score``; the two agree when no two scores
    tie, because scikit-learn takes tied scores as one threshold and this ranking does not.
    """
    p = np.asarray(precision, dtype=np.float64)
    r = np.asarray(recall, dtype=np.float64)
    r = np.concatenate([[0.0], r])
    p = np.concatenate([[0.0], p])
    if interpolate:
        p = np.maximum.accumulate(p[::-1])[::-1]
    steps = np.flatnonzero(np.diff(r) > 0) + 1
    return float(np.sum((r[steps] - r[steps - 1]) * p[steps]))


def average_precision(
    detections: Sequence[Mapping], ground_truths: Sequence[Mapping], label: int, iou_threshold: float = 0.5
) -> float:
    """AP of one class over all images: :func:`match_detections`, then the interpolated area.

    Taught in the chapter Detection. NaN when the class has no ground-truth box anywhere (AP
    is undefined: there is nothing to recall), 0.0 when it has some but no detection finds one.
    """
    scores, is_tp, n_truth = match_detections(detections, ground_truths, label, iou_threshold)
    if n_truth == 0:
        return float("nan")
    return area_under_pr(*precision_recall(is_tp, n_truth))


def average_precision_per_class(
    detections: Sequence[Mapping],
    ground_truths: Sequence[Mapping],
    num_classes: int,
    iou_threshold: float = 0.5,
) -> np.ndarray:
    """AP of every class ``0 .. num_classes - 1``, NaN for classes without ground truth.

    Taught in the chapter Detection, to see which classes drag the mean down.
    """
    _check_images(detections, ground_truths, num_classes)
    return np.array(
        [average_precision(detections, ground_truths, c, iou_threshold) for c in range(num_classes)]
    )


def mean_average_precision(
    detections: Sequence[Mapping],
    ground_truths: Sequence[Mapping],
    num_classes: int,
    iou_threshold: float = 0.5,
) -> float:
    """mAP at one IoU threshold ("mAP@0.5" by default): the mean of the classes' APs.

    Taught in the chapter Detection. Classes with no ground-truth box in these images are left
    out of the mean rather than counted as 0 or 1, because their AP is undefined (this is what
    COCO does); false detections of such a class therefore cost nothing here. NaN when no class
    has ground truth. COCO's headline "AP" is a different number: the mean over the thresholds
    0.5, 0.55, ..., 0.95, each with 101-point interpolation.
    """
    ap = average_precision_per_class(detections, ground_truths, num_classes, iou_threshold)
    present = ap[~np.isnan(ap)]
    return float(present.mean()) if present.size else float("nan")
