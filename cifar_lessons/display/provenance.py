"""A chapter's provenance in one collapsed box: its own run's card and the records it quotes.

Every chapter shows one box, near its top: a visible warning, given once, when this page's run or a
record it quotes is not the real result (another backbone, a quick profile, a copy of the data), and
a closed ``<details>`` with each run card and, for a record, the commit and command that made it. A
reader sees at once whether the figures can be taken at face value, and finds where each came from
one click away. The cards are made by the usual functions (:func:`~cifar_lessons.display.cards.run_card`,
:func:`~cifar_lessons.display.cards.record_card`, a study's ``run_card``/``record_card``); the box
reads their :class:`~cifar_lessons.display.cards.CardParts`, so no HTML is parsed or patched.

On a slide the box is the run's one line (``deck-only``); the warning and the cards go to the
speaker notes (``deck-notes``), as a single card's do.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from .cards import DECK_ONLY, NOT_REAL, CardParts, _template

__all__ = ["provenance", "provenance_html"]


def _heading(card: CardParts, first: bool) -> str:
    name = card.record_name or card.label
    return f"record <b>{name}</b>" if name else ("this page's run" if first else "a run")


def _made_by_row(card: CardParts) -> list[tuple[str, str]]:
    made_by = card.made_by or {}
    if not made_by.get("commit"):
        return []
    command = html.escape(str(made_by.get("command", "")))
    commit = html.escape(made_by["commit"][:10])
    return [("made by", f"<code>{command}</code> at commit <code>{commit}</code>")]


def provenance_html(cards: Iterable[CardParts | None], *, trains: bool = True) -> str:
    """The box's HTML: one warning, then the closed box with every card's rows.

    The warning is this page's: the ways its own run is not the real result, and, in one line, that
    the records it quotes differ too, when they do. What each record differs in is a row of its card,
    inside the box, so that a page quoting eight records still shows one short warning.

    ``trains=False`` is a page that runs nothing of its own and only reads records (chapters 6 and 6b): it
    has no run card and no run that could fall short of the real result, so it shows no warning box.
    The records are full-size results; that they differ from the seed recipe is said in the box's
    one-line summary, and the slide's line says where the figures come from."""
    cards = [c for c in cards if c is not None]
    if trains and not cards:
        raise ValueError("a provenance box needs at least the page's own run card")
    if not trains and not cards:
        raise ValueError("a page that trains nothing needs the records it quotes")
    run = cards[0] if trains else CardParts((), "", ())
    records = cards[1:] if trains else cards
    names = [_heading(c, i == 0 and trains) for i, c in enumerate(cards)]
    record_names = names[1:] if trains else names
    warnings = list(run.warnings)
    differing = [n for c, n in zip(records, record_names) if set(c.warnings) - set(run.warnings)]
    if differing:
        if len(records) == 1:
            which = "the record it quotes differs"
        elif len(differing) == len(records):
            which = f"the {len(records)} records it quotes differ"
        else:
            which = f"{len(differing)} of the {len(records)} records it quotes differ"
        if trains:
            warnings.append(
                f"<b>Records.</b> Besides this page's run, {which} from the seed recipe (another "
                "backbone, a copy of the data, or a changed recipe): each card in the box below says how."
            )
    title = next((c.title for c in cards if c.warnings), NOT_REAL)
    plural = f"{len(records)} record{'s' if len(records) > 1 else ''}"
    if trains:
        summary = names[0] + (f", and {plural}" if records else "")
        line = run.line
    else:
        summary = f"{plural}; this page trains nothing"
        if differing:
            differ = f"{which[0].upper()}{which[1:]} from the seed recipe (each card says how)"
            summary = f"&#9888; {differ}; this page trains nothing"
        line = f"<b>Figures:</b> {plural}, full size" + (" &middot; not the seed recipe" if differing else "")
    shown = [
        {"heading": n, "rows": [*c.rows, *_made_by_row(c), *_notes_row(c, run, i == 0 and trains)]}
        for i, (c, n) in enumerate(zip(cards, names))
    ]
    text = (
        _template()
        .environment.get_template("provenance.html.j2")
        .render(
            line=line,
            deck_only=DECK_ONLY,
            warnings=warnings,
            title=title,
            summary=summary,
            cards=shown,
        )
    )
    return "".join(part.strip() for part in text.splitlines())


def _notes_row(card: CardParts, run: CardParts, first: bool) -> list[tuple[str, str]]:
    """A record's own warnings, as a row of its card (the page's warning gives the run's)."""
    own = [w for w in card.warnings if first is False and w not in run.warnings]
    return [("differs", " ".join(own))] if own else []


def provenance(run, *records):
    """One collapsed box for a chapter: ``run`` (the card of this page's own run, from
    :func:`~cifar_lessons.display.cards.run_card` or a study's ``run_card``) and the cards of the
    records the chapter quotes (``record_card(...)``; ``None`` is left out, for a record not measured).

    ``run=None`` is a page that trains nothing and only quotes records: it then needs no data and
    no model, so in Colab it opens in seconds."""
    from IPython.display import HTML

    parts = [card.parts for card in records if card is not None]
    if run is None:
        return HTML(provenance_html(parts, trains=False))
    return HTML(provenance_html([run.parts, *parts]))
