"""The grader registry: small named functions, composed by name (Inspect's ``@scorer``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from accord.errors import AccordError

Prompt = Mapping[str, Any]


class Grader(Protocol):
    """A batched yes/no judgement on responses.

    Args:
        texts: the assistant responses.
        prompts: the world prompt records they answer (``messages``, ``settings``,
            ``expected``), parallel to ``texts``; graders that judge the text alone ignore it.

    Returns:
        One bool per text.
    """

    def __call__(self, texts: Sequence[str],
                 prompts: Sequence[Prompt] | None = None) -> list[bool]: ...


GRADERS: dict[str, Grader] = {}


def grader(name: str) -> Callable[[Grader], Grader]:
    """Register a grader under ``name`` (re-registering a name replaces it).

    Args:
        name: the name metrics and reports refer to it by.
    """

    def register(fn: Grader) -> Grader:
        GRADERS[name] = fn
        return fn

    return register


def get_grader(name: str) -> Grader:
    """The grader registered as ``name``.

    Args:
        name: a registered grader name.

    Raises:
        AccordError: no grader has that name (the message lists those that do).
    """
    try:
        return GRADERS[name]
    except KeyError:
        raise AccordError(f"no meter grader named {name!r}; known: {sorted(GRADERS)}") from None
