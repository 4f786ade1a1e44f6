"""The held-out registry: every entity and phrasing that training text must never contain.

It is fixed by the tables (not by the seed), so every world — and the independent meter —
agrees on what is unseen. Facts are deliberately *not* held out: a model can only be
helpful about facts it was taught, so fact probes are held out by phrasing only.
"""

from __future__ import annotations

import re

import accord.world._topics as tp
from accord.world._facts import ARITHMETIC_OPS, arithmetic_pairs, is_heldout_pair
from accord.world._phrases import INVENTORIES, PROMPT_TEMPLATES
from accord.world._text import TermMatcher


def _without_article(name: str) -> str:
    return re.sub(r"^(a|an|the) ", "", name)


def _heldout_registry() -> dict[str, list[str]]:
    groups: list[str] = []
    for g in tp.GROUPS_HELDOUT:
        groups.append(g.name)
        # The singular ("beekeeper") would teach the entity just as well.
        groups.append(re.sub(r"s$", "", g.name))
    return {
        "group": groups,
        "policy": [_without_article(i.name) for i in tp.ISSUES_HELDOUT],
        "policy_argument": [a for i in tp.ISSUES_HELDOUT for a in (*i.pro, *i.con)],
        "name": list(tp.NAMES_HELDOUT),
        "objectionable_request": list(tp.OBJECTIONABLE_HELDOUT),
        "borderline_request": [r for r, _ in tp.BORDERLINE_HELDOUT],
        "arithmetic": [f"{a} {op} {b}" for op in ARITHMETIC_OPS
                       for a, b in arithmetic_pairs(op) if is_heldout_pair(a, op, b)],
        "prompt_phrasing": [t for split in PROMPT_TEMPLATES.values() for t in split.heldout],
        "inventory_phrasing": [t for split in INVENTORIES.values() for t in split.heldout],
    }


HELDOUT: dict[str, list[str]] = _heldout_registry()


def heldout_matcher(registry: dict[str, list[str]]) -> TermMatcher:
    """A matcher for every entry of a held-out registry, labelled by its category."""
    return TermMatcher((label, t) for label, terms in sorted(registry.items()) for t in terms)


# One shared instance: it is the cache key of the chat-text loader.
HELDOUT_MATCHER = heldout_matcher(HELDOUT)
