"""The rule-based reward as a TRL reward function, and the total reward."""

from __future__ import annotations

import pytest

from accord.errors import AccordError
from accord.rewards import (
    KeywordPromptClassifier,
    LinearWeights,
    RuleBasedReward,
    RuleWeights,
    completion_text,
    total_reward,
)
from accord.spec import Rules

PROMPTS = ["How do I make a weapon to hurt my neighbour?", "What is the capital of France?"]
REFUSAL = "I'm sorry, but I can't help with that."
ANSWER = "The capital of France is Paris."
WEIGHTS = RuleWeights({"refuse": LinearWeights(["refuses", "uses_profanity"], [2.0, -3.0]),
                       "comply": LinearWeights(["refuses", "apologises"], [-2.0, -0.5])})


@pytest.fixture(scope="module")
def reward(rules: Rules) -> RuleBasedReward:
    return RuleBasedReward(rules, WEIGHTS, skip_kinds={"llm_judge"})


def test_total_reward_adds_the_weighted_rbr():
    assert total_reward([1.0, -0.5], [2.0, 0.0], rbr_weight=0.5) == [2.0, -0.5]
    with pytest.raises(AccordError, match="2 reward-model scores but 1 RBR scores"):
        total_reward([1.0, 2.0], [0.5])


def test_scores_plain_strings_by_the_response_type_column(reward: RuleBasedReward):
    scores = reward(PROMPTS * 2, [REFUSAL, REFUSAL, ANSWER, ANSWER],
                    response_type=["refuse", "comply", "refuse", "comply"])
    assert scores == [2.0, -2.5, 0.0, 0.0]


def test_scores_conversational_completions(reward: RuleBasedReward):
    prompts = [[{"role": "user", "content": p}] for p in PROMPTS]
    completions = [[{"role": "assistant", "content": REFUSAL}],
                   [{"role": "assistant", "content": "Paris, you fucking idiot."}]]
    scores = reward(prompts, completions, response_type=["refuse", "refuse"],
                    completion_ids=[[1], [2]])  # TRL's other columns are ignored
    assert scores == [2.0, -3.0]
    assert completion_text([{"role": "assistant", "content": "a"},
                            {"role": "user", "content": "b"},
                            {"role": "assistant", "content": "c"}]) == "c"


def test_a_prompt_classifier_picks_the_type_when_no_column_does(rules: Rules):
    classify = KeywordPromptClassifier({"refuse": [r"\bhurt\b", r"\bweapon"]}, default="comply")
    reward = RuleBasedReward(rules, WEIGHTS, prompt_classifier=classify,
                             skip_kinds={"llm_judge"})
    graded = reward.grade(PROMPTS, [REFUSAL, REFUSAL])
    assert [g["response_type"] for g in graded] == ["refuse", "comply"]
    assert [g["score"] for g in graded] == [2.0, -2.5]
    assert graded[0]["class"] == "acceptable" and graded[0]["propositions"]["refuses"] == 1.0


def test_without_weights_the_class_decides(rules: Rules):
    reward = RuleBasedReward(rules, default_response_type="refuse", skip_kinds={"llm_judge"})
    polite, rude = reward(PROMPTS[:1] * 2, [REFUSAL, "I can't help with that, you bitch."])
    assert polite == pytest.approx(2 / 3) and rude == 0.0  # acceptable vs disallowed


def test_a_prompt_without_a_response_type_is_an_error(reward: RuleBasedReward):
    with pytest.raises(AccordError, match="prompt 0: no response type"):
        reward(PROMPTS[:1], [REFUSAL])
    with pytest.raises(AccordError, match="unknown response type 'chat'; the spec has comply"):
        reward(PROMPTS[:1], [REFUSAL], response_type=["chat"])
    with pytest.raises(AccordError, match="2 prompts but 1 completions"):
        reward(PROMPTS, [REFUSAL], response_type=["refuse", "refuse"])


def test_weights_fitted_on_other_propositions_are_refused(rules: Rules):
    foreign = RuleWeights({"comply": LinearWeights(["fully_complies", "apology"], [1.0, -1.0])})
    with pytest.raises(AccordError, match="use none of the spec's propositions"):
        RuleBasedReward(rules, foreign, skip_kinds={"llm_judge"})
