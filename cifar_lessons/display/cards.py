"""The run card every chapter shows, and the one-line summaries of the recipe's model and training.

Every chapter starts with ``config = chapter_config()`` and shows a run card, so a reader
always sees which data, weights and profile produced the page, and a page built without
ImageNet weights, or on a quick profile, says so in a warning no one can miss. Every card,
the recipe's and each study's, is drawn by :func:`render_card` from one Jinja2 template
(``card.html.j2``); a study only chooses its rows, its line and its warnings.

The same outputs become slides (``scripts/build_slides.py``). HTML made here can carry two
extra parts for them: an element with class ``deck-only`` (hidden by an inline style, so
the book and Colab never show it; the decks' style sheet shows it), and one with class
``deck-notes``, which a deck moves into the slide's speaker notes.
"""

from __future__ import annotations

import dataclasses
import html
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from ..backbones import backbone_name, describe_weights
from ..config import RunConfig

SEED_BACKBONE = RunConfig.backbone  # the recipe's default, ResNet50
DECK_ONLY = "style='display:none'"  # the decks' style sheet overrides it (see the module docstring)
NOT_REAL = "Not the real result"  # the warning's title, and the mark on a slide's one line


@dataclass(frozen=True)
class CardParts:
    """What a card is made of, kept on the HTML object a card function returns (``card.parts``), so
    that :func:`cifar_lessons.display.provenance.provenance` can put several cards in one box with
    one warning. ``made_by`` is a committed record's commit and command."""

    rows: tuple[tuple[str, str], ...]
    line: str
    warnings: tuple[str, ...]
    title: str = NOT_REAL
    record_name: str | None = None
    made_by: dict | None = None
    label: str | None = None  # a study's record name, which its card's HTML does not head


def _html_card(parts: CardParts):
    """A card for a notebook: its HTML (:func:`render_card`), with its ``parts`` attached."""
    from IPython.display import HTML

    card = HTML(
        render_card(parts.rows, parts.line, parts.warnings, title=parts.title, record_name=parts.record_name)
    )
    card.parts = parts
    return card


def caveats(config: RunConfig, source: dict | None, weights: dict | None, trains: bool = True) -> list[str]:
    """Every way this run differs from the real result a reader might take it for.

    ``trains=False`` (a chapter that only looks at images) leaves out the profile: it trains nothing.
    """
    out = []
    if weights is not None and not weights.get("pretrained"):
        out.append(
            "<b>Random weights, not ImageNet.</b> This page was built with "
            f"<code>weights={config.weights!r}</code>: the base starts from random numbers, so the "
            "accuracy below shows the pipeline running and says nothing about transfer learning. "
            "The default build (online, as in Colab) uses ImageNet weights."
        )
    elif weights is not None and (config.backbone != SEED_BACKBONE or weights.get("weights") == "file"):
        out.append(
            "<b>Not the seed recipe's backbone or weights.</b> "
            f"This build used {html.escape(weights['description'])} "
            f"on the <code>{config.backbone}</code> backbone; the recipe's default, which the prose "
            "describes, is ResNet50 with ImageNet weights downloaded by Keras. The outputs on this page "
            f"come from <code>{config.backbone}</code>."
        )
    if trains and config.profile == "quick":
        out.append(
            f"<b>Quick profile.</b> {config.n:,} training images and {config.head_epochs} + "
            f"{config.fine_tune_epochs} epochs instead of the recipe's 10,000 images and 10 + 10 epochs."
        )
    elif trains and (config.profile != "seed" or recipe_changes(config)):
        out.append(
            f"<b>Not the seed recipe.</b> {html.escape(', '.join(recipe_changes(config)) or config.profile)} "
            "(chapter 6, doing better); the course recipe is the seed profile."
        )
    if source is not None and not source.get("official"):
        out.append(
            f"<b>Data:</b> {html.escape(source['description'])}. These are real CIFAR-10 images, but "
            "not the official archive, so the figures are not bit-identical to a run on Keras's download."
        )
    return out


def recipe_changes(config: RunConfig) -> list[str]:
    """How a configuration's training differs from the seed recipe, in words (sizes and epochs aside)."""
    seed = RunConfig()
    out = []
    if (
        config.fine_tune_learning_rate != seed.fine_tune_learning_rate
        or config.fine_tune_schedule != "constant"
    ):
        out.append(
            f"fine-tuning at {config.fine_tune_learning_rate:g}"
            + (" with a cosine decay" if config.fine_tune_schedule == "cosine" else "")
        )
    if config.augment:
        out.append("random flips and crops")
    if config.flip_test:
        out.append("mirrored test images")
    if config.image_size != seed.image_size:
        out.append(f"{config.image_size}-pixel input")
    if config.head_epochs != seed.head_epochs and config.profile != "quick":
        out.append(f"{config.head_epochs}-epoch head phase")
    return out


def record_card(record):
    """The run card of a run record read from disk (a committed one, say), headed by its name."""
    parts = _recipe_parts(
        RunConfig.from_dict(record.config),
        record.data,
        record.weights,
        record.record,
        name=html.escape(record.path.name),
    )
    return _html_card(dataclasses.replace(parts, made_by=record.record.get("made_by")))


def run_card(
    config: RunConfig,
    source: dict | None = None,
    weights: dict | None = None,
    record: dict | None = None,
    *,
    trains: bool = True,
):
    """An HTML card: profile, data, weights, hardware and time, with a warning when it matters.

    ``source`` is ``data.source.to_dict()``; ``weights`` is
    :func:`cifar_lessons.models.describe_weights` or a record's ``weights``; ``record`` (a
    record's ``record.json``) adds the training times and the machine that made them.

    ``trains=False`` is for a chapter that trains no model (Seeing images): the card gives the
    data and the versions of the libraries that drew the page, and imports no TensorFlow.
    """
    if not trains:
        return _images_card(config, source)
    return _html_card(_recipe_parts(config, source, weights, record))


def _recipe_card(
    config: RunConfig, source: dict | None, weights: dict | None, record: dict | None, name: str | None = None
) -> str:
    """:func:`run_card`'s HTML; ``name`` (already escaped) heads it as that committed record's card."""
    p = _recipe_parts(config, source, weights, record, name)
    return render_card(p.rows, p.line, p.warnings, record_name=p.record_name)


def _recipe_parts(
    config: RunConfig, source: dict | None, weights: dict | None, record: dict | None, name: str | None = None
) -> CardParts:
    """:func:`_recipe_card`'s parts."""
    from ..records.provenance import environment

    weights = weights or describe_weights(config.weights, config.backbone)
    env = (record or {}).get("environment") or environment()
    rows = [
        (
            "profile",
            f"{config.profile}: n = {config.n:,}, {config.image_size}&times;{config.image_size}, "
            f"{config.head_epochs} + {config.fine_tune_epochs} epochs, seed {config.seed}",
        ),
        ("backbone", f"{config.backbone}, head {config.head[0]} &rarr; {config.head[1]}"),
        (
            "recipe",
            html.escape(
                "; ".join(recipe_changes(config)) or "seed: Adam 1e-3 for the head, 1e-5 to fine-tune"
            ),
        ),
        ("weights", html.escape(weights["description"])),
    ]
    if source is not None:
        digest = f" (sha256 {source['sha256'][:12]}&hellip;)" if source.get("sha256") else ""
        rows.append(("data", html.escape(source["description"]) + digest))
    # Records written before the precision was recorded have only the device.
    precision = f", {env['dtype_policy']}" if env.get("dtype_policy") else ""
    rows.append(("hardware", html.escape(env["device"] + precision)))
    timing = (record or {}).get("timing")
    when = (record or {}).get("written") or datetime.now(UTC).isoformat(timespec="seconds")
    names = {"run_seconds": "whole run"}
    times = ", ".join(
        f"{names.get(k, k.replace('_seconds', '').replace('_', '-'))} {v:.0f} s"
        for k, v in (timing or {}).items()
    )
    rows.append(("time", (f"{times}; " if times else "") + f"recorded {when}"))
    return CardParts(
        tuple(rows),
        run_card_line(config, source, weights, name=name),
        tuple(caveats(config, source, weights)),
        record_name=name,
    )


@cache
def _template():
    import jinja2

    # Autoescape off: rows, lines and warnings are HTML already, their user-given parts escaped by
    # the callers (a data source's description, a record's name).
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("card.html.j2")


def render_card(
    rows: Sequence[tuple[str, str]],
    line: str,
    warnings: Sequence[str],
    *,
    title: str = NOT_REAL,
    record_name: str | None = None,
) -> str:
    """A run card's HTML: the one ``line`` a slide shows, and the table of ``rows`` with a
    ``title``d warning listing ``warnings`` (if any), for the book and the slide's speaker notes.

    ``record_name`` marks the card as a committed record's. The template is indented for reading;
    the card is one line of HTML, as notebook outputs and the decks' builder have always had it.
    """
    text = _template().render(
        rows=rows, line=line, warnings=warnings, title=title, record_name=record_name, deck_only=DECK_ONLY
    )
    return "".join(part.strip() for part in text.splitlines())


def flagged(line: str, title: str = NOT_REAL) -> str:
    """A card's one line with the warning mark a slide shows when the notes hold a warning."""
    return f"{line} <span class='run-card-warning'>&#9888; {title}</span>"


def study_card(
    rows: Sequence[tuple[str, str]],
    line: str,
    warnings: Sequence[str],
    *,
    record: dict | None = None,
):
    """The run card of a study outside the recipe (:mod:`cifar_lessons.studies`): its line is
    marked when it carries a warning. ``record`` (a committed record's ``record.json``) names it
    and says what made it, for the chapter's provenance box."""
    record = record or {}
    return _html_card(
        CardParts(
            tuple(rows),
            flagged(line) if warnings else line,
            tuple(warnings),
            made_by=record.get("made_by"),
            label=html.escape(str(record["name"])) if record.get("name") else None,
        )
    )


def _images_card(config: RunConfig, source: dict | None):
    """:func:`run_card` for a chapter that trains nothing: data, library versions, time, data warning."""
    rows = []
    if source is not None:
        digest = f" (sha256 {source['sha256'][:12]}&hellip;)" if source.get("sha256") else ""
        rows.append(("data", html.escape(source["description"]) + digest))
    rows.append(("software", html.escape(_versions())))
    rows.append(("time", f"recorded {datetime.now(UTC).isoformat(timespec='seconds')}"))
    notes = caveats(config, source, None, trains=False)
    line = (
        "<b>Data:</b> "
        + (
            ""
            if source is None
            else ("official CIFAR-10" if source.get("official") else "CIFAR-10 copy") + " &middot; "
        )
        + "no model trained"
    )
    if notes:
        line = flagged(line, "Not the official data")
    return _html_card(CardParts(tuple(rows), line, tuple(notes), title="Not the official data"))


def _versions() -> str:
    """The versions of the image and array libraries this page has imported (never imports one)."""
    names = {
        "numpy": "NumPy",
        "cv2": "OpenCV",
        "skimage": "scikit-image",
        "matplotlib": "matplotlib",
        "tensorflow": "TensorFlow",
        "keras": "Keras",
    }
    return ", ".join(
        f"{label} {sys.modules[m].__version__}" for m, label in names.items() if m in sys.modules
    )


def run_card_line(config: RunConfig, source: dict | None, weights: dict, *, name: str | None = None) -> str:
    """The run card in one line of HTML, for a slide: profile, backbone, weights, data, warning.

    ``name`` (already escaped) heads it as that committed record's line."""
    kind = weights.get("weights")
    weights_text = {"imagenet": "ImageNet weights", "none": "random weights"}.get(kind) or html.escape(
        str(weights.get("description", "weights file"))
    )
    items = [f"{config.profile} profile", backbone_name(config.backbone), weights_text]
    if source is not None:
        items.append("official CIFAR-10" if source.get("official") else "CIFAR-10 copy")
    text = (f"<b>Record {name}:</b> " if name else "<b>Run:</b> ") + " &middot; ".join(items)
    if caveats(config, source, weights):  # the reasons are the items above; the notes give them in full
        text = flagged(text)
    return text


def model_line(config: RunConfig, weights: dict | None = None):
    """The model in one markdown line, naming the backbone this build really used.

    A slide that shows this build's model says which backbone it is, and, when it is not the
    recipe's ResNet50, says that in the same line.
    """
    from IPython.display import Markdown

    weights = weights or describe_weights(config.weights, config.backbone)
    name = f"**{backbone_name(config.backbone)}**"
    if config.backbone != SEED_BACKBONE:
        name += f" (this build's stand-in for the recipe's {backbone_name(SEED_BACKBONE)})"
    start = "pretrained on ImageNet" if weights.get("pretrained") else "with random weights (not pretrained)"
    return Markdown(
        f"{name}, {start}, without its classifier: frozen in phase 1, fine-tuned in phase 2. "
        f"On top: pooling, Dense {config.head[0]}, Dense {config.head[1]} and a 10-way softmax."
    )


def _power_of_ten(x: float) -> str:
    exponent = round(math.log10(x))
    if abs(x - 10.0**exponent) > 1e-12 * abs(x):
        return f"{x:g}"
    digits = str(exponent).replace("-", "\u207b")
    return "10" + digits.translate(
        str.maketrans("0123456789", "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")
    )


def training_line(config: RunConfig):
    """The two training phases in one markdown line, with this build's epochs and learning rates."""
    from IPython.display import Markdown

    line = (
        f"Phase 1: {config.head_epochs} epochs, head only, Adam {_power_of_ten(config.head_learning_rate)}. "
        f"Phase 2: {config.fine_tune_epochs} epochs, everything but BatchNorm, "
        f"Adam {_power_of_ten(config.fine_tune_learning_rate)}."
    )
    if (config.head_epochs, config.fine_tune_epochs) != (RunConfig.head_epochs, RunConfig.fine_tune_epochs):
        line += f" (The recipe: {RunConfig.head_epochs} + {RunConfig.fine_tune_epochs} epochs.)"
    return Markdown(line)


def shown_backbone(config: RunConfig):
    """A markdown line saying which backbone the outputs below come from, when it is not ResNet50."""
    from IPython.display import Markdown

    if config.backbone == SEED_BACKBONE:
        return None
    return Markdown(
        f"Printed below: **{backbone_name(config.backbone)}**, this build's backbone, "
        f"not the recipe's {backbone_name(SEED_BACKBONE)}."
    )
