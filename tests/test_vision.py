"""The Seeing images chapter's helpers: convolution by hand agrees with OpenCV, colours, edges."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import heavy_imports

from cifar_lessons import vision


def test_convolution_by_hand_on_a_tiny_array():
    image = np.arange(9, dtype=np.float32).reshape(3, 3)  # 0 1 2 / 3 4 5 / 6 7 8
    kernel = np.array([[0, 0, 0], [0, 0, 1], [0, 0, 0]], dtype=np.float32)  # take the right neighbour
    # Correlation takes image[y, x + 1]; at the right border REFLECT_101 mirrors to image[y, x - 1].
    assert vision.convolve2d(image, kernel).tolist() == [[1, 2, 1], [4, 5, 4], [7, 8, 7]]
    # The sum of a 3x3 box at the centre is the sum of all nine pixels.
    assert vision.convolve2d(image, np.ones((3, 3)))[1, 1] == 36


@pytest.mark.parametrize("name", list(vision.KERNELS))
@pytest.mark.parametrize("shape", [(37, 53), (20, 31, 3)], ids=["grey", "colour"])
def test_convolve2d_agrees_with_cv2_filter2d(name, shape):
    image = np.random.default_rng(0).uniform(0, 255, shape).astype(np.float32)
    kernel = vision.KERNELS[name]
    ours = vision.convolve2d(image, kernel)
    theirs = cv2.filter2D(image, -1, kernel)  # default border: BORDER_REFLECT_101
    assert ours.dtype == np.float32 and ours.shape == image.shape
    np.testing.assert_allclose(ours, theirs, atol=1e-3)


def test_an_even_sized_kernel_is_anchored_like_filter2d():
    image = np.random.default_rng(1).uniform(0, 255, (12, 15)).astype(np.float32)
    kernel = np.random.default_rng(2).normal(size=(2, 4)).astype(np.float32)
    np.testing.assert_allclose(vision.convolve2d(image, kernel), cv2.filter2D(image, -1, kernel), atol=1e-3)


def test_filter2d_is_correlation_a_flipped_kernel_is_convolution():
    from scipy import ndimage

    image = np.random.default_rng(3).uniform(0, 255, (16, 16)).astype(np.float32)
    sobel = vision.KERNELS["sobel x"]
    # scipy's convolve flips the kernel (mode "mirror" is REFLECT_101): same as correlating with it flipped.
    np.testing.assert_allclose(vision.convolve2d(image, sobel[::-1, ::-1]),
                               ndimage.convolve(image, sobel, mode="mirror"), atol=1e-3)
    # For Sobel the flip only changes the sign, so the two are not the same operation.
    np.testing.assert_allclose(vision.convolve2d(image, sobel[::-1, ::-1]), -vision.convolve2d(image, sobel), atol=1e-3)


def test_bgr_and_rgb_swap_red_and_blue_on_a_planted_pixel():
    bgr = np.zeros((4, 5, 3), dtype=np.uint8)
    bgr[1, 2] = (255, 10, 0)  # pure blue to OpenCV
    rgb = vision.bgr_to_rgb(bgr)
    assert rgb[1, 2].tolist() == [0, 10, 255]
    assert rgb.sum() == rgb[1, 2].sum()  # nothing else moved
    assert vision.rgb_to_bgr(rgb).tolist() == bgr.tolist()


def test_a_photo_read_by_opencv_is_bgr_and_the_bundled_copy_is_rgb():
    rgb = vision.sample_photos(["chelsea"])["chelsea"]
    bgr = cv2.imread(str(vision.photo_path("chelsea")))
    assert bgr is not None and bgr.shape == rgb.shape
    assert np.array_equal(vision.bgr_to_rgb(bgr), rgb)
    assert not np.array_equal(bgr, rgb)


def test_sobel_magnitude_peaks_on_a_vertical_step_edge():
    step = np.zeros((9, 10), dtype=np.float32)
    step[:, 5:] = 100  # dark columns 0-4, bright columns 5-9
    edges = vision.sobel_magnitude(step)
    assert set(edges.argmax(axis=1)) <= {4, 5}  # each row peaks where the brightness changes
    assert edges[:, :3].max() == 0 and edges[:, 7:].max() == 0  # flat regions: no edge
    assert np.allclose(vision.convolve2d(step, vision.KERNELS["sobel y"]), 0)  # nothing changes down the rows


def test_resize_all_upsamples_with_each_interpolation():
    tiny = np.random.default_rng(4).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    resized = vision.resize_all(tiny, 96)
    assert list(resized) == ["nearest", "bilinear", "bicubic"]
    assert all(r.shape == (96, 96, 3) and r.dtype == np.uint8 for r in resized.values())
    assert np.array_equal(resized["nearest"][::3, ::3], tiny)  # nearest: each pixel becomes a 3x3 block
    assert not np.array_equal(resized["bilinear"], resized["nearest"])


def test_otsu_splits_two_levels_and_the_fixed_threshold_is_the_one_asked_for():
    grey = np.full((20, 20), 40, dtype=np.uint8)
    grey[:, 10:] = 200
    (fixed_name, (fixed, _)), (otsu_name, (otsu, mask)) = vision.thresholds(grey, level=100).items()
    assert fixed == 100 and fixed_name.endswith("100")
    assert 40 <= otsu < 200 and (mask[:, 10:] == 255).all() and (mask[:, :10] == 0).all()


def test_bundled_photos_load_without_the_network():
    photos = vision.sample_photos()
    assert set(photos) == set(vision.PHOTOS)
    assert photos["astronaut"].shape == (512, 512, 3) and photos["camera"].ndim == 2
    assert all(vision.photo_path(name).exists() for name in vision.PHOTOS)
    with pytest.raises(KeyError, match="bundled"):
        vision.photo_path("not-a-photo")


def test_vision_and_an_images_only_run_card_import_no_tensorflow_or_keras():
    code = ("import cifar_lessons.vision, cifar_lessons.display.plots, cifar_lessons.display.cards as b, cifar_lessons.config as c; "
            "b.run_card(c.make_config(env={}), None, trains=False)")
    assert heavy_imports(code, heavy=("tensorflow", "keras")) == []
