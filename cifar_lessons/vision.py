"""Images as arrays, with OpenCV and NumPy: colour, resizing, thresholds and convolution by hand.

Taught in the chapter Seeing images (Part I, Foundations), before the project's chapters 1-6.
Everything here runs offline: the photos ship inside scikit-image, and OpenCV's wheels need
no download. This module imports neither TensorFlow nor Keras, so the chapter starts in a
second and a test checks that it stays that way.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

#: scikit-image's sample photos that ship inside its wheel (others are fetched with pooch on
#: first use, which an offline machine cannot do): name -> file in ``skimage/data``.
PHOTOS: dict[str, str] = {
    "astronaut": "astronaut.png",
    "chelsea": "chelsea.png",
    "coffee": "coffee.png",
    "rocket": "rocket.jpg",
    "camera": "camera.png",
    "coins": "coins.png",
}

#: Small kernels every image library has, as float32 (filter2D keeps a float image's dtype).
#: Sobel x responds to left-to-right brightness changes (vertical edges); Sobel y, its
#: transpose, to top-to-bottom ones.
KERNELS: dict[str, np.ndarray] = {
    "box blur": np.full((3, 3), 1 / 9, dtype=np.float32),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float32),
    "sobel x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32),
    "sobel y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float32),
}

#: OpenCV's interpolation flags under the names the chapter compares. Keras's ``Resizing``
#: layer, which upsamples CIFAR-10 inside the project's model, is bilinear by default.
INTERPOLATIONS: dict[str, int] = {
    "nearest": cv2.INTER_NEAREST,
    "bilinear": cv2.INTER_LINEAR,
    "bicubic": cv2.INTER_CUBIC,
}


def photo_path(name: str) -> Path:
    """The file of a bundled scikit-image photo, for reading with ``cv2.imread`` (which gives BGR)."""
    import skimage.data

    if name not in PHOTOS:
        raise KeyError(f"{name!r} is not a bundled photo; choose from {', '.join(PHOTOS)}")
    return Path(skimage.data.__file__).parent / PHOTOS[name]


def sample_photos(names: list[str] | tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
    """Bundled photos by name, as scikit-image gives them: RGB (or grey) ``uint8`` arrays.

    They load from the installed package, never the network, so the chapter runs offline.
    """
    import skimage.data

    return {name: getattr(skimage.data, name)() for name in (names or PHOTOS)}


def bgr_to_rgb(image: np.ndarray) -> np.ndarray:
    """OpenCV's channel order (blue, green, red) to everyone else's (red, green, blue).

    ``cv2.imread`` returns BGR; matplotlib, PIL, scikit-image and Keras expect RGB. Shown
    without this, a photo read by OpenCV has red and blue swapped: skin and fur turn blue.
    """
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def rgb_to_bgr(image: np.ndarray) -> np.ndarray:
    """RGB to OpenCV's BGR, before ``cv2.imwrite`` or any OpenCV function that assumes BGR."""
    return cv2.cvtColor(image, cv2.COLOR_RGB2BGR)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """A float result (a filter's output can leave 0-255) rounded and clipped back to ``uint8``."""
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def convolve2d(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Slide ``kernel`` over ``image`` and sum the products: what ``cv2.filter2D`` computes, by hand.

    Like ``filter2D`` this is *correlation*: the kernel is not flipped (a textbook convolution
    flips it; for the symmetric blur and sharpen kernels the two agree, for Sobel the sign
    flips). The border is OpenCV's default, ``BORDER_REFLECT_101`` (``gfedcb|abcdefgh|gfedcba``),
    which is NumPy's ``mode="reflect"``; the anchor is the kernel's centre. A colour image is
    filtered channel by channel. Returns float32.

    The loop runs over the kernel's few entries, not over the pixels: each entry adds a shifted
    copy of the whole image, weighted by that entry.
    """
    image = np.asarray(image, dtype=np.float32)
    kernel = np.asarray(kernel, dtype=np.float32)
    kh, kw = kernel.shape
    top, left = kh // 2, kw // 2  # the anchor, as filter2D's default (-1, -1) places it
    pad = [(top, kh - 1 - top), (left, kw - 1 - left)] + [(0, 0)] * (image.ndim - 2)
    padded = np.pad(image, pad, mode="reflect")
    h, w = image.shape[:2]
    out = np.zeros_like(image)
    for i in range(kh):
        for j in range(kw):
            out += kernel[i, j] * padded[i : i + h, j : j + w]
    return out


def sobel_magnitude(grey: np.ndarray) -> np.ndarray:
    """Edge strength: the length of the brightness gradient from the two Sobel kernels (float32)."""
    gx = convolve2d(grey, KERNELS["sobel x"])
    gy = convolve2d(grey, KERNELS["sobel y"])
    return np.hypot(gx, gy)


def resize_all(image: np.ndarray, size: int | tuple[int, int]) -> dict[str, np.ndarray]:
    """``image`` resized to ``size`` (pixels, or (width, height)) with each of :data:`INTERPOLATIONS`.

    Upsampling cannot add detail a 32x32 photo never had: nearest copies pixels into blocks,
    bilinear and bicubic blend neighbours into blur (bicubic a little sharper, and it can
    overshoot at edges).
    """
    dsize = (size, size) if isinstance(size, int) else tuple(size)
    return {name: cv2.resize(image, dsize, interpolation=flag) for name, flag in INTERPOLATIONS.items()}


def thresholds(grey: np.ndarray, level: int = 128) -> dict[str, tuple[float, np.ndarray]]:
    """A fixed global threshold at ``level`` and Otsu's, each as (threshold, black-and-white mask).

    Otsu's method picks the level that best splits the histogram into two groups (the one that
    minimises the spread within each group), so it adapts to the photo's lighting.
    """
    fixed, mask = cv2.threshold(grey, level, 255, cv2.THRESH_BINARY)
    otsu, otsu_mask = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return {f"global, {level}": (fixed, mask), f"Otsu, {otsu:.0f}": (otsu, otsu_mask)}
