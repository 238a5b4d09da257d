"""Two-phase transfer learning: train the head on a frozen base, then fine-tune everything.

Taught in chapter 3 (training the head) and chapter 4 (fine-tuning), which show
:func:`train_head` and :func:`fine_tune` as they are written here: plain Keras, with the course's
names. Both phases use Keras's own ``fit``, progress bars and callbacks. What the recipe adds
around them (cached features, backups, timing, one history for both phases) is in
:mod:`cifar_lessons.recipe`; ``**fit`` passes its ``initial_epoch``, ``callbacks`` and
``verbose`` on to ``fit``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import keras

from .models import compile_classifier, unfreeze
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
    model, base_model, train_data, val_data, *, epochs=10, learning_rate=1e-3, loss=None, **fit
) -> keras.callbacks.History:
    """Phase 1, the head phase: freeze the base, compile, train only the new head."""
    # The new head starts random: its first, large gradients would scramble the base.
    base_model.trainable = False
    compile_classifier(model, learning_rate, loss=loss)  # Adam, sparse categorical cross-entropy
    # Validated every epoch on images held out from the training set, never the test set.
    # fit: the recipe's callbacks (backups), initial_epoch, verbose, shuffle=False.
    return model.fit(train_data, validation_data=val_data, epochs=epochs, **fit)


def fine_tune(
    model, base_model, train_data, val_data, *, epochs=20, learning_rate=1e-5, loss=None, **fit
) -> keras.callbacks.History:
    """Phase 2, fine-tuning: unfreeze the base (not BatchNorm), compile again, train."""
    unfreeze(base_model)
    # Compiling again makes Keras see the new trainable flags; 1e-5 only nudges the weights.
    compile_classifier(model, learning_rate, loss=loss)
    # epochs counts on from phase 1, as fit does: initial_epoch=10, epochs=20 trains 11-20.
    return model.fit(train_data, validation_data=val_data, epochs=epochs, **fit)


def run_phase(
    phase: str,
    model: keras.Model,
    base_model: keras.Model,
    train_data,
    val_data,
    *,
    epochs: int,
    learning_rate,
    history: TwoPhaseHistory | None = None,
    callbacks: list | None = None,
    verbose: int | str = "auto",
    loss=None,
) -> TwoPhaseHistory:
    """:func:`train_head` (``phase="head"``) or :func:`fine_tune` (``"fine_tune"``) for ``epochs``
    epochs, as the recipe runs them: numbered on from ``history``'s epochs, resumed after the last
    epoch a backup among ``callbacks`` holds, the learning rate logged, the phase's time kept, and
    the epochs appended to ``history``, which is returned. ``loss=None`` is the plain sparse
    cross-entropy (:func:`cifar_lessons.models.smoothed_crossentropy` smooths the labels)."""
    history = history or TwoPhaseHistory()
    train = {"head": train_head, "fine_tune": fine_tune}[phase]
    first = history.epochs
    start = time.perf_counter()
    keras_history = train(
        model,
        base_model,
        train_data,
        val_data,
        epochs=first + epochs,
        learning_rate=learning_rate,
        loss=loss,
        initial_epoch=start_epoch(callbacks, first),
        callbacks=[log_learning_rate(model), *(callbacks or [])],
        verbose=verbose,
        shuffle=False,  # the datasets are shuffled already; fit would warn that it ignores True
    )
    history.append(keras_history, phase, time.perf_counter() - start)
    return history
