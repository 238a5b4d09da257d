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


def provenance_html(cards: Iterable[CardParts]) -> str:
    """The box's HTML: one warning (each distinct warning once, naming the cards it applies to when
    not all of them), then the closed box with every card's rows."""
    cards = [c for c in cards if c is not None]
    if not cards:
        raise ValueError("a provenance box needs at least the page's own run card")
    names = [_heading(c, i == 0) for i, c in enumerate(cards)]
    applies: dict[str, list[str]] = {}
    for card, name in zip(cards, names):
        for warning in card.warnings:
            applies.setdefault(warning, []).append(name)
    warnings = [
        w if len(who) == len(cards) else f"<i>{', '.join(who)}:</i> {w}" for w, who in applies.items()
    ]
    title = next((c.title for c in cards if c.warnings), NOT_REAL)
    records = [n for n in names[1:]]
    summary = names[0] + (f", and {len(records)} record{'s' if len(records) > 1 else ''}" if records else "")
    shown = [{"heading": n, "rows": [*c.rows, *_made_by_row(c)]} for c, n in zip(cards, names)]
    env = _template().environment
    text = env.get_template("provenance.html.j2").render(
        line=cards[0].line,
        deck_only=DECK_ONLY,
        warnings=warnings,
        title=title,
        summary=summary,
        cards=shown,
    )
    return "".join(part.strip() for part in text.splitlines())


def provenance(run, *records):
    """One collapsed box for a chapter: ``run`` (the card of this page's own run, from
    :func:`~cifar_lessons.display.cards.run_card` or a study's ``run_card``) and the cards of the
    records the chapter quotes (``record_card(...)``; ``None`` is left out, for a record not measured)."""
    from IPython.display import HTML

    return HTML(provenance_html(card.parts for card in (run, *records) if card is not None))
