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
# # 5. Evaluation
#
# The test set, untouched until now, tells us how the model does on images it has never seen, and
# where it goes wrong.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## In this chapter
#
# You will learn to:
#
# - evaluate once on the test set, with its standard error;
# - read a confusion matrix and per-class precision and recall;
# - look at the most confident mistakes and say what they have in common.
#
# **Before it:** [Fine-tuning](04_fine_tuning.ipynb).
#
# **Time:** Evaluation, about 10 s on 2 CPU cores (`results/lite0-32-seed`). On a Colab GPU: not measured (this project's machines have none).

# %% [markdown] slideshow={"slide_type": "notes"}
# **In Colab,** this notebook asks for a T4 GPU; if you got a CPU, switch with *Runtime → Change
# runtime type → T4 GPU*.
# Without Drive, this notebook retrains chapters 3 and 4 first: about 8 min on a 2-core CPU.
# On a T4 that should take about a minute (an estimate: see the introduction).

# %% slideshow={"slide_type": "skip"}
import pandas as pd

from cifar_lessons.backbones import describe_weights
from cifar_lessons.config import chapter_config, progress_verbose
from cifar_lessons.display import plots, provenance, record_card, run_card, show_code, show_table
from cifar_lessons.evaluate import confident_mistakes, predict_probabilities, top_confusions
from cifar_lessons.recipe import load_data, run_evaluation, save_stage, stage_dir, tuned_stage
from cifar_lessons.records.committed import committed

config = chapter_config()
data = load_data(config)
model, history = tuned_stage(config, data, verbose=progress_verbose())

# %% [markdown] slideshow={"slide_type": "notes"}
# `tuned_stage` loads the model chapter 4 fine-tuned (or, opened alone, trains both phases first).
# Now one pass over all 10,000 test images gives every class probability for every image, and the
# whole run is saved as the final run record.

# %%
metrics, probs = run_evaluation(config, data, model, verbose=progress_verbose())
record = save_stage(stage_dir(config, "full"), config, data, "full", model, history, metrics, probs, overwrite=True)
card = run_card(config, record.data, record.weights, record.record)
provenance(card, record_card(committed("lite0-32-seed")))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Test accuracy
#
# Keras's `evaluate` gives the loss and the accuracy on the test images, through the same pipeline as
# training.

# %% tags=["slides-show-code", "slides-show-output"]
from cifar_lessons.pipeline import make_dataset

test_images, test_labels = data.x_test, data.y_test
test_data = make_dataset(test_images, test_labels, backbone=config.backbone, batch_size=256)
# Chapter 4's record keeps the model uncompiled: evaluate needs its loss and metrics.
model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
test_loss, test_accuracy = model.evaluate(test_data, verbose=0)
print(f"test accuracy: {test_accuracy:.2%}   test loss: {test_loss:.3f}   "
      f"({len(test_images):,} test images; chance is 10%)")

# %% tags=["slides-show-output"]
full_size = committed("lite0-32-seed")
print(f"the seed recipe at full size (committed record lite0-32-seed): {full_size.metrics['accuracy']:.2%}")

# %% [markdown] slideshow={"slide_type": "notes"}
# This is the number to report, with the run card above it: the same recipe on other data or
# weights gives a different number. Accuracy alone hides a lot, though. Ten classes with 1,000 test
# images each can average 80% with some classes at 95% and others at 60%.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Every probability of every test image
#
# The rest of the chapter needs more than two numbers. `run_evaluation`, above, predicted them:

# %%
show_code(predict_probabilities)

# %% [markdown] slideshow={"slide_type": "notes"}
# The accuracy of those probabilities is `evaluate`'s (printed below); a mirrored second look at each
# test image, chapter 6's `flip_test`, would change it.

# %% tags=["slides-show-output"]
print(f"from the probabilities: accuracy {metrics['accuracy']:.2%}, loss {metrics['loss']:.3f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Per-class report
#
# **Precision**: of the images predicted as this class, the share that were right.
# **Recall**: of the images of this class, the share that were found. **F1** balances the two.

# %% tags=["hide-input"]
report = pd.DataFrame(metrics["per_class"]).T.rename(columns={"f1-score": "F1"})
report["support"] = report["support"].astype(int)
report.style.format({"precision": "{:.2f}", "recall": "{:.2f}", "F1": "{:.2f}"}).background_gradient(
    subset=["F1"], cmap="RdYlGn", vmin=0, vmax=1)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Confusion matrix
#
# Row: the true class. Column: the prediction. The diagonal is what the model gets right.

# %% tags=["hide-input"]
plots.confusion_heatmap(metrics["confusion_matrix"], data.class_names)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The five most frequent confusions in this run:

# %% tags=["hide-input"]
show_table(pd.DataFrame(top_confusions(metrics["confusion_matrix"], data.class_names),
                        columns=["true class", "predicted as", "test images"]))

# %% [markdown] slideshow={"slide_type": "notes"}
# With ImageNet weights, the off-diagonal mass concentrates in a few familiar places. **Cat and dog**
# are the classic pair: at 32×32 both are a furry shape with two ears and a face, and the pose and
# background vary more within each class than between them. **Automobile and truck** share wheels,
# windows and roads; the difference is proportion and size, which a tiny photo blurs. **Airplane and
# ship** share their backgrounds, sky and sea, both blue and mostly empty. In the seed recipe's
# full-size run these were the three most confused pairs, in that order. These errors are
# not random: they follow the visual similarity of the classes, which is a sign that the features are
# meaningful. A model with random weights (see the run card) shows no such structure.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The most confident mistakes
#
# Wrong predictions, sorted by how sure the model was.

# %% tags=["hide-input"]
worst = confident_mistakes(probs, data.y_test, k=16)
plots.mistakes_gallery(data.x_test, data.y_test, probs, worst, data.class_names)

# %% [markdown] slideshow={"slide_type": "notes"}
# Looking at mistakes is the fastest way to learn what a model does. Some are forgivable (an image
# that really is ambiguous at this resolution, or one a person would also get wrong); some show a
# shortcut the model learnt, such as "blue background means ship" or "sky means airplane". When many
# confident mistakes share a background, augmentation or more varied data is the remedy.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Takeaways
#
# - Report test accuracy once, with where it came from.
# - Per-class scores and the confusion matrix show *which* classes fail.
# - Confusions follow visual similarity: cat/dog, automobile/truck.
#
# Next: [doing better](06_doing_better.ipynb), one measured change at a time.

# %% [markdown] tags=["exercises"]
# ## Exercises
#
# Try each before opening its solution. A solution with code runs on this page, so its output is
# this page's own; in Colab, run it after the chapter's cells.

# %% [markdown] tags=["exercises"]
# ```{exercise} How sure is the test accuracy?
# :label: ex-05-se
# :nonumber:
#
# With $n$ test images and accuracy $p$, the standard error is $\sqrt{p(1-p)/n}$. Compute it
# for this page's accuracy and give a 95 % interval ($\pm 1.96$ standard errors). Would a change of
# 0.5 points be visible?
# ```
# ```{solution-start} ex-05-se
# :class: dropdown
# ```
#
# At $n = 10{,}000$ the standard error is about half a point for accuracies near 50 %, so a
# 0.5-point difference between two runs is within the noise of one test set.

# %% tags=["exercises"]
import math

p, n = metrics["accuracy"], len(test_labels)
se = math.sqrt(p * (1 - p) / n)
print(f"accuracy {p:.2%} ± {se:.2%} (standard error); 95 % interval {p - 1.96 * se:.2%} to {p + 1.96 * se:.2%}")

# %% [markdown] tags=["exercises"]
# ```{solution-end}
# ```

# %% [markdown] tags=["exercises"]
# ```{exercise} The hardest class
# :label: ex-05-recall
# :nonumber:
#
# Which class has the lowest recall, and which the lowest precision? Read them from
# `metrics["per_class"]`. Are they the same class?
# ```
# ```{solution-start} ex-05-recall
# :class: dropdown
# ```
#
# Recall asks "of the true cats, how many were called cat?", precision "of the images called
# cat, how many were cats?". A class that is often predicted for others (a catch-all) has low
# precision; a class that is often missed has low recall.

# %% tags=["exercises"]
per_class = {k: v for k, v in metrics["per_class"].items() if k in data.class_names}
for measure in ("recall", "precision"):
    worst = min(per_class, key=lambda k: per_class[k][measure])
    print(f"lowest {measure}: {worst} ({per_class[worst][measure]:.2f})")

# %% [markdown] tags=["exercises"]
# ```{solution-end}
# ```

# %% [markdown] tags=["exercises"]
# ```{exercise} Once
# :label: ex-05-once
# :nonumber:
#
# Chapter 5 evaluates the test set once. After reading its confusion matrix, you want to add
# augmentation for cats and dogs. What must you use to decide whether it helped?
# ```
#
# ```{solution} ex-05-once
# :class: dropdown
#
# The validation set (or a cross-validation on the training images), not this test set: the
# idea came from the test set, so judging it there would fit the choice to those images. Measure the
# final recipe on the test set once, and report that figure with its standard error.
# ```
