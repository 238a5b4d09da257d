"""A classic detector beside the deep one: OpenCV's pretrained Haar cascades (chapter 9).

They ship inside OpenCV (``cv2.data.haarcascades``), so they need no download.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: OpenCV's pretrained Haar cascades that ship inside its wheel (``cv2.data.haarcascades``): no download.
HAAR_CASCADES = {"face": "haarcascade_frontalface_default.xml", "cat face": "haarcascade_frontalcatface.xml"}


def haar_cascade(kind: str):
    """One of OpenCV's pretrained Haar cascades by name (:data:`HAAR_CASCADES`)."""
    import cv2

    if kind not in HAAR_CASCADES:
        raise KeyError(f"{kind!r} is not a cascade here; choose from {', '.join(HAAR_CASCADES)}")
    cascade = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / HAAR_CASCADES[kind]))
    if cascade.empty():
        raise FileNotFoundError(f"OpenCV could not read {HAAR_CASCADES[kind]}")
    return cascade


def haar_detect(
    image: np.ndarray, kind: str, *, scale_factor: float = 1.1, min_neighbors: int = 5, min_size: int = 40
) -> np.ndarray:
    """Faces (or cat faces) in an RGB photo as ``(n, 4)`` boxes ``(x1, y1, x2, y2)``: OpenCV's detector as is.

    The cascade slides a window over the grey image at every scale (each ``scale_factor`` larger)
    and keeps a place only if ``min_neighbors`` overlapping windows agree: its own way of merging
    duplicates, which :func:`haar_candidates` turns off.
    """
    import cv2

    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    found = haar_cascade(kind).detectMultiScale(
        grey, scaleFactor=scale_factor, minNeighbors=min_neighbors, minSize=(min_size, min_size)
    )
    return _xywh_to_boxes(found)


def haar_candidates(image: np.ndarray, kind: str, *, scale_factor: float = 1.1, min_size: int = 40):
    """Every window the cascade accepts, before any merging, with a confidence: ``(boxes, scores)``.

    With ``minNeighbors=0`` OpenCV returns each window that passed all stages, many around each
    face; the score is the last stage's weight (OpenCV's ``levelWeights``: higher is surer). This
    is a detector's raw output, what non-maximum suppression is for.
    """
    import cv2

    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    found, _, weights = haar_cascade(kind).detectMultiScale3(
        grey, scaleFactor=scale_factor, minNeighbors=0, minSize=(min_size, min_size), outputRejectLevels=True
    )
    return _xywh_to_boxes(found), np.asarray(weights, dtype=np.float64).reshape(-1)


def _xywh_to_boxes(found) -> np.ndarray:
    b = np.asarray(found, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)
