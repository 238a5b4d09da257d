# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
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
# Colab only: install the cifar_lessons helpers from the book's repository.
# TensorFlow, Keras and NumPy are already in Colab, and are not reinstalled.
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "cifar-lessons @ git+https://github.com/cifar-lessons/cifar-lessons@main"], check=True)

# %% [markdown] slideshow={"slide_type": "slide"}
# # Transfer learning on CIFAR-10
#
# A short presentation of the project, in the three parts the course asks for: the problem and the
# dataset; the model and how it was trained; the challenges, decisions and takeaways. It reuses the run
# the chapters made, so every number here matches the book.

# %% slideshow={"slide_type": "skip"}
from cifar_lessons import plots
from cifar_lessons.book import chapter_config, progress_verbose, results_table, run_card
from cifar_lessons.models import trainable_counts
from cifar_lessons.recipe import full_stage, load_data, runs_root
from cifar_lessons.records import find_records

config = chapter_config()
data = load_data(config)
record = full_stage(config, data, verbose=progress_verbose())

# %% [markdown] slideshow={"slide_type": "subslide"}
# Where these numbers come from:

# %% tags=["hide-input"]
run_card(config, record.data, record.weights, record.record)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The problem and the dataset
#
# Classify 32×32 colour photos into ten classes, with only 10,000 labelled training images.

# %% tags=["hide-input"]
plots.sample_grid(data.x_train, data.y_train, data.class_names, per_class=6)

# %% [markdown] slideshow={"slide_type": "notes"}
# CIFAR-10: 50,000 training and 10,000 test images, ten balanced classes. We train on the first
# 10,000 training images (9,000 to fit, 1,000 to validate) and test once on all 10,000 test images.
# The images are tiny and photographed in the wild, which is why a dense network gets only about 50%
# here, compared with about 88% on Fashion-MNIST earlier in the course.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. The model
#
# ResNet50 pretrained on ImageNet, without its classifier, frozen; then pooling, Dense 256,
# Dense 128 and a 10-way softmax.

# %% tags=["hide-input"]
model = record.load_model()
plots.model_diagram(model)

# %% [markdown] slideshow={"slide_type": "notes"}
# The base turns each image into 2048 features; at 32×32 input its last feature map is 1×1. The head
# has about half a million parameters, against 23.6 million in the base.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. The training process
#
# Phase 1: 10 epochs, head only, Adam 10⁻³. Phase 2: 10 epochs, everything but BatchNorm, Adam 10⁻⁵.

# %% tags=["hide-input"]
plots.training_curves(record.history["history"], record.history["phase2_start"])

# %% [markdown] slideshow={"slide_type": "notes"}
# The dashed line is where the base was unfrozen and the model recompiled with a learning rate a
# hundred times lower. Validation images come from the training subset; the test set was not used.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Results

# %% tags=["hide-input"]
results_table(find_records(runs_root()))

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
plots.confusion_heatmap(record.metrics["confusion_matrix"], data.class_names)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Challenges and decisions
#
# - **Tiny inputs** for a 224-pixel network: kept 32×32, as the recipe says; the final map is 1×1.
# - **Protecting pretrained features**: head first on a frozen base, then a low learning rate.
# - **BatchNorm**: kept frozen in both phases (in Keras 3, `training=False` alone is not enough).
# - **Honest numbers**: validation from training data; the test set used once; every run recorded.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Takeaways
#
# - Transfer learning gets far with 10,000 images, if the pretrained features are protected.
# - Cat/dog and automobile/truck remain the hard pairs at 32×32.
# - Next: all 50,000 images, larger inputs (96–224 px), augmentation, longer training.
