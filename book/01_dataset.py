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
# # 1. The dataset
#
# CIFAR-10 is 60,000 colour photographs of ten everyday classes, each only **32×32 pixels**.
# This chapter looks at the images, the subset the recipe trains on, and how the data is split.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## In this chapter
#
# You will learn to:
#
# - load CIFAR-10 and take the first 10,000 training images, as the project does;
# - check class balance and look at the images at their real size;
# - split a validation set from the training images, and keep the test set for the end.
#
# **Before it:** [A network from scratch](00b_fashion_from_scratch.ipynb).
#
# **Time:** Under a minute on 2 CPU cores; it trains nothing. On a Colab GPU: not measured (this project's machines have none).

# %% [markdown] slideshow={"slide_type": "notes"}
# Earlier in the course we met Fashion-MNIST: 70,000 grey 28×28 pictures of clothing on a plain
# background, where a small dense network already reaches about 88% test accuracy. CIFAR-10 looks
# similar on paper (ten classes, tiny images) but is much harder: the objects are photographed in
# the wild, in colour, at any position, scale and pose, against cluttered backgrounds. A dense network
# that flattens the pixels reaches only about 50% here. That gap is why the rest of this book uses a
# convolutional network, and one that was already trained on millions of photographs.

# %% [markdown] slideshow={"slide_type": "notes"}
# Every chapter starts the same way: it reads which run to show (the profile, the data source and
# the weights; the defaults are the course recipe with Keras's downloads, as in Colab) and prints a
# **run card** saying exactly what produced the numbers on the page.

# %%
from cifar_lessons.config import chapter_config
from cifar_lessons.data import download_cifar10, load_cifar10, split_validation
from cifar_lessons.display import plots, provenance, run_card, show_code

config = chapter_config()
data = load_cifar10(config.data, n=config.n, seed=config.seed)
provenance(run_card(config, data.source.to_dict()))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Loading CIFAR-10 with Keras
#
# Keras downloads the dataset once and gives it as NumPy arrays; the recipe keeps the first 10,000
# training images. This is the code `load_cifar10` runs, from the package:

# %%
show_code(download_cifar10)

# %% [markdown] slideshow={"slide_type": "notes"}
# This is the function that runs online and in Colab. A machine without internet names a local copy
# of the data instead (`CIFAR_LESSONS_DATA`), and `load_cifar10` reads the same arrays from it; the
# run card above says which source this page used.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What the images look like
#
# One row per class, eight random training images each, at their real resolution.

# %% tags=["hide-input"] slideshow={"slide_type": "fragment"}
plots.sample_grid(data.x_train, data.y_train, data.class_names)

# %% [markdown] slideshow={"slide_type": "notes"}
# Look at how little there is to go on. A cat is a few hundred pixels of fur-coloured texture; a
# bird may be a dark blob against the sky; automobiles and trucks differ mostly in shape at a scale
# of a handful of pixels. Colour helps (ships sit on blue water, frogs are green-brown), but it also
# misleads: a deer on grass and a horse on grass share most of their pixels. Whatever the model
# learns, it must learn it from shapes and textures only a few pixels across.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The arrays
#
# Keras gives images as `uint8` arrays with values 0–255 and labels as class indices. We keep
# both exactly like that: preprocessing for the model happens later, in the data pipeline.

# %% tags=["slides-show-output"]
print("training images:", data.x_train.shape, data.x_train.dtype,
      "values", data.x_train.min(), "to", data.x_train.max())
print("training labels:", data.y_train.shape, data.y_train.dtype, "e.g.", data.y_train[:10])
print("test images:    ", data.x_test.shape)
names = [f"{i}={name}" for i, name in enumerate(data.class_names)]
print("classes:        ", ", ".join(names[:5]))
print("                ", ", ".join(names[5:]))

# %% [markdown] slideshow={"slide_type": "notes"}
# The labels are plain integers 0–9 in one flat vector, everywhere in this book. That choice fixes
# the loss: *sparse* categorical cross-entropy, which takes class indices directly, instead of
# one-hot vectors and plain categorical cross-entropy. Mixing the two conventions is a classic source
# of shape errors (or worse, of silently wrong losses), so the helpers never do.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Why only the first 10,000 training images?
#
# The full training set has 50,000 images; the recipe keeps the first *n* = 10,000 and all 10,000
# test images.

# %% [markdown] slideshow={"slide_type": "notes"}
# Two reasons. The practical one: the whole recipe on 10,000 images takes about 9 minutes with ResNet50
# on a 2-core laptop CPU (515 s in the project's benchmark) and a few minutes on Colab's GPU, which fits a class. The teaching one: transfer
# learning is said to matter most when labelled data is scarce, and a fifth of the data makes that a
# question we can measure rather than assume.
# Measured on these images (chapter 7, *Transfer or from scratch?*), the answer depends on the input size.
# At the recipe's 32×32, a small CNN trained from scratch for about the same compute as the seed recipe
# reached 69.3 % on the test set, far above the seed recipe's ImageNet-initialised network (53.9 %).
# Transfer wins once the images are enlarged to a size its ImageNet filters know: at 128×128, 76.1 % with
# the frozen base and a new head alone, 88.2 % with the better profile. With fewer images the gap at 128
# pixels grows: with 1,000 training images the network from scratch reached 51.8 % and the frozen base
# with a head at 128 pixels 69.8 %, while at 32 pixels that head stayed below the network from scratch at
# every size (37.1 % with 1,000 images). The usual claim, that a network trained from scratch struggles on
# 10,000 images while a pretrained one does well, is therefore false at 32 pixels and true at 128:
# transfer learning pays when the pretrained filters see images at a size like the one they learnt from.
#
# The official archive is already in random order, so its first 10,000 images are a fair sample.
# A copy stored as class folders is sorted by class, and its first 10,000 would be two classes only,
# so the loader shuffles such a copy with a fixed seed before it takes the first *n*. The chart
# below checks the result.

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
plots.class_balance(data.y_train, data.y_test, data.class_names)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Validation comes from the training images
#
# While training, we need a score on images the model has not seen, to pick epochs and learning
# rates and to spot overfitting. That score must **not** come from the test set.

# %%
show_code(split_validation)

# %% tags=["slides-show-code", "slides-show-output"]
train_images, train_labels = data.x_train, data.y_train  # the first 10,000 (chapter 3 splits them so)
(fit_images, fit_labels), (val_images, val_labels) = split_validation(
    train_images, train_labels, config.validation_fraction)  # 0.1: the last 1,000 of 10,000
print(f"fit on {len(fit_images):,}, validate on {len(val_images):,}, test at the end on {len(data.x_test):,}")

# %% [markdown] slideshow={"slide_type": "notes"}
# Every decision we make while looking at a score (stop here, lower the learning rate, try another
# head) fits the model a little to the images behind that score. If those were the test images, the
# final test accuracy would be optimistic: we would have tuned on it. So the last 10% of the training
# subset is held out for validation, and the test set is touched exactly once, in chapter 5.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Takeaways
#
# - 32×32 colour photos in the wild: far harder than Fashion-MNIST.
# - Train on the first 10,000 images (shuffled first if the copy is sorted); test on all 10,000.
# - Validation is split from training data; the test set waits for chapter 5.
#
# Next: [the architecture](02_architecture.ipynb) that will look at these pixels.

# %% [markdown] tags=["exercises"]
# ## Exercises
#
# Try each before opening its solution. A solution with code runs on this page, so its output is
# this page's own; in Colab, run it after the chapter's cells.

# %% [markdown] tags=["exercises"]
# ```{exercise} Is the subset balanced?
# :label: ex-01-balance
# :nonumber:
#
# The project trains on the *first* 10,000 training images, not a sample drawn class by class.
# **Predict** how far the class counts can stray from 1,000 each, then count them with `np.bincount`.
# ```
# ```{solution-start} ex-01-balance
# :class: dropdown
# ```
#
# CIFAR-10's training batches are already shuffled, so the first 10,000 are close to a random
# sample: each class gets about 1,000, give or take a few dozen (a binomial's standard deviation,
# $\sqrt{10000 \cdot 0.1 \cdot 0.9} = 30$).

# %% tags=["exercises"]
import numpy as np

counts = np.bincount(train_labels, minlength=10)
print(dict(zip(data.class_names, counts.tolist())))
print(f"fewest {counts.min()}, most {counts.max()}; a binomial's sd would be {np.sqrt(len(train_labels) * 0.1 * 0.9):.0f}")

# %% [markdown] tags=["exercises"]
# ```{solution-end}
# ```

# %% [markdown] tags=["exercises"]
# ```{exercise} Which images validate
# :label: ex-01-split
# :nonumber:
#
# `split_validation` keeps the *last* images for validation. When would that be a mistake? Check
# the class counts of `val_labels` here.
# ```
# ```{solution-start} ex-01-split
# :class: dropdown
# ```
#
# Taking the last images is only safe because the data are in random order. Sorted by
# class, the last 1,000 would be all trucks, and validation would measure one class. Here every class
# is present.

# %% tags=["exercises"]
import numpy as np

print(dict(zip(data.class_names, np.bincount(val_labels, minlength=10).tolist())))

# %% [markdown] tags=["exercises"]
# ```{solution-end}
# ```

# %% [markdown] tags=["exercises"]
# ```{exercise} Why the test set waits
# :label: ex-01-test
# :nonumber:
#
# The test set is used once, at the end. What goes wrong if you look at test accuracy after every
# change and keep the changes that raise it?
# ```
#
# ```{solution} ex-01-test
# :class: dropdown
#
# Each choice made on the test set fits the model, a little, to those 10,000 images: after
# enough choices, the test accuracy is no longer an estimate of accuracy on new images but a score
# the choices were tuned to. Validation images, split from the training set, are for choosing; the
# test set is for the one final measurement.
# ```
