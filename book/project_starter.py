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

# %% [markdown]
# # Your project: the starter notebook
#
# The course project adapts ResNet50, pretrained on ImageNet, to CIFAR-10 in ten steps. This notebook
# gives you the steps; you write the code. Each step has a cell marked `TODO`: replace its `None`s
# with your code (the hint names the Keras call to look up). After each step, run the check cell below
# it. It prints one line: what looks wrong, or `✓ step N looks right`. It tells you *what* is wrong,
# never how to fix it; the chapters of this book explain the how and the why.
#
# Write comments as you go that say *why* each step is done the way it is: the notebook is what you
# hand in. The [rubric](project_rubric.md) says what a good hand-in shows. When you are done, or stuck,
# compare with the [solution](project_solution.ipynb).
#
# **In Colab,** this notebook asks for a T4 GPU; if you got a CPU, switch with *Runtime → Change
# runtime type → T4 GPU*. On a CPU, the two training steps take minutes: the book's ResNet50 run took
# 7 min 43 s to fine-tune on a 2-core CPU like Colab's.

# %% [markdown]
# ## Settings
#
# The project's numbers, named once. Use these names in your code rather than typing the numbers again.

# %%
import math

import keras
import matplotlib.pyplot as plt
import numpy as np
from keras import layers
from keras.applications.resnet50 import preprocess_input

from cifar_lessons import checks as check

N_TRAIN = 10_000      # the first 10,000 training images
VAL_FRACTION = 0.1    # 10% of them held out to validate on
HEAD_EPOCHS = 10      # phase 1: the head alone
FINE_TUNE_EPOCHS = 10  # phase 2: everything
HEAD_LR = 1e-3        # for the new head
FINE_TUNE_LR = 1e-5   # for fine-tuning
BATCH_SIZE = 64
keras.utils.set_random_seed(42)  # repeatable runs

# %% [markdown]
# ## Step 1. Load CIFAR-10
#
# Load all 50,000 training images and the 10,000 test images, with their labels (class numbers 0–9).

# %%
# TODO step 1: load CIFAR-10 into these four names.
# Hint: keras.datasets.cifar10.load_data()
all_train_images = all_train_labels = test_images = test_labels = None

# %%
check.step1(all_train_images, all_train_labels, test_images, test_labels)

# %% [markdown]
# ## Step 2. Keep the first 10,000 training images
#
# The project trains on the first `N_TRAIN` training images only. Keep each image with its label.

# %%
# TODO step 2: the first N_TRAIN training images and their labels.
# Hint: NumPy slicing, array[:n]
train_images = train_labels = None

# %%
check.step2(train_images, train_labels, all_train_images, all_train_labels, n=N_TRAIN)

# %% [markdown]
# ## Step 3. Hold out a validation set
#
# Split the 10,000 into images to fit on and `VAL_FRACTION` of them to validate on while training.
# Which images may the validation set contain, and which may it never contain? Say why in a comment.

# %%
# TODO step 3: split train_images and train_labels into a fit part and a validation part.
# Hint: slicing again; keras' fit(validation_split=...) does the same split, but you would not see it
fit_images = fit_labels = val_images = val_labels = None

# %%
check.step3(fit_images, fit_labels, val_images, val_labels, train_images, train_labels, test_images)

# %% [markdown]
# ## Step 4. Preprocess for the base
#
# ResNet50's ImageNet weights were trained on images prepared in one particular way. Prepare the fit,
# validation and test images the same way, as float32 arrays.

# %%
# TODO step 4: the model's inputs, one array per set.
# Hint: keras.applications.resnet50.preprocess_input (imported above as preprocess_input); read what it expects
fit_inputs = val_inputs = test_inputs = None

# %%
check.step4(preprocess_input, fit_images, fit_inputs, val_images, val_inputs, test_images, test_inputs)

# %% [markdown]
# ## Step 5. The pretrained base, frozen
#
# ResNet50 with its ImageNet weights, for 32×32 images, without its ImageNet classifier, and frozen.

# %%
# TODO step 5: build the base and freeze it.
# Hint: keras.applications.ResNet50(...) and the model's trainable attribute
base_model = None

# %%
check.step5(base_model)

# %% [markdown]
# ## Step 6. The head
#
# On top of the base: pooling, two hidden Dense layers (256 then 128 units), and an output layer with
# one probability per class. Dropout between them is your choice; say why in a comment if you use it.

# %%
# TODO step 6: the whole model, base and head.
# Hint: keras.Input, base_model(..., training=False), layers.GlobalAveragePooling2D, layers.Dense, keras.Model
model = None

# %%
check.step6(model, base_model)

# %% [markdown]
# ## Step 7. Train the head
#
# Compile the model, then train it for `HEAD_EPOCHS` epochs on the fit set, validating on the
# validation set.

# %%
# TODO step 7: compile, then train; keep what fit returns.
# Hint: model.compile(optimizer=..., loss=..., metrics=...) and model.fit(..., validation_data=...)
history_head = None

# %%
check.step7(model, base_model, history_head, epochs=HEAD_EPOCHS)

# %% [markdown]
# ## Step 8. Unfreeze the base, and compile again
#
# Let the whole base train, except its BatchNormalization layers: why must those stay frozen? (Chapter 4
# explains.) Then compile again with the fine-tuning learning rate.

# %%
# TODO step 8: unfreeze the base (its BatchNormalization layers stay frozen), then compile again.
# Hint: base_model.layers, isinstance(layer, layers.BatchNormalization), keras.optimizers.Adam(FINE_TUNE_LR)

# %%
check.step8(model, base_model, learning_rate=FINE_TUNE_LR)

# %% [markdown]
# ## Step 9. Fine-tune
#
# Train the whole model for `FINE_TUNE_EPOCHS` more epochs, validating as before. Then plot both
# phases' training and validation accuracy: what do the curves say?

# %%
# TODO step 9: train again; keep what fit returns.
# Hint: model.fit, as in step 7
history_tune = None

# %%
check.step9(model, base_model, history_tune, epochs=FINE_TUNE_EPOCHS, learning_rate=FINE_TUNE_LR)

# %% [markdown]
# ## Step 10. Evaluate on the test set, once
#
# Report the test accuracy with its standard error, √(p(1−p)/n) for n test images.

# %%
# TODO step 10: the test set's loss and accuracy.
# Hint: model.evaluate
test_loss = test_accuracy = None

# %%
check.step10(test_loss, test_accuracy, history_tune)
