import numpy as np
import pytest

from cifar_lessons.data import CLASS_NAMES
from cifar_lessons.display import plots
from cifar_lessons.evaluate import compute_metrics, confident_mistakes, top_confusions


@pytest.fixture
def predictions():
    y = np.repeat(np.arange(10), 5)
    probs = np.full((50, 10), 0.01)
    probs[np.arange(50), y] = 0.91  # right by default
    probs[3] = 0.001
    probs[3, 5] = 0.99              # an airplane (class 0) predicted as dog, very sure
    probs[17] = 0.001
    probs[17, 9] = 0.6
    probs[17, 3] = 0.4              # a cat (class 3) predicted as truck, less sure
    return y, probs / probs.sum(axis=1, keepdims=True)


def test_metrics_and_mistakes(predictions):
    y, probs = predictions
    m = compute_metrics(probs, y, CLASS_NAMES)
    assert m["accuracy"] == pytest.approx(48 / 50) and m["n_test"] == 50
    assert m["confusion_matrix"][0][5] == 1 and m["confusion_matrix"][3][9] == 1
    assert m["per_class"]["airplane"]["recall"] == pytest.approx(0.8)
    assert m["per_class"]["dog"]["precision"] == pytest.approx(5 / 6)
    expected_loss = -np.mean(np.log(probs[np.arange(50), y]))
    assert m["loss"] == pytest.approx(expected_loss, rel=1e-5)
    assert confident_mistakes(probs, y).tolist() == [3, 17]
    assert top_confusions(m["confusion_matrix"], CLASS_NAMES)[0][2] == 1


def test_figures(predictions):
    y, probs = predictions
    x = np.random.default_rng(0).integers(0, 256, (50, 32, 32, 3), dtype=np.uint8)
    assert len(plots.sample_grid(x, y, CLASS_NAMES, per_class=4).axes) == 40
    assert len(plots.class_balance(y, y, CLASS_NAMES).axes) == 1
    history = {"loss": [2, 1.5, 1.2, 1.0], "val_loss": [2.1, 1.7, 1.4, 1.3],
               "accuracy": [0.2, 0.4, 0.5, 0.6], "val_accuracy": [0.2, 0.35, 0.45, 0.5]}
    fig = plots.training_curves(history, phase2_start=2)
    boundary = [line for line in fig.axes[0].lines if list(line.get_xdata()) == [2.5, 2.5]]
    assert len(boundary) == 1, "the fine-tuning boundary sits between epochs 2 and 3"
    assert len(fig.axes[0].lines) == 3
    assert len(plots.training_curves(history).axes[0].lines) == 2
    heat = plots.confusion_heatmap(compute_metrics(probs, y, CLASS_NAMES)["confusion_matrix"], CLASS_NAMES)
    assert [t.get_text() for t in heat.axes[0].get_xticklabels()] == list(CLASS_NAMES)
    gallery = plots.mistakes_gallery(x, y, probs, [3, 17], CLASS_NAMES, columns=4)
    titles = [ax.get_title() for ax in gallery.axes if ax.get_title()]
    assert titles[0].startswith("true: airplane\npred: dog")
