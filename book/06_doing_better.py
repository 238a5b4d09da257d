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
# # 6. Doing better
#
# The seed recipe is a sound start, not the best this backbone can do. Change one thing at a time,
# judge each change on the **validation** images, keep what helps, and look at the test set once, at
# the end, for the recipe you chose.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## In this chapter
#
# You will learn to:
#
# - change one thing at a time and measure its effect;
# - choose on validation accuracy, and report the test accuracy once;
# - weigh accuracy against compute: input size, schedule, augmentation.
#
# **Before it:** [Evaluation](05_evaluation.ipynb).
#
# **Time:** It reads committed runs, under a minute; the runs themselves took 5.9 min to 29.2 min each on 2 CPU cores. On a Colab GPU: not measured (this project's machines have none).

# %% tags=["hide-input"]
from cifar_lessons.display import provenance, record_card
from cifar_lessons.display import show_code
from cifar_lessons.display import show_table
from cifar_lessons.display import ladder
from cifar_lessons.records import committed

# This chapter trains nothing: it quotes full-size records.
names = dict.fromkeys(s.record for s in committed.LADDER + committed.EXTRA)
cards = [record_card(committed.committed(name)) for name in names]
provenance(None, *cards)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## One change at a time, judged on validation
#
# Each row keeps every change above it and adds one. EfficientNet-Lite0, the same 9,000 training
# and 1,000 validation images in every row; the figures are full-size runs kept in `results/`.

# %% tags=["hide-input"]
show_table(ladder.ladder_table(columns=ladder.JUDGED))

# %% [markdown] slideshow={"slide_type": "notes"}
# **The rule**, fixed before reading the table: keep a change when it raises validation accuracy
# (the last epoch's, on the 1,000 held-out training images). Each accuracy on n = 1,000 images has a
# standard error √(p(1−p)/n) of about 1.5 points, so a gain carries about ± 2.
#
# - Fine-tuning at 10⁻⁴ with a cosine decay, +7.9 ± 2.2: at 10⁻⁵ the base hardly moves in 10 epochs.
# - A 3-epoch head phase, +7.9 ± 2.2: after 10 epochs the head has memorised the training features,
#   and the gradients that reach the unfrozen base are small.
# - Flips and crops, −1.0 ± 2.1: inside the noise, not kept. With 15 fine-tuning epochs
#   (`lite0-32-better-15`) they reached 68.0 % on validation; 15 epochs without them is not measured.
# - Mirrored test images: their only evidence was the test set (+0.9 points), so they are not kept.
# - 96 pixels, +18.9 ± 1.9, and 128 pixels, +3.1 ± 1.6: ImageNet features work best near the
#   resolution they were learnt at. 9 times the pixels (96 px) took 16.7 minutes instead of 6.6,
#   16 times (128 px) took 29.2.

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
ladder.validation_figure()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The changes, in code
#
# Phase 2's rate, a cosine decay from 10⁻⁴ given to Adam, and the profile's flips and crops:

# %%
from cifar_lessons.models import cosine_decay
from cifar_lessons.pipeline import augmenter

show_code(cosine_decay)

# %% slideshow={"slide_type": "subslide"}
show_code(augmenter)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The chosen recipe, tested once
#
# Only a recipe that was trained has a validation figure, so the choice is the measured run with the
# highest one: `lite0-128-better`, 87.5 % on validation. Its test accuracy, read once:

# %% tags=["hide-input", "slides-show-output"]
choice = committed.choose_on_validation()
print(f"{choice.record}: validation {choice.validation:.1%}",
      f"on {choice.n_validation:,} images;",
      f"test {choice.test:.1%} ± {choice.test_se:.1%}",
      f"on {choice.n_test:,} images")
print(f"trained again at {len(choice.seed_tests)} seeds: test",
      f"{choice.seed_mean:.1%} ± {choice.seed_sd:.1%} (mean ± sd)")

# %% [markdown] slideshow={"slide_type": "notes"}
# **88.2 % ± 0.3 %**: the standard error says how precisely 10,000 test images measure this one
# model. Trained again at seeds 1 and 2, the same recipe gave 87.9 % and 88.0 %: over three seeds it
# is **88.0 % ± 0.2 %**, the mean ± standard deviation, against **53.5 % ± 0.4 %**, the mean ±
# standard deviation of three seeds of the seed recipe. Flips and crops are in it only because the
# 96- and 128-pixel runs had them; whether they help at 128 pixels is not measured.

# %% [markdown] slideshow={"slide_type": "fragment"}
# As a profile: `python -m cifar_lessons run --profile better` (offline, add
# `--backbone efficientnet_lite0`): 3 + 10 epochs, fine-tuning at 10⁻⁴ with a cosine decay, flips and
# crops, 128-pixel input. The seed profile stays exactly the course recipe.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Takeaways
#
# - Change one thing at a time, and judge it on validation, never on the test set.
# - Give every figure its uncertainty: a change smaller than it is no evidence either way.
# - Fine-tune faster, then decay: the seed's 10⁻⁵ leaves the base almost untouched.
# - Give the network the resolution it was trained at, if the time allows.
#
# Next: [larger backbones](06b_larger_backbones.ipynb), and what each minute buys.

# %% [markdown] tags=["exercises"]
# ## Exercises
#
# Try each before opening its solution. A solution with code runs on this page, so its output is
# this page's own; in Colab, run it after the chapter's cells.

# %% [markdown] tags=["exercises"]
# ```{exercise} What a larger input costs
# :label: ex-06-pixels
# :nonumber:
#
# 96-pixel inputs have 9 times the pixels of 32-pixel ones, 128-pixel ones 16 times.
# **Predict** the wall times of the 96 and 128 runs from the 32-pixel one, then compare with the records.
# ```
# ```{solution-start} ex-06-pixels
# :class: dropdown
# ```
#
# The cost grows less than the pixel count: the head phase runs on cached features, some work
# (loading, evaluation overheads) does not grow with the pixels, and a larger map uses the CPU better.

# %% tags=["exercises"]
key = "run_seconds"  # the whole run's wall time, in each record's timing
base = committed.committed("lite0-32-better").record["timing"][key]
for name, factor in (("lite0-96-better", 9), ("lite0-128-better", 16)):
    took = committed.committed(name).record["timing"][key]
    print(f"{name}: {took / 60:.1f} min, {took / base:.1f} times",
          f"the 32-pixel run ({factor} times the pixels)")

# %% [markdown] tags=["exercises"]
# ```{solution-end}
# ```

# %% [markdown] tags=["exercises"]
# ```{exercise} A vertical flip
# :label: ex-06-flip
# :nonumber:
#
# Horizontal flips are a standard augmentation for CIFAR-10. Would vertical flips be? Does a
# flipped ship stop being a ship?
# ```
#
# ```{solution} ex-06-flip
# :class: dropdown
#
# It stays a ship: a flip never changes the label. But the test set has no upside-down ships,
# cars or horses, so training on them spends capacity on images the model will never be asked about,
# and can make it worse on the real distribution. Augment with what the test distribution contains.
# ```

# %% [markdown] tags=["exercises"]
# ```{exercise} A step smaller than its noise
# :label: ex-06-noise
# :nonumber:
#
# A step of the ladder gains 0.4 points of validation accuracy on 1,000 validation images.
# Compute the standard error of one validation accuracy near 60 %. Is the step evidence of an
# improvement?
# ```
# ```{solution-start} ex-06-noise
# :class: dropdown
# ```
#
# One validation accuracy near 60 % on 1,000 images has a standard error of about 1.5 points,
# and the difference of two has about $\sqrt2$ times that: a 0.4-point step is well inside the noise.

# %% tags=["exercises"]
import math

se = math.sqrt(0.6 * 0.4 / 1000)
print(f"one accuracy: ± {se:.1%};",
      f"a difference of two: ± {se * math.sqrt(2):.1%}")

# %% [markdown] tags=["exercises"]
# ```{solution-end}
# ```
