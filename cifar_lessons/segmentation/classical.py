"""Classical masks, before any network (chapter 10): Otsu's threshold, a watershed that separates
touching coins, GrabCut from a rectangle, and a mask drawn over its image.
"""

from __future__ import annotations

import numpy as np


def otsu_mask(grey: np.ndarray) -> tuple[float, np.ndarray]:
    """Otsu's threshold of a ``uint8`` grey image and the mask of the pixels above it (bright = object)."""
    import cv2

    level, mask = cv2.threshold(np.asarray(grey, np.uint8), 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return float(level), mask.astype(bool)


def separate_touching(mask: np.ndarray, min_distance: int = 7) -> np.ndarray:
    """A watershed that splits touching objects in a binary mask: integer labels, 0 for background.

    Each object pixel's distance to the background peaks at the centre of each object; those
    peaks are the seeds, and the watershed floods the inverted distance from them, so two coins
    that touch meet along the narrow neck between them.
    """
    from scipy import ndimage
    from skimage.feature import peak_local_max
    from skimage.segmentation import watershed

    mask = np.asarray(mask, bool)
    distance = ndimage.distance_transform_edt(mask)
    objects, _ = ndimage.label(mask)
    peaks = peak_local_max(distance, min_distance=min_distance, labels=objects, exclude_border=False)
    markers = np.zeros(mask.shape, np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    return watershed(-distance, markers, mask=mask)


def clean_mask(
    mask: np.ndarray, min_size: int = 40, closing: int = 3, clear_border: bool = True
) -> np.ndarray:
    """A binary mask tidied the classical way: small gaps closed (a ``closing`` px disk), holes filled,
    specks under ``min_size`` px removed and, with ``clear_border``, regions touching the image's edge
    dropped (on ``coins``, the bright band of uneven lighting along the top)."""
    from scipy import ndimage
    from skimage import morphology, segmentation

    mask = np.asarray(mask, bool)
    if clear_border:  # first: the closing below erodes the image's edge away
        mask = segmentation.clear_border(mask)
    mask = ndimage.binary_closing(mask, morphology.disk(closing), border_value=0)
    mask = ndimage.binary_fill_holes(mask)
    labels, _ = ndimage.label(mask)
    keep = np.bincount(labels.ravel()) >= min_size
    keep[0] = False
    return keep[labels]


def grabcut(
    rgb: np.ndarray, rect: tuple[int, int, int, int], iterations: int = 5, seed: int = 0
) -> np.ndarray:
    """GrabCut from a rectangle ``(x, y, width, height)``: the foreground mask OpenCV settles on.

    Everything outside the rectangle is background for sure; inside, GrabCut fits one colour
    model (a mixture of Gaussians) to the foreground and one to the background, cuts the graph
    of pixels where the colours change, and repeats ``iterations`` times.
    """
    import cv2

    cv2.setRNGSeed(seed)
    mask = np.zeros(rgb.shape[:2], np.uint8)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    bgr = cv2.cvtColor(np.ascontiguousarray(rgb, dtype=np.uint8), cv2.COLOR_RGB2BGR)
    cv2.grabCut(bgr, mask, tuple(int(v) for v in rect), bgd, fgd, iterations, cv2.GC_INIT_WITH_RECT)
    return (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)


def overlay(image: np.ndarray, mask: np.ndarray, colour=(255, 60, 30), alpha: float = 0.5) -> np.ndarray:
    """``image`` (grey or RGB ``uint8``) with ``mask``'s pixels tinted: an RGB ``uint8`` picture.

    ``mask`` may be binary or integer labels; each label > 0 gets its own colour
    from tab20 (neighbouring labels far apart in it, never grey).
    """
    image = np.asarray(image)
    rgb = np.repeat(image[..., None], 3, axis=-1) if image.ndim == 2 else image[..., :3]
    rgb = rgb.astype(np.float32)
    mask = np.asarray(mask)
    if mask.dtype == bool or mask.max() <= 1:
        colours = {1: np.array(colour, np.float32)}
    else:
        import matplotlib

        cmap = matplotlib.colormaps["tab20"]
        palette = [i for i in range(20) if i not in (14, 15)]  # not its two greys: they look unlabelled
        colours = {
            int(k): np.array(cmap(palette[int(k) * 7 % len(palette)])[:3], np.float32) * 255
            for k in np.unique(mask)
            if k > 0
        }
    out = rgb.copy()
    for k, c in colours.items():
        where = mask == k
        out[where] = (1 - alpha) * rgb[where] + alpha * c
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def otsu_masks(images: np.ndarray) -> np.ndarray:
    """Otsu's threshold applied to each scene on its own: the bright side is the garment (0/1 ``uint8``)."""
    return np.stack([otsu_mask(im)[1] for im in images]).astype(np.uint8)
