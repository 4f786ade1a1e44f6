"""What the CAI steps share: the callables a model provides, principles and prompts."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from accord.errors import AccordError
from accord.model import check_conversation
from accord.world import Principle, PrincipleLike

Conversation = list[dict[str, str]]
Generate = Callable[[Sequence[Conversation]], list[str]]
"""Conversations (each ending with a user turn) → the assistant's next reply to each, like
``accord.audit.Generate``; :class:`~accord.cai.CaiModel` (over any ``accord.model``
backend) provides one as ``.generate``."""
ScoreOptions = Callable[[Sequence[Conversation], Sequence[str]], list[list[float]]]
"""``(conversations, options)`` → for each conversation, the log-probability of each option
as the start of the assistant's reply (only their differences matter). Provided as
``.score`` by :class:`~accord.cai.CaiModel`."""

_PRINCIPLE_FIELDS = ("id", "critique", "revision", "comparison")


def as_principles(source: Any) -> list[PrincipleLike]:
    """Principles from a spec, a constitution, or a sequence of principles or dicts.

    Args:
        source: an ``accord.spec.Spec`` (its ``constitution``), an ``accord.spec.
            Constitution`` (its ``principles``), or principles: objects with ``id``,
            ``critique``, ``revision`` and ``comparison`` (``accord.spec.Principle``,
            ``accord.world.Principle``) or dicts with those keys.

    Raises:
        AccordError: no principles, one missing a field, or two with the same id.
    """
    if hasattr(source, "constitution"):
        source = source.constitution
    if hasattr(source, "principles"):
        source = source.principles
    if isinstance(source, (str, bytes)) or not isinstance(source, Sequence):
        raise AccordError(f"principles: expected a spec, a constitution or a list of "
                          f"principles, got {type(source).__name__}")
    out: list[PrincipleLike] = []
    for i, p in enumerate(source):
        if isinstance(p, Mapping):
            missing = [f for f in _PRINCIPLE_FIELDS if not isinstance(p.get(f), str)]
            if missing:
                raise AccordError(f"principle {i}: missing text field(s) {missing}; a principle "
                                  f"needs {list(_PRINCIPLE_FIELDS)}")
            p = Principle(id=p["id"], text=str(p.get("text", "")), critique=p["critique"],
                          revision=p["revision"], comparison=p["comparison"])
        elif not all(isinstance(getattr(p, f, None), str) for f in _PRINCIPLE_FIELDS):
            raise AccordError(f"principle {i}: {type(p).__name__} lacks one of "
                              f"{list(_PRINCIPLE_FIELDS)}")
        out.append(p)
    if not out:
        raise AccordError("principles: the constitution is empty; give at least one principle")
    ids = [p.id for p in out]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise AccordError(f"principles: ids {duplicated} occur more than once")
    return out


def prompt_messages(prompt: Any, where: str) -> Conversation:
    """The messages of a prompt: a message list, or a record with ``messages`` (a world
    prompt) or ``prompt`` (a TRL preference row)."""
    if isinstance(prompt, Mapping):
        if "messages" in prompt:
            return check_conversation(prompt["messages"], where)
        if "prompt" in prompt:
            return check_conversation(prompt["prompt"], where)
        raise AccordError(f"{where}: a prompt record needs 'messages' (or 'prompt'); "
                          f"got keys {sorted(prompt)}")
    return check_conversation(prompt, where)


def reply_text(side: Any, where: str) -> str:
    """The assistant text of a response: a string, or TRL's ``[{"role": "assistant", ...}]``
    (the last assistant message)."""
    if isinstance(side, str):
        return side
    if isinstance(side, Sequence) and side and isinstance(side[-1], Mapping) \
            and side[-1].get("role") == "assistant" and isinstance(side[-1].get("content"), str):
        return side[-1]["content"]
    raise AccordError(f"{where}: expected a response string or a list ending with an "
                      f"assistant message, got {side!r:.80}")


def check_replies(replies: Any, n: int, what: str) -> list[str]:
    """Raise unless a model call returned ``n`` strings."""
    if not isinstance(replies, Sequence) or len(replies) != n \
            or not all(isinstance(r, str) for r in replies):
        raise AccordError(f"{what}: the model must return one string per conversation "
                          f"({n}); got {replies!r:.80}")
    return list(replies)
