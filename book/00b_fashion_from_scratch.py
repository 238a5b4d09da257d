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

# %% [markdown] slideshow={"slide_type": "slide"}
# # A network from scratch on Fashion-MNIST
#
# Before the project borrows a network someone else trained, we train two of our own from random
# weights: a **dense network**, then a **small convolutional network (CNN)**, and measure both.


# %% [markdown] slideshow={"slide_type": "slide"}
# ## In this chapter
#
# You will learn to:
#
# - build a dense network and a small CNN in Keras, and count their parameters;
# - train with a validation split, read learning curves, and test once;
# - explain softmax, cross-entropy, batches and epochs;
# - find what a classifier confuses, from its confusion matrix and its most confident mistakes.
#
# **Before it:** [Seeing images](00_seeing_images.ipynb); what a function and a gradient are.
#
# **Time:** At full size, about 11.8 min on 2 CPU cores (`results/fashion-dense`, `results/fashion-cnn`). On a Colab GPU: not measured (this project's machines have none).

# %% [markdown] slideshow={"slide_type": "notes"}
# **In Colab,** this notebook asks for a T4 GPU; if you got a CPU, switch with *Runtime → Change
# runtime type → T4 GPU*. There it trains at full size, whose run, shown at the end, took 11 min on
# 2 CPU cores; the website's small run of the whole chapter took 43 s on the same cores.

# %% [markdown] slideshow={"slide_type": "notes"}
# Fashion-MNIST is 70,000 grey pictures of clothing, 28×28 pixels, in ten classes: 60,000 to train
# and 10,000 to test. It is small enough that a laptop trains a network on all of it in minutes, and
# hard enough that the choice of network shows in the accuracy. Everything the CIFAR-10 project relies
# on appears here first, in its plainest form: layers and activations, softmax and the loss, batches
# and epochs, a validation split, learning curves, and a test set used once.
#
# Opened in Colab or your own Jupyter, this chapter trains at full size: all 60,000 images, 30 and 15
# epochs, about 12 minutes on 2 CPU cores (less on a GPU). The book's website runs every chapter on
# 2 CPU cores, so there it trains small, whatever its profile: 10,000 images and 2 epochs per network,
# half-trained; the full-size runs are shown at the end with their run cards. For the small run, write
# `fashion.fashion_config(full_size=False)` in the next cell (`CIFAR_LESSONS_FULL_SIZE=1` makes the
# website train at full size too). The run card under the next cell says which size ran, and where.

# %%
from cifar_lessons.config import progress_verbose
from cifar_lessons.display import plots, provenance, show_table
from cifar_lessons.evaluate import confident_mistakes, top_confusions
from cifar_lessons.fashion import scratch as fashion

config = fashion.fashion_config()  # build size (full_size=True: full size)
data = fashion.load(config)
committed = fashion.committed_runs()
card = fashion.run_card(config, data.source.to_dict())
provenance(card, *(fashion.record_card(rec) for rec in committed.values() if rec))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The data
#
# Ten classes of clothing, one row each, eight random training images per row.

# %% tags=["hide-input"] slideshow={"slide_type": "fragment"}
plots.sample_grid(data.x_train, data.y_train, data.class_names,
                  title="Fashion-MNIST: random training images per class (28x28 grey pixels)")

# %% [markdown] slideshow={"slide_type": "notes"}
# Each picture is centred, on a plain background, in the same pose: no clutter, no colour. Trousers,
# bags and sandals look like nothing else. The hard classes are the upper-body garments: a shirt, a
# T-shirt, a pullover and a coat differ in sleeves, collars and buttons a few pixels wide. Expect the
# mistakes to be there.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Pixels in, probabilities out
#
# Keras gives `uint8` pixels 0–255. Our networks get them divided by 255: `float32` between 0 and 1.

# %% tags=["slides-show-output"]
x = fashion.scale(data.x_train[:1000])
print("as loaded:", data.x_train.shape, data.x_train.dtype, "values", data.x_train.min(), "to", data.x_train.max())
print("scaled:   ", x.shape, x.dtype, "values", x.min(), "to", x.max())
print(f"split: {config.n - config.n_val:,} images to fit, the last {config.n_val:,} to validate, "
      f"{len(data.x_test):,} to test once")

# %% [markdown] slideshow={"slide_type": "notes"}
# Why divide by 255? These networks start from random weights, which Keras sizes for inputs of about
# one. Feed them values in the hundreds and the first layer's outputs, and its gradients, are hundreds
# of times too large: training is unstable or needs a much smaller learning rate. We are free to choose
# the scale because we train everything ourselves.
#
# The CIFAR-10 project is different: ResNet50's `preprocess_input` expects pixels **0–255** and applies
# the preprocessing its ImageNet weights were trained with (channels reordered, ImageNet's mean pixel
# subtracted). A pretrained network must see its inputs exactly as it did in training, so there we
# pass the raw 0–255 values and let `preprocess_input` do the rest. Dividing by 255 first would be a bug.
#
# The extra axis of size 1 is the colour channel: one grey channel, where CIFAR-10 has three.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## A dense network
#
# Flatten the 28×28 image into 784 numbers; two hidden `Dense` layers with ReLU; a `Dense` layer of
# 10 units with **softmax** turns scores into probabilities that sum to 1.

# %% tags=["slides-show-output"]
dense = fashion.dense_model(seed=config.seed)
show_table(fashion.layer_table(dense))

# %% [markdown] slideshow={"slide_type": "notes"}
# A `Dense` layer computes `relu(W·x + b)`: every output unit is connected to every input. The first
# one alone has 784 × 256 weights plus 256 biases, 200,960 parameters, most of the network. ReLU
# (`max(0, z)`) is what makes stacking layers worth it: without a non-linearity, two layers would
# collapse into one linear map. Dropout switches off a random 20% of the hidden units at each training
# step, so the network cannot rely on any one of them; it is off at test time.
#
# Softmax turns the last layer's ten scores $z_1, \dots, z_{10}$ into ten probabilities,
# $p_c = e^{z_c} / \sum_{j} e^{z_j}$: each is positive and they sum to 1. The prediction is the class
# with the highest probability, and that probability is the network's confidence.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Loss, batches, epochs
#
# **Loss**: sparse categorical cross-entropy, the mean over a batch of $-\log p_y$, the log of the
# probability given to the true class $y$: 0 when sure and right, large when sure and wrong.
# **Adam** updates the weights after each **batch** of 128 images. One **epoch** is one pass over all the
# images we fit on.

# %% slideshow={"slide_type": "fragment"} tags=["slides-show-code"]
dense_run = fashion.train(dense, data, config.dense_epochs, config, verbose=progress_verbose())

# %% tags=["slides-show-output"]
print(f"one epoch = {config.steps_per_epoch} batches of {config.batch_size}; "
      f"{dense_run.epochs} epochs took {dense_run.seconds:.0f} s")

# %% [markdown] slideshow={"slide_type": "notes"}
# The loss is small when the network gives the true class a high probability: 0.1 if it gave 90%,
# 2.3 if it gave a uniform 10%, so an untrained network starts near 2.3. "Sparse" means the labels are
# class numbers 0–9, not one-hot vectors, as everywhere in this book.
#
# Each line Keras prints is one epoch: `loss` and `accuracy` averaged over the epoch's training batches
# (with dropout on), then `val_loss` and `val_accuracy` on the held-out validation images (dropout off).
# The learning rate starts at 10⁻³ and decays along a cosine to zero by the last epoch: big steps
# first, small careful ones at the end, so the weights after the last epoch are the ones we keep.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Learning curves: the dense network
#
# Training against validation, loss and accuracy, epoch by epoch.

# %% tags=["hide-input"]
plots.training_curves(dense_run.history)

# %% [markdown] slideshow={"slide_type": "notes"}
# While both curves improve, the network is learning patterns that hold beyond the training images.
# When training loss keeps falling and validation loss stops (or rises), it is memorising the training
# images: overfitting. Dropout and the decaying learning rate keep the damage small. At the build
# size two epochs show only the very start; the full-size curves are at the end of the chapter.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The test set, once
#
# After training, and only then: accuracy on 10,000 images the network has never seen.

# %% tags=["slides-show-output"]
fashion.evaluate(dense, data, dense_run)
print(f"dense network: test accuracy {dense_run.metrics['accuracy']:.1%}, test loss {dense_run.metrics['loss']:.3f}")
for true, predicted, count in top_confusions(dense_run.metrics["confusion_matrix"], data.class_names, 3):
    print(f"  {count:4d} {true} taken for {predicted}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Where it fails: its most confident mistakes
#
# Test images the dense network got wrong while most sure of itself.

# %% tags=["hide-input"]
mistakes = confident_mistakes(dense_run.probabilities, data.y_test, k=16)
plots.mistakes_gallery(data.x_test, data.y_test, dense_run.probabilities, mistakes, data.class_names,
                       title="Dense network: its most confident mistakes on test images")

# %% [markdown] slideshow={"slide_type": "notes"}
# Look at what the errors have in common: upper-body garments taken for one another, shirts above all.
# Some are honest ambiguities (a shirt and a T-shirt can be the same shape at 28×28), a few look
# mislabelled. But the dense network also has a structural handicap: after `Flatten`, pixel 300 is just
# input number 300. The network does not know which pixels are neighbours, and a collar learnt at one
# position must be learnt again at every other. That is what a convolution fixes.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## A small CNN
#
# A 3×3 **convolution** slides the same small filter over every position; **max-pooling** halves the
# map. Three such blocks (32, 64, then 128 filters), then `Dense` 128 and softmax.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The small CNN, layer by layer

# %% tags=["slides-show-output"]
cnn = fashion.small_cnn(seed=config.seed)
show_table(fashion.layer_table(cnn))

# %% [markdown] slideshow={"slide_type": "notes"}
# Why convolutions suit images. **Locality**: each output looks at a 3×3 neighbourhood, so the layer
# works with edges and corners, not with 784 unrelated numbers. **Weight sharing**: the same filter is
# used at every position, so a pattern learnt in one place is recognised everywhere, and the three
# convolutions have only about 92,000 weights between them. **Pooling** keeps the strongest response in
# each 2×2 patch, so the map shrinks 28 → 14 → 7 → 3 and small shifts stop mattering.
#
# BatchNormalization rescales each filter's outputs to a steady range during training, which lets
# the CNN train fast at the same learning rate. Most of this network's parameters are in the `Dense`
# layer reading the 3×3×128 map: the convolutions are cheap in parameters but expensive in arithmetic,
# because each filter runs at every position.
#
# Why three blocks and one light dropout? An earlier two-block version (32 and 64 filters, dropout
# of 25% and 50%) ended its full-size run with a *lower* accuracy on its training images than on its
# validation images, and 91.8% on the test set. That gap alone proves little: Keras measures training
# accuracy with dropout switching units off, and validation accuracy without. It did suggest the
# network was not memorising, so more capacity was worth a try; a third block adds it where it costs
# least, and the measurement decided: the full-size run below is the three-block network's.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Training the CNN
#
# Same data, same loss, same optimiser, batch size and validation images; only the network changes.

# %% slideshow={"slide_type": "fragment"} tags=["slides-show-code"]
cnn_run = fashion.train(cnn, data, config.cnn_epochs, config, verbose=progress_verbose())
cnn_run = fashion.evaluate(cnn, data, cnn_run)

# %% tags=["slides-show-output"]
print(f"small CNN: test accuracy {cnn_run.metrics['accuracy']:.1%}, {cnn_run.epochs} epochs in {cnn_run.seconds:.0f} s")
for true, predicted, count in top_confusions(cnn_run.metrics["confusion_matrix"], data.class_names, 3):
    print(f"  {count:4d} {true} taken for {predicted}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Measured: dense against CNN
#
# The two runs on this page, and the full-size runs.

# %% tags=["slides-show-output"]
show_table(fashion.comparison_table({"dense": dense_run, "cnn": cnn_run}, config, committed))

# %%
fashion.committed_line(committed)

# %% [markdown] slideshow={"slide_type": "notes"}
# Read the table row by row, and mind where each row comes from. The rows of this page's runs were trained
# small (the box at the top says how small); the full-size rows were measured once on all 60,000
# images. The published baselines for comparison: about 88% for a
# dense network and 91–93% for a small CNN. The CNN does not win by size: its three convolutions hold
# about 92,000 parameters, and most of its weights sit in the `Dense` layer that reads their output.
# What it spends instead is arithmetic, since every filter runs at every position: an epoch takes longer.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Learning curves side by side
#
# Accuracy on the training and validation images, the two runs on this page on one scale.

# %% tags=["hide-input"]
plots.curves_side_by_side([{"history": dense_run.history}, {"history": cnn_run.history}],
                          # Two-line titles: side by side, one line each ran into its neighbour on a slide.
                          [f"dense network\n(this build, {config.size_name()})", f"small CNN\n(this build, {config.size_name()})"],
                          ncols=2)

# %% [markdown] slideshow={"slide_type": "notes"}
# Compare the validation curves (orange) of the two networks at the same epoch, and the gap between
# training and validation within each: a gap that opens means memorising. At the build size, two
# epochs on 9,000 images, the two are close; the full-size curves at the end show the difference the
# whole training makes.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The full-size runs
#
# All 60,000 training images, the full epochs.

# %% tags=["hide-input", "slides-show-output"]
measured = {kind: rec for kind, rec in committed.items() if rec}
if measured:
    display(plots.curves_side_by_side([rec["history"] for rec in measured.values()],
                                      [f"{fashion.MODEL_NAMES[k]}\n({rec['name']}, full size)" for k, rec in measured.items()],
                                      ncols=2))
else:
    print("Not measured yet: no results/fashion-* records in this checkout.")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Takeaways
#
# - A network is layers of weighted sums and non-linearities, softmax on top; training lowers the loss batch by batch, epoch by epoch.
# - Validate on held-out training images; test once, at the end.
# - On images, convolutions beat dense layers: local filters, shared weights, pooling.
#
# Next: [CIFAR-10](01_dataset.ipynb), colour photos in the wild, and a network pretrained on ImageNet.

# %% [markdown] tags=["exercises"]
# ## Exercises
#
# Try each before opening its solution. A solution with code runs on this page, so its output is
# this page's own; in Colab, run it after the chapter's cells.

# %% [markdown] tags=["exercises"]
# ```{exercise} Forget to scale
# :label: ex-00b-scale
# :nonumber:
#
# `fashion.scale` divides the pixels by 255. **Predict** what happens to the dense network's
# first epoch if it is fed 0–255 pixels instead, then train it for one epoch on them and compare the
# validation accuracy with the scaled run's first epoch.
# ```
# ```{solution-start} ex-00b-scale
# :class: dropdown
# ```
#
# Keras initialises weights for inputs of about unit size. Inputs 255 times larger make the
# first layer's outputs 255 times larger, the softmax saturates and the early gradients are poor:
# the first epoch is clearly worse (how much depends on the seed), though Adam recovers partly.

# %% tags=["exercises"]
raw = fashion.dense_model(seed=config.seed)
raw.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
n_fit = config.n - config.n_val
unscaled = fashion.scale(data.x_train) * 255.0  # the network's input shape, pixels left at 0-255
fit = raw.fit(unscaled[:n_fit], data.y_train[:n_fit], epochs=1, verbose=0,
              validation_data=(unscaled[n_fit:], data.y_train[n_fit:]))
print(f"unscaled, epoch 1: validation accuracy {fit.history['val_accuracy'][0]:.1%}")
print(f"scaled (above), epoch 1: validation accuracy {dense_run.history['val_accuracy'][0]:.1%}")

# %% [markdown] tags=["exercises"]
# ```{solution-end}
# ```

# %% [markdown] tags=["exercises"]
# ```{exercise} Where the parameters are
# :label: ex-00b-params
# :nonumber:
#
# Count the dense network's parameters by hand from its layer table: a `Dense` layer from $n$
# inputs to $m$ outputs has $n m + m$ parameters. Check your sum against `dense.count_params()`.
# ```
# ```{solution-start} ex-00b-params
# :class: dropdown
# ```
#
# Flattening 28×28 gives 784 inputs; the table lists each layer's outputs.

# %% tags=["exercises"]
total = 0
for layer in dense.layers:
    if layer.weights:  # Dense layers: a kernel n x m and a bias m
        n, m = layer.kernel.shape
        total += n * m + m
print(f"by hand {total:,}; Keras {dense.count_params():,}")

# %% [markdown] tags=["exercises"]
# ```{solution-end}
# ```

# %% [markdown] tags=["exercises"]
# ```{exercise} Training accuracy below validation
# :label: ex-00b-dropout
# :nonumber:
#
# In a run with dropout, the training accuracy Keras prints can be *below* the validation
# accuracy. Does that prove the network is too small?
# ```
#
# ```{solution} ex-00b-dropout
# :class: dropdown
#
# No. Keras measures training accuracy while dropout is on (a random part of the units is
# zeroed for each batch) and as the weights change during the epoch, and validation accuracy with
# dropout off at the end of the epoch. The two are measured under different conditions, so a gap in
# this direction says little about capacity: compare the training loss with dropout off
# (`model.evaluate` on training images) before deciding the network needs to be larger.
# ```
