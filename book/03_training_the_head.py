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

SOURCE = "cifar-lessons @ git+https://github.com/cifar-lessons/cifar-lessons@v0.1.0"
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

# %% [markdown] slideshow={"slide_type": "notes"}
# **In Colab,** this notebook asks for a T4 GPU; if you got a CPU, switch with *Runtime → Change
# runtime type → T4 GPU*.
# Phase 1 is cheap either way (34 s measured on a 2-core CPU, like Colab's); the GPU pays off in
# chapter 4. To keep the head trained here for chapters 4 to 7, set `USE_DRIVE = True` in the second
# cell first: it then goes to your Google Drive and outlives this runtime (see the introduction).

# %%
from cifar_lessons.backbones import describe_weights
from cifar_lessons.config import chapter_config, progress_verbose
from cifar_lessons.display import plots, run_card
from cifar_lessons.models import trainable_counts
from cifar_lessons.recipe import load_data, new_model, save_stage, stage_backup, stage_dir, train_phase1, training_datasets

config = chapter_config()
data = load_data(config)
run_card(config, data.source.to_dict(), describe_weights(config.weights, config.backbone))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Why freeze first?
#
# The new head starts from random weights. Its first gradients are large and meaningless; let
# them flow into the base and they would scramble the ImageNet filters we came for.

# %% [markdown] slideshow={"slide_type": "notes"}
# So phase 1 sets `base.trainable = False`: the optimiser updates only the head. The base becomes a
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
# `tf.data` turns the images into shuffled, preprocessed batches of 64; validation images come from
# the training subset. Phase 2 (chapter 4) trains on exactly these batches; phase 1 needs each image
# only once, as the next slide shows. `new_model` sets the random seeds, then builds the classifier
# from chapter 2.

# %% tags=["slides-show-output"]
train_ds, val_ds = training_datasets(data, config)
model = new_model(config)
print(train_ds.element_spec)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Compile and train
#
# `train_phase1` freezes the base, compiles the head with Adam (learning rate 10⁻³) and sparse
# categorical cross-entropy, and calls Keras's `fit`, one line per epoch. **A shortcut:** the frozen
# base runs over the images only once, and the head trains on the features it produced.

# %% [markdown] slideshow={"slide_type": "notes"}
# Why the shortcut is allowed: a frozen base in inference mode turns each image into the **same**
# feature vector in every epoch. So the base runs over the training images once, its pooled features
# are kept, and the head trains on them: ten epochs of a small dense network instead of ten passes
# through the whole base. Same model, same arithmetic (a test checks that the losses match an
# end-to-end `fit` epoch by epoch), a fraction of the time. With augmentation (random flips and crops,
# `augment=True`) the base sees different pixels in every epoch, so there is nothing to cache and
# `train_phase1` trains through the whole network instead.
#
# `train_phase1` also adds two Keras callbacks to `fit`: `BackupAndRestore`, which backs the head up
# after every epoch, and `TerminateOnNaN`, which stops training as soon as the loss stops being a number.
# If training stops midway (the cell is interrupted, or the kernel restarts), running this cell again
# resumes after the last finished epoch. In Colab that holds while the runtime lives: a recycled
# runtime erases its files, backups included, unless `USE_DRIVE = True` keeps them in Google Drive.

# %% slideshow={"slide_type": "fragment"} tags=["slides-show-code"]
history = train_phase1(config, data, model, verbose=progress_verbose(), resume=stage_backup(config, "head"))

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
