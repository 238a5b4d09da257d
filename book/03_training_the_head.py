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
# # 3. Training the head
#
# Phase 1 of the recipe: freeze the pretrained base, and train only the new head for 10 epochs.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## In this chapter
#
# You will learn to:
#
# - freeze the base and train only the head;
# - compile and fit with a validation split, and read the curves;
# - explain why the head trains first, on a frozen base.
#
# **Before it:** [The architecture](02_architecture.ipynb).
#
# **Time:** The head phase, about 21 s on 2 CPU cores with EfficientNet-Lite0 at 32 px (`results/lite0-32-seed`). On a Colab GPU: not measured (this project's machines have none).

# %% [markdown] slideshow={"slide_type": "notes"}
# **In Colab,** this notebook asks for a T4 GPU; if you got a CPU, switch with *Runtime → Change
# runtime type → T4 GPU*.
# Phase 1 is cheap either way (34 s measured on a 2-core CPU, like Colab's); the GPU pays off in
# chapter 4. To keep the head trained here for chapters 4 to 7, set `USE_DRIVE = True` in the second
# cell first: it then goes to your Google Drive and outlives this runtime (see the introduction).

# %%
from cifar_lessons.backbones import describe_weights
from cifar_lessons.config import chapter_config, progress_verbose
from cifar_lessons.data import split_validation
from cifar_lessons.display import plots, provenance, run_card, show_code
from cifar_lessons.models import base_of, compile_classifier, trainable_counts
from cifar_lessons.pipeline import make_dataset
from cifar_lessons.recipe import head_phase, load_data, new_model, save_stage, stage_backup, stage_dir, training_datasets
from cifar_lessons.training import train_head

# %%
config = chapter_config()
data = load_data(config)
weights = describe_weights(config.weights, config.backbone)
provenance(run_card(config, data.source.to_dict(), weights))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Why freeze first?
#
# The new head starts from random weights. Its first gradients are large and meaningless; let
# them flow into the base and they would scramble the ImageNet filters we came for.

# %% [markdown] slideshow={"slide_type": "notes"}
# So phase 1 sets `base_model.trainable = False`: the optimiser updates only the head. The base becomes a
# fixed feature extractor, turning each image into 2048 numbers, and the head learns to read the ten
# classes from them. Freezing also makes each step much cheaper: no gradients are computed for 23.5
# million base parameters, so phase 1 runs several times faster than phase 2 on a CPU.
#
# A frozen BatchNormalization layer also runs in *inference mode*: it normalises with its stored
# ImageNet statistics instead of the statistics of the current batch, and does not update them.

# %% [markdown] slideshow={"slide_type": "subslide"}
# The whole recipe on one timeline (the course's `seed` profile): what trains and what stays frozen in
# each phase, and at which learning rate.

# %% tags=["hide-input"]
from cifar_lessons.display import concepts

concepts.two_phase_recipe(profile="seed")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The data pipeline and the model
#
# `tf.data` turns the images into shuffled, preprocessed batches of 64; validation images are the last
# 10% of the training subset (chapter 1). Phase 2 (chapter 4) trains on exactly these batches; phase 1
# needs each image only once, as a later slide shows. `new_model` sets the random seeds, then builds
# the classifier from chapter 2.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The pipeline, in `tf.data`

# %%
show_code(make_dataset)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The split, the batches, the model

# %% tags=["slides-show-code", "slides-show-output"]
train_images, train_labels = data.x_train, data.y_train
split = split_validation(train_images, train_labels, config.validation_fraction)
train_data, val_data = training_datasets(config, split)  # make_dataset on each half
model = new_model(config)
base_model = base_of(model)
print(train_data.element_spec)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Compile
#
# Adam at 10⁻³; *sparse* categorical cross-entropy, since the labels are class indices 0–9; accuracy
# reported after every epoch.

# %%
show_code(compile_classifier)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Freeze and train
#
# The head phase in Keras: freeze the base, compile, `fit` with the validation images.

# %%
show_code(train_head)

# %% [markdown] slideshow={"slide_type": "notes"}
# `head_phase`, below, runs `train_head` for 10 epochs with two additions of the package. **A shortcut:**
# the frozen base runs over the images only once, and `train_head` trains the head alone on the features
# it produced. Why that is allowed: a frozen base in inference mode turns each image into the **same**
# feature vector in every epoch. So the base runs over the training images once, its pooled features
# are kept, and the head trains on them: ten epochs of a small dense network instead of ten passes
# through the whole base. Same model, same arithmetic (a test checks that the losses match an
# end-to-end `fit` epoch by epoch), a fraction of the time. With augmentation (random flips and crops,
# `augment=True`) the base sees different pixels in every epoch, so there is nothing to cache and
# `head_phase` calls `train_head` on the whole model and the image batches instead.
#
# `head_phase` also adds two Keras callbacks to `fit`: `BackupAndRestore`, which backs the head up
# after every epoch, and `TerminateOnNaN`, which stops training as soon as the loss stops being a number.
# If training stops midway (the cell is interrupted, or the kernel restarts), running this cell again
# resumes after the last finished epoch. In Colab that holds while the runtime lives: a recycled
# runtime erases its files, backups included, unless `USE_DRIVE = True` keeps them in Google Drive.

# %% slideshow={"slide_type": "fragment"} tags=["slides-show-code"]
history = head_phase(config, model, split, verbose=progress_verbose(), resume=stage_backup(config, "head"))

# %% tags=["slides-show-output"]
print(f"phase 1 took {history.seconds['head']:.0f} s; trainable parameters: {trainable_counts(model)['trainable']:,}")

# %% [markdown] slideshow={"slide_type": "notes"}
# Each line is one epoch: one pass over the training images, then a pass over the validation
# images. `loss` and `accuracy` are averaged over the epoch's training batches, with dropout active;
# `val_loss` and `val_accuracy` are measured afterwards, with dropout off. That is why validation
# accuracy can be *higher* than training accuracy early on.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Learning curves
#
# Training against validation, loss and accuracy, epoch by epoch.

# %% tags=["hide-input"]
plots.training_curves(history.history)

# %% [markdown] slideshow={"slide_type": "notes"}
# How to read the curves: while both losses fall, the head is still learning general patterns. When
# training loss keeps falling but validation loss flattens or rises, the head has started to memorise
# the training images (overfitting), and more epochs of phase 1 would not help. With a frozen base the
# head can only do so much: it is limited by how well ImageNet features at 32×32 separate our classes.
# Phase 2 lifts that limit.

# %% [markdown] slideshow={"slide_type": "notes"}
# The model and its history are saved as a run record, which the next chapter picks up.

# %% slideshow={"slide_type": "skip"}
record = save_stage(stage_dir(config, "head"), config, data, "head", model, history, overwrite=True)
print("saved to", record.path)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Takeaways
#
# - Freeze the base, train the head: only ~0.5 M of ~24 M parameters move.
# - Validate on held-out training images while training.
# - Phase 1 is limited by the frozen features.
#
# Next: [fine-tuning](04_fine_tuning.ipynb) the whole network.

# %% [markdown] tags=["exercises"]
# ## Exercises
#
# Try each before opening its solution. A solution with code runs on this page, so its output is
# this page's own; in Colab, run it after the chapter's cells.

# %% [markdown] tags=["exercises"]
# ```{exercise} Ten times the learning rate
# :label: ex-03-rate
# :nonumber:
#
# **Predict** what a head-phase learning rate of $10^{-2}$ instead of $10^{-3}$ does to the first
# epoch. Train a fresh model's head for one epoch on 20 batches at each rate and compare the
# validation accuracy.
# ```
# ```{solution-start} ex-03-rate
# :class: dropdown
# ```
#
# A larger step can learn faster at first, or overshoot; which one happens on 20 batches
# depends on the seed. Either way, one short run is a hint, not a measurement: chapter 6 measures
# rates on full runs.

# %% tags=["exercises"]
for rate in (1e-3, 1e-2):
    trial = new_model(config)  # a fresh model: the chapter's own is left as it was recorded
    compile_classifier(trial, rate)
    fit = trial.fit(train_data.take(20), validation_data=val_data, epochs=1, verbose=0)
    print(f"learning rate {rate:.0e}: validation accuracy {fit.history['val_accuracy'][0]:.1%}")

# %% [markdown] tags=["exercises"]
# ```{solution-end}
# ```

# %% [markdown] tags=["exercises"]
# ```{exercise} What freezing does to the count
# :label: ex-03-frozen
# :nonumber:
#
# Build a fresh model, set `base_of(model).trainable = True`, and count the trainable
# parameters; then set it back to `False`. How many more parameters would phase 1 train without
# freezing?
# ```
# ```{solution-start} ex-03-frozen
# :class: dropdown
# ```
#
# Unfrozen, the base's convolution weights (and BatchNorm's $\gamma$, $\beta$) all train: millions
# of parameters, against the head's few hundred thousand.

# %% tags=["exercises"]
trial = new_model(config)
base_of(trial).trainable = True
unfrozen = trainable_counts(trial)["trainable"]
base_of(trial).trainable = False
print(f"unfrozen: {unfrozen:,} trainable; frozen: {trainable_counts(trial)['trainable']:,}")

# %% [markdown] tags=["exercises"]
# ```{solution-end}
# ```

# %% [markdown] tags=["exercises"]
# ```{exercise} Why the head first
# :label: ex-03-why
# :nonumber:
#
# Why not train everything from the start, at a low rate?
# ```
#
# ```{solution} ex-03-why
# :class: dropdown
#
# The head starts random, so its first gradients are large and point in arbitrary directions;
# passed back into the base, they would change pretrained features to suit a head that knows
# nothing yet. Training the head first on frozen features gives it something sensible to say; only
# then do small steps in the base help. It is also cheap: with the base frozen, its features can be
# computed once and reused every epoch.
# ```
