"""What every grader is: an exchange in, a probability out, a threshold and a record."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Exchange:
    """One prompt and the assistant's response to it.

    Args:
        prompt: the conversation before the response, ``[{"role", "content"}, ...]``.
        response: the assistant's text that graders judge.
        info: anything else a grader may read: for the world's probes the whole prompt
            record (``settings``, ``expected`` answers...). Graders that need a key say so.
    """

    prompt: list[dict[str, str]] = field(default_factory=list)
    response: str = ""
    info: Mapping[str, Any] = field(default_factory=dict)


def as_exchanges(texts: Sequence[str],
                 records: Sequence[Mapping[str, Any]] | None = None) -> list[Exchange]:
    """Responses (and the world prompt records they answer) as exchanges.

    Args:
        texts: the responses.
        records: prompt records parallel to ``texts`` (``messages``, optional ``settings``,
            ``expected``); each becomes its exchange's ``prompt`` (the messages) and
            ``info`` (the whole record). ``None``: exchanges with no prompt.

    Raises:
        ValueError: ``records`` is not as long as ``texts``.
    """
    if records is None:
        return [Exchange([], t) for t in texts]
    if len(records) != len(texts):
        raise ValueError(f"as_exchanges: {len(texts)} texts but {len(records)} prompt records")
    return [Exchange(list(r.get("messages", [])), t, r) for t, r in zip(texts, records,
                                                                           strict=True)]


@dataclass(frozen=True)
class Source:
    """One thing a grader was built from.

    Attributes:
        name: what it is (``world-inventories``, ``alt-profanity-check``, ``spec:rules.yaml``).
        detail: which part or version (``splits=train+heldout``, ``1.1.3``...).
        sha256: the hash of its content where known (a phrase table, patterns, a file).
    """

    name: str
    detail: str = ""
    sha256: str | None = None


@dataclass(frozen=True)
class GraderRecord:
    """What a grader is built from, so a reader (or a test) can check independence.

    Attributes:
        kind: the registered kind that built it, or ``named`` for a registered grader
            written in code.
        params: the kind's params as given (JSON-able).
        version: bumps whenever the grader's behaviour changes.
        sources: the data, tables and models it reads.
    """

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)
    version: str = "1"
    sources: tuple[Source, ...] = ()

    def source_names(self) -> set[str]:
        """The names of every source, e.g. to check two graders share none."""
        return {s.name for s in self.sources}


def content_hash(value: Any) -> str:
    """The sha256 of ``value``'s canonical JSON (sorted keys): the same tables, the same hash.

    Args:
        value: JSON-able data (lists, dicts, strings, numbers).
    """
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@runtime_checkable
class Grader(Protocol):
    """Scores exchanges with probabilities; a label is ``score >= threshold``.

    Attributes:
        name: the grader's id (a registered name, or the spec's grader id).
        threshold: where a score becomes a "yes".
        record: what it was built from.
    """

    name: str
    threshold: float
    record: GraderRecord

    def score(self, exchanges: Sequence[Exchange]) -> list[float]:
        """One probability in [0, 1] per exchange, in order."""
        ...

    def label(self, exchanges: Sequence[Exchange]) -> list[bool]:
        """One ``score >= threshold`` per exchange."""
        ...


Score = Callable[[Sequence[Exchange]], list[float]]


class ScoreGrader:
    """A grader from a batched scoring function (what kinds and named graders return).

    Args:
        name: its id.
        score: exchanges → one probability each.
        record: what it was built from.
        threshold: where a score becomes a "yes" (``label`` is ``score >= threshold``).
    """

    def __init__(self, name: str, score: Score, record: GraderRecord,
                 threshold: float = 0.5) -> None:
        self.name = name
        self.threshold = threshold
        self.record = record
        self._score = score

    def score(self, exchanges: Sequence[Exchange]) -> list[float]:
        """One probability per exchange (see the class docstring)."""
        return self._score(exchanges)

    def label(self, exchanges: Sequence[Exchange]) -> list[bool]:
        """``score >= threshold`` per exchange."""
        return [s >= self.threshold for s in self.score(exchanges)]

    def __repr__(self) -> str:
        return f"ScoreGrader({self.name!r}, kind={self.record.kind!r}, threshold={self.threshold})"


def from_labels(labels: Callable[[Sequence[Exchange]], list[bool]]) -> Score:
    """A scoring function from a yes/no one: yes is 1.0, no is 0.0 (label at 0.5)."""
    return lambda exchanges: [1.0 if v else 0.0 for v in labels(exchanges)]
