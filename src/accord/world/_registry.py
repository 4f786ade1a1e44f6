"""The scenario registry: prompt kind -> the function that draws a prompt of that kind.

Kept apart from the scenario machinery so that :class:`~accord.world.WorldConfig` can ask
which kinds exist without importing the scenarios (which need the config). The built-in
kinds register themselves when ``accord.world`` is imported (``_kinds``); a new kind is one
decorated function, with no list to edit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# kind -> scenario, in registration order (the order kinds are listed and built in).
SCENARIOS: dict[str, Callable[[Any], Any]] = {}


def scenario(kind: str) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """Register a scenario function (``Draw -> Case``) under a prompt kind."""

    def register(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        SCENARIOS[kind] = fn
        return fn

    return register


def known_kinds() -> list[str]:
    """The registered prompt kinds, sorted."""
    return sorted(SCENARIOS)
