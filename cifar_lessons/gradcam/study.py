"""The Grad-CAM study: the chapter's model, its examples, two measured figures and its committed record.

Taught in the chapter Where the classifier looks (``book/08_where_the_classifier_looks``); the
full-size record ``results/gradcam-lite0-96`` is made by ``scripts/measure_grad_cam.py`` with the
same functions.

**The model.** The project's classifier (:func:`cifar_lessons.models.build_classifier`) at 96-pixel
input, its ImageNet base frozen, its head trained for 3 epochs on the base's cached features
(:func:`cifar_lessons.recipe.train_phase1`), and no fine-tuning. Why 96 pixels: Grad-CAM can be no
finer than the base's last feature map, and at 32 pixels that map is 1x1
(:mod:`cifar_lessons.gradcam.method`);
at 96 it is 3x3. Why frozen: the chapter must run alone, in minutes, and Grad-CAM through a frozen
base with a trained head is still the classifier's own explanation of its own decision.

**Two measured figures.** :func:`centre_share`, how much of a map's mass lies in the central
square (an object in CIFAR-10 is usually in the middle; a uniform map puts a quarter there), and the
sanity check of Adebayo et al. (2018), :func:`randomised_head` with :func:`rank_correlation`: a map
that is still the same after the trained head's weights are replaced by random ones explains the
image, not the classifier.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..config import RunConfig, make_config
from ..errors import RecordError
from ..records.committed import COMMITTED_FILES

#: The chapter's input size: the smallest the book uses above 32, where the base's last map is 3x3.
IMAGE_SIZE = 96
#: Head epochs on cached features, the same in every profile. Three, as in chapter 6's recipe and the
#: fine-tuned companion's head phase: the first full-size record trained 10, and its validation loss
#: was lowest after epoch 3 (0.796), then rose to 1.03 while the head memorised its 9,000 images.
HEAD_EPOCHS = 3
#: The committed full-size record (EfficientNet-Lite0 with its ImageNet weights).
RECORD = "gradcam-lite0-96"
#: Its fine-tuned companion, made by the same script with ``--fine-tune``: chapter 6's training pieces
#: at 96 px without augmentation (a 3-epoch head phase, then 3 epochs of fine-tuning at 1e-4 with a
#: cosine decay), to show whether the maps move when the base itself learns.
TUNED = "gradcam-lite0-96-tuned"
TUNED_OVERRIDES = {
    "head_epochs": 3,
    "fine_tune_epochs": 3,
    "fine_tune_learning_rate": 1e-4,
    "fine_tune_schedule": "cosine",
}
#: How many test images the measured figures use, by profile (the first ones of the test set).
MEASURED_IMAGES = {"quick": 200, "seed": 1000, "better": 1000}
#: The margin around the central square of :func:`centre_share`, in pixels of the 32x32 map.
MARGIN = 8
#: What a committed record holds: the run's three files and the two grids.
FIGURES = ("correct.png", "mistakes.png")


def study_config(
    profile: str | None = None, *, env: Mapping[str, str] | None = None, **overrides
) -> RunConfig:
    """The chapter's run: the build's profile, data, backbone and weights; 96 px, 3 head epochs, no phase 2.

    The profile decides the number of training images (quick: 2,000; seed: 10,000); the head is
    trained for :data:`HEAD_EPOCHS` in every profile, since on cached features it costs seconds.
    """
    values = {"image_size": IMAGE_SIZE, "head_epochs": HEAD_EPOCHS, "fine_tune_epochs": 0, **overrides}
    return make_config(profile, env=env, **values)


def train(config: RunConfig, data, verbose: int | str = "auto"):
    """The chapter's model and its history: a new classifier, its head trained on the frozen base
    (and, with ``fine_tune_epochs``, the whole model fine-tuned after it: the full-size companion)."""
    from ..recipe import new_model, run_fine_tune, train_phase1

    model = new_model(config)
    history = train_phase1(config, data, model, verbose)
    if config.fine_tune_epochs:
        run_fine_tune(config, data, model, history, verbose)
    return model, history


def correct_examples(probabilities: np.ndarray, y_true: np.ndarray, per_class: int = 1) -> np.ndarray:
    """Indices of the first ``per_class`` correctly classified test images of each class, class by class.

    The first in test order, not the most confident: typical correct predictions, not the easiest.
    A class with fewer correct images gives what it has.
    """
    y_true = np.asarray(y_true).reshape(-1)
    right = np.asarray(probabilities).argmax(axis=1) == y_true
    return np.array(
        [
            i
            for c in range(np.asarray(probabilities).shape[1])
            for i in np.flatnonzero(right & (y_true == c))[:per_class]
        ],
        dtype=np.int64,
    )


def uniform_centre_share(size: int = 32, margin: int = MARGIN) -> float:
    """The share of a uniform map inside the central square: its area over the image's (0.25 at 32 and 8)."""
    return ((size - 2 * margin) / size) ** 2


def centre_share(maps: np.ndarray, margin: int = MARGIN) -> np.ndarray:
    """Per map, the share of its total mass inside the central square ``margin`` pixels from each edge.

    1 means all of the map is in the middle, 0 all on the border; a uniform map gives
    :func:`uniform_centre_share`. A map that is zero everywhere has no mass to share: NaN.
    """
    maps = np.asarray(maps, dtype=np.float64)
    if maps.ndim != 3 or min(maps.shape[1:]) <= 2 * margin:
        raise ValueError(f"maps must be (n, h, w) larger than twice the margin {margin}, got {maps.shape}")
    total = maps.sum(axis=(1, 2))
    inside = maps[:, margin:-margin, margin:-margin].sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, inside / np.where(total > 0, total, 1), np.nan)


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n of each row, ties sharing their average rank (as Spearman's correlation needs)."""
    from scipy.stats import rankdata

    return rankdata(x, axis=1)


def rank_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman's rank correlation between each map of ``a`` and the map of ``b`` at the same index.

    1: the same order of hot and cold pixels; 0: unrelated; NaN where either map is constant (a
    constant map has no order). This is the similarity Adebayo et al. use for their sanity check.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim < 2:
        raise ValueError(f"two batches of maps of one shape, got {a.shape} and {b.shape}")
    ra, rb = _ranks(a.reshape(len(a), -1)), _ranks(b.reshape(len(b), -1))
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    norm = np.sqrt((ra**2).sum(axis=1) * (rb**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 0, (ra * rb).sum(axis=1) / np.where(norm > 0, norm, 1), np.nan)


def head_layers(model) -> list:
    """The classifier's Dense layers after its pooling layer: the head, the only part this model trained."""
    import keras

    from ..features import POOL_LAYER

    layers = model.layers[model.layers.index(model.get_layer(POOL_LAYER)) + 1 :]
    return [layer for layer in layers if isinstance(layer, keras.layers.Dense)]


@contextmanager
def randomised_head(model, seed: int = 0):
    """Inside the ``with``: the head's weights replaced by fresh random ones; on leaving, the trained ones
    back.

    The model-randomisation test of Adebayo et al. (2018), on the part of this classifier that was
    trained: kernels drawn as Keras draws a new Dense layer's (Glorot uniform), biases zero. The
    frozen base is left as it is: its weights are ImageNet's, not this chapter's.
    """
    import keras

    layers = head_layers(model)
    saved = [layer.get_weights() for layer in layers]
    try:
        for i, layer in enumerate(layers):
            kernel = keras.initializers.GlorotUniform(seed=seed + i)(layer.kernel.shape)
            layer.kernel.assign(keras.ops.cast(kernel, layer.kernel.dtype))
            if layer.use_bias:
                layer.bias.assign(np.zeros(layer.bias.shape, dtype=layer.bias.dtype))
        yield model
    finally:
        for layer, weights in zip(layers, saved):
            layer.set_weights(weights)


def measure_maps(model, images: np.ndarray, classes: np.ndarray, seed: int = 0, batch_size: int = 32) -> dict:
    """Grad-CAM of ``classes`` on preprocessed ``images``, by the trained model and with its head randomised.

    Returns the two stacks of maps (``trained``, ``random``), each map's :func:`centre_share`, and
    each pair's :func:`rank_correlation`. The same class is explained in both: the trained model's.
    """
    from .method import grad_cam

    trained = grad_cam(model, images, class_index=np.asarray(classes), batch_size=batch_size)
    with randomised_head(model, seed):
        random = grad_cam(model, images, class_index=np.asarray(classes), batch_size=batch_size)
    return {
        "trained": trained,
        "random": random,
        "centre_trained": centre_share(trained),
        "centre_random": centre_share(random),
        "correlation": rank_correlation(trained, random),
    }


def summary(measured: Mapping, correct: np.ndarray) -> dict:
    """The measured figures as plain numbers (means over the images, NaN maps left out), for a record."""
    correct = np.asarray(correct, dtype=bool)

    def mean(x, where=None):
        x = np.asarray(x)[where] if where is not None else np.asarray(x)
        return None if np.isnan(x).all() else round(float(np.nanmean(x)), 4)

    return {
        "images": int(len(correct)),
        "margin": MARGIN,
        "uniform_centre_share": uniform_centre_share(),
        "centre_share_trained": mean(measured["centre_trained"]),
        "centre_share_trained_correct": mean(measured["centre_trained"], correct),
        "centre_share_trained_wrong": mean(measured["centre_trained"], ~correct)
        if (~correct).any()
        else None,
        "centre_share_random_head": mean(measured["centre_random"]),
        "rank_correlation_trained_vs_random_head": mean(measured["correlation"]),
    }


def summary_table(summ: Mapping):
    """The measured figures as a small table: what was measured, its value, and what a uniform map gives."""
    import pandas as pd

    def pct(x):
        return "" if x is None else f"{x:.0%}"

    uniform = pct(summ["uniform_centre_share"])
    rows = [
        ("centre share, trained model, all", pct(summ["centre_share_trained"]), uniform),
        ("centre share, correct predictions", pct(summ["centre_share_trained_correct"]), uniform),
        ("centre share, mistakes", pct(summ["centre_share_trained_wrong"]), uniform),
        ("centre share, random head", pct(summ["centre_share_random_head"]), uniform),
        (
            "rank correlation, trained vs random head",
            f"{summ['rank_correlation_trained_vs_random_head']:.2f}",
            "1 = same map",
        ),
    ]
    return pd.DataFrame(
        rows,
        columns=["measured on the first " + f"{summ['images']:,} test images", "value", "for comparison"],
    )


def example_titles(indices, probabilities, y_true, class_names, mistakes: bool = False) -> list[str]:
    """Titles for a grid: ``cat 93%`` for a correct prediction, ``true: cat / pred: dog / 97%`` (three lines,
    so that "automobile" fits one column) for a mistake."""
    out = []
    for i in indices:
        pred = int(np.argmax(probabilities[i]))
        conf = f"{probabilities[i][pred]:.0%}"
        out.append(
            f"true: {class_names[int(y_true[i])]}\npred: {class_names[pred]}\n{conf}"
            if mistakes
            else f"{class_names[pred]} {conf}"
        )
    return out


ROW_PREDICTED, ROW_TRUE = "map of the\npredicted class", "map of the\ntrue class"


def mistake_maps(
    model, images: np.ndarray, probabilities: np.ndarray, y_true: np.ndarray, backbone: str
) -> dict:
    """For wrong predictions: the Grad-CAM map of the class the model chose, and of the true class.

    ``images`` are raw ``uint8``; ``probabilities`` and ``y_true`` belong to the same images.
    """
    from .method import grad_cam, preprocessed

    x = preprocessed(images, backbone)
    return {
        ROW_PREDICTED: grad_cam(model, x, np.asarray(probabilities).argmax(axis=1)),
        ROW_TRUE: grad_cam(model, x, np.asarray(y_true).reshape(-1)),
    }


def grids(model, data, probabilities: np.ndarray, backbone: str, mistakes: int = 8, label: str = "") -> dict:
    """The two grids a record keeps, by file name: the first correct test image of each class with
    its map, and the ``mistakes`` most confident mistakes with the maps of both classes."""
    from ..evaluate import confident_mistakes
    from . import figures
    from .method import grad_cam, preprocessed

    right = correct_examples(probabilities, data.y_test)
    wrong = confident_mistakes(probabilities, data.y_test, k=mistakes)
    correct_fig = figures.grad_cam_rows(
        data.x_test[right],
        {ROW_PREDICTED: grad_cam(model, preprocessed(data.x_test[right], backbone))},
        example_titles(right, probabilities, data.y_test, data.class_names),
        title=f"Correct predictions: the first of each class{label}",
    )
    wrong_fig = figures.grad_cam_rows(
        data.x_test[wrong],
        mistake_maps(model, data.x_test[wrong], probabilities[wrong], data.y_test[wrong], backbone),
        example_titles(wrong, probabilities, data.y_test, data.class_names, mistakes=True),
        title=f"The most confident mistakes{label}",
    )
    return {"correct.png": correct_fig, "mistakes.png": wrong_fig}


# --------------------------------------------------------------------------- the committed record
def save_study(
    out: str | os.PathLike,
    config: RunConfig,
    data,
    history,
    metrics: dict,
    summ: dict,
    figures: Mapping,
    *,
    command: str,
    run_seconds: float,
    overwrite: bool = False,
) -> Path:
    """Write a committable record: record.json (with the measured figures), history.json,
    metrics.json, and the grids as small PNGs (``figures``: file name -> matplotlib figure). No model."""
    from ..recipe import record_header
    from ..records.store import save_record

    header = record_header(config, data, "full", command, kind="grad-cam")
    header["timing"] = {
        **{f"{k}_seconds": v for k, v in history.seconds.items()},
        "run_seconds": round(run_seconds, 1),
    }
    header["grad_cam"] = dict(summ)
    path = save_record(
        out, record=header, history=history.to_dict(), model=None, metrics=metrics, overwrite=overwrite
    )
    for name, fig in figures.items():
        fig.savefig(path / name, dpi=80, bbox_inches="tight")
    return path


def check_study(path: str | os.PathLike):
    """A Grad-CAM record read back (a :class:`cifar_lessons.records.store.RunRecord`), or a one-line
    :class:`RecordError` saying what is wrong with it."""
    from ..records.committed import made_by_problems
    from ..records.store import load_record

    path = Path(path)
    missing = [f for f in COMMITTED_FILES + FIGURES if not (path / f).exists()]
    if missing:
        raise RecordError(f"Grad-CAM record {path} lacks {', '.join(missing)}")
    try:
        record = load_record(path, model=False)
    except (ValueError, OSError) as exc:
        raise RecordError(f"Grad-CAM record {path} is corrupt: {exc}") from None
    r, problems = record.record, made_by_problems(record.record, "measure_grad_cam.py")
    if (path / "model.keras").exists() or (path / "predictions.npz").exists():
        problems.append("holds a model or predictions, which are not committed")
    c = record.config
    tuned = path.name.endswith("-tuned")
    if c.get("image_size", 32) < IMAGE_SIZE or bool(c.get("fine_tune_epochs")) != tuned:
        problems.append(
            "is not the chapter's model (96-pixel input or more, frozen base; fine-tuned if -tuned)"
        )
    if len(record.history.get("history", {}).get("val_accuracy", [])) != c.get("head_epochs", 0) + c.get(
        "fine_tune_epochs", 0
    ):
        problems.append("has a history that is not as long as its epochs")
    if record.metrics is None or sum(map(sum, record.metrics.get("confusion_matrix", []))) != record.data.get(
        "n_test"
    ):
        problems.append("has no test metrics for its test images")
    if "run_seconds" not in r.get("timing", {}) or not (r.get("grad_cam") or {}).get("images"):
        problems.append("has no wall time or no measured maps")
    if problems:
        raise RecordError(f"Grad-CAM record {path.name} " + "; ".join(problems))
    return record


def committed_study(root: str | os.PathLike | None = None, name: str = RECORD):
    """The committed full-size record ``name``, or ``None`` where it was not measured yet (a broken one is an
    error).

    An installed package (Colab) ships the record's JSON files and PNGs alike; :func:`figure_paths`
    still says which exist, so an older install shows a line instead of failing.
    """
    from ..records.committed import results_root

    try:
        base = Path(root) if root is not None else results_root()
    except RecordError:
        return None
    path = base / name
    if not (path / "record.json").exists():
        return None
    return check_study(path)


def figure_paths(record) -> dict[str, Path]:
    """The record's grid PNGs that exist, by name."""
    return {name: record.path / name for name in FIGURES if (record.path / name).exists()}


def records_table(records: Mapping):
    """The committed records side by side (``name -> record or None``): model, test accuracy, measured
    figures."""
    import pandas as pd

    rows = []
    for name, rec in records.items():
        if rec is None:
            rows.append({"record": name, "model": "", "test accuracy": "not measured yet"})
            continue
        c, g = rec.config, rec.record["grad_cam"]
        model = (
            f"frozen base, head {c['head_epochs']} epochs"
            if not c["fine_tune_epochs"]
            else f"fine-tuned, {c['head_epochs']} + {c['fine_tune_epochs']} epochs"
        )
        rows.append(
            {
                "record": name,
                "model": model,
                "test accuracy": f"{rec.metrics['accuracy']:.1%}",
                "centre share": f"{g['centre_share_trained']:.0%}",
                "with a random head": f"{g['centre_share_random_head']:.0%}",
                "rank correlation": f"{g['rank_correlation_trained_vs_random_head']:.2f}",
                "wall time": f"{rec.record['timing']['run_seconds'] / 60:.1f} min",
            }
        )
    return pd.DataFrame(rows).fillna("")


#: The columns of :func:`records_table` that fit on a slide (the speaker notes get all of them).
RECORDS_ON_SLIDES = ["model", "test accuracy", "centre share", "with a random head", "rank correlation"]


def record_figure(record, name: str):
    """A committed record's grid (``correct.png`` or ``mistakes.png``) to display, or a line saying it is
    absent."""
    from IPython.display import Image, Markdown

    if record is None or not (record.path / name).exists():
        return Markdown(f"*Not in this checkout or installation: the grid `{name}` of the committed record.*")
    return Image(filename=str(record.path / name))


def record_line(record) -> str:
    """Two short lines: the committed record's test accuracy and data, then its measured figures."""
    g, d = record.record["grad_cam"], record.data
    return (
        f"{record.path.name}: test accuracy {record.metrics['accuracy']:.1%} on {d['n_test']:,} test images "
        f"({d['n_train']:,} + {d['n_val']:,} to train)\n"
        f"first {g['images']:,} test images: centre share {g['centre_share_trained']:.0%} (random head "
        f"{g['centre_share_random_head']:.0%}, uniform {g['uniform_centre_share']:.0%}); "
        f"rank correlation {g['rank_correlation_trained_vs_random_head']:.2f}"
    )


def dumps(summ: Mapping) -> str:
    """The measured figures as indented JSON (for a log)."""
    return json.dumps(dict(summ), indent=2)
