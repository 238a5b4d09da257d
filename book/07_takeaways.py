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
# # 7. Takeaways
#
# What the project showed, the decisions behind it, and what to try next.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## In this chapter
#
# You will learn to:
#
# - summarise what the project measured, and where each number comes from;
# - name the decisions behind the recipe, and their alternatives;
# - plan a presentation of the project.
#
# **Before it:** Chapters 1 to 6.
#
# **Time:** Under a minute on 2 CPU cores; it trains nothing. On a Colab GPU: not measured (this project's machines have none).

# %% [markdown] slideshow={"slide_type": "notes"}
# **In Colab,** this notebook asks for a T4 GPU; if you got a CPU, switch with *Runtime → Change
# runtime type → T4 GPU*.
# Without Drive, this notebook retrains and evaluates chapters 3 to 5 first: about 9 min on a 2-core CPU.
# On a T4 that should take about a minute (an estimate: see the introduction).

# %%
from cifar_lessons.config import chapter_config, progress_verbose
from cifar_lessons.display import provenance, record_card, run_card, show_code, show_results, show_table
from cifar_lessons.display.ladder import accuracy_time_figure, ladder_table
from cifar_lessons.recipe import full_stage, load_data, runs_root
from cifar_lessons.records.committed import LADDER, committed
from cifar_lessons.records.store import find_records
from cifar_lessons.training import fine_tune, train_head

config = chapter_config()
data = load_data(config)
record = full_stage(config, data, verbose=progress_verbose())

# %%
card = run_card(config, record.data, record.weights, record.record)
names = dict.fromkeys(step.record for step in LADDER)  # the records the ladder quotes
provenance(card, *(record_card(committed(name)) for name in names))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Results
#
# Every evaluated run in the runs folder, one row each. A row is only as good as its
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
# | big model, 9,000 training images | fine-tune at 10⁻⁵ for only 10 epochs, with dropout in the head (chapter 6: 10⁻⁴ with a decay does better) |
# | tuning on the test set inflates results | validate on 10% of the training subset; test once |
# | ResNet50 expects BGR, mean-subtracted 0–255 input | the backbone's own `preprocess_input`, never `/255` |
# | a sorted copy of the data | shuffle with a fixed seed before taking the first *n* |

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The two phases, in Keras
#
# Chapters 3 and 4: the whole of the recipe's training.

# %%
show_code(train_head, fine_tune)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Measured at full size
#
# Full-size runs, one change at a time from the seed recipe (chapter 6).

# %% tags=["hide-input"]
show_table(ladder_table(), ["change", "input", "test accuracy", "wall time", "record"])

# %% [markdown] slideshow={"slide_type": "notes"}
# Unlike the table above, each row was measured once in full (EfficientNet-Lite0, ImageNet weights,
# 10,000 training images, all 10,000 test images, 2 CPU cores); the box at the top gives each one's run
# card, command and commit. Chapter 6 chooses among them on validation accuracy and reads the test
# set once, for the chosen run.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## What each run costs

# %% tags=["hide-input"]
accuracy_time_figure()

# %% [markdown] slideshow={"slide_type": "notes"}
# The changes at 32 pixels (learning rate and schedule, a shorter head phase, flips and crops,
# mirrored test images) cost no extra time and give most of the gain. Larger inputs give the rest at
# a cost that grows with the pixels, though more slowly: 16 times the pixels took about 4.4 times as long. Still untried here: all 50,000 training images instead of
# 10,000, and longer training with early stopping on the validation loss.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Transfer or from scratch?
#
# The same 10,000 training images and all 10,000 test images. From scratch: a small CNN at 32 px.
# Transfer: EfficientNet-Lite0 with its ImageNet weights. Bars: ± one standard error.

# %% tags=["hide-input"]
from cifar_lessons.scratch.figures import scratch_transfer_figure

scratch_transfer_figure()

# %% [markdown] slideshow={"slide_type": "notes"}
# Every point is a committed record on the same data: the first 10,000 training images (9,000 to fit,
# 1,000 to validate) and all 10,000 test images. From scratch, a small CNN (0.29 million weights, 15
# epochs; 6.3 CPU-minutes, where the seed recipe ran 6.1 minutes on both cores) reached 69.3 % without
# flips and crops and 67.7 % with them. Flips and crops stopped it memorising (training accuracy 70.1 %
# against 87.5 % without) but in 15 epochs did not make it better. The seed recipe, which starts from
# ImageNet, reached 53.9 %, and its frozen base with only a head 48.4 %; chapter 6's improved 32-pixel
# recipes (67.9 %, 70.2 % with five more fine-tuning epochs) only about match the network from scratch.
# **At 32 pixels, transfer does not win.** The pretrained filters were learnt on 224-pixel photos, and at
# 32 pixels the base's last feature map is 1×1. Given 128-pixel inputs it wins clearly: the head alone
# reached 76.1 % and the better profile's two phases 88.2 % (in 29.2 minutes). With fewer images the gap
# at 128 pixels grows: with 1,000 training images the network from scratch reached 51.8 % and the frozen
# base with a head at 128 pixels 69.8 %, while at 32 pixels that head stayed below the network from
# scratch at every size (37.1 % with 1,000 images). A standard error here is about half a point (of a
# difference between two runs, about 0.65), so the gaps of 15 points and more between the 32-pixel
# transfer runs and the network from scratch are far beyond noise, and the one- and two-point gaps among
# the runs near 69 % are not. The machine was shared while these runs trained (each record keeps its load
# average and CPU seconds); runs marked † would take less wall time on a quiet one.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Takeaways
#
# - Transfer learning: reuse ImageNet filters, train a head, then fine-tune gently.
# - Transfer pays when the images are large enough for the ImageNet filters: at 32×32 a small CNN
#   from scratch (69.3 %) beat the seed recipe (53.9 %); at 128×128 transfer won.
# - Every number comes with its run card: data, weights, profile, machine.
# - The recipe's biggest limits: a fine-tuning rate too low to move the base, and 32×32 inputs.

# %% [markdown] tags=["exercises"]
# ## Exercises
#
# Try each before opening its solution. A solution with code runs on this page, so its output is
# this page's own; in Colab, run it after the chapter's cells.

# %% [markdown] tags=["exercises"]
# ```{exercise} Accuracy per minute
# :label: ex-07-per-minute
# :nonumber:
#
# From the committed records of the ladder, which run gives the most test accuracy per minute of
# training on 2 CPU cores, and which the most accuracy overall? Are they the same run?
# ```
# ```{solution-start} ex-07-per-minute
# :class: dropdown
# ```
#
# The cheapest runs give the most accuracy per minute; the best run costs the most. Which to
# choose depends on the budget, which is why the book draws accuracy against time.

# %% tags=["exercises"]
from cifar_lessons.records import committed as records

runs = {s.record: records.committed(s.record) for s in records.LADDER}
for name, rec in runs.items():
    minutes = rec.record["timing"]["run_seconds"] / 60
    print(f"{name:18s} {rec.metrics['accuracy']:.1%} in {minutes:5.1f} min: {rec.metrics['accuracy'] / minutes:.2%} per minute")

# %% [markdown] tags=["exercises"]
# ```{solution-end}
# ```

# %% [markdown] tags=["exercises"]
# ```{exercise} Five minutes on stage
# :label: ex-07-present
# :nonumber:
#
# Plan a five-minute presentation of your project with the course's four parts: the problem and
# data, the architecture and training, the challenges and decisions, the takeaways. Which one figure
# would you show for each?
# ```
#
# ```{solution} ex-07-present
# :class: dropdown
#
# One possible plan: a grid of CIFAR-10 images at their real size (the problem: 32×32,
# ten classes, 10,000 training images); the model diagram and the two-phase timeline (architecture
# and training); the learning curves with the gap between training and validation (a challenge), and
# the table of changes chosen on validation (decisions); the test accuracy with its standard error
# and the confusion matrix (takeaways).
# ```

# %% [markdown] tags=["exercises"]
# ```{exercise} What to try next
# :label: ex-07-next
# :nonumber:
#
# Name two changes the project did not try that could raise test accuracy, and say how you would
# decide, without the test set, whether each helped.
# ```
#
# ```{solution} ex-07-next
# :class: dropdown
#
# For example: a larger pretrained backbone, or more training images than the first 10,000;
# label smoothing; averaging the weights of the last epochs. Each is judged on validation accuracy,
# with its standard error, against the current recipe; the test set is used once, for the recipe
# finally chosen.
# ```
