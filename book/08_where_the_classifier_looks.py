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
# # Where the classifier looks
#
# The classifier says *cat*. **Grad-CAM** asks which part of the picture made it say so, and paints
# the answer over the image: for correct predictions, and for its most confident mistakes.


# %% [markdown] slideshow={"slide_type": "slide"}
# ## In this chapter
#
# You will learn to:
#
# - compute a Grad-CAM map from a class score's gradients;
# - read maps of correct predictions and of confident mistakes;
# - check a map against a random head, and say what a map cannot show.
#
# **Before it:** [Evaluation](05_evaluation.ipynb).
#
# **Time:** At full size, about 2.2 min on 2 CPU cores, 6.5 min with fine-tuning (`results/gradcam-lite0-96`, `results/gradcam-lite0-96-tuned`). On a Colab GPU: not measured (this project's machines have none).

# %% [markdown] slideshow={"slide_type": "notes"}
# **In Colab,** this notebook asks for a T4 GPU; if you got a CPU, switch with *Runtime → Change
# runtime type → T4 GPU*. At the size it trains here, the whole chapter ran in 3½ min on 2 CPU cores
# when the book was built, so a GPU saves at most that; it matters at full size, whose fine-tuned
# run, shown at the end, took 6 min on those cores.

# %% [markdown] slideshow={"slide_type": "notes"}
# This chapter opens the part "Beyond classification": the project's model has been trained and
# evaluated, and now we look inside it. Grad-CAM (Selvaraju et al., 2017) is the standard first look.
# It needs no retraining and no change to the model: one forward pass and one gradient per image.
#
# The chapter trains its own model, so that it runs alone (in Colab too): the project's classifier at
# 96-pixel input, the ImageNet base frozen, the head trained on the base's cached features (chapter 3's
# shortcut). The box below says which backbone, weights, data and profile this page used.

# %%
from IPython.display import display
from cifar_lessons.config import progress_verbose
from cifar_lessons.display import plots, provenance, record_card, run_card, show_table
from cifar_lessons.evaluate import confident_mistakes
from cifar_lessons.gradcam import figures, study
from cifar_lessons.gradcam.method import grad_cam, last_conv_layer, preprocessed
from cifar_lessons.models import base_of, build_base
from cifar_lessons.recipe import load_data, run_evaluation

config = study.study_config()
data = load_data(config)

# %%
records = {name: study.committed_study(name=name) for name in (study.RECORD, study.TUNED)}
card = run_card(config, data.source.to_dict())  # the weights as the configuration names them
provenance(card, *(record_card(rec) for rec in filter(None, records.values())))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Grad-CAM in one line
#
# The base's last feature map has a grid of positions and many channels. Grad-CAM weighs each channel
# by how much it pushed the class's score up, adds the channels, keeps the positive part:
#
# $$\alpha_k^c = \frac{1}{Z} \sum_{i,j} \frac{\partial y^c}{\partial A^k_{ij}}, \qquad
# L^c = \mathrm{ReLU}\Big(\sum_k \alpha_k^c A^k\Big)$$
#
# $A^k$ is channel $k$ of the last feature map ($Z$ positions), $y^c$ the class's score *before* the
# softmax, as in Selvaraju et al.: a confident softmax saturates, and its gradients vanish.

# %% [markdown] slideshow={"slide_type": "notes"}
# Why the last feature map: it is the most semantic map the network has (a channel there answers
# questions like "is there fur here?"), and it is still spatial. After it, the pooling layer averages
# the positions away and the head sees one vector. The gradient of the class's score with respect to
# a channel, averaged over the positions, says how much the class relies on that channel; channels
# that argue against the class get negative weights and the ReLU drops what they leave. The map is
# then stretched to the 32×32 image and scaled so its hottest point is 1: it shows *where*, not *how
# much*, and two maps cannot be compared in strength. `cifar_lessons.gradcam.method.grad_cam` does all this;
# its tests check it against the formula worked by hand on a 2×2 map.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Why not at 32 pixels
#
# Grad-CAM is no finer than the last feature map, and the base shrinks the image 32 times. At 32 pixels
# that map is a single cell.

# %% tags=["hide-input"]
sides = {s: last_conv_layer(build_base(config.backbone, "none", s)).height for s in (32, 96, 128, 224)}
plots.feature_map_grids(data.x_test[3], sides)

# %% [markdown] slideshow={"slide_type": "notes"}
# The grid lines are the cells of the base's last feature map at each input size (the shapes only,
# so a base with random weights is enough to measure them). At the project's 32×32 input there is one
# cell: every Grad-CAM map is one number stretched over the image, and it says nothing about where
# (`explain` warns when that happens). So this chapter's model takes the images upsampled to 96×96
# inside the model (a `Resizing` layer): a 3×3 map, coarse but real. Chapter 6 measured that larger
# inputs also classify much better: the ImageNet filters were trained on objects tens of pixels wide.
# At 224 pixels, ImageNet's own size, the map would be 7×7, at (224/96)² ≈ 5.4 times the cost of 96.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The chapter's model
#
# The project's classifier at **96×96** input: the ImageNet base frozen, the head (Dense 256, Dense 128,
# softmax) trained for 3 epochs on the base's cached features. No fine-tuning.

# %% slideshow={"slide_type": "fragment"} tags=["slides-show-code"]
model, history = study.train(config, data, verbose=progress_verbose())
metrics, probs = run_evaluation(config, data, model, verbose=0)

# %% tags=["slides-show-output"]
side = last_conv_layer(base_of(model))
held_out = round(len(data.x_train) * config.validation_fraction)
print(f"head: {history.seconds['head']:.0f} s on {len(data.x_train):,} images, {held_out:,} held out: "
      f"validation accuracy {history.history['val_accuracy'][-1]:.1%}")
print(f"test accuracy {metrics['accuracy']:.1%} on {len(data.x_test):,} test images; "
      f"last feature map {side.height}x{side.width}x{side.channels}")

# %% [markdown] slideshow={"slide_type": "notes"}
# Why a frozen base: the chapter must run in a couple of minutes anywhere, and fine-tuning at 96
# pixels costs about 80 seconds an epoch on 2 CPU cores. Grad-CAM through a frozen base with a trained
# head is still the classifier's own explanation: the maps use the head's trained weights (through
# the gradients) and the base's features, exactly what made each prediction. What it cannot show is
# how fine-tuning would have reshaped the features themselves. The full-size run at the end uses all
# 10,000 training images; a quick build uses 2,000, so its accuracy is lower.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Correct predictions
#
# The first correctly classified test image of each class, and the map of the class it predicted.

# %% tags=["hide-input"]
right = study.correct_examples(probs, data.y_test)
maps = grad_cam(model, preprocessed(data.x_test[right], config.backbone))
figures.grad_cam_rows(data.x_test[right], {study.ROW_PREDICTED: maps},
                    study.example_titles(right, probs, data.y_test, data.class_names))

# %% [markdown] slideshow={"slide_type": "notes"}
# Red is where the map is hottest, blue where it is zero. `grad_cam(model, images)` takes the images
# exactly as the model takes them (preprocessed for the backbone, `preprocessed` does it with the
# training pipeline itself) and explains each image's predicted class unless told otherwise. The
# maps are blocky because they come from a 3×3 grid: they can say "the left half" or "the middle",
# not "the ear". Look at whether the hot cells sit on the object or on its surroundings: water under a
# ship, sky around a plane, grass under a horse are all things a classifier can learn to lean on.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The most confident mistakes
#
# Wrong, and most sure of it. Under each image: the map of the class the model chose, then of the
# true class.

# %% tags=["hide-input"]
wrong = confident_mistakes(probs, data.y_test, k=8)
both = study.mistake_maps(model, data.x_test[wrong], probs[wrong], data.y_test[wrong], config.backbone)
figures.grad_cam_rows(data.x_test[wrong], both, study.example_titles(wrong, probs, data.y_test, data.class_names, mistakes=True))

# %% [markdown] slideshow={"slide_type": "notes"}
# The same `grad_cam` call, once with each image's predicted class and once with its true class
# (`class_index=` a list of classes, one per image). Where the two maps point at the same place, the
# model looked at the right thing and read it wrong (a cat's face taken for a dog's). Where the
# predicted class's map sits on the background, the model may have decided from the context. Some of
# these mistakes are honest ambiguities at 32×32, and a few labels are arguable.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Measured: the centre, and a sanity check
#
# Share of each map inside the central 16×16 square (a uniform map puts 25% there), and how similar the
# maps stay when the trained head is replaced by random weights.

# %% tags=["hide-input"]
m = study.MEASURED_IMAGES[config.profile]
predicted = probs[:m].argmax(axis=1)
measured = study.measure_maps(model, preprocessed(data.x_test[:m], config.backbone), predicted, seed=config.seed)
summary = study.summary(measured, predicted == data.y_test[:m])
show_table(study.summary_table(summary))

# %% [markdown] slideshow={"slide_type": "notes"}
# Two questions, two numbers. **Centre share**: CIFAR-10's photos are framed around their object, so
# one might expect a model that looks at the object to put more than a quarter of its map in the
# middle. Measured, it does not, or barely: at 3×3 the maps are broad, and a CIFAR-10 object fills most
# of its 32×32 frame, so the border is often object too. The figure says the maps are not stuck to the
# centre; it cannot tell object from background. **Sanity check** (Adebayo et al., 2018, the model
# randomisation test): if an explanation gives much the same map for the trained model and for one
# whose weights are random, it shows the image (its edges, its bright parts), not what the model
# learnt. Here the head's trained weights are replaced by random ones (`randomised_head`), the same
# classes are explained, and Spearman's rank correlation compares each pair of maps: 1 would be the
# same map, 0 unrelated. The frozen base keeps its ImageNet weights in both, so both maps are built from
# the same features; a correlation near 0 says the trained head, not the image alone, decides where
# the map is hot: Grad-CAM passes this check here.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Trained head against random head
#
# The first test images, each explained for the class the trained model predicted; only the head's
# weights differ.

# %% tags=["hide-input"]
figures.grad_cam_rows(data.x_test[:8], {"trained\nhead": measured["trained"][:8], "random\nhead": measured["random"][:8]},
                    [f"class: {data.class_names[c]}" for c in predicted[:8]])

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What the maps do and do not prove
#
# - They show **where** the evidence for one class sat in the last feature map: a correlation, at 3×3.
# - They do **not** prove the model "understands" the object, nor that covering the hot region would
#   change the answer; that needs an experiment (occlude it and predict again).

# %% [markdown] slideshow={"slide_type": "notes"}
# Grad-CAM is a linear summary of gradients at one layer: it can miss evidence that works through
# interactions, and its maps are scaled per image, so a weak map and a strong one look alike. It passed
# the sanity check above only to the degree the correlation is low. Use the maps to ask questions
# ("does it rely on water for ships?") and answer them with measurements: occlusion, or accuracy on
# images whose backgrounds were swapped.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## At full size
#
# EfficientNet-Lite0, 10,000 training images (9,000 + 1,000), all 10,000 test images, made by
# `scripts/measure_grad_cam.py`: this chapter's model, and the same with its base fine-tuned.

# %% tags=["hide-input"]
show_table(study.records_table(records), study.RECORDS_ON_SLIDES)

# %% [markdown] slideshow={"slide_type": "notes"}
# The first row is this chapter's model at full size: the same code, on the 10,000-image training subset (9,000 to fit, 1,000 to validate).
# The second trains it as chapter 6 taught, at 96 pixels without augmentation: a 3-epoch head phase,
# then 3 epochs of fine-tuning the whole network at 10⁻⁴ with a cosine decay, so the base's features
# adapt to CIFAR-10 too. Centre share and rank correlation are measured as above, on the first 1,000
# test images. Both rows are records measured once on 2 CPU cores and kept in the repository; their
# run cards are in the book and in the speaker notes.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Full size: correct predictions

# %% tags=["hide-input"]
study.record_figure(records[study.RECORD], "correct.png")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Full size: the most confident mistakes

# %% tags=["hide-input"]
study.record_figure(records[study.RECORD], "mistakes.png")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Fine-tuned: the most confident mistakes

# %% tags=["hide-input"]
study.record_figure(records[study.TUNED], "mistakes.png")

# %% [markdown] slideshow={"slide_type": "notes"}
# These grids were drawn once, by the full-size runs, from their own models: EfficientNet-Lite0 with
# its ImageNet weights, at 96 pixels, on the shared copy of CIFAR-10 (their run cards say so). They are
# pictures, not live outputs: a record keeps no model. The maps above come from this page's model, which may be another backbone or a quick profile; compare what the maps look at, not the exact
# images. The fine-tuned model makes fewer mistakes (see the table), yet some of its most confident
# mistakes are the frozen model's too: those images mislead both. Fine-tuning did not make its maps
# more central, and they still depend on its trained head: the same two figures as the frozen model's.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Takeaways
#
# - Grad-CAM: weigh the last feature map's channels by their gradients; one map per image and class.
# - It can be no finer than that map: at 32 px it is 1×1, so upsample the input (96 px: 3×3).
# - Compare the predicted class's map with the true class's; check maps against a randomised model.
# - A map is a question, not a proof.

# %% [markdown] tags=["exercises"]
# ## Exercises
#
# Try each before opening its solution. A solution with code runs on this page, so its output is
# this page's own; in Colab, run it after the chapter's cells.

# %% [markdown] tags=["exercises"]
# ```{exercise} Ask about another class
# :label: ex-08-class
# :nonumber:
#
# Grad-CAM explains one class's score. Compute the maps of the first four correctly classified
# test images for their *second* most likely class instead of the predicted one, and compare where
# they look. (`grad_cam` takes a `class_index` array.)
# ```
# ```{solution-start} ex-08-class
# :class: dropdown
# ```
#
# The second class's map often lights a different part of the image, the part that looks
# a little like that class, which is why one map per prediction is only part of the story.

# %% tags=["exercises"]
four = right[:4]
second = probs[four].argsort(axis=1)[:, -2]
second_maps = grad_cam(model, preprocessed(data.x_test[four], config.backbone), class_index=second)
figures.grad_cam_rows(data.x_test[four], {"predicted": maps[:4], "2nd class": second_maps},
                      [f"2nd: {data.class_names[c]}" for c in second])

# %% [markdown] tags=["exercises"]
# ```{solution-end}
# ```

# %% [markdown] tags=["exercises"]
# ```{exercise} Why the score before the softmax
# :label: ex-08-logit
# :nonumber:
#
# Grad-CAM takes the gradient of the class score **before** the softmax. What would go wrong
# with the probability after it, for an image the model is very sure of?
# ```
#
# ```{solution} ex-08-logit
# :class: dropdown
#
# A softmax output near 1 is flat: its gradient with respect to the features is close to zero,
# so the map would fade exactly for the images the model is surest of. The score before the softmax
# (the logit) keeps a useful gradient, and its rise means more evidence for that class alone rather
# than less for the others.
# ```

# %% [markdown] tags=["exercises"]
# ```{exercise} The map's resolution
# :label: ex-08-resolution
# :nonumber:
#
# At 32×32 input the last feature map of this backbone is tiny. Use the chapter's `sides`
# table to say how many cells a Grad-CAM map has at 32, 96 and 224 pixels, and what that means for
# reading a map at 32.
# ```
#
# ```{solution} ex-08-resolution
# :class: dropdown
#
# `sides` maps each input size to the side of the last feature map (1 at 32 px for this base,
# 3 at 96, 7 at 224). A 1×1 map has one value: it cannot point anywhere. That is why the chapter
# studies the classifier at 96 pixels, where a 3×3 map can at least say which part of the image.
# ```
