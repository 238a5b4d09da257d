"""Test-set evaluation: accuracy, loss, per-class report, confusion matrix, confident mistakes.

Taught in chapter 5 (evaluation). The test set is touched only here, after training.
"""

from __future__ import annotations

import keras
import numpy as np
from sklearn.metrics import classification_report, confusion_matrix

from .pipeline import make_dataset


def predict_probabilities(
    model: keras.Model, test_images, *, backbone: str, batch_size=128, verbose="auto"
) -> np.ndarray:
    """The ten class probabilities of each test image, through the pipeline of training."""
    no_labels = np.zeros(len(test_images), "int64")
    test_data = make_dataset(test_images, no_labels, backbone=backbone, batch_size=batch_size)
    return model.predict(test_data.map(lambda x, y: x), verbose=verbose)


def compute_metrics(probabilities: np.ndarray, y_true: np.ndarray, class_names: tuple[str, ...]) -> dict:
    """Accuracy, loss, per-class precision/recall/F1 and the confusion matrix, as plain JSON."""
    y_true = np.asarray(y_true).reshape(-1)
    y_pred = probabilities.argmax(axis=1)
    loss = float(
        np.mean(
            keras.ops.convert_to_numpy(keras.losses.sparse_categorical_crossentropy(y_true, probabilities))
        )
    )
    labels = list(range(len(class_names)))
    report = classification_report(
        y_true, y_pred, labels=labels, target_names=list(class_names), output_dict=True, zero_division=0
    )
    per_class = {
        name: {k: float(report[name][k]) for k in ("precision", "recall", "f1-score", "support")}
        for name in class_names
    }
    return {
        "accuracy": float(np.mean(y_pred == y_true)),
        "loss": loss,
        "n_test": int(len(y_true)),
        "per_class": per_class,
        "macro_f1": float(report["macro avg"]["f1-score"]),
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def confident_mistakes(probabilities: np.ndarray, y_true: np.ndarray, k: int = 16) -> np.ndarray:
    """Indices of the ``k`` wrong predictions the model was most sure of, most sure first.

    These are the most instructive errors: often a mislabelled or ambiguous image, or a
    systematic confusion such as cat/dog.
    """
    y_true = np.asarray(y_true).reshape(-1)
    y_pred = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(y_pred != y_true)
    confidence = probabilities[wrong, y_pred[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")[:k]]


def top_confusions(
    confusion: np.ndarray | list, class_names: tuple[str, ...], k: int = 5
) -> list[tuple[str, str, int]]:
    """The ``k`` largest off-diagonal cells: (true class, predicted class, count)."""
    cm = np.array(confusion)
    off = [
        (class_names[i], class_names[j], int(cm[i, j]))
        for i in range(len(cm))
        for j in range(len(cm))
        if i != j and cm[i, j] > 0
    ]
    return sorted(off, key=lambda t: -t[2])[:k]
