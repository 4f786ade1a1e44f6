"""Checkable facts and arithmetic: the helpfulness half of the demo world.

Every fact in the table occurs in the pretraining corpus (many times), so a model can know
it; helpfulness probes ask those same facts in held-out phrasings. Arithmetic probes use
operand pairs that never occur in training text (:func:`is_heldout_pair`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import accord.world._facts_data as data
from accord.world._text import capitalise

ARITHMETIC_OPS = {"plus": lambda a, b: a + b, "minus": lambda a, b: a - b,
                  "times": lambda a, b: a * b}
_EXPR = re.compile(r"\b(\d+) (plus|minus|times) (\d+)\b")


@dataclass(frozen=True)
class Fact:
    """One question with a checkable answer.

    Attributes:
        id: stable identifier, ``"<category>:<subject>"``.
        category: which prompt-template family asks it (capital, count, definition, ...).
        subject: the slot filled into a question template (``"France"``).
        answers: accepted answers; a response is correct when it contains one (whole words,
            case-insensitive).
        statement: the helpful one-sentence answer used in generated responses.
    """

    id: str
    category: str
    subject: str
    answers: tuple[str, ...]
    statement: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _fact(category: str, subject: str, answer: str, statement: str) -> Fact:
    return Fact(f"{category}:{subject}", category, subject, tuple(answer.split("|")), statement)


def _all_facts() -> Iterator[Fact]:
    for country, city in data.CAPITALS:
        yield _fact("capital", country, city, f"The capital of {country} is {city}.")
    for subject, answer, statement in data.COUNTS:
        yield _fact("count", subject, answer, statement)
    for subject, answer, statement in data.DEFINITIONS:
        yield _fact("definition", subject, answer, statement)
    for subject, answer, statement in data.COLOURS:
        yield _fact("colour", subject, answer, statement)
    for word, answer in data.OPPOSITES:
        yield _fact("opposite", word, answer, f"The opposite of {word} is {answer.split('|')[0]}.")
    for subject, answer in data.WHICH:
        yield _fact("which", subject, answer, f"{capitalise(subject)} is {answer.split('|')[0]}.")


FACTS: tuple[Fact, ...] = tuple(_all_facts())


def contains_answer(text: str, answers: tuple[str, ...] | list[str]) -> bool:
    """True when ``text`` contains any accepted answer as whole words (case-insensitive)."""
    return any(re.search(rf"(?<!\w){re.escape(a)}(?!\w)", text, re.IGNORECASE) for a in answers)


def arithmetic_answer(a: int, op: str, b: int) -> int:
    return ARITHMETIC_OPS[op](a, b)


def arithmetic_pairs(op: str) -> list[tuple[int, int]]:
    """All operand pairs the world uses for ``op`` (small numbers a tiny model can learn)."""
    if op == "plus":
        return [(a, b) for a in range(1, 21) for b in range(1, 21)]
    if op == "minus":
        return [(a, b) for a in range(2, 21) for b in range(1, a + 1)]
    return [(a, b) for a in range(2, 13) for b in range(2, 13)]


def is_heldout_pair(a: int, op: str, b: int) -> bool:
    """About one pair in six is reserved for probes; a fixed rule, independent of the seed,
    so every world (and the meter) agrees on which sums were never seen."""
    return (a * 7 + b * 13 + len(op) * 5) % 6 == 0


class FactTable:
    """The fact table plus the answer checker used for helpfulness.

    ``check_answer`` takes a prompt (a world prompt mapping with ``expected``, or the plain
    question text) and a response, and says whether the response gives a correct answer.
    """

    def __init__(self, facts: tuple[Fact, ...] = FACTS) -> None:
        self.facts = facts
        self.by_id = {f.id: f for f in facts}
        # Longest subjects first, so "the largest desert in Africa" wins over shorter ones.
        self._by_subject = sorted(facts, key=lambda f: -len(f.subject))

    def __len__(self) -> int:
        return len(self.facts)

    def expected_for(self, question: str) -> list[str] | None:
        """The accepted answers for a question text, or ``None`` if it asks no known fact."""
        m = _EXPR.search(question)
        if m:
            return [str(arithmetic_answer(int(m.group(1)), m.group(2), int(m.group(3))))]
        low = question.lower()
        for fact in self._by_subject:
            if re.search(rf"(?<!\w){re.escape(fact.subject.lower())}(?!\w)", low):
                return list(fact.answers)
        return None

    def check_answer(self, prompt: Mapping[str, Any] | str, text: str) -> bool:
        """True when ``text`` answers the prompt's question correctly.

        Args:
            prompt: a world prompt (uses its ``expected`` answers) or a question string.
            text: the model's response.

        Raises:
            ValueError: the prompt carries no checkable answer.
        """
        if isinstance(prompt, str):
            expected = self.expected_for(prompt)
        else:
            expected = prompt.get("expected")
            if expected is None:
                user = [m["content"] for m in prompt.get("messages", []) if m["role"] == "user"]
                expected = self.expected_for(user[-1]) if user else None
        if not expected:
            raise ValueError(f"prompt has no checkable answer: {prompt!r}")
        return contains_answer(text, expected)

    def to_list(self) -> list[dict[str, Any]]:
        return [f.to_dict() for f in self.facts]
