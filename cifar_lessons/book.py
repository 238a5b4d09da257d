"""What the chapters need beyond the recipe: the run card, the progress setting, tables.

Every chapter starts with ``config = chapter_config()`` and shows ``run_card(...)``, so a
reader always sees which data, weights and profile produced the page, and a page built
without ImageNet weights, or on a quick profile, says so in a warning no one can miss.
"""

from __future__ import annotations

import html
import os
import sys
from datetime import datetime, timezone

from .config import RunConfig, make_config

SEED_BACKBONE = RunConfig.backbone  # the recipe's default, ResNet50


def chapter_config(**overrides) -> RunConfig:
    """The run this chapter shows: environment variables first, else the seed recipe online."""
    return make_config(None, **overrides)


def progress_verbose() -> int:
    """Keras progress: a live bar (1) interactively, one line per epoch (2) in a book build."""
    return 2 if os.environ.get("CIFAR_LESSONS_BUILD") and "google.colab" not in sys.modules else 1


def caveats(config: RunConfig, source: dict | None, weights: dict | None) -> list[str]:
    """Every way this run differs from the real result a reader might take it for."""
    out = []
    if weights is not None and not weights.get("pretrained"):
        out.append("<b>Random weights, not ImageNet.</b> This page was built with "
                   f"<code>weights={config.weights!r}</code>: the base starts from random numbers, so the "
                   "accuracy below shows the pipeline running and says nothing about transfer learning. "
                   "The default build (online, as in Colab) uses ImageNet weights.")
    elif weights is not None and (config.backbone != SEED_BACKBONE or weights.get("weights") == "file"):
        out.append(f"<b>Not the seed recipe's backbone or weights.</b> This build used {html.escape(weights['description'])} "
                   f"on the <code>{config.backbone}</code> backbone; the recipe's default, which the prose "
                   "describes, is ResNet50 with ImageNet weights downloaded by Keras. The outputs on this page "
                   f"come from <code>{config.backbone}</code>.")
    if config.profile != "seed":
        out.append(f"<b>Quick profile.</b> {config.n:,} training images and {config.head_epochs} + "
                   f"{config.fine_tune_epochs} epochs instead of the recipe's 10,000 images and 10 + 10 epochs.")
    if source is not None and not source.get("official"):
        out.append(f"<b>Data:</b> {html.escape(source['description'])}. These are real CIFAR-10 images, but "
                   "not the official archive, so the figures are not bit-identical to a run on Keras's download.")
    return out


def run_card(config: RunConfig, source: dict | None = None, weights: dict | None = None,
             record: dict | None = None):
    """An HTML card: profile, data, weights, hardware and time, with a warning when it matters.

    ``source`` is ``data.source.to_dict()``; ``weights`` is
    :func:`cifar_lessons.models.describe_weights` or a record's ``weights``; ``record`` (a
    record's ``record.json``) adds the training times and the machine that made them.
    """
    from IPython.display import HTML

    from .models import describe_weights
    from .records import environment

    weights = weights or describe_weights(config.weights, config.backbone)
    env = (record or {}).get("environment") or environment()
    rows = [
        ("profile", f"{config.profile}: n = {config.n:,}, {config.image_size}&times;{config.image_size}, "
                    f"{config.head_epochs} + {config.fine_tune_epochs} epochs, seed {config.seed}"),
        ("backbone", f"{config.backbone}, head {config.head[0]} &rarr; {config.head[1]}"),
        ("weights", html.escape(weights["description"])),
    ]
    if source is not None:
        digest = f" (sha256 {source['sha256'][:12]}&hellip;)" if source.get("sha256") else ""
        rows.append(("data", html.escape(source["description"]) + digest))
    rows.append(("hardware", html.escape(env["device"])))
    timing = (record or {}).get("timing")
    when = (record or {}).get("written") or datetime.now(timezone.utc).isoformat(timespec="seconds")
    times = ", ".join(f"{k.replace('_seconds', '').replace('_', '-')} {v:.0f} s" for k, v in (timing or {}).items())
    rows.append(("time", (f"training: {times}; " if times else "") + f"recorded {when}"))
    table = "".join(f"<tr><th style='text-align:left;padding-right:1em'>{k}</th><td style='text-align:left'>{v}</td></tr>"
                    for k, v in rows)
    parts = [f"<div class='run-card'><table>{table}</table></div>"]
    notes = caveats(config, source, weights)
    if notes:
        items = "".join(f"<p>{n}</p>" for n in notes)
        parts.append(
            "<div class='admonition warning' style='border-left:4px solid #f0ad4e;background:#fff8e6;"
            "padding:0.4em 1em'><p class='admonition-title'><b>&#9888; Not the real result</b></p>"
            f"{items}</div>")
    return HTML("".join(parts))


def results_table(records):
    """One row per evaluated run record, for the takeaways chapter and the presentation."""
    import pandas as pd

    rows = []
    for r in records:
        c, w, d = r.config, r.weights, r.data
        t = r.record.get("timing", {})
        rows.append({
            "profile": c["profile"], "backbone": c["backbone"], "weights": w["weights"],
            "data": d["kind"] + ("" if d.get("official") else " (copy)"), "n train": d["n_train"],
            "size": c["image_size"], "augment": bool(c.get("augment")),
            "epochs": f"{c['head_epochs']}+{c['fine_tune_epochs']}",
            "test accuracy": round(r.metrics["accuracy"], 4), "test loss": round(r.metrics["loss"], 3),
            "train time (s)": round(sum(t.values())), "device": r.record["environment"]["device"],
        })
    return pd.DataFrame(rows)
