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

SOURCE = "cifar-lessons @ git+https://github.com/cifar-lessons/cifar-lessons@v0.1.0"
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

# %%
from cifar_lessons.backbones import describe_weights
from cifar_lessons.config import chapter_config
from cifar_lessons.data import load_cifar10
from cifar_lessons.display import plots, run_card, shown_backbone
from cifar_lessons.models import base_of, build_classifier, spatial_sizes, trainable_counts

config = chapter_config()
data = load_cifar10(config.data, n=config.n, seed=config.seed)
run_card(config, data.source.to_dict(), describe_weights(config.weights, config.backbone))

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
# ResNet50 has 50 layers in 16 *residual blocks*. Each block learns a correction that is **added**
# to its input, `y = x + F(x)`, so a block that has nothing useful to add can pass its input through.

# %% [markdown] slideshow={"slide_type": "notes"}
# Before ResNet (He et al., 2015), making a plain network deeper eventually made it *worse*, even on
# its training data. He et al. call this *degradation* an optimisation difficulty, "unlikely to be
# caused by vanishing gradients": their plain networks used batch normalisation, and their gradients
# kept healthy norms, yet the deeper network was harder to fit. A shortcut makes the easy solution, "change nothing", the default: each block starts as
# roughly the identity and only has to learn a correction.
#
# Every block also uses batch normalisation. While training, it standardises each channel with the
# mean and variance of the current batch, then scales and shifts it by two learned parameters,
# γ and β; it also keeps running averages of the mean and variance, which replace the
# batch's statistics at inference. In the pretrained base, those running averages were collected on
# ImageNet; chapter 4 has to protect them.

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
model = build_classifier(config.backbone, config.weights, config.image_size, config.head, config.dropout)
model.summary(expand_nested=False, show_trainable=True)

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
for name, side, channels in spatial_sizes(base_of(model)):
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
# Note also the input preprocessing. ResNet50's ImageNet weights expect `preprocess_input` from
# `keras.applications.resnet50`: pixel values 0–255, channels in BGR order, with the ImageNet mean
# subtracted. Dividing by 255 first (the habit from Fashion-MNIST) silently feeds the network inputs
# it has never seen. The data pipeline applies the right function for each backbone.

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
