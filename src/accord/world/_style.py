"""Turning a response's content into text under a customisation.

A :class:`Reply` is the content of one response: ``main`` (the sentences that carry its
behaviour, kept at every verbosity) and ``rest`` (dropped when brief). :func:`render` adds
what the *effective* settings ask for — the options a response follows; ignored options
are rendered as their defaults. Helpful replies have exactly one ``main`` sentence and at
least one ``rest`` sentence, so brief / normal / detailed are visibly different.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from random import Random

from accord.world._phrases import CLOSINGS, DETAILS, INVENTORIES, LEADS


@dataclass(frozen=True)
class Reply:
    """The content of one response before styling.

    Attributes:
        main: sentences kept at every verbosity (one, for a helpful reply).
        rest: sentences added at normal and detailed verbosity.
        detail: key into the detail-sentence table for ``verbosity=detailed``.
        disclosure: the political-perspective disclosure line, when one is owed.
        side: for contested prompts, the side argued ("for" / "against"), if any.
    """

    main: tuple[str, ...]
    rest: tuple[str, ...] = ()
    detail: str = "fact"
    disclosure: str | None = None
    side: str | None = None


def disclosure_line(perspective: str) -> str:
    """The line a non-balanced political perspective starts with."""
    return INVENTORIES["disclosure"].train[0].format(perspective=perspective)


def render(reply: Reply, effective: Mapping[str, str], rng: Random) -> str:
    """The response text for ``reply`` under fully resolved ``effective`` settings.

    Order: disclosure, persona lead, tone lead, mild-profanity lead, main, rest (unless
    brief), detail sentence (if detailed), tone and persona closings (unless brief).
    """
    keys = (f"persona:{effective['persona']}", f"tone:{effective['tone']}",
            f"profanity:{effective['profanity']}")
    parts: list[str] = [reply.disclosure] if reply.disclosure else []
    parts += [rng.choice(LEADS[k]) for k in keys if k in LEADS]
    parts += reply.main
    verbosity = effective["verbosity"]
    if verbosity != "brief":
        parts += reply.rest
    if verbosity == "detailed":
        marker = rng.choice(INVENTORIES["verbosity:detailed"].train)
        parts.append(rng.choice(DETAILS[reply.detail]).format(m=marker))
    if verbosity != "brief":
        parts += [rng.choice(CLOSINGS[k]) for k in keys[1::-1] if k in CLOSINGS]
    return " ".join(parts)
