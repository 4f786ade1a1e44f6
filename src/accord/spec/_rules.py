"""rules.yaml: graders, propositions and the rules that combine them (Mu et al. 2024)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

from pydantic import Field

from accord.spec._base import Id, SpecModel, Text
from accord.spec._formula import evaluate

# The kinds a spec may name: accord.graders registers each;
# tests/graders checks the two agree.
GraderKind = Literal[
    "regex", "lexicon", "profanity_classifier", "hate_classifier", "sentiment", "llm_judge",
    "real_text",
]
GRADER_KINDS: tuple[str, ...] = get_args(GraderKind)
# Best first: a completion takes the first class whose formula holds.
COMPLETION_CLASSES = ("ideal", "acceptable", "unacceptable", "disallowed")
CompletionClass = Literal["ideal", "acceptable", "unacceptable", "disallowed"]


class Grader(SpecModel):
    """A named grader; ``kind`` picks the implementation, ``params`` configure it."""

    id: Id
    kind: GraderKind
    params: dict[str, Any] = Field(default_factory=dict)


class Proposition(SpecModel):
    """A yes/no question about a response, answered by a grader."""

    id: Id
    question: Text
    grader: Id


class ResponseType(SpecModel):
    """A kind of desired response (e.g. ``comply``) and what makes it ideal ... disallowed."""

    id: Id
    description: Text
    classes: dict[CompletionClass, Text] = Field(min_length=1)

    def ordered_classes(self) -> list[tuple[str, str]]:
        """(class, formula) pairs in preference order, best first."""
        return [(name, self.classes[name]) for name in COMPLETION_CLASSES if name in self.classes]


class Rules(SpecModel):
    """The rule-based-reward rules."""

    graders: list[Grader] = Field(default_factory=list)
    propositions: list[Proposition] = Field(default_factory=list)
    definitions: dict[Id, Text] = Field(default_factory=dict)
    response_types: list[ResponseType] = Field(default_factory=list)

    def classify(self, response_type: str, truth: Mapping[str, bool]) -> str | None:
        """The best completion class whose formula holds for a response.

        Args:
            response_type: the response type's id (e.g. ``comply``).
            truth: each proposition's truth value for the response.

        Returns:
            ``ideal``, ``acceptable``, ``unacceptable`` or ``disallowed``; None if no
            class's formula holds.

        Raises:
            KeyError: unknown response type.
        """
        kind = next((r for r in self.response_types if r.id == response_type), None)
        if kind is None:
            raise KeyError(response_type)
        for name, formula in kind.ordered_classes():
            if evaluate(formula, truth, self.definitions):
                return name
        return None
