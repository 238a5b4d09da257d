"""The grid targets: boxes to the detector's grid and back.

The detector is YOLO-style, one stage on one grid: every cell of the 8x8 grid (stride 8 on a 64x64
scene) says whether an object's centre lies there, which class it is, and its box as an offset
inside the cell and a width and height (:data:`TARGET_CHANNELS`). :func:`encode` turns boxes into
that grid and :func:`decode` turns a grid back into scored boxes, cleaned by
:func:`cifar_lessons.detection.metrics.batched_nms`.
"""

from __future__ import annotations

import numpy as np

from .config import DetectorConfig
from .metrics import batched_nms
from .scenes import Scenes

#: The channels of a target grid: objectness, class, then the box as cell offsets and log sizes.
TARGET_CHANNELS = ("object", "class", "dx", "dy", "log_w", "log_h")


def encode(boxes, labels, config: DetectorConfig) -> np.ndarray:
    """Boxes to a ``(grid, grid, 6)`` target: the cell holding a box's centre says where it is.

    In that cell: objectness 1, the class, the centre's offset inside the cell (``dx, dy`` in
    [0, 1)), and ``log(w / stride)``, ``log(h / stride)``; every other cell has objectness 0.
    Two centres in one cell cannot both be encoded: that is an error, not a silent loss.
    """
    g, s = config.grid, config.stride
    target = np.zeros((g, g, len(TARGET_CHANNELS)), dtype=np.float64)
    for box, label in zip(np.asarray(boxes, dtype=np.float64).reshape(-1, 4), np.asarray(labels).reshape(-1)):
        x1, y1, x2, y2 = box
        if x2 <= x1 or y2 <= y1:
            raise ValueError(f"box {box.tolist()} has no area")
        cx, cy = (x1 + x2) / 2 / s, (y1 + y2) / 2 / s
        i, j = min(int(cy), g - 1), min(int(cx), g - 1)
        if target[i, j, 0]:
            raise ValueError(f"two boxes have their centres in cell ({i}, {j}); one cell holds one object")
        target[i, j] = [1, label, cx - j, cy - i, np.log((x2 - x1) / s), np.log((y2 - y1) / s)]
    return target


def decode(
    objectness,
    class_probabilities,
    box_grid,
    config: DetectorConfig,
    *,
    score_threshold: float | None = None,
    nms_iou: float | None = None,
    best_class_only: bool = False,
) -> dict:
    """A grid of predictions back to boxes: each cell's box, scored per class, thresholded, then per-class
    NMS.

    ``objectness`` is ``(g, g)`` in [0, 1], ``class_probabilities`` ``(g, g, C)``, ``box_grid``
    ``(g, g, 4)`` as ``dx, dy, log_w, log_h`` (see :func:`encode`). A cell gives one box **for every
    class** whose score, objectness times that class's probability, reaches the threshold, as
    SSD's, Faster R-CNN's and YOLOv3's evaluations do: a cell torn between shirt (0.6) and T-shirt
    (0.35) reports both, the second ranked lower. Keeping only the best class threw the second
    guess away: on 1,000 validation scenes (5 epochs of training) mAP@0.5 was 0.697 with the best
    class only, 0.789 with every class above 0.05, and 0.801 above 0.01 (the default); a probe, not
    a committed record. ``best_class_only`` is the old way, kept so that records report both. At a
    working threshold above 0.5 nothing changes: at most one class can have a probability above one
    half. Returns one image's ``{"boxes", "scores", "labels"}``.
    """
    s = config.stride
    threshold = config.score_threshold if score_threshold is None else score_threshold
    iou = config.nms_iou if nms_iou is None else nms_iou
    obj = np.asarray(objectness, dtype=np.float64)
    probs = np.asarray(class_probabilities, dtype=np.float64)
    grid = np.asarray(box_grid, dtype=np.float64)
    rows, cols = np.indices(obj.shape)
    cx, cy = (cols + grid[..., 0]) * s, (rows + grid[..., 1]) * s
    w, h = np.exp(grid[..., 2]) * s, np.exp(grid[..., 3]) * s
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=-1).reshape(-1, 4)
    if best_class_only:
        probs = np.where(probs == probs.max(axis=-1, keepdims=True), probs, 0.0)
    per_class = (obj[..., None] * probs).reshape(-1, probs.shape[-1])  # (cells, classes)
    cells, labels = np.nonzero(per_class >= threshold)
    boxes, scores = boxes[cells], per_class[cells, labels]
    kept = batched_nms(boxes, scores, labels, iou)
    return {"boxes": boxes[kept], "scores": scores[kept], "labels": labels[kept].astype(np.int64)}


def decode_target(target: np.ndarray, config: DetectorConfig, num_classes: int = 10) -> dict:
    """A target grid read as a perfect prediction (objectness and class probability 1)."""
    obj = target[..., 0]
    probs = np.zeros(target.shape[:2] + (num_classes,))
    rows, cols = np.nonzero(obj)
    probs[rows, cols, target[rows, cols, 1].astype(int)] = 1.0
    return decode(obj, probs, target[..., 2:], config, score_threshold=0.5)


def targets(scenes: Scenes, config: DetectorConfig) -> np.ndarray:
    """Every scene's target grid, stacked: ``(N, grid, grid, 6)`` float32."""
    return np.stack([encode(b, lab, config) for b, lab in zip(scenes.boxes, scenes.labels)]).astype(
        np.float32
    )
