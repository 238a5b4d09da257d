# ---
# jupyter:
#   accelerator: GPU
#   colab:
#     gpuType: T4
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
# TensorFlow, Keras and NumPy are already in Colab, and are not reinstalled.
import subprocess
import sys

SOURCE = "cifar-lessons @ git+https://github.com/cifar-lessons/cifar-lessons@v0.2.0"
if "google.colab" in sys.modules:
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", SOURCE], capture_output=True, text=True)
    if pip.returncode:
        print(*(pip.stdout + pip.stderr).splitlines()[-20:], sep="\n")
        raise RuntimeError(f"pip could not install {SOURCE}: its last lines are above")

# %% [markdown] slideshow={"slide_type": "slide"}
# # Segmentation
#
# A classifier gives a whole image one label. **Segmentation** gives every **pixel** one: this
# pixel is coin, that one is table. First the classical tools (a threshold, a watershed, GrabCut),
# then a small network trained to do it where they fail.


# %% [markdown] slideshow={"slide_type": "slide"}
# ## In this chapter
#
# You will learn to:
#
# - segment with a threshold, a watershed and GrabCut;
# - score masks with pixel accuracy, IoU and Dice;
# - build and train a small U-Net, and compare it with Otsu's threshold.
#
# **Before it:** [A network from scratch](00b_fashion_from_scratch.ipynb); [detection](09_detection.ipynb) for IoU.
#
# **Time:** At full size, about 4.5 min on 2 CPU cores (`results/segmentation-unet`). On a Colab GPU: not measured (this project's machines have none).

# %% [markdown] slideshow={"slide_type": "notes"}
# **In Colab,** this notebook asks for a T4 GPU; if you got a CPU, switch with *Runtime → Change
# runtime type → T4 GPU*. There it trains at full size, whose run, shown at the end, took 4 min on
# 2 CPU cores; the website's small run of the whole chapter took 39 s on the same cores.

# %% [markdown] slideshow={"slide_type": "notes"}
# Three tasks, from coarse to fine: classification says *what* is in the image; detection draws a box
# around each object; segmentation labels each pixel, so the outline is exact. *Semantic*
# segmentation labels pixels by class (all garments alike); *instance* segmentation also tells one
# object from the next (coin 1, coin 2). The coins below do both, the network does the first.
#
# Opened in Colab or your own Jupyter, this chapter trains at full size: 4,000 scenes for 8 epochs,
# measured on 1,000 held-out scenes, about 4.5 minutes on 2 CPU cores (less on a GPU). The
# book's website runs every chapter on 2 CPU cores, so there it trains small, whatever its profile:
# 800 scenes for 3 epochs, half-trained; the full-size run is shown at the end with its run card. For
# the small run, write `segment_config(full_size=False)` in the next cell (`CIFAR_LESSONS_FULL_SIZE=1`
# makes the website train at full size too). The run card under the next cell says which size ran,
# and where.

# %%
import cv2
import numpy as np
from scipy import ndimage
from cifar_lessons import vision
from cifar_lessons.config import progress_verbose
from cifar_lessons.display import plots, provenance, show_table
from cifar_lessons.segmentation import classical, figures, model as segmenter, record
from cifar_lessons.segmentation.config import segment_config
from cifar_lessons.segmentation.scenes import BACKGROUNDS, build_scenes

# %%
config = segment_config()  # build size (full_size=True: full size)
scenes = build_scenes(config)  # garments on textures, exact masks
photos = vision.sample_photos(["coins", "astronaut"])  # from scikit-image
committed = record.committed_run()
quoted = record.record_card(committed) if committed else None
provenance(record.run_card(config, scenes.source), quoted)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Otsu's threshold on coins
#
# One brightness splits the photo in two: above it, coin; below it, table. Otsu picks the level
# that best separates the histogram's two humps.

# %% tags=["hide-input"] slideshow={"slide_type": "fragment"}
coins = photos["coins"]
level, otsu = classical.otsu_mask(coins)
plots.image_panels({"coins (scikit-image)": coins, f"Otsu, level {level:.0f}": classical.overlay(coins, otsu)},
                   height=3.6)

# %% [markdown] slideshow={"slide_type": "notes"}
# Otsu's method tries every level 0-255 and keeps the one that minimises the spread of brightness
# within each side (the chapter Seeing images shows its histogram). It needs no training and no
# labels, and on this photo it finds every coin. Two flaws show at once: the light falls unevenly, so
# a band of table along the top is as bright as the coins and is taken for one; and dark details
# inside a coin fall below the level and leave holes. One global number cannot know where it is.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Cleaning up, and touching coins
#
# Close small gaps, fill holes, drop what touches the edge. Then a **watershed** splits coins that
# the mask has joined, from one seed at each coin's centre.

# %% tags=["hide-input"] slideshow={"slide_type": "fragment"}
clean = classical.clean_mask(otsu)
regions, n_regions = ndimage.label(clean)
coins_apart = classical.separate_touching(clean, min_distance=15)
plots.image_panels({f"cleaned: {n_regions} regions": classical.overlay(coins, regions),
                    f"watershed: {coins_apart.max()} coins": classical.overlay(coins, coins_apart)}, height=3.6)

# %% [markdown] slideshow={"slide_type": "notes"}
# The photo has 24 coins. A plain labelling of the cleaned mask counts connected regions, so two coins
# joined by a bridge of bright pixels count as one. The watershed fixes that: each pixel's distance to
# the table peaks at a coin's centre; from those peaks it floods outwards and stops where two floods
# meet, along the narrow neck between touching coins. The seeds are the knob: `min_distance` too small
# and a large coin with a worn centre gets two seeds and is cut in half; too large and two small coins
# share one. Compare the count above the right panel with 24: the coin at the top left is missing, and
# not by the watershed's fault. In Otsu's mask it is joined to the bright band of table along the top,
# so "drop what touches the edge" drops it with the band. Each classical step inherits the mistakes of
# the one before; a better first step here would be a threshold that adapts to the local lighting.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## GrabCut from a rectangle
#
# Draw a box around the object; GrabCut learns the colours inside and outside and cuts along the
# edges between them.

# %% tags=["hide-input"] slideshow={"slide_type": "fragment"}
astronaut, (x, y, w, h) = photos["astronaut"], (60, 10, 400, 500)  # the box a person would draw
cut = classical.grabcut(astronaut, (x, y, w, h), iterations=5)
boxed = cv2.rectangle(astronaut.copy(), (x, y), (x + w, y + h), (30, 90, 255), 6)
plots.image_panels({"the box: outside is background": boxed,
                    "GrabCut's foreground": np.where(cut[..., None], astronaut, 255).astype(np.uint8)}, height=3.6)

# %% [markdown] slideshow={"slide_type": "notes"}
# GrabCut (Rother, Kolmogorov and Blake, 2004) needs one hint: pixels outside the rectangle are
# background for sure. It fits a colour model to the sure background and one to the rest, labels each
# pixel by which model explains it better, with a penalty for cutting between similar neighbours, and
# repeats five times. It uses colour and edges, not meaning: where the suit, the flag and the rocket
# share colours, it hesitates. It works on one photo at a time and needs a person to draw the box.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Where a threshold breaks: garments on texture
#
# Fashion-MNIST garments pasted on noise, stripes, brick, grass and gravel. The true mask is exact:
# the pixels we pasted, those at **16 or more** of 255.

# %% tags=["hide-input"] slideshow={"slide_type": "fragment"}
shown = np.arange(8)
figures.segmentation_grid(scenes.train.images[shown], {"true mask": scenes.train.masks[shown],
                                                     "Otsu": classical.otsu_masks(scenes.train.images[shown])},
                        [scenes.train.kinds[i] for i in shown])

# %% [markdown] slideshow={"slide_type": "notes"}
# Each scene is 48×48 grey pixels with one or two 28×28 garments on a background drawn at random:
# blurred noise, stripes at a random angle and period, or a crop of scikit-image's brick, grass or
# gravel photos, each stretched to a random brightness range that overlaps the garments'. Because we
# made the scenes, the mask is known exactly: a pixel is garment (1) if we pasted a garment pixel
# there (its Fashion-MNIST value is at least 16 of 255) and background (0) otherwise. Garments may
# overlap; the mask is their union.
#
# The task is **binary**, garment against background, the same question Otsu's threshold answers, so
# the two can be scored alike. Which garment it is, is the classifier's job (Fashion-MNIST chapter);
# the scenes also carry the 11-class labels (background and ten garments) for anyone who wants to try.
# Training scenes use Fashion-MNIST's training images and the top three quarters of each texture
# photo; held-out scenes use its test images and the bottom quarter, so no pixel is shared.
#
# Otsu still picks *a* level, but brightness no longer separates garment from background: bright
# stripes and pebbles are taken for garment, dark garments for table.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Scoring a mask
#
# **Pixel accuracy**: the share of pixels right. **IoU** of a class: overlap ÷ union of the predicted
# and true regions. **Mean IoU** (mIoU): the average over classes. Otsu on the held-out scenes:

# %% tags=["slides-show-output"]
otsu_test = classical.otsu_masks(scenes.test.images)
otsu_scores = segmenter.scores(otsu_test, scenes.test.masks)
show_table(record.score_table({f"Otsu, {len(scenes.test):,} held-out scenes": otsu_scores}))

# %% [markdown] slideshow={"slide_type": "notes"}
# Pixel accuracy flatters: about four pixels in five are background here, so a model that answers
# "background" everywhere scores about 80% while finding no garment at all. IoU does not: its garment
# IoU would be 0. The IoU is the box IoU of object detection with pixel sets for boxes: true positives
# ÷ (true positives + false positives + false negatives). Mean IoU averages it over the classes, so the
# small class counts as much as the large one; it is the headline number of PASCAL VOC and Cityscapes.
# Pixels are pooled over all held-out scenes before dividing, as those benchmarks do
# (`cifar_lessons.segmentation.metrics`). Dice, the F1 score of pixels,
# $D = 2|A \cap B| / (|A| + |B|)$, is a monotonic function of IoU $J$, $D = 2J/(1 + J)$, so for one
# mask the two rank predictions the same way. Averages over classes or
# images can rank two models differently, because the function is not linear.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## A U-Net: encoder, decoder, skip connections
#
# The encoder halves the map three times (48 → 6 px) to see context; the decoder doubles it back;
# each level's skip connection hands the decoder the encoder's sharp map of the same size.

# %% tags=["slides-show-output"]
model = segmenter.unet(config.size, filters=config.filters, bottleneck=config.bottleneck, seed=config.seed)
for layer in model.layers:
    if layer.name.endswith("relu2") or layer.name in ("classes",) or layer.name.startswith("skip"):
        print(f"{layer.name:16s} {' x '.join(str(d) for d in layer.output.shape[1:])}")
print(f"{model.count_params():,} parameters; output: one softmax over 2 classes per pixel")

# %% [markdown] slideshow={"slide_type": "notes"}
# Ronneberger, Fischer and Brox designed the U-Net in 2015 for cell images. Each level is two 3×3
# convolutions (BatchNorm, ReLU), as in the Fashion-MNIST CNN. The encoder's pooling throws away
# *where* exactly an edge was, to learn *what* is there from a wider view: at 6×6 each position sees most
# of the scene, enough to tell a pebble from a sleeve. The decoder's transposed convolutions upsample
# back to 48×48, and the skips (`Concatenate`) give each decoder level the encoder's map of the same
# size, with the sharp edges the pooling lost. A 1×1 convolution ends it: a softmax over the two classes
# at each pixel, so the output has the input's height and width. The loss is the classification loss,
# cross-entropy, averaged over every pixel.

# %% [markdown] slideshow={"slide_type": "subslide"}
# The same network drawn as its letter U, each level's size and channels read from the chapter's
# configuration (`config.size`, `config.filters`, `config.bottleneck`).

# %% tags=["hide-input"]
figures.unet_shape(config)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Training the U-Net
#
# Pixel-wise cross-entropy, Adam with a cosine decay, batches of 32 scenes; Keras's `MeanIoU`
# follows the validation scenes epoch by epoch.

# %% slideshow={"slide_type": "fragment"} tags=["slides-show-code"]
run = segmenter.train(model, scenes, config, verbose=progress_verbose())
run = segmenter.evaluate(model, scenes, run)  # the held-out scenes, once

# %% tags=["slides-show-output"]
print(f"{config.n_train:,} scenes × {run.epochs} epochs in {run.seconds:.0f} s; held-out mean IoU "
      f"{run.metrics['unet']['mean_iou']:.3f}, Otsu {run.metrics['otsu']['mean_iou']:.3f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Learning curves
#
# Loss, pixel accuracy and mean IoU on the training and validation scenes.

# %% tags=["hide-input"]
figures.segmentation_curves({f"this build ({config.size_name()})": run.history})

# %% [markdown] slideshow={"slide_type": "notes"}
# The validation curves (orange) end close to the training ones: every scene is a new combination of
# garment, place and background, so there is little to memorise. At the build size the first
# epoch's validation scores lag far behind: validation uses BatchNorm's running averages, which still
# trail the weights after 25 steps. Three epochs show only the start; the full-size curves, at the
# end of the chapter, level off near a mean IoU of 0.96.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Measured: U-Net against Otsu
#
# The same held-out scenes, the same metrics; this page's run and the full-size run.

# %% tags=["slides-show-output"]
committed = record.committed_run()
rows = {f"Otsu (this build, {config.size_name()})": run.metrics["otsu"],
        f"U-Net (this build, {config.size_name()})": run.metrics["unet"]}
if committed:
    rows |= {"Otsu (full size, committed)": committed["metrics"]["otsu"],
             "U-Net (full size, committed)": committed["metrics"]["unet"]}
show_table(record.score_table(rows))

# %% [markdown] slideshow={"slide_type": "notes"}
# Read the rows in pairs. Otsu's threshold learns nothing, so its two rows differ only because the
# build and the record score different numbers of held-out scenes (the size decides). The U-Net's rows are
# this page's run and the full-size run, measured once. The chapter's goal for the
# full size is a mean IoU of at least 0.85 on held-out scenes. Pixel accuracy makes Otsu look half
# decent; its garment IoU shows that it is not.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Predicted masks beside true masks
#
# Held-out scenes: four typical ones from the better half, then the four worst, by garment IoU.

# %% tags=["hide-input"]
figures.predictions_figure(scenes, run, title=f"Held-out scenes (this build, {config.size_name()})")

# %% [markdown] slideshow={"slide_type": "notes"}
# The worst scenes show where the network still fails: garments whose brightness and texture match
# the background (a dark garment on dark gravel), thin parts such as sandal straps and bag handles, and
# the faint rims of garments, where the true mask's threshold of 16 decides pixels no eye could. Otsu's
# row shows the opposite kind of mistake everywhere: whole stripes and pebbles taken for garment.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## By background
#
# Mean IoU on each kind of held-out background.

# %% tags=["slides-show-output"]
kinds = BACKGROUNDS
show_table(record.background_table(run.metrics, kinds, committed["metrics"] if committed else None))

# %% [markdown] slideshow={"slide_type": "notes"}
# No kind of background lets one brightness level separate garment from background: Otsu's best
# kind (in the full-size run, brick at 0.57, whose bricks are evenly grey) stays far below the U-Net's
# worst (grass at 0.94). Gravel, grass and stripes are the hardest for Otsu, since their bright parts
# are as bright as a garment. The U-Net is steady across kinds: it has learnt what a garment looks
# like, its outline and its smooth interior, not how bright it is. Held-out textures come from parts
# of the photos it never saw, so this is not memorised texture either.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The full-size run
#
# 4,000 scenes, 8 epochs.

# %% tags=["hide-input", "slides-show-output"]
if committed:
    display(figures.segmentation_curves({f"{committed['name']} (full size)": committed["history"]["history"]}))
else:
    print("Not measured yet: no results/segmentation-unet record in this checkout.")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The full-size run's held-out scenes

# %% tags=["hide-input", "slides-show-output"]
if committed:
    display(record.record_figure(committed))
else:
    print("Not measured yet: no results/segmentation-unet record in this checkout.")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Takeaways
#
# - Segmentation labels every pixel; score it with IoU per class and its mean, not pixel accuracy alone.
# - Classical tools need no training: Otsu, a watershed, GrabCut. They work where brightness or colour
#   separates the object, and fail where texture does not.
# - A U-Net learns the difference from examples: an encoder for context, a decoder for detail, skips
#   for sharp edges.

# %% [markdown] tags=["exercises"]
# ## Exercises
#
# Try each before opening its solution. A solution with code runs on this page, so its output is
# this page's own; in Colab, run it after the chapter's cells.

# %% [markdown] tags=["exercises"]
# ```{exercise} Dice and IoU
# :label: ex-10-dice
# :nonumber:
#
# For one mask, Dice $= 2|A \cap B| / (|A| + |B|)$ and IoU $= |A \cap B| / |A \cup B|$. Show that
# Dice $= 2\,\mathrm{IoU} / (1 + \mathrm{IoU})$, then check it on the U-Net's first held-out
# prediction.
# ```
# ```{solution-start} ex-10-dice
# :class: dropdown
# ```
#
# Since $|A| + |B| = |A \cup B| + |A \cap B|$, dividing top and bottom of Dice by
# $|A \cup B|$ gives $2\,\mathrm{IoU}/(1 + \mathrm{IoU})$: for one mask the two always rank alike.
# Averaged over classes or images they need not, because the map is not linear.

# %% tags=["exercises"]
pred, true = run.predictions[0] == 1, scenes.test.masks[0] == 1
inter, union = (pred & true).sum(), (pred | true).sum()
iou_one, dice_one = inter / union, 2 * inter / (pred.sum() + true.sum())
print(f"IoU {iou_one:.4f}, Dice {dice_one:.4f}, 2 IoU / (1 + IoU) = {2 * iou_one / (1 + iou_one):.4f}")

# %% [markdown] tags=["exercises"]
# ```{solution-end}
# ```

# %% [markdown] tags=["exercises"]
# ```{exercise} Where Otsu fails
# :label: ex-10-otsu-background
# :nonumber:
#
# Otsu's threshold needs garment and background to differ in brightness. **Predict** on which
# background kinds it does worst, then compute its mean IoU per background kind on the held-out scenes.
# ```
# ```{solution-start} ex-10-otsu-background
# :class: dropdown
# ```
#
# Textured photos (brick, gravel) have both dark and bright pixels, so no single level
# separates them from a garment; plain noise is easier.

# %% tags=["exercises"]
kinds_test = np.array(scenes.test.kinds)
for kind in BACKGROUNDS:
    picked = kinds_test == kind
    per_scene = segmenter.per_scene_iou(otsu_test[picked], scenes.test.masks[picked])
    print(f"{kind:8s} Otsu mean IoU {per_scene.mean():.3f} over {picked.sum()} scenes")

# %% [markdown] tags=["exercises"]
# ```{solution-end}
# ```

# %% [markdown] tags=["exercises"]
# ```{exercise} What the skip connections carry
# :label: ex-10-skip
# :nonumber:
#
# A U-Net joins each decoder stage to the encoder stage of the same size. What would the
# masks lose without those skip connections?
# ```
#
# ```{solution} ex-10-skip
# :class: dropdown
#
# The encoder halves the resolution at each stage to see more context; by the bottleneck
# the exact edges are gone. The decoder can only guess them back from coarse maps, so masks would
# come out blobby. The skip connections hand the decoder the encoder's full-resolution features, so
# it can place edges where the pixels are.
# ```
