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
# # 4. Fine-tuning
#
# Phase 2: unfreeze the base and train the whole network for 10 more epochs, gently.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## In this chapter
#
# You will learn to:
#
# - unfreeze the base but keep BatchNorm frozen, and compile again at a low rate;
# - continue training from where the head phase stopped;
# - read over-fitting in the curves, and what the low rate does about it.
#
# **Before it:** [Training the head](03_training_the_head.ipynb).
#
# **Time:** Fine-tuning, about 5.4 min on 2 CPU cores with EfficientNet-Lite0 at 32 px (`results/lite0-32-seed`). On a Colab GPU: not measured (this project's machines have none).

# %% [markdown] slideshow={"slide_type": "notes"}
# **In Colab,** this notebook asks for a T4 GPU; if you got a CPU, switch with *Runtime → Change
# runtime type → T4 GPU*.
# Phase 2 took 7 min 43 s on a 2-core CPU; on a T4 we estimate under a minute (an estimate, not a
# measurement: the introduction says how it was made).
# Without Drive, this notebook first retrains chapter 3's head: 34 s more on a 2-core CPU.

# %%
from cifar_lessons.backbones import describe_weights
from cifar_lessons.config import chapter_config, progress_verbose
from cifar_lessons.display import plots, provenance, record_card, run_card, show_code
from cifar_lessons.models import base_of, trainable_counts, unfreeze
from cifar_lessons.recipe import fine_tune_phase, head_stage, load_data, save_stage, split_data, stage_backup, stage_dir
from cifar_lessons.training import fine_tune
from cifar_lessons.records.committed import committed

# %%
config = chapter_config()
data = load_data(config)
weights = describe_weights(config.weights, config.backbone)
card = run_card(config, data.source.to_dict(), weights)
provenance(card, record_card(committed("lite0-32-seed")))

# %% [markdown] slideshow={"slide_type": "notes"}
# We continue from the model chapter 3 trained. `head_stage` loads it from its run record; opened on
# its own (in Colab, say), this chapter finds no record and trains phase 1 first.

# %% slideshow={"slide_type": "skip"}
model, history = head_stage(config, data, verbose=progress_verbose())
print(f"phase 1: {history.epochs} epochs, final validation accuracy {history.history['val_accuracy'][-1]:.3f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Three rules for fine-tuning
#
# 1. **Unfreeze** the base, then **recompile**: Keras reads `trainable` when compiling.
# 2. Use a **low learning rate** (10⁻⁵, a hundred times lower than phase 1).
# 3. Keep **BatchNorm in inference mode**, so its ImageNet statistics are not overwritten.

# %% [markdown] slideshow={"slide_type": "notes"}
# Now that the head gives sensible gradients, the base can adapt its filters to CIFAR-10. But the base
# is big and the data small: with a normal learning rate, a few epochs would destroy what ImageNet
# taught it, and the model would overfit our 9,000 training images. A learning rate of 10⁻⁵ lets the
# filters move only slightly.
#
# BatchNorm needs special care. In training mode, a BatchNorm layer normalises with the statistics of
# the current batch of 64 CIFAR images and updates its running averages with them, replacing the ones
# computed over ImageNet. The standard remedy is to call the base with `training=False`. In Keras 3
# that alone is **not enough**: `fit` passes `training=True` down into nested models (reported as
# [keras-team/keras#20285](https://github.com/keras-team/keras/issues/20285)). `unfreeze`
# therefore also keeps every BatchNormalization layer frozen when it unfreezes the base, and frozen
# BatchNorm layers always run in inference mode. The package's tests check that no moving statistic
# changes in either phase.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Unfreeze, but not BatchNorm

# %%
show_code(unfreeze)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Compile again, train everything

# %%
show_code(fine_tune)

# %% [markdown] slideshow={"slide_type": "notes"}
# `fine_tune_phase`, below, runs `fine_tune` for 10 epochs at the profile's rate, on the same
# batches as chapter 3 (the same `split`), numbered on from phase 1. Backed up every epoch: after a
# kernel restart, running the cell again resumes (in Colab, while the runtime lives, or with
# `USE_DRIVE = True`).

# %% tags=["slides-show-code"]
base_model = base_of(model)
split = split_data(config, data)  # the same fit and validation images as chapter 3
history = fine_tune_phase(config, model, split, history, verbose=progress_verbose(),
                          resume=stage_backup(config, "tuned"))

# %% tags=["slides-show-output"]
counts = trainable_counts(model)
bn_layers = sum(layer.__class__.__name__ == "BatchNormalization" for layer in base_model.layers)
print(f"phase 2 took {history.seconds['fine_tune']:.0f} s")
print(f"trainable parameters: {counts['trainable']:,} of {counts['total']:,}")
print(f"BatchNorm layers kept frozen: {bn_layers}")

# %% [markdown] slideshow={"slide_type": "notes"}
# Phase 2 is the expensive phase: every image goes forwards and backwards through the whole base in
# every epoch, and nothing can be cached, since the base changes. At 32 pixels ResNet50's last stages
# work on tiny maps, 2×2 and then 1×1, where a 1×1 convolution is exactly a matrix product of each
# pixel's channels with the kernel; `fine_tune_phase` computes those layers as matrix products
# (`cifar_lessons.pointwise`), the same model up to rounding, faster on a CPU.
#
# How these speed-ups were found and measured is in the appendix
# [How the numbers were made](appendix_how_numbers_were_made.md).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Both phases together
#
# The dashed line marks where the base was unfrozen.

# %% tags=["hide-input"]
plots.training_curves(history.history, history.phase2_start)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## The same recipe at full size
#
# The seed recipe measured once at full size (`results/lite0-32-seed`): 10,000 images, 10 + 10 epochs.

# %% tags=["hide-input"]
full_size = committed("lite0-32-seed")
plots.training_curves(full_size.history["history"], full_size.history["phase2_start"])

# %% [markdown] slideshow={"slide_type": "notes"}
# The run above may be a quick one (the box at the top says); this is the seed recipe in
# full, with EfficientNet-Lite0's ImageNet weights. Note how validation accuracy is still rising at epoch 20: at 10⁻⁵ the base barely moves.
# Chapter 6 measures what a higher learning rate with a decay does.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## What changed

# %% tags=["slides-show-output"]
h, b = history.history, history.phase2_start
print(f"validation accuracy after phase 1: {h['val_accuracy'][b - 1]:.3f}")
print(f"validation accuracy after phase 2: {h['val_accuracy'][-1]:.3f}")
print(f"learning rate: {h['learning_rate'][b - 1]:.0e} -> {h['learning_rate'][-1]:.0e}")

# %% [markdown] slideshow={"slide_type": "notes"}
# With ImageNet weights, phase 2 lets the filters adapt to small, blurry CIFAR objects. Watch the gap
# between the training and validation curves: with 9,000 training images and millions of trainable
# parameters, the model memorises quickly. In the full-size run of the seed recipe (EfficientNet-Lite0,
# 32 pixels), validation accuracy went from 46.7 % after phase 1 to at most 51.9 %, while training
# accuracy reached 85.6 %: ten epochs at 10⁻⁵ did not keep the gap in check. Most of what phase 2 learnt
# was the training set. Chapter 6 measures what helps: a higher learning rate with a decay, flips and
# crops, and larger inputs.
#
# If this page was built with random weights (see the run card), there are no ImageNet features to
# adapt, and the curves only show the mechanics.

# %% slideshow={"slide_type": "skip"}
record = save_stage(stage_dir(config, "tuned"), config, data, "tuned", model, history, overwrite=True)
print("saved to", record.path)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Takeaways
#
# - Unfreeze, recompile, learning rate 10⁻⁵.
# - Keep BatchNorm frozen: in Keras 3, `training=False` alone does not protect it.
# - The boundary in the curves shows what fine-tuning adds.
#
# Next: [evaluation](05_evaluation.ipynb) on the test set, for the first and only time.

# %% [markdown] tags=["exercises"]
# ## Exercises
#
# Try each before opening its solution. A solution with code runs on this page, so its output is
# this page's own; in Colab, run it after the chapter's cells.

# %% [markdown] tags=["exercises"]
# ```{exercise} Unfreeze only the last stage
# :label: ex-04-last-stage
# :nonumber:
#
# Instead of the whole base, unfreeze only its last 20 layers (BatchNorm still frozen).
# **Predict** the fraction of the base's weights that would then train, then count on a fresh model.
# ```
# ```{solution-start} ex-04-last-stage
# :class: dropdown
# ```
#
# The last stage holds the widest convolutions, so a few layers hold a large share of the
# weights. Training fewer layers is faster per step and safer with little data, at the cost of
# adapting less.

# %% tags=["exercises"]
from cifar_lessons.recipe import new_model

trial = new_model(config)
base = base_of(trial)
base.trainable = True
for layer in base.layers[:-20]:
    layer.trainable = False
for layer in base.layers:
    if layer.__class__.__name__ == "BatchNormalization":
        layer.trainable = False
print(f"last 20 layers: {trainable_counts(base)['trainable']:,} of {trainable_counts(base)['total']:,} base weights train")

# %% [markdown] tags=["exercises"]
# ```{solution-end}
# ```

# %% [markdown] tags=["exercises"]
# ```{exercise} Why so gentle
# :label: ex-04-rate
# :nonumber:
#
# Phase 2 uses $10^{-5}$, a hundred times below phase 1's rate. What would $10^{-3}$ do to the
# pretrained base in the first steps?
# ```
#
# ```{solution} ex-04-rate
# :class: dropdown
#
# Adam's first steps move each weight by about the learning rate, whatever its gradient's
# size. At $10^{-3}$ every weight of the base moves that much at once: enough to wreck the features
# that made transfer worth it, before the small data set can guide them back. At $10^{-5}$ the base
# adapts slowly; chapter 6 finds a middle way, $10^{-4}$ with a cosine decay.
# ```

# %% [markdown] tags=["exercises"]
# ```{exercise} Read the gap
# :label: ex-04-gap
# :nonumber:
#
# Compute the gap between training and validation accuracy at the end of phase 1 and at the
# end of phase 2, from `history.history`. What does its change say?
# ```
# ```{solution-start} ex-04-gap
# :class: dropdown
# ```
#
# A gap that grows while validation barely moves is over-fitting: the network fits the 9,000
# training images better without getting better on new ones.

# %% tags=["exercises"]
h, b = history.history, history.phase2_start
for when, i in (("end of phase 1", b - 1), ("end of phase 2", -1)):
    print(f"{when}: training {h['accuracy'][i]:.3f}, validation {h['val_accuracy'][i]:.3f}, "
          f"gap {h['accuracy'][i] - h['val_accuracy'][i]:+.3f}")

# %% [markdown] tags=["exercises"]
# ```{solution-end}
# ```
