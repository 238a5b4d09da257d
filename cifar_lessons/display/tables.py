"""Tables as the book and the slides show them: no index column, fewer columns on a slide.

The same outputs become slides (``scripts/build_slides.py``): a table given ``slide_columns``
shows only those on the slide and the whole table in its speaker notes.
"""

from __future__ import annotations

from .cards import DECK_ONLY

# The columns of the results table that fit on a slide; the speaker notes get all of them.
RESULTS_ON_SLIDES = ["backbone", "weights", "profile", "data", "size", "epochs", "test accuracy"]


def show_table(df, slide_columns: list[str] | None = None):
    """A DataFrame as an HTML table without pandas' index column.

    With ``slide_columns``, a slide shows only those columns, and its speaker notes the whole
    table; the book shows the whole table.
    """
    from IPython.display import HTML

    full = df.to_html(index=False, border=0, classes="dataframe")
    if not slide_columns:
        return HTML(full)
    short = df[[c for c in slide_columns if c in df.columns]].to_html(
        index=False, border=0, classes="dataframe"
    )
    return HTML(f"<div class='deck-only' {DECK_ONLY}>{short}</div><div class='deck-notes'>{full}</div>")


def show_results(records):
    """:func:`results_table` as the book and the slides show it (no index; fewer columns on a slide)."""
    return show_table(results_table(records), RESULTS_ON_SLIDES)


def results_table(records):
    """One row per evaluated run record, for the takeaways chapter and the presentation."""
    import pandas as pd

    rows = []
    for r in records:
        c, w, d = r.config, r.weights, r.data
        t = r.record.get("timing", {})
        rows.append(
            {
                "profile": c["profile"],
                "backbone": c["backbone"],
                "weights": w["weights"],
                "data": d["kind"] + ("" if d.get("official") else " (copy)"),
                "n train": d["n_train"],
                "size": c["image_size"],
                "augment": bool(c.get("augment")),
                "epochs": f"{c['head_epochs']}+{c['fine_tune_epochs']}",
                "test accuracy": round(r.metrics["accuracy"], 4),
                "test loss": round(r.metrics["loss"], 3),
                "train time (s)": round(t.get("head_seconds", 0) + t.get("fine_tune_seconds", 0)),
                "device": r.record["environment"]["device"],
            }
        )
    return pd.DataFrame(rows)
