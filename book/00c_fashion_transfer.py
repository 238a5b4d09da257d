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
# # Transfer learning on Fashion-MNIST
#
# The same 28×28 grey clothes as the last chapter, but this time the network does not start from
# random weights: we borrow **EfficientNetB0**, trained on ImageNet's 1.3 million photos, and teach
# it our ten classes.


# %% [markdown] slideshow={"slide_type": "slide"}
# ## In this chapter
#
# You will learn to:
#
# - reuse an ImageNet network's features for a new task;
# - adapt grey 28×28 images to a colour network's input;
# - train a head on a frozen base, then fine-tune the whole network at a low rate;
# - compare transfer with training from scratch on the same data.
#
# **Before it:** [A network from scratch](00b_fashion_from_scratch.ipynb).
#
# **Time:** At full size, about 13.8 min on 2 CPU cores (`results/fashion-transfer`). On a Colab GPU: not measured (this project's machines have none).

# %% [markdown] slideshow={"slide_type": "notes"}
# **In Colab,** this notebook asks for a T4 GPU; if you got a CPU, switch with *Runtime → Change
# runtime type → T4 GPU*. There it trains at full size, whose run, shown at the end, took 14 min on
# 2 CPU cores; the website's small run of the whole chapter took 78 s on the same cores.

# %% [markdown] slideshow={"slide_type": "notes"}
# The previous chapter trained a dense network and a small CNN from scratch. This one keeps the data,
# the validation split and the test set, and changes only where the network's weights come from. It is
# the course's recipe in miniature, the one the CIFAR-10 project follows chapter by chapter: a
# pretrained base, frozen, under a new head; the head trained first; then everything unfrozen and
# fine-tuned with a low learning rate.
#
# Which network runs depends on where the book runs. Online (Colab) it is the course's EfficientNetB0
# with the ImageNet weights Keras downloads. Offline, where Keras cannot download, the book uses
# EfficientNet-Lite0, a close relative whose ImageNet weights come with a pip package; the box
# below says which one each run used.
#
# Opened in Colab or your own Jupyter, this chapter trains at full size: all 60,000 images, 3 + 4
# epochs, about 14 minutes on 2 CPU cores (less on a GPU). The book's website runs every chapter on
# 2 CPU cores, so there it trains small, whatever its profile: 4,000 images, the head for 2 epochs and
# the whole network for 1, half-trained; the full-size run is shown at the end with its run card. For
# the small run, write `ft.transfer_config(full_size=False)` in the next cell
# (`CIFAR_LESSONS_FULL_SIZE=1` makes the website train at full size too). The run card under the next
# cell says which size ran, and where.

# %%
from cifar_lessons.backbones import backbone_name, describe_weights
from cifar_lessons.config import progress_verbose
from cifar_lessons.display import plots, provenance, show_table
from cifar_lessons.evaluate import top_confusions
from cifar_lessons.fashion import scratch as fashion, transfer as ft

config = ft.transfer_config()  # build size (full_size=True: full size)
data = fashion.load(fashion.FashionConfig(profile=config.profile, n=config.n))
weights = describe_weights(config.weights, config.backbone)

# %%
committed, scratch = ft.committed_run(), fashion.committed_runs()
quoted = [ft.record_card(committed)] if committed else []
quoted += [fashion.record_card(rec) for rec in scratch.values() if rec]
provenance(ft.run_card(config, data.source.to_dict(), weights), *quoted)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Why transfer: the baseline to beat
#
# The small CNN of the last chapter, trained from scratch on all 60,000 training images (54,000 to fit, 6,000 to validate), measured once:

# %% tags=["slides-show-output"]
for kind, rec in scratch.items():
    if rec:
        print(f"{fashion.MODEL_NAMES[kind]:14s} {rec['metrics']['accuracy']:.1%} test accuracy, "
              f"{rec['record']['parameters']:,} parameters (results/{rec['name']})")
    else:
        print(f"{fashion.MODEL_NAMES[kind]:14s} not measured yet")

# %% [markdown] slideshow={"slide_type": "notes"}
# A network trained from scratch must learn everything from our 54,000 pictures: edges, textures,
# shapes, then clothes. A network trained on ImageNet has already learnt the first three from over a
# million photos. Transfer learning reuses those layers and trains only what is specific to our task.
# The CNN's full-size accuracy above is the figure to beat.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Grey 28×28 to what the network accepts
#
# ImageNet networks take **three** colour channels and need at least 32×32 pixels. We copy the grey
# channel three times and enlarge 28 → 48 with bilinear interpolation.

# %% tags=["hide-input"]
sample = data.x_train[:1]
rgb = ft.grey_to_rgb(sample, config.image_size)[0]
plots.image_panels({"grey 28×28 (1 channel)": sample[0],
                    "R = G = B (3 channels)": ft.grey_to_rgb(sample)[0].astype("uint8"),
                    f"resized {config.image_size}×{config.image_size}": rgb.round().astype("uint8")},
                   height=3.0)

# %% tags=["slides-show-output"]
print("grey:", data.x_train[:8].shape, "-> the network's input:", ft.grey_to_rgb(data.x_train[:8], config.image_size).shape,
      "values 0-255")

# %% [markdown] slideshow={"slide_type": "notes"}
# A grey pixel with R = G = B is simply grey to the network: the same value on three channels looks the
# same as it did on one, so the pretrained filters of the first layer, which were trained on colour,
# apply unchanged. Why 48×48? EfficientNet halves its feature map five times: 32 pixels end as a 1×1
# map, the smallest it works with, and 48 pixels as 2×2. Enlarging adds no detail that the 28×28 picture
# did not have, but it gives the pretrained filters objects closer to the size they learnt on ImageNet,
# and its layers more room. Larger inputs (96, 224) would usually give more accuracy still, but the
# arithmetic grows with the number of pixels, and on two CPU cores that decides it (see "What we
# chose, and why" below).
#
# All of this happens **inside the model**, as its first layers, followed by the backbone's own
# preprocessing: Keras's EfficientNetB0 takes pixels 0–255 and normalises them itself;
# EfficientNet-Lite0 expects (x − 127) / 128. We never divide by 255 ourselves: a pretrained network
# must see its inputs exactly as it did on ImageNet.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## A frozen base, a custom head
#
# The pretrained base without its ImageNet classifier, **frozen**; on top, pooling, one `Dense` layer,
# dropout and a 10-way softmax: the only layers that learn at first.

# %% tags=["slides-show-output"]
model = ft.build_classifier(config)
show_table(ft.layer_table(model))

# %% [markdown] slideshow={"slide_type": "notes"}
# The base was built with `include_top=False`: without its own pooling and its 1,000-class ImageNet
# layer, which knows nothing about trousers. Global average pooling turns the base's last feature map
# into one vector per image; the head maps that vector to our ten classes. The flip layer at the start
# flips pictures left to right at random while the network trains (a mirrored shirt is still a shirt);
# at test time it does nothing.
#
# "Frozen" means `trainable = False`: the base's millions of weights stay as ImageNet left them, and
# only the head's few hundred thousand learn. The head starts from random numbers, and its first
# gradients are large and random: let them flow into the base and they would scramble the features we
# came for.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Phase 1: train the head
#
# The frozen base gives the same features for an image in every epoch, so we compute them **once**
# and train the head on them: seconds instead of minutes.

# %% slideshow={"slide_type": "fragment"} tags=["slides-show-code"]
history = ft.train_head(model, data, config, verbose=progress_verbose())

# %% tags=["slides-show-output"]
print(f"features of {config.n:,} images: {history.seconds['features']:.0f} s; "
      f"head, {config.head_epochs} epochs: {history.seconds['head']:.0f} s")
print(f"validation accuracy {history.history['val_accuracy'][-1]:.1%}")

# %% [markdown] slideshow={"slide_type": "notes"}
# Caching the features is exact only when nothing random comes before the base. The frozen base runs
# in inference mode (its BatchNorm layers use their stored ImageNet statistics), so it maps an image
# to the same features every time; but this model's first layer flips images at random while it
# trains. On cached features the head never sees a flipped picture: phase 1 here trains without that
# augmentation, and phase 2, which runs the whole network, has it again. The CIFAR-10 project's
# chapter 3 caches features too (`cifar_lessons.features`); its seed recipe has no random layer, so
# there the cache is exact.
#
# Expect the head alone to do worse than the CNN from scratch. ImageNet's features were learnt on
# colour photos of dogs and cars at 224 pixels; at 32 or 48 pixels on grey clothes they are a poor fit. The
# head cannot change them: that is what phase 2 is for.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Phase 2: unfreeze and fine-tune
#
# Now every layer of the base learns too, at a **low learning rate** (2×10⁻⁴, falling along a cosine
# to zero). BatchNorm layers stay frozen.

# %% slideshow={"slide_type": "fragment"} tags=["slides-show-code"]
history = ft.fine_tune(model, data, config, history, verbose=progress_verbose())
run = ft.evaluate(model, data, history)

# %% tags=["slides-show-output"]
print(f"fine-tuning, {config.fine_tune_epochs} epoch{'s' if config.fine_tune_epochs > 1 else ''}: "
      f"{history.seconds['fine_tune']:.0f} s")
print(f"test accuracy {run.metrics['accuracy']:.1%} ({backbone_name(config.backbone)}, this build)")

# %% [markdown] slideshow={"slide_type": "notes"}
# Why a low rate: the pretrained weights are already good, and the head has now learnt something
# sensible, so the gradients are meaningful. Small steps adapt the features to grey clothes without
# forgetting what ImageNet taught; a rate like phase 1's 10⁻³ would move millions of weights far from
# where they started after a few hundred batches. The cosine decay ends at zero, so the last epoch's
# weights are the ones we keep. "Low" is relative: 10⁻⁵, the CIFAR-10 seed recipe's rate, barely moves
# the weights in a few epochs; our first full-size run, at 10⁻⁴, was still underfitting when it ended
# (see "What we chose, and why").
#
# Why BatchNorm stays frozen: its running means and variances were measured on ImageNet. Unfrozen,
# Keras 3 would update them from our batches of grey clothes while training and then use different
# statistics at test time. `set_base_trainable` keeps every BatchNormalization layer frozen, because
# `base(x, training=False)` alone is not enough: Keras 3's `fit` overrides it in nested models.
#
# This phase is the expensive one: every image now goes forwards *and backwards* through the whole
# base, in every epoch, and the features cannot be cached any more, since the base changes.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Learning curves
#
# Epochs left of the dashed line trained only the head; right of it, the whole network.

# %% tags=["hide-input"]
plots.training_curves(run.history, run.phase2_start)

# %% [markdown] slideshow={"slide_type": "notes"}
# Look for the jump at the dashed line: the head alone reaches a plateau set by the frozen features;
# fine-tuning lifts it. In phase 1 the training accuracy is measured with dropout on, so it can sit
# below the validation accuracy. At the build size the curves are short and the network
# half-trained; the full-size curves are at the end of the chapter.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The test set, once
#
# 10,000 test images, after both phases; the classes it confuses most.

# %% tags=["slides-show-output"]
print(f"test accuracy {run.metrics['accuracy']:.1%}, test loss {run.metrics['loss']:.3f} (this build, {config.size_name()})")
for true, predicted, count in top_confusions(run.metrics["confusion_matrix"], data.class_names, 3):
    print(f"  {count:4d} {true} taken for {predicted}")

# %% tags=["hide-input"]
plots.confusion_heatmap(run.metrics["confusion_matrix"], data.class_names)

# %% [markdown] slideshow={"slide_type": "notes"}
# The same classes trouble every network on Fashion-MNIST: shirts, T-shirts, pullovers and coats.
# Transfer learning narrows these confusions but does not remove them; some of those pictures are
# ambiguous at 28×28 even to a person.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Measured: dense, CNN, transfer
#
# The full-size runs and this page's own, each row saying where it came from.

# %% tags=["slides-show-output"]
show_table(ft.comparison_table(run, config, scratch, committed),
           slide_columns=["model", "from", "epochs", "train time", "test accuracy"])

# %% [markdown] slideshow={"slide_type": "notes"}
# "Record" rows are full-size runs on all 60,000 training images; the
# other row is this page's run, trained small. "Parameters (trained)" is what learns while fine-tuning: the transfer
# model trains far more weights than the CNN, but starts from good ones.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The full-size run
#
# All 60,000 training images, 3 + 4 epochs.

# %% tags=["hide-input", "slides-show-output"]
if committed:
    print(f"{backbone_name(committed['record']['config']['backbone'])}, all 60,000 images: "
          f"test accuracy {committed['metrics']['accuracy']:.1%}")
    display(plots.training_curves(committed["history"]["history"], committed["history"]["phase2_start"]))
else:
    print(f"Not measured yet: no results/{ft.COMMITTED} record in this checkout.")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What we chose, and why
#
# Three full-size runs on 2 CPU cores: 32×32 first, then 48×48 with two fine-tuning epochs, then
# with four. Only the last reached the 93% we aimed for.

# %% tags=["slides-show-output"]
measured = ft.earlier_runs() + ([committed] if committed else [])
if measured:
    display(show_table(ft.choices_table(measured),
                       slide_columns=["record", "input", "epochs", "fine-tuning rate", "wall time", "test accuracy"]))
else:
    print("Not measured yet: no results/fashion-transfer* records in this checkout.")

# %% [markdown] slideshow={"slide_type": "notes"}
# The budget decided the recipe: a full-size run of minutes, not hours, on two CPU cores (the
# appendix [How the numbers were made](appendix_how_numbers_were_made.md) gives the timings). The
# features of the frozen base are computed once, so the head phase costs seconds and three epochs
# bring it to its plateau.
#
# The first full-size run (`results/fashion-transfer-32`) spent the time on epochs: 32×32 input, four
# fine-tuning epochs at 10⁻⁴. Its validation accuracy ended at 90.8%, and its training accuracy (92%)
# was still climbing when the learning rate reached zero: it was underfitting, not memorising. A probe
# on 8,000 images then compared 32×32 and 48×48 with one fine-tuning epoch each, 48 pixels clearly
# ahead for about 1.3 times the time. So the second run (`results/fashion-transfer-48-2ep`) spent the
# time on pixels instead: 48×48, two fine-tuning epochs, at twice the rate (2×10⁻⁴) so that fewer
# steps still move the weights far enough. Its validation accuracy reached 92.4%, and was still rising
# at the last epoch. The chapter's recipe gives it four epochs: validation accuracy 93.3%, test
# accuracy 93.2%, in about fourteen minutes. That beats the small CNN from scratch (92.6%; read the
# comparison table above), but only by 0.6 points, for about a third more training time (13.5 minutes
# against 10.6). And 93.2% clears the 93% goal by less than the test set can resolve: on 10,000
# images a figure near 93% has a standard error of about a quarter of a point.
#
# **The test set was not closed.** These choices should rest on validation accuracy alone, and the
# validation figures above support them, but the test figures of the earlier runs were looked at too
# (the appendix lists them). So the 93.2% is slightly optimistic: decide on validation images and keep
# the test set closed until the end.
#
# Why so narrow a win? Fashion-MNIST's pictures are small, centred and plentiful (54,000 to fit),
# which is exactly where a small network trained from scratch is strong; and at 48 pixels an ImageNet
# network sees objects far smaller than those it learnt on. Transfer learning pays most when the
# input is large enough for the pretrained features to fit, and when the labelled data are few: with
# a few thousand images the from-scratch CNN would fall far behind, while the pretrained base
# already knows edges, textures and shapes.
#
# In Colab, with a GPU, a larger input (96 or 224 pixels) and more epochs are affordable and worth
# trying: on CIFAR-10 (chapter 6), going from 32 to 96 pixels was worth 19 points.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Takeaways
#
# - Transfer learning reuses what a network learnt on ImageNet and trains only what our task needs.
# - Grey to three channels, a size the network accepts, and the backbone's own preprocessing, inside the model.
# - Phase 1: a frozen base (BatchNorm too) and a new head. Phase 2: everything, at a low learning rate.
# - Input size first, then enough epochs; on small, plentiful, centred pictures a CNN from scratch is a strong rival.
#
# Next: [CIFAR-10](01_dataset.ipynb), colour photos, where the same recipe is the whole project.

# %% [markdown] tags=["exercises"]
# ## Exercises
#
# Try each before opening its solution. A solution with code runs on this page, so its output is
# this page's own; in Colab, run it after the chapter's cells.

# %% [markdown] tags=["exercises"]
# ```{exercise} Grey to colour
# :label: ex-00c-rgb
# :nonumber:
#
# The pretrained base expects three channels. `ft.grey_to_rgb` repeats the grey channel three
# times. Check that the three channels of a converted image are identical, and say why a learned
# colour filter still sees something useful.
# ```
# ```{solution-start} ex-00c-rgb
# :class: dropdown
# ```
#
# Identical channels mean each first-layer filter sees the sum of its three colour kernels
# applied to the same grey image: it still responds to the edges and textures its kernels
# encode, only not to colour.

# %% tags=["exercises"]
three = ft.grey_to_rgb(data.x_train[:4])
print("shape", three.shape, "| channels identical:", bool((three[..., 0] == three[..., 1]).all()
                                                        and (three[..., 1] == three[..., 2]).all()))

# %% [markdown] tags=["exercises"]
# ```{solution-end}
# ```

# %% [markdown] tags=["exercises"]
# ```{exercise} How much is frozen
# :label: ex-00c-trainable
# :nonumber:
#
# The chapter's model has been fine-tuned. How many of its parameters were trainable in that
# phase? **Predict** the fraction from the layer table, then count `trainable_weights` and
# `non_trainable_weights`.
# ```
# ```{solution-start} ex-00c-trainable
# :class: dropdown
# ```
#
# After fine-tuning the base is trainable except its BatchNorm layers, which stay frozen
# (their running statistics are not trained by gradient); the head is a small fraction of the whole.

# %% tags=["exercises"]
import math

trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
frozen = sum(math.prod(w.shape) for w in model.non_trainable_weights)
print(f"trainable {trainable:,}, not trainable {frozen:,} ({trainable / (trainable + frozen):.0%} trainable)")

# %% [markdown] tags=["exercises"]
# ```{solution-end}
# ```

# %% [markdown] tags=["exercises"]
# ```{exercise} Why resize at all
# :label: ex-00c-size
# :nonumber:
#
# The garments are 28×28 but the chapter resizes them before the base. What would go wrong at
# 28×28 with a base that downsamples by 32?
# ```
#
# ```{solution} ex-00c-size
# :class: dropdown
#
# A base that halves the resolution five times turns 32×32 into a single 1×1 cell, and 28×28
# into less than one: Keras refuses input smaller than 32 for these bases, and even at 32 the last
# feature map has no spatial extent left. A larger input keeps a few cells of spatial layout for the
# head to use, at a cost that grows with the number of pixels (chapter 6 measures it).
# ```
