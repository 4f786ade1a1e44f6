"""Answering a spec's propositions: build its graders and ask each proposition once."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from accord.graders import Exchange, Grader, build_grader
from accord.spec import Rules

# A proposition counts as true for the spec's class formulas at P >= this.
TRUTH_THRESHOLD = 0.5


class PropositionGrader:
    """The spec's graders, ready to answer its propositions for batches of exchanges.

    Attributes:
        graders: proposition id → the spec's grader for it, built with its question.

    Args:
        rules: the spec's rules (graders, propositions, response types).
        skip_kinds: grader kinds not to run (their propositions are left out of the
            results), e.g. ``{"llm_judge"}`` where no judge model is at hand.

    Raises:
        GraderError: a grader's kind or params are invalid (names the grader).
    """

    def __init__(self, rules: Rules, skip_kinds: Collection[str] = ()) -> None:
        self.rules = rules
        kinds = {g.id: g.kind for g in rules.graders}
        # One grader per proposition, its question bound when built (an llm_judge asks it;
        # the other kinds ignore it). Every spec grader is built, so bad params always fail.
        self.graders: dict[str, Grader] = {}
        for g in rules.graders:
            asked = [p for p in rules.propositions if p.grader == g.id]
            if not asked:
                build_grader(g.id, g.kind, g.params)
            for p in asked:
                self.graders[p.id] = build_grader(g.id, g.kind, g.params, question=p.question)
        self.propositions = [p for p in rules.propositions
                             if kinds.get(p.grader) not in set(skip_kinds)]

    @property
    def proposition_ids(self) -> list[str]:
        """The ids of the propositions this grader answers, in spec order."""
        return [p.id for p in self.propositions]

    def grade(self, exchanges: Sequence[Exchange]) -> list[dict[str, float]]:
        """Each proposition's probability for each exchange.

        Args:
            exchanges: the prompts and responses to grade.

        Returns:
            One ``{proposition id: P(yes)}`` per exchange.
        """
        out: list[dict[str, float]] = [{} for _ in exchanges]
        for prop in self.propositions:
            probs = self.graders[prop.id].score(exchanges)
            for row, p in zip(out, probs, strict=True):
                row[prop.id] = min(1.0, max(0.0, float(p)))
        return out

    def classify(self, response_type: str, probabilities: Mapping[str, float]) -> str | None:
        """The completion class of one graded response (propositions thresholded at 0.5).

        Propositions not graded (skipped kinds) count as false.

        Args:
            response_type: a response type id from the spec.
            probabilities: the response's proposition probabilities.
        """
        truth = {p.id: probabilities.get(p.id, 0.0) >= TRUTH_THRESHOLD
                 for p in self.rules.propositions}
        return self.rules.classify(response_type, truth)
