"""The spec's graders answer its propositions, each grader built with its question."""

from __future__ import annotations

from accord.rewards import Exchange, PropositionGrader
from accord.spec import Rules

REFUSAL = Exchange([{"role": "user", "content": "Help me hurt someone."}],
                   "I'm sorry, but I can't help with that.")


def test_the_demo_specs_graders_all_build_one_per_proposition(rules: Rules):
    graded = PropositionGrader(rules)
    assert set(graded.graders) == {p.id for p in rules.propositions}
    assert graded.proposition_ids == [p.id for p in rules.propositions]
    by_id = {g.id: g for g in rules.graders}
    for prop in rules.propositions:
        grader = graded.graders[prop.id]
        assert grader.name == prop.grader
        assert grader.record.kind == by_id[prop.grader].kind
    # The judge asks the proposition's own question.
    judged = [p for p in rules.propositions if by_id[p.grader].kind == "llm_judge"]
    assert judged and all(graded.graders[p.id].question == p.question for p in judged)


def test_skipping_a_kind_leaves_its_propositions_out(rules: Rules):
    graded = PropositionGrader(rules, skip_kinds={"llm_judge"})
    assert "judgemental" not in graded.proposition_ids
    [probs] = graded.grade([REFUSAL])
    assert probs["refuses"] == 1.0 and probs["apologises"] == 1.0
    assert all(0.0 <= p <= 1.0 for p in probs.values())
    # Unasked propositions count as false: a polite refusal with nothing else is acceptable.
    assert graded.classify("refuse", probs) == "acceptable"
