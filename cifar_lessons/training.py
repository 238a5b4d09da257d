"""Two-phase transfer learning: train the head on a frozen base, then fine-tune everything.

Taught in chapter 3 (training the head) and chapter 4 (fine-tuning). Both phases use
Keras's own ``fit``, progress bars and callbacks; this module only decides what is
trainable, how it is compiled, and joins the two histories into one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import keras
import tensorflow as tf

from .models import compile_classifier, set_base_trainable
from .pointwise import use_matmul
from .resume import start_epoch


@dataclass
class TwoPhaseHistory:
    """Per-epoch metrics over both phases, and the epoch index where phase 2 starts.

    ``history["loss"][i]`` is epoch ``i + 1``; epochs ``phase2_start + 1`` onwards were trained
    with the base unfrozen. ``seconds`` holds the wall time of each phase.
    """

    history: dict[str, list[float]] = field(default_factory=dict)
    phase2_start: int | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def epochs(self) -> int:
        return len(self.history.get("loss", []))

    def append(self, keras_history: keras.callbacks.History, phase: str, seconds: float) -> None:
        if phase == "fine_tune":
            self.phase2_start = self.epochs
        for key, values in keras_history.history.items():
            self.history.setdefault(key, []).extend(float(v) for v in values)
        self.seconds[phase] = round(seconds, 2)

    def to_dict(self) -> dict:
        return {"history": self.history, "phase2_start": self.phase2_start, "seconds": self.seconds}

    @classmethod
    def from_dict(cls, d: dict) -> TwoPhaseHistory:
        return cls(
            history={k: list(v) for k, v in d["history"].items()},
            phase2_start=d.get("phase2_start"),
            seconds=dict(d.get("seconds", {})),
        )


def log_learning_rate(model: keras.Model) -> keras.callbacks.Callback:
    """Write the optimizer's learning rate into each epoch's logs, so the history shows it."""
    return keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: logs.__setitem__(
            "learning_rate", float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        )
    )


def train_head(
    model: keras.Model,
    train_ds: tf.data.Dataset,
    val_ds: tf.data.Dataset,
    *,
    epochs: int = 10,
    learning_rate: float = 1e-3,
    history: TwoPhaseHistory | None = None,
    callbacks: list | None = None,
    verbose: int | str = "auto",
) -> TwoPhaseHistory:
    """Phase 1: freeze the base, compile, and train only the new head.

    With random new layers on top, large gradients would wreck pretrained features, so
    the base stays frozen until the head has learnt something sensible.
    """
    history = history or TwoPhaseHistory()
    set_base_trainable(model, False)
    compile_classifier(model, learning_rate)
    start = time.perf_counter()
    h = model.fit(
        train_ds,
        validation_data=val_ds,
        initial_epoch=start_epoch(callbacks),
        epochs=epochs,
        verbose=verbose,
        shuffle=False,
        callbacks=[log_learning_rate(model), *(callbacks or [])],
    )
    history.append(h, "head", time.perf_counter() - start)
    return history


def fine_tune(
    model: keras.Model,
    train_ds: tf.data.Dataset,
    val_ds: tf.data.Dataset,
    *,
    epochs: int = 10,
    learning_rate: float = 1e-5,
    history: TwoPhaseHistory | None = None,
    callbacks: list | None = None,
    verbose: int | str = "auto",
) -> TwoPhaseHistory:
    """Phase 2: unfreeze the base, recompile with a low learning rate, train the whole model.

    Recompiling is required for the new ``trainable`` flags to take effect. BatchNorm
    layers stay frozen, so they keep running in inference mode with ImageNet statistics.
    Epoch numbers continue from phase 1, so the progress bar says "Epoch 11/20".
    """
    history = history or TwoPhaseHistory()
    set_base_trainable(model, True)
    # The same arithmetic, faster: convolutions on the last 1x1 and 2x2 maps as matrix products.
    use_matmul(model)
    compile_classifier(model, learning_rate)
    done = history.epochs
    start = time.perf_counter()
    h = model.fit(
        train_ds,
        validation_data=val_ds,
        initial_epoch=start_epoch(callbacks, done),
        epochs=done + epochs,
        verbose=verbose,
        shuffle=False,
        callbacks=[log_learning_rate(model), *(callbacks or [])],
    )
    history.append(h, "fine_tune", time.perf_counter() - start)
    return history
