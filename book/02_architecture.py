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
# # 2. The architecture
#
# A convolutional network pretrained on ImageNet, with its classifier cut off, under a small new
# head for our ten classes.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## In this chapter
#
# You will learn to:
#
# - build a pretrained base without its top, and a two-`Dense` head on it;
# - preprocess images the way the base's ImageNet weights expect;
# - explain a residual block, and what BatchNorm does in training and at inference;
# - read a model summary: which parameters train and which are frozen.
#
# **Before it:** [The dataset](01_dataset.ipynb); [transfer learning on Fashion-MNIST](00c_fashion_transfer.ipynb).
#
# **Time:** Under a minute on 2 CPU cores; it trains nothing. On a Colab GPU: not measured (this project's machines have none).

# %%
from cifar_lessons.backbones import describe_weights
from cifar_lessons.config import chapter_config
from cifar_lessons.data import load_cifar10
from cifar_lessons.display import plots, provenance, run_card, show_code, shown_backbone
from cifar_lessons.models import base_of, build_base, classifier_on, pretrained_base, spatial_sizes, trainable_counts
from cifar_lessons.pipeline import preprocess

config = chapter_config()
data = load_cifar10(config.data, n=config.n, seed=config.seed)
weights = describe_weights(config.weights, config.backbone)
provenance(run_card(config, data.source.to_dict(), weights))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Convolutions: what they see
#
# A convolution slides a small filter (3×3 pixels, say) over the image and responds where the
# pattern under it matches. Stacked, the early layers find edges and colour blobs, the middle ones
# textures and parts, the deep ones whole objects.

# %% [markdown] slideshow={"slide_type": "notes"}
# Two properties make this the right tool for photographs. A filter has few weights and is reused at
# every position, so a cat's ear is recognised wherever it is in the frame (a dense layer would
# have to learn it separately for each position). And each layer sees a larger part of the image than
# the one before, so simple local patterns are combined into larger and more meaningful ones.
#
# Learning good filters takes a lot of data. ImageNet has 1.3 million labelled photographs in 1,000
# classes, and a network trained on it has filters for edges, fur, wheels, wings and water that are
# useful for almost any photo. **Transfer learning** reuses them: we keep the trained convolutional
# part (the *base*) and train only a new, small classifier on top, then gently adjust everything.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## ResNet50 and residual blocks
#
# ResNet50 has 50 layers in 16 *residual blocks*. Each block learns a correction $F(x)$, a few
# convolutions with BatchNorm, that is **added** to its input, $y = \mathrm{ReLU}\big(x + F(x)\big)$,
# so a block that has nothing useful to add can pass its input through.

# %% [markdown] slideshow={"slide_type": "notes"}
# Before ResNet (He et al., 2015), making a plain network deeper eventually made it *worse*, even on
# its training data. He et al. call this *degradation* an optimisation difficulty, "unlikely to be
# caused by vanishing gradients": their plain networks used batch normalisation, and their gradients
# kept healthy norms, yet the deeper network was harder to fit. A shortcut makes the easy solution, "change nothing", the default: each block starts as
# roughly the identity and only has to learn a correction.
#
# Every block also uses batch normalisation. While training, it standardises each channel with the
# mean $\mu_B$ and variance $\sigma_B^2$ of the current batch, then scales and shifts it by two
# learned parameters, $\gamma$ and $\beta$:
#
# $$\hat x = \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}}, \qquad y = \gamma \hat x + \beta .$$
#
# It also keeps running averages, $\hat\mu \leftarrow m \hat\mu + (1 - m) \mu_B$ (and the same for
# the variance, with momentum $m$ = 0.99 in Keras), which replace the batch's statistics at inference:
# $y = \gamma (x - \hat\mu) / \sqrt{\hat\sigma^2 + \epsilon} + \beta$. In the pretrained base, those running
# averages were collected on ImageNet; chapter 4 has to protect them.

# %% [markdown] slideshow={"slide_type": "subslide"}
# One block drawn out: the boxes compute the correction F(x); the shortcut carries x past them, to be added.

# %% tags=["hide-input"]
from cifar_lessons.display import concepts

concepts.residual_block()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The whole model
#
# Base (frozen) → global average pooling → Dense 256 → Dense 128 → 10-way softmax.

# %% tags=["slides-show-code", "slides-output-to-notes"]
base_model = build_base(config.backbone, config.weights, config.image_size)  # pretrained_base() online
model = classifier_on(base_model, config.image_size, config.head, config.dropout)
model.summary(expand_nested=False, show_trainable=True)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The pretrained base
#
# ResNet50 from `keras.applications`, with its ImageNet weights and without its 1,000-class top.

# %%
show_code(pretrained_base)

# %% [markdown] slideshow={"slide_type": "notes"}
# That is what `build_base` runs for ResNet50 with ImageNet weights, online and in Colab. Offline, a
# build names another base or weights on disk (`CIFAR_LESSONS_BACKBONE`, `CIFAR_LESSONS_WEIGHTS`), and
# `build_base` builds that one instead; the run card says which.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The new head on the frozen base

# %%
show_code(classifier_on)

# %% [markdown] slideshow={"slide_type": "notes"}
# The head has two hidden Dense layers, the first wider than the second (256 then 128, both powers of
# two), each followed by dropout, which randomly silences 30% of the units while training so the head
# cannot lean on any single feature. The summary shows the key fact of phase 1: of about 24 million
# parameters, only the head's half a million are trainable. Everything else is frozen.

# %% tags=["slides-show-output"]
counts = trainable_counts(model)
print(f"trainable: {counts['trainable']:,}   frozen: {counts['non_trainable']:,}   "
      f"({counts['trainable'] / counts['total']:.1%} of the model trains in phase 1)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Keras draws the same model; the base is one box, marked not trainable.

# %% tags=["hide-input"]
plots.model_diagram(model)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What 32×32 input means for ResNet50
#
# ResNet50 was designed for 224×224 images. It halves the feature map five times, so a 32×32 image
# shrinks to **1×1** by the last block.

# %% tags=["hide-input"]
shown_backbone(config)

# %% tags=["slides-show-output"]
for name, side, channels in spatial_sizes(base_model):
    print(f"{name:>22}: {side:>2}x{side:<2} x {channels:>4} channels")

# %% [markdown] slideshow={"slide_type": "notes"}
# At 224×224 the last feature map is 7×7: 49 positions, each describing a region of the image. At
# 32×32 it is a single position: the 2048 channels must describe the whole image at once, and the
# early layers see the object at a scale they were not trained for (an ImageNet filter that learnt
# "dog's eye" at 224 pixels meets a whole dog in 32). That is the main handicap of this recipe, and
# the first thing to change with more compute (chapter 6): resizing the input to 96 or 224 pixels
# gives the network back its spatial detail, at the cost of much more computation. The recipe keeps
# 32×32 so that it runs in a class.
#
# %% [markdown] slideshow={"slide_type": "slide"}
# ## The input the base expects
#
# ResNet50's ImageNet weights expect `keras.applications.resnet50.preprocess_input`, applied to pixel
# values 0–255: never divide by 255 first.

# %%
show_code(preprocess)

# %% [markdown] slideshow={"slide_type": "notes"}
# `preprocess_input` flips the channels to BGR order and subtracts the ImageNet mean pixel, as the
# weights were trained. Dividing by 255 first (the habit from Fashion-MNIST) silently feeds the network
# inputs it has never seen. The data pipeline (chapter 3) applies this function to every batch.

# %% [markdown] slideshow={"slide_type": "subslide"}
# One CIFAR-10 image through the pretrained base: its first layer's filters and what they give, then
# at each map size the channels that vary most, the maps shrinking as the base goes deeper.

# %% tags=["hide-input"]
from cifar_lessons.models import feature_maps, first_filters

image = data.x_train[data.y_train == data.class_names.index("cat")][0]
concepts.feature_maps(image, first_filters(base_of(model)), feature_maps(base_of(model), image, config.backbone))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Takeaways
#
# - Reuse ImageNet's convolutional filters; train only a small head first.
# - Residual blocks make 50 layers trainable; their BatchNorm statistics are precious.
# - At 32×32, ResNet50's final feature map is 1×1.
#
# Next: [training the head](03_training_the_head.ipynb).

# %% [markdown] tags=["exercises"]
# ## Exercises
#
# Try each before opening its solution. A solution with code runs on this page, so its output is
# this page's own; in Colab, run it after the chapter's cells.

# %% [markdown] tags=["exercises"]
# ```{exercise} The head's width
# :label: ex-02-width
# :nonumber:
#
# The head's two `Dense` layers have 256 and 128 units. **Predict** how many trainable
# parameters a head of 64 and 32 units has, then build it on the same base and count.
# ```
# ```{solution-start} ex-02-width
# :class: dropdown
# ```
#
# A `Dense` layer from $n$ inputs to $m$ units has $nm + m$ parameters; the base's pooled
# output is the first layer's $n$. The frozen base is unchanged.

# %% tags=["exercises"]
narrow = classifier_on(base_model, config.image_size, (64, 32), config.dropout, name="narrow_head")
for name, m in (("256, 128", model), ("64, 32", narrow)):
    print(f"head {name}: {trainable_counts(m)['trainable']:,} trainable parameters")

# %% [markdown] tags=["exercises"]
# ```{solution-end}
# ```

# %% [markdown] tags=["exercises"]
# ```{exercise} 0–255 or 0–1?
# :label: ex-02-preprocess
# :nonumber:
#
# `keras.applications.resnet50.preprocess_input` expects pixels from 0 to 255. **Predict** what it
# returns for a mid-grey pixel given as 127.5, and as 0.5 (an image already divided by 255).
# ```
# ```{solution-start} ex-02-preprocess
# :class: dropdown
# ```
#
# It flips RGB to BGR and subtracts ImageNet's mean per channel (about 104, 117, 124), with no
# scaling. 127.5 becomes small numbers around zero, as in training; 0.5 becomes about −103 to −123,
# an image far darker than any the base was trained on.

# %% tags=["exercises"]
import keras
import numpy as np

grey = np.full((1, 1, 1, 3), 127.5, np.float32)
print("127.5 ->", keras.applications.resnet50.preprocess_input(grey.copy()).ravel().round(1))
print("0.5   ->", keras.applications.resnet50.preprocess_input(grey / 255).ravel().round(1))

# %% [markdown] tags=["exercises"]
# ```{solution-end}
# ```

# %% [markdown] tags=["exercises"]
# ```{exercise} BatchNorm in training and at inference
# :label: ex-02-batchnorm
# :nonumber:
#
# In training, BatchNorm normalises each channel with the batch's mean $\mu_B$ and variance
# $\sigma_B^2$; at inference it uses running averages $\hat\mu, \hat\sigma^2$ kept during training.
# Write both formulas, with the learned $\gamma$ and $\beta$, and say why fine-tuning keeps these layers
# in inference mode.
# ```
#
# ```{solution} ex-02-batchnorm
# :class: dropdown
#
# Training: $\hat x = (x - \mu_B)/\sqrt{\sigma_B^2 + \epsilon}$, $y = \gamma \hat x + \beta$, and the
# running averages move towards $\mu_B, \sigma_B^2$. Inference: the same with $\hat\mu, \hat\sigma^2$ in
# place of the batch's. In fine-tuning, batches of 32 tiny CIFAR images give statistics unlike
# ImageNet's; letting them replace the running averages (and normalising with noisy batch statistics)
# would shift every activation the pretrained weights expect. So the layers stay frozen: inference
# mode, ImageNet's statistics, $\gamma$ and $\beta$ unchanged.
# ```
