# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: accelerator,colab
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["remove-cell"] slideshow={"slide_type": "skip"}
# Colab only: install this book's version of the cifar_lessons helpers; if pip fails, its last lines show why.
# TensorFlow, Keras, NumPy, OpenCV and scikit-image are already in Colab, and are not reinstalled.
import subprocess
import sys

SOURCE = "cifar-lessons @ git+https://github.com/cifar-lessons/cifar-lessons@v0.1.0"
if "google.colab" in sys.modules:
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", SOURCE], capture_output=True, text=True)
    if pip.returncode:
        print(*(pip.stdout + pip.stderr).splitlines()[-20:], sep="\n")
        raise RuntimeError(f"pip could not install {SOURCE}: its last lines are above")

# %% [markdown] slideshow={"slide_type": "slide"}
# # Seeing images
#
# Before a network sees a photo, the photo is an array of numbers. This chapter opens photos
# with **OpenCV** and **NumPy**, changes their colours and sizes, and filters them by hand, with
# the operation a convolutional network's first layer learns.

# %% [markdown] slideshow={"slide_type": "notes"}
# This is Part I of the course, the foundations: no model is trained here. Everything below runs
# offline in a few seconds, on photos that ship inside scikit-image and on a few CIFAR-10 images,
# the dataset of the project in the next part. The run card says where those CIFAR-10 images came
# from: Keras's download by default (as in Colab), or the copy a build was pointed at.

# %%
import cv2
import numpy as np

from cifar_lessons import vision
from cifar_lessons.config import chapter_config
from cifar_lessons.data import load_cifar10
from cifar_lessons.display import plots, run_card

config = chapter_config()
cifar = load_cifar10(config.data, n=200, seed=config.seed)  # a few training images are plenty here
photos = vision.sample_photos()  # loaded from the installed scikit-image, never the network
run_card(config, cifar.source.to_dict(), trains=False)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Photos that work offline
#
# scikit-image ships these photos inside the package: `skimage.data.chelsea()` and friends.

# %% tags=["hide-input"] slideshow={"slide_type": "fragment"}
plots.image_panels(photos, columns=3, height=2.4)

# %% [markdown] slideshow={"slide_type": "notes"}
# Only some of `skimage.data`'s images are inside the wheel; the others are fetched from the
# internet on first use, which fails on an offline machine. `vision.PHOTOS` lists the bundled
# ones used here. Two are grey (`camera`, `coins`): one number a pixel instead of three.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## An image is an array

# %% tags=["slides-show-code", "slides-show-output"]
cat = photos["chelsea"]
print("shape", cat.shape, " dtype", cat.dtype, " values", cat.min(), "to", cat.max())
print("pixel at row 100, column 200 (red, green, blue):", cat[100, 200])

# %% [markdown] slideshow={"slide_type": "notes"}
# The shape is (height, width, channels): 300 rows of 451 pixels, three numbers each. Row 0 is
# the top of the photo, and `cat[y, x]` is row first, then column, the opposite of (x, y) in
# geometry. Each number is a `uint8`, 0 to 255: arithmetic on it wraps around (200 + 100 is 44),
# so convert to float before computing with pixels, as every filter below does.

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
plots.image_panels({"photo": cat, "red channel": cat[..., 0], "green channel": cat[..., 1],
                    "blue channel": cat[..., 2]}, columns=2, height=2.6)

# %% [markdown] slideshow={"slide_type": "notes"}
# Each channel on its own is a grey image: bright where that colour is strong. The cat's orange
# fur is bright in the red channel and dark in the blue one.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## OpenCV reads blue, green, red

# %% tags=["slides-show-code"]
bgr = cv2.imread(str(vision.photo_path("chelsea")))  # OpenCV's order: blue, green, red
rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)  # what matplotlib, PIL and Keras expect
plots.image_panels({"cv2.imread, shown as it is": bgr, "after cv2.cvtColor": rgb})

# %% [markdown] slideshow={"slide_type": "notes"}
# The classic mistake: `cv2.imread` gives the channels in the order blue, green, red (a choice
# OpenCV made long ago and keeps). matplotlib reads the same array as red, green, blue, so red and
# blue swap and the ginger cat turns blue. Nothing fails, which is what makes the bug easy to miss:
# a model trained on RGB photos and fed BGR ones still runs, only worse. Convert once, right after
# reading (`vision.bgr_to_rgb` does the same), and convert back before `cv2.imwrite`.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Colour spaces: grey and HSV

# %% slideshow={"slide_type": "fragment"}
astronaut = photos["astronaut"]
grey = cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY)  # RGB2..., not BGR2...: scikit-image gives RGB
hsv = cv2.cvtColor(astronaut, cv2.COLOR_RGB2HSV)
full = np.full_like(hsv[..., 0], 255)  # hue alone: full saturation and brightness
hue = cv2.cvtColor(np.dstack([hsv[..., 0], full, full]), cv2.COLOR_HSV2RGB)
orange = cv2.inRange(hsv, (5, 120, 80), (20, 255, 255))  # hue 10-40 degrees, vivid, not dark
plots.image_panels({"photo": astronaut, "grey": grey, "hue (as colour)": hue, "saturation": hsv[..., 1],
                    "value": hsv[..., 2], "orange, by hue": orange}, columns=3, height=2.4)

# %% [markdown] slideshow={"slide_type": "notes"}
# Grey is a weighted sum, 0.299 red + 0.587 green + 0.114 blue, close to how bright each colour
# looks to us. HSV splits a colour into *hue* (which colour: red, yellow, green...), *saturation*
# (how vivid) and *value* (how bright). The hue panel shows each pixel's hue at full saturation and
# brightness: the suit is one orange, light or shaded, so "find the orange things" is a test on one
# channel: the last panel is `cv2.inRange` on hue, saturation and value, and finds the suit.
# Where a pixel is nearly grey (the wall behind her), its hue means little.
# Two details: OpenCV stores hue as 0 to 179 (degrees halved, to fit a byte), and the conversion
# must name the order the array really has: `COLOR_BGR2HSV` on this RGB photo would give wrong
# hues without any error.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Resizing a 32×32 image
#
# The project's model can upsample CIFAR-10 inside itself (`--image-size 96`). More pixels, no more detail:

# %% slideshow={"slide_type": "fragment"}
picks = [int(np.flatnonzero(cifar.y_train == c)[0]) for c in (3, 1, 8)]  # a cat, a car, a ship
rows = {cifar.class_names[cifar.y_train[i]]: [
    *vision.resize_all(cifar.x_train[i], 96).values(),
    cv2.resize(cifar.x_train[i], (224, 224), interpolation=cv2.INTER_LINEAR)] for i in picks}
plots.image_grid(rows, ["nearest, 96", "bilinear, 96", "bicubic, 96", "bilinear, 224"])

# %% [markdown] slideshow={"slide_type": "notes"}
# Every panel is drawn at the same size. *Nearest* copies each pixel into a 3×3 block: it looks
# exactly like the 32×32 original. *Bilinear* blends the four nearest pixels, so blocks become
# blur; *bicubic* uses sixteen and is a little sharper, and can overshoot at edges. At 224×224
# (ResNet50's native size) the picture is no sharper than at 96: the detail was never in the
# 32×32 photo. Why upsample at all, then? A network pretrained on ImageNet learned its filters on
# objects many pixels across; at 32×32 a whole cat is smaller than some of them. The recipe keeps
# 32×32; with `--image-size 96` the project puts Keras's `Resizing` layer (bilinear by default) in
# front of the pretrained base. How much that is worth, measured, is in the project's chapter 6
# (doing better): with EfficientNet-Lite0, larger inputs are the biggest single gain after the
# learning rate, at a cost in time that grows with the number of pixels.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Histograms and thresholds

# %% slideshow={"slide_type": "fragment"}
coins = photos["coins"]
levels = vision.thresholds(coins, level=128)  # {name: (threshold, black-and-white mask)}
plots.histogram(coins, {name: t for name, (t, _) in levels.items()},
                title="coins: how many pixels have each brightness")

# %% [markdown] slideshow={"slide_type": "notes"}
# A histogram counts the pixels at each brightness. Dark background and bright coins make two
# humps. A *threshold* turns every pixel above a level white and the rest black:
# `cv2.threshold(grey, 128, 255, cv2.THRESH_BINARY)`. A fixed level like 128 is a guess. Otsu's
# method (`cv2.THRESH_OTSU`) chooses the level itself: the one that splits the histogram into two
# groups as tight as possible, so it follows the photo's lighting.

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
plots.image_panels({"coins": coins, **{f"threshold {name}": mask for name, (_, mask) in levels.items()}},
                   height=2.6)

# %% [markdown] slideshow={"slide_type": "notes"}
# Neither threshold is perfect: the photo is lit unevenly, and one level for the whole image
# cannot suit both the bright and the dim coins. That is the limit of hand-made rules, and part
# of why we learn features from data instead.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Convolution: a small kernel slides over the image
#
# Each output pixel is a weighted sum of the input pixels around it; the kernel holds the weights.

# %% tags=["hide-input"] slideshow={"slide_type": "fragment"}
plots.kernels(vision.KERNELS)

# %% [markdown] slideshow={"slide_type": "notes"}
# In symbols, for a 3×3 kernel *k*: out[y, x] = Σ k[i, j] · image[y + i − 1, x + j − 1], over
# i, j = 0, 1, 2. The box blur averages the nine neighbours. Sharpen adds to each pixel its
# difference from its four neighbours. Sobel x is positive on the right and negative on the left,
# so it measures how fast the brightness grows from left to right: large at vertical edges, zero on
# flat areas. Sobel y is the same turned on its side. At the border, pixels outside the image are
# mirrored from inside (OpenCV's default, `BORDER_REFLECT_101`).

# %% [markdown] slideshow={"slide_type": "subslide"}
# One output value worked out: Sobel x over a 7×7 patch of the camera photo, where dark meets bright.

# %% tags=["hide-input"]
from cifar_lessons.display import concepts

concepts.kernel_sliding(photos["camera"][166:173, 256:263], vision.KERNELS["sobel x"], at=(2, 2), name="Sobel x")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## By hand, and OpenCV: the same numbers
#
# `vision.convolve2d` is a dozen lines of NumPy. `cv2.filter2D` is OpenCV's fast version.

# %% tags=["slides-show-code", "slides-show-output"]
camera = photos["camera"].astype(np.float32)  # filters give values below 0 and above 255
for name, kernel in vision.KERNELS.items():
    ours = vision.convolve2d(camera, kernel)  # NumPy, by hand
    theirs = cv2.filter2D(camera, -1, kernel)  # OpenCV
    print(f"{name:9}  largest difference: {np.abs(ours - theirs).max():.1e}")

# %% [markdown] slideshow={"slide_type": "notes"}
# The differences are float32 rounding, a millionth of the pixel scale. The test suite checks the
# same agreement on random images, grey and colour, for every kernel (`tests/test_vision.py`).
# Read `vision.convolve2d`: the loop runs over the nine kernel entries, not the 262,144 pixels;
# each entry adds a shifted copy of the whole image, times its weight.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Blur, sharpen, edges

# %% slideshow={"slide_type": "fragment"}
face = camera[60:220, 190:350]  # the cameraman's head and camera, large enough to see pixels
filtered = {name: vision.convolve2d(face, k) for name, k in vision.KERNELS.items()}
for name in ("box blur", "sharpen"):  # back to 0-255 pixels; Sobel's signed values stay float
    filtered[name] = vision.to_uint8(filtered[name])
plots.image_panels({"photo": vision.to_uint8(face), **filtered,
                    "edge strength": vision.sobel_magnitude(face)}, columns=3, height=2.6)

# %% [markdown] slideshow={"slide_type": "notes"}
# Blur softens, sharpen makes edges crisper (and noise louder). Sobel x is mid-grey on flat areas,
# bright where the image gets brighter to the right and dark where it gets darker; Sobel y the same
# downwards. Edge strength, √(x² + y²), keeps the edges whatever their direction: the outline of the
# coat, the tripod, the camera.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## `filter2D` computes correlation
#
# Textbook convolution flips the kernel first. For Sobel, flipping changes the sign:

# %% tags=["slides-show-code", "slides-show-output"]
sobel_x = vision.KERNELS["sobel x"]
correlation = cv2.filter2D(camera, -1, sobel_x)
convolution = cv2.filter2D(camera, -1, sobel_x[::-1, ::-1])  # flipped: true convolution
print("convolution == -correlation:", np.allclose(convolution, -correlation, atol=1e-3))

# %% [markdown] slideshow={"slide_type": "notes"}
# Correlation slides the kernel as it is; convolution, as mathematicians define it, flips it in
# both directions first. The blur and sharpen kernels are symmetric, so the two agree; Sobel x
# flipped is minus Sobel x, so the edges come out with the opposite sign. It matters when you
# compare with a library that convolves (`scipy.ndimage.convolve`; the tests check that it equals
# `convolve2d` with the flipped kernel). It does not matter for a CNN: deep-learning libraries
# also compute correlation and call it convolution, and the kernels are learned, so a flip is
# learned too.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Edges in CIFAR-10
#
# A CNN's first layer is this same operation, with kernels it **learns** from data.

# %% slideshow={"slide_type": "fragment"}
some = cifar.x_train[:6]
edges = [vision.sobel_magnitude(cv2.cvtColor(x, cv2.COLOR_RGB2GRAY)) for x in some]
plots.image_grid({"photo": list(some), "edges": edges},
                 [cifar.class_names[y] for y in cifar.y_train[:6]], size=1.6)

# %% [markdown] slideshow={"slide_type": "notes"}
# At 32×32 an edge is one or two pixels, and the outline of an object is a few dozen of them:
# that is all a model has to go on. A convolutional layer holds many kernels (ResNet50's first
# layer: 64 of them, each 7×7 over the three colour channels), applies each exactly as
# `filter2D` does, and starts from random weights. Training adjusts the weights; the first layers
# of trained networks end up looking like the kernels above, edge detectors at many angles, plus
# colour blobs. Nobody writes those kernels by hand any more: they come from data, which is what
# the project in Part II builds on.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Takeaways
#
# - An image is a `uint8` array, (height, width, channels); OpenCV's channels are **BGR**.
# - Resizing adds pixels, never detail.
# - Convolution is a weighted sum over a neighbourhood; `filter2D` computes correlation.
# - A CNN learns its kernels instead of us choosing them.
#
# Next: [the dataset](01_dataset.ipynb) of the project, CIFAR-10.
