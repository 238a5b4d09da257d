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
# # 6. Takeaways
#
# What the project showed, the decisions behind it, and what to try next.

# %%
from cifar_lessons.book import chapter_config, progress_verbose, run_card, show_results
from cifar_lessons.recipe import full_stage, load_data, runs_root
from cifar_lessons.records import find_records

config = chapter_config()
data = load_data(config)
record = full_stage(config, data, verbose=progress_verbose())
run_card(config, record.data, record.weights, record.record)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Results
#
# Every evaluated run record in this build's run folder, one row each. A row is only as good as its
# run card: check the profile, the data and the weights before comparing numbers.

# %% tags=["hide-input"]
show_results(find_records(runs_root()))

# %% [markdown] slideshow={"slide_type": "notes"}
# `profile` says whether a row is the course recipe (`seed`: 10,000 images, 10 + 10 epochs) or the
# `quick` version used to test the pipeline. `weights` says whether the base started from ImageNet or
# from random numbers; only `imagenet` rows say anything about transfer learning. Rows made with
# `python -m cifar_lessons run` land in `runs/` and can be added by pointing `CIFAR_LESSONS_RUNS` there.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Challenges met, decisions made
#
# | challenge | decision |
# |---|---|
# | 32×32 images, a 224×224 network | keep 32×32 (the recipe) and accept a 1×1 final feature map |
# | random head wrecks pretrained filters | two phases: head first on a frozen base, then everything |
# | BatchNorm statistics drift when fine-tuning | keep BatchNorm frozen (inference mode) in both phases |
# | big model, 9,000 training images | fine-tune at 10⁻⁵ for only 10 epochs, with dropout in the head |
# | tuning on the test set inflates results | validate on 10% of the training subset; test once |
# | ResNet50 expects BGR, mean-subtracted 0–255 input | the backbone's own `preprocess_input`, never `/255` |
# | a sorted copy of the data | shuffle with a fixed seed before taking the first *n* |

# %% [markdown] slideshow={"slide_type": "slide"}
# ## With more time
#
# - **More data**: all 50,000 training images, not 10,000.
# - **Larger inputs**: resize to 96 or 224 pixels inside the model (`image_size=`).
# - **Augmentation**: random flips and crops (`augment=True`).
# - **Longer training**, with early stopping on the validation loss.

# %% [markdown] slideshow={"slide_type": "notes"}
# Each of these trades compute for accuracy. More data is the surest gain. Larger inputs give ResNet50
# back the spatial resolution it was trained at: published fine-tuning results reach about 88–91% test
# accuracy with ResNet50 at 224×224 on 10,000 images, against the 32×32 recipe here. On this project's
# 2-core CPU machines, with EfficientNet-Lite0 and the same 10,000 images and 10 + 10 epochs, going from
# 32×32 to 96×96 inputs raised test accuracy from 53.7% to 78.0% and the run time from 4 to 17 minutes
# (`scripts/measure.sh`; the README lists the runs). Augmentation
# multiplies the variety of the 10,000 images and fights the overfitting seen in chapter 4. Longer
# training only helps with the other three in place; without them, the validation curve in chapter 4
# already flattens. All of them are options of `cifar_lessons`, so each is a one-line experiment
# whose run record joins the table above.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Takeaways
#
# - Transfer learning: reuse ImageNet filters, train a head, then fine-tune gently.
# - Every number comes with its run card: data, weights, profile, machine.
# - The biggest limits of the recipe are 32×32 inputs and 10,000 images.
