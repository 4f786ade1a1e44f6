"""Seeded, batched generation of assistant replies."""

from __future__ import annotations

import pytest

from accord.errors import AccordError
from accord.model import SamplingConfig, generate, load_model

PROMPTS = [
    [{"role": "user", "content": "Where is the river of Alba?"}],
    [{"role": "system", "content": "You are a helpful guide."},
     {"role": "user", "content": "Tell me about the castle in Dovan."}],
    [{"role": "user", "content": "Where is the bridge of Hestia?"}],
    [{"role": "user", "content": "Tell me about the market in Borin."}],
    [{"role": "user", "content": "Where is the forest of Galor?"}],
]


@pytest.fixture(scope="module")
def model_and_tokenizer(pretrained):
    return load_model(pretrained.model_dir)


def test_same_seed_same_replies_whatever_the_batch_size(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    sampling = SamplingConfig(temperature=1.0, top_p=0.95, top_k=50, max_new_tokens=16, seed=7)
    one = generate(model, tokenizer, PROMPTS, sampling, batch_size=1)
    three = generate(model, tokenizer, PROMPTS, sampling, batch_size=3)
    all_ = generate(model, tokenizer, PROMPTS, sampling, batch_size=len(PROMPTS))
    assert one == three == all_
    # Row i depends on (seed, i) only: a prefix of the prompts gets the same replies.
    assert generate(model, tokenizer, PROMPTS[:2], sampling, batch_size=2) == one[:2]
    other_seed = generate(model, tokenizer, PROMPTS, SamplingConfig(
        temperature=1.0, top_p=0.95, top_k=50, max_new_tokens=16, seed=8), batch_size=5)
    assert other_seed != one


def test_replies_are_assistant_text_that_stops_at_the_end_of_turn(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    replies = generate(model, tokenizer, PROMPTS, SamplingConfig(temperature=0,
                                                                 max_new_tokens=60))
    for reply in replies:
        assert "<|im" not in reply and "assistant\n" not in reply
        # The model learned the corpus: the greedy reply is one templated sentence,
        # finished with the end-of-turn token well before the 60-token limit.
        assert reply.startswith("The ") and reply.endswith(".")
        assert len(tokenizer.encode(reply)) < 40


def test_greedy_is_deterministic_and_ignores_the_seed(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    a = generate(model, tokenizer, PROMPTS, SamplingConfig(temperature=0, seed=1,
                                                           max_new_tokens=20), batch_size=2)
    b = generate(model, tokenizer, PROMPTS, SamplingConfig(temperature=0, seed=2,
                                                           max_new_tokens=20), batch_size=4)
    assert a == b


def test_repetition_penalty_and_max_new_tokens(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    short = generate(model, tokenizer, PROMPTS[:1], SamplingConfig(temperature=0,
                                                                   max_new_tokens=2))
    assert len(tokenizer.encode(short[0])) <= 2
    penalised = generate(model, tokenizer, PROMPTS, SamplingConfig(
        temperature=0.7, repetition_penalty=1.3, max_new_tokens=20, seed=3), batch_size=2)
    assert penalised == generate(model, tokenizer, PROMPTS, SamplingConfig(
        temperature=0.7, repetition_penalty=1.3, max_new_tokens=20, seed=3), batch_size=5)


def test_sampling_config_is_stored_as_a_dict_and_validated():
    config = SamplingConfig(temperature=0.5, top_k=10, seed=4)
    assert config.to_dict() == {"temperature": 0.5, "top_p": 0.95, "top_k": 10,
                                "max_new_tokens": 128, "repetition_penalty": 1.0, "seed": 4}
    assert SamplingConfig(**config.to_dict()) == config
    with pytest.raises(AccordError, match=r"top_p=1\.5"):
        SamplingConfig(top_p=1.5)


def test_a_conversation_must_end_with_a_turn_to_answer(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    done = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    with pytest.raises(AccordError, match="conversation 1 ends with an assistant message"):
        generate(model, tokenizer, [PROMPTS[0], done])
