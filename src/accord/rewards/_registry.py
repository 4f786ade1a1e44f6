"""Graders by kind: each kind is a factory that validates its params and returns a grader.

A grader answers one yes/no proposition about many exchanges at once with a probability
each, so classifiers and judges can batch. Kinds register themselves with
:func:`grader_kind`; the spec's ``graders:`` entries name a kind and its params, and
:func:`build_grader` turns one entry into a callable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from accord.errors import AccordError


@dataclass(frozen=True)
class Exchange:
    """A prompt (the conversation so far) and the assistant's response to it.

    Args:
        prompt: the conversation before the response, ``[{"role", "content"}, ...]``.
        response: the assistant's response text that propositions are asked about.
    """

    prompt: list[dict[str, str]] = field(default_factory=list)
    response: str = ""


class Grader(Protocol):
    """Answers a proposition for each exchange with a probability in [0, 1]."""

    def __call__(self, exchanges: Sequence[Exchange], question: str) -> list[float]: ...


class GraderParams(BaseModel):
    """Base for a kind's params: unknown keys are errors, so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class GraderKind:
    """A registered kind: its params model and the factory building a grader from them."""

    name: str
    params: type[GraderParams]
    factory: Callable[[str, Any], Grader]


GRADER_REGISTRY: dict[str, GraderKind] = {}


def grader_kind(name: str, params: type[GraderParams]) -> Callable[
        [Callable[[str, Any], Grader]], Callable[[str, Any], Grader]]:
    """Register a grader factory under a kind name.

    Args:
        name: the kind, as written in rules.yaml (one of ``GRADER_KINDS``).
        params: the pydantic model validating that kind's ``params`` mapping.
    """

    def register(factory: Callable[[str, Any], Grader]) -> Callable[[str, Any], Grader]:
        GRADER_REGISTRY[name] = GraderKind(name, params, factory)
        return factory

    return register


class GraderError(AccordError):
    """A grader in the spec cannot be built: unknown kind or invalid params."""


def validate_params(grader_id: str, kind: str, params: Mapping[str, Any]) -> GraderParams:
    """Validate a grader's params against its kind.

    Args:
        grader_id: the grader's id in rules.yaml, named in errors.
        kind: the grader's kind.
        params: the ``params`` mapping from the spec.

    Raises:
        GraderError: unknown kind, or params that do not fit it (every problem listed).
    """
    entry = GRADER_REGISTRY.get(kind)
    if entry is None:
        raise GraderError(f"grader {grader_id!r}: unknown kind {kind!r}; allowed: "
                          f"{', '.join(sorted(GRADER_REGISTRY))}")
    try:
        return entry.params.model_validate(dict(params))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "params"
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = f"unknown param; allowed: {', '.join(entry.params.model_fields)}"
            problems.append(f"grader {grader_id!r} ({kind}): params.{where}: {msg}")
        raise GraderError("\n".join(problems)) from None


def build_grader(grader_id: str, kind: str, params: Mapping[str, Any]) -> Grader:
    """Build the grader a spec entry describes (models load lazily, on first call).

    Args:
        grader_id: the grader's id, named in errors.
        kind: one of the registered kinds.
        params: the kind's params.

    Raises:
        GraderError: see :func:`validate_params`.
    """
    checked = validate_params(grader_id, kind, params)
    return GRADER_REGISTRY[kind].factory(grader_id, checked)
