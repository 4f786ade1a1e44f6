"""The one grader registry: kinds (a factory and its params model) and named graders.

A **kind** turns validated params into a grader: the spec's ``graders:`` entries name a kind
and params, and :func:`build_grader` builds them (binding a proposition's question where
the kind asks one). A **named grader** is a ready-made grader written in code (the meter's
world-inventory graders, the screens' and the simulated reviewers' tables), built on first
use by :func:`get_grader`. Both register here, with decorators, Inspect-style.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from accord.errors import AccordError
from accord.graders._base import Grader


class GraderParams(BaseModel):
    """Base for a kind's params: unknown keys are errors, so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class GraderError(AccordError):
    """A grader cannot be built or found: unknown kind or name, or invalid params."""


Factory = Callable[..., Grader]  # (grader_id, params, question) -> Grader


@dataclass(frozen=True)
class GraderKind:
    """A registered kind.

    Attributes:
        name: the kind, as written in rules.yaml.
        params: the pydantic model validating its params.
        factory: ``(grader_id, params, question) -> Grader``; ``question`` is the yes/no
            question the grader answers ("" when none), for kinds that ask one.
    """

    name: str
    params: type[GraderParams]
    factory: Factory


KINDS: dict[str, GraderKind] = {}
_NAMED: dict[str, Callable[[], Grader]] = {}
_BUILT: dict[str, Grader] = {}
_LOCK = threading.RLock()  # a build may look up other named graders


def grader_kind(name: str, params: type[GraderParams]) -> Callable[[Factory], Factory]:
    """Register a grader factory under a kind name (re-registering replaces it).

    Args:
        name: the kind, as written in rules.yaml.
        params: the pydantic model validating that kind's ``params`` mapping.
    """

    def register(factory: Factory) -> Factory:
        KINDS[name] = GraderKind(name, params, factory)
        return factory

    return register


def list_kinds() -> list[str]:
    """Every registered kind, sorted."""
    return sorted(KINDS)


def validate_params(grader_id: str, kind: str, params: Mapping[str, Any]) -> GraderParams:
    """Validate a grader's params against its kind.

    Args:
        grader_id: the grader's id in rules.yaml, named in errors.
        kind: the grader's kind.
        params: the ``params`` mapping from the spec.

    Raises:
        GraderError: unknown kind, or params that do not fit it (every problem listed).
    """
    entry = KINDS.get(kind)
    if entry is None:
        raise GraderError(f"grader {grader_id!r}: unknown kind {kind!r}; allowed: "
                          f"{', '.join(sorted(KINDS))}")
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


def build_grader(grader_id: str, kind: str, params: Mapping[str, Any], *,
                 question: str = "", threshold: float | None = None) -> Grader:
    """Build the grader a spec entry describes (models load lazily, on first score).

    Args:
        grader_id: the grader's id, named in errors and kept as its ``name``.
        kind: one of the registered kinds.
        params: the kind's params.
        question: the yes/no question it answers (a proposition's); kinds that do not ask
            one ignore it.
        threshold: where a score becomes a "yes" (default: the kind's, 0.5 for all
            built-in kinds).

    Raises:
        GraderError: see :func:`validate_params`.
    """
    checked = validate_params(grader_id, kind, params)
    grader = KINDS[kind].factory(grader_id, checked, question)
    if threshold is not None:
        grader.threshold = threshold
    return grader


def named_grader(name: str) -> Callable[[Callable[[], Grader]], Callable[[], Grader]]:
    """Register a ready-made grader under ``name``: the decorated function builds it on
    first :func:`get_grader` (re-registering a name replaces it).

    Args:
        name: the name metrics, screens and reports refer to it by.
    """

    def register(build: Callable[[], Grader]) -> Callable[[], Grader]:
        with _LOCK:
            _NAMED[name] = build
            _BUILT.pop(name, None)
        return build

    return register


def unregister_grader(name: str) -> None:
    """Forget a named grader (e.g. one a test registered).

    Raises:
        GraderError: no grader has that name.
    """
    with _LOCK:
        if _NAMED.pop(name, None) is None:
            raise GraderError(f"no grader named {name!r}")
        _BUILT.pop(name, None)


def list_graders(prefix: str = "") -> list[str]:
    """The names of the registered graders, sorted.

    Args:
        prefix: only names starting with it (``reviewer:``, ``screen:``...).
    """
    return sorted(n for n in _NAMED if n.startswith(prefix))


def get_grader(name: str) -> Grader:
    """The grader registered as ``name`` (built once per process).

    Args:
        name: a registered grader name.

    Raises:
        GraderError: no grader has that name (the message lists those that do).
    """
    built = _BUILT.get(name)
    if built is not None:
        return built
    with _LOCK:
        build = _NAMED.get(name)
        if build is None:
            raise GraderError(f"no grader named {name!r}; known: {sorted(_NAMED)}")
        if name not in _BUILT:
            _BUILT[name] = build()
        return _BUILT[name]
