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

SOURCE = "cifar-lessons @ git+https://github.com/cifar-lessons/cifar-lessons@v0.2.0"
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

# %% [markdown] slideshow={"slide_type": "slide"}
# ## In this chapter
#
# You will learn to:
#
# - read a photo as a NumPy array, and tell RGB from OpenCV's BGR;
# - convert between colour spaces, resize, crop, draw on and warp a photo;
# - threshold with a histogram, clean the mask, and count its objects;
# - compute a convolution by hand and check it against `cv2.filter2D`;
# - say what a CNN's first layer learns, and why.
#
# **Before it:** Python and NumPy arrays.
#
# **Time:** Under a minute on 2 CPU cores; it trains nothing. On a Colab GPU: not measured (this project's machines have none).

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
from cifar_lessons.display import plots, provenance, run_card

config = chapter_config()
cifar = load_cifar10(config.data, n=200, seed=config.seed)  # a few training images are plenty here
photos = vision.sample_photos()  # loaded from the installed scikit-image, never the network
provenance(run_card(config, cifar.source.to_dict(), trains=False))

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
# ## Cropping: a region of interest is a slice
#
# `image[top:bottom, left:right]` is a **view** of the same pixels: change the view and the photo
# changes. Copy first when the original must stay as it was.

# %%
crop = astronaut[30:230, 150:330]  # rows 30-229, columns 150-329: the astronaut's face
print("photo", astronaut.shape, "-> crop", crop.shape, "| a view:", np.shares_memory(crop, astronaut))
brighter = astronaut.copy()  # the copy is changed, the photo is not
roi = brighter[30:230, 150:330]
roi[:] = cv2.convertScaleAbs(roi, alpha=1.0, beta=60)  # brighter by 60, saturating at 255
plots.image_panels({"the crop": crop, "the region brightened in place": brighter}, height=2.8)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Drawing boxes and text
#
# What a detector's output looks like on screen: OpenCV draws into the array itself, in its own
# channel order, BGR.

# %%
canvas = cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR)  # drawing changes the array: work on a copy
orange = (0, 165, 255)  # B, G, R
cv2.rectangle(canvas, (150, 30), (330, 230), orange, thickness=4)  # top-left and bottom-right
cv2.putText(canvas, "face 0.97", (150, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.9, orange, 2, cv2.LINE_AA)
cv2.circle(canvas, (240, 130), 6, (0, 0, 255), thickness=-1)  # -1 fills the circle
plots.image_panels({"drawn with OpenCV": cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB)}, height=3.2)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Flip, rotate, affine, perspective
#
# Each moves pixels, not values: a 2×3 matrix for an affine map (three points fix it), a 3×3 one for
# a perspective map (four points).

# %%
h, w = cat.shape[:2]
rotation = cv2.getRotationMatrix2D((w / 2, h / 2), angle=30, scale=0.8)
affine = cv2.getAffineTransform(np.float32([[0, 0], [w, 0], [0, h]]),  # three corners...
                                np.float32([[40, 20], [w - 60, 60], [20, h - 30]]))  # ...go here
corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
tilt = cv2.getPerspectiveTransform(corners, np.float32([[60, 40], [w - 40, 0], [w, h], [0, h - 20]]))
plots.image_panels({"cv2.flip(cat, 1)": cv2.flip(cat, 1), "rotated 30°": cv2.warpAffine(cat, rotation, (w, h)),
                    "affine": cv2.warpAffine(cat, affine, (w, h)),
                    "perspective": cv2.warpPerspective(cat, tilt, (w, h))}, columns=2, height=2.3)

# %% [markdown] slideshow={"slide_type": "notes"}
# `cv2.flip(image, 1)` mirrors left to right (0 flips upside down, -1 both). A rotation is an affine
# map: `getRotationMatrix2D` builds its matrix from a centre, an angle and a scale, and
# `warpAffine` applies it, filling what comes from outside the photo with black. Any three points
# and where they should go fix an affine map (lines stay parallel); four points fix a perspective
# map (parallel lines may meet), the one that straightens a photographed page. Training pipelines
# use the same maps at random as *augmentation*: chapter 6 flips and shifts CIFAR-10 images.

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
# ## Morphology: cleaning a mask
#
# *Erosion* shrinks white regions by a small shape, *dilation* grows them. **Opening** (erode, then
# dilate) removes specks; **closing** (dilate, then erode) fills small holes.

# %% tags=["slides-show-code"]
_, mask = cv2.threshold(coins, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))  # the small shape
opened = cv2.morphologyEx(mask, cv2.MORPH_OPEN, disc)  # specks go
closed = cv2.morphologyEx(opened, cv2.MORPH_CLOSE, disc, iterations=2)  # holes fill
plots.image_panels({"Otsu's mask": mask, "eroded": cv2.erode(mask, disc), "opened": opened,
                    "opened, then closed": closed}, columns=4, height=2.2)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Counting the coins: connected components and contours
#
# Each white region that touches no other is one *component*; its *contour* is its outline.

# %% tags=["slides-show-output"]
count, labels, stats, centres = cv2.connectedComponentsWithStats(closed)
coins_found = [i for i in range(1, count) if stats[i, cv2.CC_STAT_AREA] >= 100]  # 0: background
print(f"{count - 1} components; {len(coins_found)} of at least 100 pixels")
contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
counted = cv2.cvtColor(coins, cv2.COLOR_GRAY2BGR)
cv2.drawContours(counted, contours, -1, (0, 200, 0), 2)  # -1: every contour
for i in coins_found:
    x, y, box_w, box_h = stats[i, :4]  # left, top, width, height
    cv2.rectangle(counted, (x, y), (x + box_w, y + box_h), (255, 80, 0), 1)
plots.image_panels({"components, boxed": cv2.cvtColor(counted, cv2.COLOR_BGR2RGB)}, height=3.0)

# %% [markdown] slideshow={"slide_type": "notes"}
# Count them yourself: the photo shows 24 coins. Where the count above differs, the mask joined
# coins that touch into one component, or lost a dim coin the global threshold left dark; the
# area filter drops specks. `connectedComponentsWithStats` labels every pixel with its component and
# gives each one's box, area and centre; `findContours` traces outlines, for drawing or measuring
# (`cv2.contourArea`, `cv2.arcLength`). The segmentation chapter separates touching coins with a
# watershed.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Writing images to files
#
# `cv2.imwrite` writes what OpenCV holds, BGR; the file's extension chooses the format.

# %% tags=["slides-show-code", "slides-show-output"]
import tempfile
from pathlib import Path

folder = Path(tempfile.mkdtemp())  # in Colab, a folder in /content or Google Drive keeps them
cv2.imwrite(str(folder / "coins.png"), counted)  # PNG: lossless
cv2.imwrite(str(folder / "coins.jpg"), counted, [cv2.IMWRITE_JPEG_QUALITY, 80])  # JPEG: lossy
for name in ("coins.png", "coins.jpg"):
    back = cv2.imread(str(folder / name))
    print(f"{name}: {(folder / name).stat().st_size:,} bytes, "
          f"same pixels as written: {np.array_equal(back, counted)}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Convolution: a small kernel slides over the image
#
# Each output pixel is a weighted sum of the input pixels around it; the kernel holds the weights.

# %% tags=["hide-input"] slideshow={"slide_type": "fragment"}
plots.kernels(vision.KERNELS)

# %% [markdown] slideshow={"slide_type": "notes"}
# The next slide writes the weighted sum out. The box blur averages the nine neighbours. Sharpen adds to each pixel its
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
# With the kernel's rows and columns numbered −1, 0, 1 from its centre, each output pixel is
#
# $$\mathrm{out}[y, x] = \sum_{i=-1}^{1} \sum_{j=-1}^{1} k[i, j]\; \mathrm{image}[y + i,\ x + j].$$
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
# Textbook convolution flips the kernel first, $\sum_{i,j} k[i, j]\,\mathrm{image}[y - i,\ x - j]$;
# the sum above, unflipped, is **cross-correlation**. For Sobel, flipping changes the sign:

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
# - Resizing adds pixels, never detail; a crop is a view, and drawing changes the array.
# - A mask is cleaned by morphology and counted by connected components.
# - Convolution is a weighted sum over a neighbourhood; `filter2D` computes correlation.
# - A CNN learns its kernels instead of us choosing them.
#
# Next: [the dataset](01_dataset.ipynb) of the project, CIFAR-10.

# %% [markdown] tags=["exercises"]
# ## Exercises
#
# Try each before opening its solution. A solution with code runs on this page, so its output is
# this page's own; in Colab, run it after the chapter's cells.

# %% [markdown] tags=["exercises"]
# ```{exercise} Sobel y, by hand
# :label: ex-00-sobel-y
# :nonumber:
#
# Sobel x responds to changes from left to right. Write the kernel that responds to changes
# from top to bottom as a NumPy array, apply it to the cameraman's face (`face`) with `cv2.filter2D`,
# and **predict first**: on a face and a camera, which of the two kernels gives the larger mean
# absolute response? Then measure it.
# ```
# ```{solution-start} ex-00-sobel-y
# :class: dropdown
# ```
#
# Sobel y is Sobel x turned a quarter (its transpose). Which direction wins depends on the photo:
# the camera's tripod and the coat's edges are mostly vertical lines, which Sobel x finds.

# %% tags=["exercises"]
sobel_y = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], np.float32)  # top to bottom
print("Sobel y is Sobel x transposed:", np.array_equal(sobel_y, sobel_x.T))
responses = {name: cv2.filter2D(face, -1, k) for name, k in (("Sobel x", sobel_x), ("Sobel y", sobel_y))}
for name, r in responses.items():
    print(f"{name}: mean absolute response {np.abs(r).mean():.1f}")
plots.image_panels({name: vision.to_uint8(np.abs(r)) for name, r in responses.items()}, height=2.6)

# %% [markdown] tags=["exercises"]
# ```{solution-end}
# ```

# %% [markdown] tags=["exercises"]
# ```{exercise} Let the histogram choose the threshold
# :label: ex-00-otsu
# :nonumber:
#
# The coins were thresholded at a fixed level and by methods that read the histogram. Call
# `cv2.threshold(coins, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)` yourself: which level does Otsu's
# method choose, and what fraction of the pixels change side compared with a fixed threshold at 128?
# ```
# ```{solution-start} ex-00-otsu
# :class: dropdown
# ```
#
# Otsu picks the level that best separates the histogram's two humps (it minimises the spread
# inside each side). On this photo it lies well below 128, so a band of darker coin pixels changes side.

# %% tags=["exercises"]
otsu_level, otsu_mask = cv2.threshold(coins, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
_, fixed_mask = cv2.threshold(coins, 128, 255, cv2.THRESH_BINARY)
print(f"Otsu's level: {otsu_level:.0f}; pixels that change side: {(otsu_mask != fixed_mask).mean():.1%}")

# %% [markdown] tags=["exercises"]
# ```{solution-end}
# ```

# %% [markdown] tags=["exercises"]
# ```{exercise} Up and down again
# :label: ex-00-round-trip
# :nonumber:
#
# Resize a CIFAR-10 image to 224×224 with bilinear interpolation, then back to 32×32 with
# `cv2.INTER_AREA`. **Predict**: do you get the original pixels back? Measure the largest difference.
# ```
# ```{solution-start} ex-00-round-trip
# :class: dropdown
# ```
#
# Not exactly: both resizings average neighbouring pixels, so the round trip blurs a little.
# The upscaled image never held more detail than the 32×32 one, which is why chapter 6 gains accuracy
# from larger inputs only because the *network* sees its features at a larger scale, not because the
# picture got sharper.

# %% tags=["exercises"]
small = cifar.x_train[0]
up = cv2.resize(small, (224, 224), interpolation=cv2.INTER_LINEAR)
back = cv2.resize(up, (32, 32), interpolation=cv2.INTER_AREA)
diff = np.abs(back.astype(int) - small.astype(int))
print(f"largest difference {diff.max()} of 255; mean {diff.mean():.2f}")

# %% [markdown] tags=["exercises"]
# ```{solution-end}
# ```

# %% [markdown] tags=["exercises"]
# ```{exercise} Why a CNN need not flip its kernels
# :label: ex-00-flip
# :nonumber:
#
# Deep-learning libraries compute correlation and call it convolution. Why does that never hurt
# a CNN, when it does matter when you compare your code with `scipy.ndimage.convolve`?
# ```
#
# ```{solution} ex-00-flip
# :class: dropdown
#
# A CNN *learns* its kernels. If the flipped kernel is the useful one, training finds the
# flipped weights; the network computes the same family of functions either way. Comparing with a
# library that convolves, the kernel is *given*, so the flip changes the result (for Sobel x, its sign).
# ```
