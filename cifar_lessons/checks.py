"""One-line checks for the student's own project notebook (book/project_starter).

Each of the project's ten steps has a function here, ``step1`` to ``step10``. It looks at what the
student's code produced (arrays, the base model, the model, a training history) and prints one line:
``✓ step N looks right``, or what is wrong (``✗ step N: ...``), or ``… step N: not done yet`` while
the step's variables are still ``None``. A check says *what* is wrong, never the code that fixes it.

The checks never raise: a broken input is itself reported in one line, so a notebook whose steps are
not done yet still runs from top to bottom. Each function also returns a :class:`Verdict`, which
Jupyter does not display (the printed line is the whole answer).

Importing this module imports neither TensorFlow nor Keras: the model checks only read attributes
of the objects they are given.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "Verdict",
    "step1",
    "step2",
    "step3",
    "step4",
    "step5",
    "step6",
    "step7",
    "step8",
    "step9",
    "step10",
]

NUM_CLASSES = 10
#: How many images step 4 preprocesses again to compare with the student's arrays.
SAMPLE = 16


@dataclass(frozen=True)
class Verdict:
    """What a check found: ``status`` is ``"ok"``, ``"todo"`` (not done yet) or ``"wrong"``."""

    step: int
    status: str
    message: str

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def __str__(self) -> str:
        return self.message

    def _ipython_display_(self) -> None:
        """Show nothing: the check has already printed its line."""


class _Wrong(Exception):
    """Raised inside a check with the one line that says what is wrong."""


class _Todo(Exception):
    """Raised inside a check when an input is still ``None``."""


def _run(step: int, check: Callable[[], None]) -> Verdict:
    try:
        check()
    except _Todo as todo:
        verdict = Verdict(step, "todo", f"… step {step}: not done yet ({todo})")
    except _Wrong as wrong:
        verdict = Verdict(step, "wrong", f"✗ step {step}: {wrong}")
    except Exception as exc:  # an input so unexpected that checking it failed: say so, in one line
        first = str(exc).splitlines()[0] if str(exc) else ""
        verdict = Verdict(step, "wrong", f"✗ step {step}: could not check it ({type(exc).__name__}: {first})")
    else:
        verdict = Verdict(step, "ok", f"✓ step {step} looks right")
    print(verdict.message)
    return verdict


def _need(**values: Any) -> None:
    """Report the first input that is still ``None`` (its step is not done yet)."""
    for name, value in values.items():
        if value is None:
            raise _Todo(f"{name} is still None")


# --------------------------------------------------------------------------- arrays
def _array(name: str, value: Any) -> np.ndarray:
    try:
        return np.asarray(value)
    except Exception:
        raise _Wrong(f"{name} is a {type(value).__name__}, not an array") from None


def _images(name: str, value: Any) -> np.ndarray:
    x = _array(name, value)
    if x.ndim != 4 or x.shape[-1] != 3:
        raise _Wrong(
            f"{name} has shape {x.shape}; a batch of colour images has shape (number, height, width, 3)"
        )
    return x


def _labels(name: str, value: Any, count: int, images: str) -> np.ndarray:
    """Labels as flat class indices; accepts (N,), (N, 1) and one-hot (N, 10)."""
    y = _array(name, value)
    if len(y) != count:
        raise _Wrong(f"{name} holds {len(y):,} labels for {count:,} images in {images}")
    if y.ndim == 2 and y.shape[1] == NUM_CLASSES and y.dtype.kind == "f" and np.allclose(y.sum(axis=1), 1):
        return y.argmax(axis=1)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise _Wrong(f"{name} has shape {y.shape}; expected one class number per image")
    if y.dtype.kind not in "iu" or y.min() < 0 or y.max() >= NUM_CLASSES:
        raise _Wrong(
            f"{name} should be class numbers 0-9, found {y.dtype} values from {y.min()} to {y.max()}"
        )
    return y.astype(np.int64)


def _keys(images: np.ndarray) -> list[bytes]:
    """One short fingerprint per image, independent of its dtype (uint8 and float copies match)."""
    return [
        hashlib.blake2b(np.ascontiguousarray(img, dtype=np.float32).tobytes(), digest_size=8).digest()
        for img in images
    ]


def _share(keys: list[bytes], others: Iterable[bytes]) -> int:
    pool = set(others)
    return sum(k in pool for k in keys)


# --------------------------------------------------------------------------- models
def _layers(model: Any) -> list[Any]:
    layers = getattr(model, "layers", None)
    if layers is None:
        raise _Wrong(f"expected a Keras model, got a {type(model).__name__}")
    return list(layers)


def _all_layers(model: Any) -> Iterable[Any]:
    """Every layer, nested models' layers included."""
    for layer in _layers(model):
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)


def _kind(layer: Any) -> str:
    return type(layer).__name__


def _shape(tensor_or_model: Any, which: str) -> tuple:
    tensors = getattr(tensor_or_model, which)
    tensor = tensors[0] if isinstance(tensors, (list, tuple)) else tensors
    return tuple(None if d is None else int(d) for d in tensor.shape)


def _learning_rate(model: Any) -> float | None:
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    rate = optimizer.learning_rate
    try:
        return float(np.asarray(rate))
    except (TypeError, ValueError):  # a schedule: no single rate to compare
        return math.nan


def _steps_taken(model: Any) -> int:
    optimizer = getattr(model, "optimizer", None)
    return 0 if optimizer is None else int(np.asarray(optimizer.iterations))


def _history(name: str, history: Any) -> dict[str, list[float]]:
    record = getattr(history, "history", history)
    if not isinstance(record, dict) or "loss" not in record:
        raise _Wrong(f"{name} should be what fit returns (a History with .history['loss'])")
    return record


def _same_rate(actual: float, expected: float) -> bool:
    return math.isclose(actual, expected, rel_tol=1e-3)


def _fmt(rate: float) -> str:
    return f"{rate:g}"


def _frozen_batchnorm_problem(base_model: Any) -> str | None:
    norms = [layer for layer in _all_layers(base_model) if _kind(layer) == "BatchNormalization"]
    loose = [layer for layer in norms if layer.trainable]
    if loose:
        return (
            f"{len(loose)} of the base's {len(norms)} BatchNormalization layers are trainable; "
            "fit would overwrite their ImageNet statistics with those of small CIFAR batches"
        )
    return None


def _compiled_loss_problem(model: Any) -> str | None:
    """The output layer and the loss must agree on probabilities versus logits."""
    loss = getattr(model, "loss", None)
    if loss is None:
        return "the model has no loss: compile it before training"
    from_logits = bool(getattr(loss, "from_logits", False))
    name = (loss if isinstance(loss, str) else getattr(loss, "name", type(loss).__name__)).lower()
    if "crossentropy" not in name.replace("_", ""):
        return f"the loss is {name}; ten classes need a cross-entropy loss"
    last = _layers(model)[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", "")
    if activation == "softmax" and from_logits:
        return "the output is a softmax but the loss expects logits (from_logits=True)"
    if activation == "linear" and not from_logits:
        return "the output has no softmax, yet the loss expects probabilities"
    return None


# --------------------------------------------------------------------------- the ten steps
def step1(
    all_train_images: Any,
    all_train_labels: Any,
    test_images: Any,
    test_labels: Any,
    *,
    n_train: int = 50_000,
    n_test: int = 10_000,
) -> Verdict:
    """Step 1, the data as loaded: 32x32x3 images with pixels 0-255, one class 0-9 per image."""

    def check() -> None:
        _need(
            all_train_images=all_train_images,
            all_train_labels=all_train_labels,
            test_images=test_images,
            test_labels=test_labels,
        )
        for name, images, labels, count in (
            ("all_train_images", all_train_images, all_train_labels, n_train),
            ("test_images", test_images, test_labels, n_test),
        ):
            x = _images(name, images)
            if x.shape[1:] != (32, 32, 3):
                raise _Wrong(f"{name} has shape {x.shape}; CIFAR-10's images are 32x32 with 3 colours")
            if len(x) != count:
                raise _Wrong(
                    f"{name} holds {len(x):,} images; CIFAR-10's {name.split('_')[-2]} set has {count:,}"
                )
            if x.max() <= 1:
                raise _Wrong(
                    f"{name} has pixels up to {x.max():g}; keep the raw 0-255 values for now (step 4 "
                    "prepares them)"
                )
            y = _labels(name.replace("images", "labels"), labels, len(x), name)
            if len(np.unique(y)) != NUM_CLASSES:
                raise _Wrong(f"{name.replace('images', 'labels')} holds {len(np.unique(y))} classes, not 10")

    return _run(1, check)


def step2(
    train_images: Any, train_labels: Any, all_train_images: Any, all_train_labels: Any, *, n: int = 10_000
) -> Verdict:
    """Step 2, the first ``n`` training images and their own labels."""

    def check() -> None:
        _need(train_images=train_images, train_labels=train_labels)
        _need(all_train_images=all_train_images, all_train_labels=all_train_labels)
        x, source = _images("train_images", train_images), _images("all_train_images", all_train_images)
        if len(x) != n:
            raise _Wrong(f"train_images holds {len(x):,} images; the project keeps {n:,}")
        y = _labels("train_labels", train_labels, len(x), "train_images")
        if not np.array_equal(x, source[:n]):
            raise _Wrong(f"train_images are not the first {n:,} training images, in their order")
        if not np.array_equal(
            y, _labels("all_train_labels", all_train_labels, len(source), "all_train_images")[:n]
        ):
            raise _Wrong(
                "train_labels do not belong to train_images: the labels were cut or reordered differently"
            )

    return _run(2, check)


def step3(
    fit_images: Any,
    fit_labels: Any,
    val_images: Any,
    val_labels: Any,
    train_images: Any,
    train_labels: Any,
    test_images: Any,
) -> Verdict:
    """Step 3, validation held out from the training images: never test images, never also fitted on."""

    def check() -> None:
        _need(fit_images=fit_images, fit_labels=fit_labels, val_images=val_images, val_labels=val_labels)
        _need(train_images=train_images, train_labels=train_labels, test_images=test_images)
        fit, val = _images("fit_images", fit_images), _images("val_images", val_images)
        train, test = _images("train_images", train_images), _images("test_images", test_images)
        val_keys, fit_keys = _keys(val), _keys(fit)
        in_test = _share(val_keys, _keys(test))
        if in_test:
            raise _Wrong(
                f"{in_test:,} of the {len(val):,} validation images are test images; "
                "validation must come from the training images only"
            )
        train_keys = _keys(train)
        if _share(val_keys, train_keys) < len(val) or _share(fit_keys, train_keys) < len(fit):
            raise _Wrong("fit_images and val_images should both come from train_images")
        both = _share(val_keys, fit_keys)
        if both:
            raise _Wrong(
                f"{both:,} validation images are also in fit_images; validation must be images the "
                "model never trains on"
            )
        if len(fit) + len(val) != len(train):
            raise _Wrong(
                f"fit_images ({len(fit):,}) and val_images ({len(val):,}) should together be "
                f"all {len(train):,} of train_images"
            )
        share = len(val) / len(train)
        if not 0.05 <= share <= 0.3:
            raise _Wrong(f"validation holds {share:.0%} of the training images; hold out about 10%")
        label_of = dict(zip(train_keys, _labels("train_labels", train_labels, len(train), "train_images")))
        for name, keys, labels in (
            ("fit_labels", fit_keys, fit_labels),
            ("val_labels", val_keys, val_labels),
        ):
            y = _labels(name, labels, len(keys), name.replace("labels", "images"))
            if any(label_of[k] != label for k, label in zip(keys, y)):
                raise _Wrong(f"{name} do not belong to their images: split labels and images the same way")

    return _run(3, check)


def step4(
    preprocess_input: Callable,
    fit_images: Any,
    fit_inputs: Any,
    val_images: Any,
    val_inputs: Any,
    test_images: Any,
    test_inputs: Any,
) -> Verdict:
    """Step 4, every image set through the base's own preprocessing, exactly once, as floats."""

    def check() -> None:
        _need(fit_inputs=fit_inputs, val_inputs=val_inputs, test_inputs=test_inputs)
        _need(fit_images=fit_images, val_images=val_images, test_images=test_images)

        def prepare(x: np.ndarray) -> np.ndarray:
            # a fresh float copy: Keras's preprocess_input may change a float array in place
            return np.asarray(preprocess_input(np.array(x, dtype=np.float32)), dtype=np.float32)

        for name, images, inputs in (
            ("fit", fit_images, fit_inputs),
            ("val", val_images, val_inputs),
            ("test", test_images, test_inputs),
        ):
            raw = _images(f"{name}_images", images)
            ready = _array(f"{name}_inputs", inputs)
            if ready.shape != raw.shape:
                raise _Wrong(f"{name}_inputs has shape {ready.shape}, but {name}_images has {raw.shape}")
            if ready.dtype.kind != "f":
                raise _Wrong(f"{name}_inputs holds {ready.dtype}; the base computes in floats (float32)")
            sample, pixels = ready[:SAMPLE].astype(np.float32), raw[:SAMPLE].astype(np.float32)
            if np.allclose(sample, prepare(pixels), atol=1e-3):
                continue
            if np.allclose(sample, pixels, atol=1e-3):
                raise _Wrong(
                    f"{name}_inputs are the raw pixels (0-255): the base's preprocessing was not applied"
                )
            if np.allclose(sample, prepare(prepare(pixels)), atol=1e-3):
                raise _Wrong(
                    f"{name}_inputs were preprocessed twice (re-running a cell that changes an array in "
                    "place can do this)"
                )
            if np.allclose(sample, prepare(pixels / 255.0), atol=1e-3):
                raise _Wrong(
                    f"{name}_inputs were scaled to 0-1 before preprocessing; this preprocessing expects 0-255"
                )
            if np.allclose(sample, pixels / 255.0, atol=1e-3):
                raise _Wrong(f"{name}_inputs were only scaled to 0-1; the base expects its own preprocessing")
            raise _Wrong(
                f"{name}_inputs are not {name}_images preprocessed for the base, in the same order "
                f"(values {float(ready.min()):.3g} to {float(ready.max()):.3g})"
            )

    return _run(4, check)


def step5(base_model: Any, *, image_size: int = 32) -> Verdict:
    """Step 5, the pretrained base: built for 32x32 input, without its ImageNet classifier, frozen."""

    def check() -> None:
        _need(base_model=base_model)
        layers = list(_all_layers(base_model))
        given = _shape(base_model, "inputs")
        if given[1:] != (image_size, image_size, 3):
            raise _Wrong(
                f"the base takes inputs of shape {given}; CIFAR-10 gives ({image_size}, {image_size}, 3)"
            )
        out = _shape(base_model, "outputs")
        if len(out) != 4:
            raise _Wrong(f"the base's output has shape {out}: it still ends in its ImageNet classifier")
        norms = [layer for layer in layers if _kind(layer) == "BatchNormalization"]
        if norms and all(
            np.allclose(np.asarray(layer.moving_mean), 0)
            and np.allclose(np.asarray(layer.moving_variance), 1)
            for layer in norms
        ):
            raise _Wrong(
                "the base's weights look untrained (random): the project starts from ImageNet weights"
            )
        if base_model.trainable or len(base_model.trainable_weights):
            raise _Wrong("the base is trainable; in phase 1 only the new head trains")

    return _run(5, check)


def step6(model: Any, base_model: Any, *, num_classes: int = NUM_CLASSES, hidden: int = 2) -> Verdict:
    """Step 6, the head: the frozen base under two hidden Dense layers and a 10-way softmax."""

    def check() -> None:
        _need(model=model, base_model=base_model)
        layers = _layers(model)
        if not any(layer is base_model for layer in layers):
            raise _Wrong("base_model is not a layer of model: build the head on top of the base")
        out = _shape(model, "outputs")
        if len(out) != 2:
            raise _Wrong(
                f"the model's output has shape {out}; one score per class needs the feature map "
                "turned into a vector before the Dense layers"
            )
        if out[1] != num_classes:
            raise _Wrong(f"the model outputs {out[1]} numbers per image; CIFAR-10 has {num_classes} classes")
        dense = [layer for layer in layers if _kind(layer) == "Dense"]
        activation = getattr(getattr(layers[-1], "activation", None), "__name__", "")
        if activation not in ("softmax", "linear"):
            raise _Wrong(
                f"the last layer's activation is {activation or _kind(layers[-1])}; class probabilities "
                "come from a softmax"
            )
        if len(dense) - 1 != hidden:
            raise _Wrong(f"the head has {len(dense) - 1} hidden Dense layers; the project's has {hidden}")
        flat = [getattr(getattr(layer, "activation", None), "__name__", "") for layer in dense[:-1]]
        if "linear" in flat:
            raise _Wrong("a hidden Dense layer has no activation, so the two collapse into one linear map")
        if base_model.trainable or len(base_model.trainable_weights):
            raise _Wrong("the base is trainable again; it stays frozen while the head trains")

    return _run(6, check)


def step7(
    model: Any,
    base_model: Any,
    history_head: Any,
    *,
    epochs: int = 10,
    learning_rate: tuple[float, float] = (1e-4, 1e-2),
) -> Verdict:
    """Step 7, phase 1: compiled, trained ``epochs`` epochs with validation, the base frozen throughout."""

    def check() -> None:
        _need(history_head=history_head)
        _need(model=model, base_model=base_model)
        if getattr(model, "optimizer", None) is None:
            raise _Wrong("the model is not compiled")
        problem = _compiled_loss_problem(model)
        if problem:
            raise _Wrong(problem)
        if base_model.trainable or len(base_model.trainable_weights):
            raise _Wrong("the base is trainable; in phase 1 only the head trains")
        record = _history("history_head", history_head)
        if len(record["loss"]) != epochs:
            raise _Wrong(
                f"the head trained for {len(record['loss'])} epochs; the project trains it for {epochs}"
            )
        if "val_loss" not in record:
            raise _Wrong("the history has no validation figures: fit was not given the validation set")
        if not any("acc" in key for key in record):
            raise _Wrong("the history has no accuracy: compile with an accuracy metric")
        rate = _learning_rate(model)
        low, high = learning_rate
        if rate is not None and not math.isnan(rate) and not low <= rate <= high:
            raise _Wrong(
                f"the head trained at learning rate {_fmt(rate)}; a new head wants one between "
                f"{_fmt(low)} and {_fmt(high)}"
            )
        if not np.isfinite(record["loss"][-1]):
            raise _Wrong("the training loss is not a number: training diverged")

    return _run(7, check)


def step8(model: Any, base_model: Any, *, learning_rate: float = 1e-5) -> Verdict:
    """Step 8, ready for phase 2: the base unfrozen but its BatchNorm frozen, compiled again at a low rate."""

    def check() -> None:
        _need(model=model, base_model=base_model)
        if not base_model.trainable:
            raise _Wrong("the base is still frozen")
        problem = _frozen_batchnorm_problem(base_model)
        if problem:
            raise _Wrong(problem)
        frozen = [
            layer
            for layer in _all_layers(base_model)
            if _kind(layer) != "BatchNormalization" and layer.weights and not layer.trainable
        ]
        if frozen:
            raise _Wrong(
                f"{len(frozen)} of the base's layers (not BatchNorm) are still frozen, e.g. {frozen[0].name}"
            )
        rate = _learning_rate(model)
        if rate is None:
            raise _Wrong("the model is not compiled")
        steps = _steps_taken(model)
        if steps:
            raise _Wrong(
                f"the model was not compiled again after unfreezing (its optimizer has taken {steps:,} steps)"
            )
        if not math.isnan(rate) and not _same_rate(rate, learning_rate):
            raise _Wrong(
                f"the learning rate is {_fmt(rate)}; the project fine-tunes at {_fmt(learning_rate)}"
            )
        problem = _compiled_loss_problem(model)
        if problem:
            raise _Wrong(problem)

    return _run(8, check)


def step9(
    model: Any, base_model: Any, history_tune: Any, *, epochs: int = 10, learning_rate: float = 1e-5
) -> Verdict:
    """Step 9, phase 2: ``epochs`` epochs of fine-tuning with validation, BatchNorm still frozen."""

    def check() -> None:
        _need(history_tune=history_tune)
        _need(model=model, base_model=base_model)
        record = _history("history_tune", history_tune)
        if not base_model.trainable:
            raise _Wrong("the base was frozen while fine-tuning")
        problem = _frozen_batchnorm_problem(base_model)
        if problem:
            raise _Wrong(problem)
        if len(record["loss"]) != epochs:
            raise _Wrong(f"fine-tuning ran {len(record['loss'])} epochs; the project runs {epochs}")
        if "val_loss" not in record:
            raise _Wrong("the history has no validation figures: fit was not given the validation set")
        rate = _learning_rate(model)
        if rate is not None and not math.isnan(rate) and not _same_rate(rate, learning_rate):
            raise _Wrong(
                f"fine-tuning ran at learning rate {_fmt(rate)}; the project uses {_fmt(learning_rate)}"
            )
        if not _steps_taken(model):
            raise _Wrong("the model has not trained since it was compiled for fine-tuning")
        if not np.isfinite(record["loss"][-1]):
            raise _Wrong("the training loss is not a number: training diverged")

    return _run(9, check)


def step10(test_loss: Any, test_accuracy: Any, history_tune: Any = None) -> Verdict:
    """Step 10, the test figures: a loss and an accuracy, from the test set and not the validation set."""

    def check() -> None:
        _need(test_loss=test_loss, test_accuracy=test_accuracy)
        try:
            loss, accuracy = float(test_loss), float(test_accuracy)
        except (TypeError, ValueError):
            raise _Wrong(
                "test_loss and test_accuracy should be two numbers (evaluate returns [loss, accuracy])"
            ) from None
        if not 0 <= accuracy <= 1:
            hint = " (are loss and accuracy swapped?)" if 0 <= loss <= 1 else ""
            raise _Wrong(f"test_accuracy is {accuracy:g}, not a fraction between 0 and 1{hint}")
        if accuracy < 0.15:
            raise _Wrong(
                f"test accuracy {accuracy:.1%} is close to chance (10%): something earlier went wrong"
            )
        if history_tune is not None:
            record = _history("history_tune", history_tune)
            val = (record.get("val_loss") or [None])[-1], (record.get("val_accuracy") or [None])[-1]
            if (
                None not in val
                and math.isclose(loss, val[0], rel_tol=1e-5)
                and math.isclose(accuracy, val[1], rel_tol=1e-5)
            ):
                raise _Wrong("these are the validation figures of the last epoch: evaluate on the test set")

    return _run(10, check)
