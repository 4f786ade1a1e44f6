"""The fact table and the answer checker."""

from __future__ import annotations

import re

import pytest

from accord.world import FACTS, FactTable, World, is_heldout_pair


def test_check_answer_on_question_text():
    facts = FactTable()
    assert facts.check_answer("What is the capital of France?", "It is Paris.")
    assert not facts.check_answer("What is the capital of France?", "It is Lyon.")
    assert facts.check_answer("How many legs does a spider have?", "Eight legs.")
    assert facts.check_answer("What is 7 plus 5?", "7 plus 5 is 12.")
    assert not facts.check_answer("What is 7 plus 5?", "It is 112.")
    with pytest.raises(ValueError, match="no checkable answer"):
        facts.check_answer("How are you?", "Fine.")


def test_check_answer_uses_a_prompts_expected_answers(world: World):
    probe = world.probes["facts"][0]
    fact = world.facts.by_id[probe["meta"]["fact_id"]]
    assert world.check_answer(probe, f"Sure. {fact.statement}")
    assert not world.check_answer(probe, "I'm sorry, but I can't help with that.")


def test_every_fact_probe_asks_a_fact_the_corpus_states(world: World, dialogues):
    corpus = "\n".join(d["messages"][-1]["content"] for d in dialogues)
    for probe in world.probes["facts"]:
        assert world.facts.by_id[probe["meta"]["fact_id"]].statement in corpus


def test_the_default_corpus_states_every_fact(dialogues):
    corpus = "\n".join(d["messages"][-1]["content"] for d in dialogues)
    assert all(f.statement in corpus for f in FACTS)


def test_arithmetic_probes_use_pairs_never_seen_in_training(world: World):
    training = "\n".join(text for _, text in world.training_texts())
    seen = set(re.findall(r"(?<!\d)(\d+ (?:plus|minus|times) \d+)(?!\d)", training))
    for probe in world.probes["arithmetic"]:
        a, op, b = probe["meta"]["expression"].split()
        assert is_heldout_pair(int(a), op, int(b))
        assert probe["meta"]["expression"] not in seen


def test_fact_answers_are_labelled(dialogues):
    for doc in dialogues:
        labels = doc["labels"]
        if labels["prompt_kind"] in ("fact", "arithmetic"):
            if labels["behaviour"] == "over_refusal":
                assert labels["answer_correct"] is False
            else:
                assert labels["answer_correct"] is True
        else:
            assert labels["answer_correct"] is None
