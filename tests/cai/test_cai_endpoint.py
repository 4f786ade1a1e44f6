"""The OpenAI-compatible back end against a live server on 127.0.0.1 serving the tiny
CAI model: its feedback labels and replies equal the local model's."""

from __future__ import annotations

import pytest

from accord.cai import (
    CaiModel,
    LocalModel,
    OpenAIModel,
    critique_revise,
    feedback_labels,
    normalise,
)
from accord.errors import AccordError
from accord.model import OpenAIBackend, SamplingConfig, option_key
from accord.world import CHOICE_OPTIONS, PRINCIPLES, World, choice_conversation


def _questions(world: World, n: int) -> list[list[dict]]:
    return [choice_conversation(p["prompt"], PRINCIPLES[i % 8].comparison,
                                p["chosen"][0]["content"], p["rejected"][0]["content"])
            for i, p in enumerate(world.preference_pairs[:n])]


def test_endpoint_option_probabilities_equal_the_local_ones(cai_world: World,
                                                            cai_model: LocalModel,
                                                            cai_server: str):
    convs = _questions(cai_world, 6)
    # The model answers "(" first, then the letter: the endpoint reads the letter's
    # distribution after "(", which is what the local model gives for "(A" vs "(B".
    replies = cai_model.generate(convs)
    assert all(r.startswith("(") for r in replies)
    remote = OpenAIModel("tiny", cai_server, top_logprobs=1000)
    local = [normalise(s) for s in cai_model.score(convs, ["(A", "(B"])]
    got = [normalise(s) for s in remote.score(convs, list(CHOICE_OPTIONS))]
    for a, b in zip(got, local, strict=True):
        assert a == pytest.approx(b, abs=1e-4)
    # With few listed tokens it stays a probability distribution.
    few = OpenAIModel("tiny", cai_server, top_logprobs=2).score(convs, list(CHOICE_OPTIONS))
    assert all(sum(normalise(s)) == pytest.approx(1.0) for s in few)


def test_endpoint_feedback_labels_and_sl_cai(cai_world: World, cai_model_dir,
                                             cai_server: str):
    remote = OpenAIModel("tiny", cai_server, top_logprobs=1000, temperature=0,
                         max_tokens=32)
    pairs = cai_world.preference_pairs[:3]
    labels = feedback_labels(remote.score, pairs, PRINCIPLES, n_principles=2, seed=1)
    assert [len(x["votes"]) for x in labels] == [4] * 3
    assert all(0.5 <= x["p_chosen"] <= 1.0 for x in labels)
    prompts = cai_world.prompts["sft"][:2]
    records = critique_revise(remote.generate, prompts, PRINCIPLES, seed=2)
    # Greedy replies over HTTP are the local model's greedy replies.
    from accord.model import load_model

    model, tokenizer = load_model(cai_model_dir)
    local = LocalModel(model, tokenizer,
                       sampling=SamplingConfig(temperature=0, max_new_tokens=32))
    assert records == critique_revise(local.generate, prompts, PRINCIPLES, seed=2)


def test_option_keys_and_endpoint_errors():
    assert [option_key(o) for o in ("(A)", " (B", "A)", "(")] == ["A", "B", "A", ""]
    down = OpenAIModel("m", "http://127.0.0.1:9/v1", timeout_s=2)
    with pytest.raises(AccordError, match=r"endpoint http://127\.0\.0\.1:9/v1 \(model 'm'\)"):
        down.generate([[{"role": "user", "content": "Hi"}]])
    with pytest.raises(AccordError, match="distinct keys"):
        down.score([[{"role": "user", "content": "Hi"}]], ["(A)", "A"])
    with pytest.raises(AccordError, match="not found"):
        LocalModel("/nonexistent/model")


def test_any_backend_serves_cai(cai_world: World, cai_model: LocalModel, cai_server: str):
    """CAI takes an ``accord.model`` backend: an endpoint backend gives the local model's
    greedy replies and (with every token listed) its normalised option scores."""
    convs = _questions(cai_world, 3)
    remote = CaiModel(OpenAIBackend("tiny", cai_server, top_logprobs=1000),
                      SamplingConfig(temperature=0, max_new_tokens=48))
    assert remote.generate(convs) == cai_model.generate(convs)
    local = [normalise(s) for s in cai_model.score(convs, ["(A", "(B"])]
    got = [normalise(s) for s in remote.score(convs, list(CHOICE_OPTIONS))]
    assert got == [pytest.approx(x, abs=1e-4) for x in local]
