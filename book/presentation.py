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

# %% tags=["remove-cell"] slideshow={"slide_type": "skip"}
# Colab only: set USE_DRIVE = True to keep the trained models in your Google Drive (Colab asks to connect it):
# they then outlive this runtime and chapters 3-7 share them. Otherwise each chapter retrains what it needs.
USE_DRIVE = False
if USE_DRIVE:
    from cifar_lessons.colab import use_drive
    use_drive()

# %% [markdown] slideshow={"slide_type": "slide"}
# # Transfer learning on CIFAR-10
#
# A pretrained convolutional network adapted to 32×32 photos, in three parts: **1** the problem and
# the data; **2** the architecture and training; **3** the challenges, decisions and takeaways.

# %% [markdown] slideshow={"slide_type": "notes"}
# **In Colab,** this notebook asks for a T4 GPU; if you got a CPU, switch with *Runtime → Change
# runtime type → T4 GPU*.
# Without Drive, this notebook retrains and evaluates chapters 3 to 5 first: about 9 min on a 2-core CPU.
# On a T4 that should take about a minute (an estimate: see the book's introduction).

# %% slideshow={"slide_type": "skip"}
from IPython.display import Markdown

from cifar_lessons.config import chapter_config, progress_verbose
from cifar_lessons.display import model_line, plots, run_card, show_results, show_table, training_line
from cifar_lessons.display.ladder import accuracy_time_figure, ladder_table
from cifar_lessons.models import base_of
from cifar_lessons.recipe import full_stage, load_data, runs_root
from cifar_lessons.records.store import find_records

config = chapter_config()
data = load_data(config)
record = full_stage(config, data, verbose=progress_verbose())

# %% tags=["hide-input"]
from cifar_lessons.display import provenance, record_card
from cifar_lessons.records.committed import LADDER, committed

card = run_card(config, record.data, record.weights, record.record)
names = dict.fromkeys(step.record for step in LADDER)  # the records the ladder quotes
provenance(card, *(record_card(committed(name)) for name in names))

# %% [markdown] slideshow={"slide_type": "notes"}
# This presentation reuses the run the chapters made, so every number here matches the book. The run
# card above (in full in these notes) says which data, weights and profile produced it.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1 · The problem and the data
#
# Classify 32×32 colour photos into ten classes, with only 10,000 labelled training images.

# %% tags=["hide-input"]
plots.sample_grid(data.x_train, data.y_train, data.class_names, per_class=14)

# %% [markdown] slideshow={"slide_type": "notes"}
# CIFAR-10: 50,000 training and 10,000 test images, ten balanced classes. We train on the first
# 10,000 training images (9,000 to fit, 1,000 to validate) and test once on all 10,000 test images.
# The images are tiny and photographed in the wild, which is why a dense network gets only about 50%
# here, compared with about 88% on Fashion-MNIST earlier in the course.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2 · The architecture

# %% tags=["hide-input"]
model_line(config, record.weights)

# %% tags=["hide-input"]
model = record.load_model()
base_of(model).trainable = False  # as in phase 1, which the line above describes first
plots.model_blocks(model)

# %% [markdown] slideshow={"slide_type": "notes"}
# Each box is one layer of the model trained here, with its output shape and parameter count;
# blue is frozen, green trains. The base turns each image into one feature vector (at 32×32 input its
# last feature map is 1×1). With ResNet50 that vector has 2048 features and the base 23.6 million
# parameters, against about half a million in the head.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2 · Training in two phases

# %% tags=["hide-input"]
training_line(config)

# %% tags=["hide-input"]
plots.training_curves(record.history["history"], record.history["phase2_start"])

# %% [markdown] slideshow={"slide_type": "notes"}
# The dashed line is where the base was unfrozen and the model recompiled with a learning rate a
# hundred times lower. Validation images come from the training subset; the test set was not used.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3 · Results

# %% tags=["hide-input"]
Markdown(f"**Test accuracy: {record.metrics['accuracy']:.1%}** on {record.metrics['n_test']:,} test images "
         "never used in training (chance: 10%).")

# %% tags=["hide-input"]
show_results(find_records(runs_root()))

# %% [markdown] slideshow={"slide_type": "notes"}
# One row per evaluated run in the runs folder; the full table, with loss, time and machine,
# is in the book (chapter 7). Check each row's profile, data and weights before comparing numbers.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## 3 · Doing better (measured at full size)

# %% tags=["hide-input"]
show_table(ladder_table(), ["change", "input", "test accuracy", "wall time", "record"])

# %% [markdown] slideshow={"slide_type": "notes"}
# Full-size runs with EfficientNet-Lite0 on the full 10,000 images and 2 CPU cores; the box at the
# top gives each one's command and commit, and chapter 6 chooses among them on validation. One change at a time from the seed recipe.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## 3 · What each run costs

# %% tags=["hide-input"]
accuracy_time_figure()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## 3 · Transfer or from scratch?

# %% tags=["hide-input"]
from cifar_lessons.scratch.figures import scratch_transfer_figure

scratch_transfer_figure()

# %% [markdown] slideshow={"slide_type": "notes"}
# Every point is a committed record on the same 10,000 training images and 10,000 test images. At 32 px a
# small CNN from scratch (69.3 %) beats the seed recipe (53.9 %) and the frozen ImageNet base with a head
# (48.4 %); at 128 px transfer wins: 76.1 % with the head alone, 88.2 % with both phases (better profile).
# With fewer images the gap at 128 pixels grows: with 1,000 training images the network from scratch
# reached 51.8 % and the frozen base with a head at 128 pixels 69.8 %, while at 32 pixels that head stayed
# below the network from scratch at every size (37.1 % with 1,000 images).

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## 3 · Where it goes wrong

# %% tags=["hide-input"]
plots.confusion_heatmap(record.metrics["confusion_matrix"], data.class_names, annot_size=11)

# %% [markdown] slideshow={"slide_type": "notes"}
# Rows are the true classes, columns the predictions; each row sums to 1. With ImageNet weights the
# mistakes follow visual similarity: cat and dog, automobile and truck, and bird, airplane and deer
# through their backgrounds.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3 · Challenges and decisions
#
# - **Tiny inputs** for a 224-pixel network: kept 32×32, as the recipe says; the final map is 1×1.
# - **Protecting pretrained features**: head first on a frozen base, then a low learning rate.
# - **BatchNorm**: kept frozen in both phases (in Keras 3, `training=False` alone is not enough).
# - **Honest numbers**: validation from training data; the test set used once; every run recorded.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3 · Takeaways
#
# - Measured: transfer wins at 128×128 (88.2 %); at 32×32 a small CNN from scratch
#   (69.3 %) beats the seed recipe (53.9 %).
# - Cat/dog and automobile/truck remain the hard pairs at 32×32.
# - Measured: fine-tuning at 10⁻⁴ with a decay, flips and crops, and larger inputs do much better.
# - Next: all 50,000 images, 224-pixel inputs, longer training.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Try the classifier

# %% tags=["hide-input"]
# The live component of the book's "Try the classifier" page: the trained model runs in the browser
# (ONNX Runtime Web, served by the site). Outside the built site (in Colab, say) only its first line shows.
from IPython.display import HTML

HTML(
    '<div class="cifar-demo">The live classifier runs in the built book: open this slide in its deck, '
    "or the page Try the classifier.</div>"
    '<script src="../_static/classifier_demo.js"></script>'
)

# %% [markdown] slideshow={"slide_type": "notes"}
# Pick a test image with the keys 1 to 9 and 0, or Tab to the row of images and use the arrow keys;
# a photo of the audience's own can be chosen or dropped. Say what the model cannot know: only ten
# classes, and 32×32 pixels.
