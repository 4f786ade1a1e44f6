"""What ordinary OpenAI clients send every day, through the official SDK against a live
``accord serve`` app with a real tiny model: the message round trip, log-probabilities
(checked against the model's own forward pass), ``n``, ``stop``, seeds, streaming with
usage and logprobs, the ``tool`` role, every field OpenAI defines (accepted, or refused
with a reason in OpenAI's error shape), and ``/v1/completions`` with ``echo``."""

from __future__ import annotations

import math
import typing
from collections.abc import Iterator

import httpx
import openai
import pytest
import torch
from chat_site import ChatSite, build_chat_site, tiny_model_dir
from serve_site import live_server

from accord.serve._v1_bodies import ChatBody, CompletionBody
from accord.store import Store

USER = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(scope="module")
def served(request, tmp_path_factory) -> Iterator[tuple[str, ChatSite]]:
    from accord.customize import load_runner

    runner = load_runner("tiny", tiny_model_dir(request, tmp_path_factory))
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('v1') / 'accord.sqlite3'}")
    site = build_chat_site(store, runner, requests_per_minute=1000)
    try:
        with live_server(site.app) as base:
            yield base, site
    finally:
        store.close()


@pytest.fixture(scope="module")
def client(served) -> openai.OpenAI:
    base, site = served
    return openai.OpenAI(base_url=f"{base}/v1", api_key=site.key(), max_retries=0,
                         timeout=60, _strict_response_validation=True)


def _forward_logprobs(site: ChatSite, prompt: list[int], tokens: list[int]) -> torch.Tensor:
    """Each token's log-probability by a plain forward pass (independent of the server)."""
    runner = site.service.runner("tiny")
    with torch.no_grad():
        logits = runner.model(input_ids=torch.tensor([prompt + tokens])).logits[0]
    logprobs = torch.log_softmax(logits.float(), dim=-1)
    return torch.tensor([float(logprobs[len(prompt) - 1 + j, t]) for j, t in enumerate(tokens)])


def test_the_message_round_trip_with_nulls_and_the_tool_role(client):
    reply = client.chat.completions.create(model="tiny", messages=USER, max_tokens=16, seed=1)
    message = reply.choices[0].message
    assert message.refusal is None
    history = [*USER, message]  # the SDK sends the reply back as it came
    history.append({"role": "user", "content": "And of Spain?"})
    again = client.chat.completions.create(model="tiny", messages=history, max_tokens=16)
    assert again.choices[0].message.role == "assistant"
    # An assistant turn with content null (a tool call elsewhere), a tool result and
    # content parts: all read, the tool result as text the model reads.
    odd = [*USER, {"role": "assistant", "content": None, "refusal": None},
           {"role": "tool", "tool_call_id": "call_1", "content": "Paris"},
           {"role": "user", "content": [{"type": "text", "text": "Thanks. "},
                                        {"type": "text", "text": "Say it again."}]}]
    out = client.chat.completions.create(model="tiny", messages=odd, max_tokens=8,
                                         store=True, metadata={"run": "x"}, user="u1",
                                         reasoning_effort="low", parallel_tool_calls=False,
                                         response_format={"type": "text"}, logit_bias={},
                                         tools=[{"type": "function", "function": {
                                             "name": "f", "parameters": {}}}],
                                         tool_choice="none", service_tier="auto")
    assert isinstance(out.choices[0].message.content, str)


def test_logprobs_are_the_models_own_for_the_tokens_it_wrote(served, client):
    _, site = served
    reply = client.chat.completions.create(model="tiny", messages=USER, max_tokens=12,
                                           temperature=0, logprobs=True, top_logprobs=5)
    content = reply.choices[0].logprobs.content
    if reply.choices[0].finish_reason == "stop":  # the end-of-turn token is listed last
        assert content[-1].token == "<|im_end|>"
        content = content[:-1]
    assert "".join(p.token for p in content).strip() == reply.choices[0].message.content
    runner = site.service.runner("tiny")
    prompt = runner.encode(USER)
    tokens = runner.tokenizer([p.token for p in content], add_special_tokens=False)
    ids = [row[0] for row in tokens["input_ids"]] if all(
        len(row) == 1 for row in tokens["input_ids"]) else None
    expected = _forward_logprobs(site, prompt, ids) if ids else None
    for j, p in enumerate(content):
        assert len(p.top_logprobs) == 5 and p.bytes == list(p.token.encode())
        listed = [t.logprob for t in p.top_logprobs]
        assert listed == sorted(listed, reverse=True) and p.logprob <= listed[0] + 1e-6
        # Greedy: the chosen token is the most likely one.
        assert p.logprob == pytest.approx(listed[0], abs=1e-5)
        if expected is not None:
            assert p.logprob == pytest.approx(float(expected[j]), abs=1e-4)
    # Without logprobs: null, as OpenAI answers.
    plain = client.chat.completions.create(model="tiny", messages=USER, max_tokens=4)
    assert plain.choices[0].logprobs is None


def test_n_seed_stop_and_max_completion_tokens(client):
    many = client.chat.completions.create(model="tiny", messages=USER, n=3, seed=7,
                                          max_completion_tokens=12, temperature=1.0)
    assert [c.index for c in many.choices] == [0, 1, 2]
    one = client.chat.completions.create(model="tiny", messages=USER, seed=8,
                                         max_completion_tokens=12, temperature=1.0)
    # Choice i is seed + i: choice 1 of seed 7 is the answer of seed 8.
    assert many.choices[1].message.content == one.choices[0].message.content
    assert many.usage.completion_tokens >= one.usage.completion_tokens
    whole = client.chat.completions.create(model="tiny", messages=USER, seed=3, max_tokens=24,
                                           temperature=0)
    text = whole.choices[0].message.content
    if len(text) > 4:
        cut = client.chat.completions.create(model="tiny", messages=USER, seed=3,
                                             max_tokens=24, temperature=0, stop=[text[3:5]])
        assert cut.choices[0].message.content == text[:3].strip()


def test_streaming_with_usage_and_logprobs(client):
    chunks = list(client.chat.completions.create(
        model="tiny", messages=USER, stream=True, stream_options={"include_usage": True},
        max_tokens=12, temperature=0, logprobs=True, top_logprobs=2))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    scored = [p for c in chunks if c.choices and c.choices[0].logprobs
              for p in c.choices[0].logprobs.content]
    assert scored and "".join(p.token for p in scored).replace("<|im_end|>", "").strip() \
        == text.strip()
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0


def test_unsupported_features_are_refused_in_openais_shape(client):
    cases = [
        ({"response_format": {"type": "json_object"}}, "response_format", "JSON-mode"),
        ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]},
         "tools", "no tool training"),
        ({"tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "auto"},
         "tools", "no tool training"),
        ({"logit_bias": {"50": 10}}, "logit_bias", "not supported"),
        ({"modalities": ["text", "audio"]}, "modalities", "text only"),
        ({"stream": True, "n": 2}, "n", "not supported with stream"),
        ({"top_logprobs": 3}, "top_logprobs", "needs logprobs"),
        ({"messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "data:,"}}]}]},
         "messages[0].content[0]", "text only"),
        ({"extra_body": {"colour": "red"}}, "colour", "unrecognized request argument"),
    ]
    for change, param, words in cases:
        with pytest.raises(openai.BadRequestError) as caught:
            client.chat.completions.create(**{"model": "tiny", "messages": USER, **change})
        body = caught.value.body
        assert set(body) == {"message", "type", "param", "code"}
        assert body["param"] == param and words in body["message"], (change, body)


def test_every_field_openai_defines_is_known():
    """A field of the SDK's own request types is never answered 'unrecognized'."""
    from openai.types import completion_create_params as text
    from openai.types.chat import completion_create_params as chat

    for params, model in ((chat.CompletionCreateParamsBase, ChatBody),
                          (text.CompletionCreateParamsBase, CompletionBody)):
        names = set(typing.get_type_hints(params, include_extras=False))
        assert names <= set(model.model_fields), sorted(names - set(model.model_fields))


def test_text_completions_with_echo_score_the_prompt(served):
    base, site = served
    # Not strict: the first echoed token has no log-probability (null), as OpenAI answers,
    # which the SDK's types do not spell out.
    client = openai.OpenAI(base_url=f"{base}/v1", api_key=site.key(), max_retries=0,
                           timeout=60)
    runner = site.service.runner("tiny")
    prompt = "The capital of France is"
    out = client.completions.create(model="tiny", prompt=prompt, max_tokens=0, echo=True,
                                    logprobs=1)
    lp = out.choices[0].logprobs
    ids = runner.tokenizer(prompt)["input_ids"]
    assert out.choices[0].text == prompt and len(lp.tokens) == len(ids)
    assert lp.token_logprobs[0] is None and lp.top_logprobs[0] is None
    expected = _forward_logprobs(site, ids[:1], ids[1:])
    assert lp.token_logprobs[1:] == pytest.approx(expected.tolist(), abs=1e-4)
    for j in range(1, len(ids)):  # the listed token is the most likely one
        (_, value), = lp.top_logprobs[j].items()
        assert value >= lp.token_logprobs[j] - 1e-6
    # Generation: greedy text continues the prompt; seeds repeat; a batch of prompts.
    gen = client.completions.create(model="tiny", prompt=[prompt, "Hello"], max_tokens=8,
                                    temperature=0, logprobs=2, n=2)
    assert [c.index for c in gen.choices] == [0, 1, 2, 3]
    assert gen.choices[0].text == gen.choices[1].text  # greedy: the same twice
    assert gen.usage.prompt_tokens == len(ids) + len(runner.tokenizer("Hello")["input_ids"])
    first = gen.choices[0].logprobs
    tokens = first.tokens
    if gen.choices[0].finish_reason == "stop":  # ended on its own: the end token comes last
        assert tokens[-1] == "<|im_end|>"
        tokens = tokens[:-1]
    assert "".join(tokens) == gen.choices[0].text
    assert all(math.isfinite(v) for v in first.token_logprobs)
    with pytest.raises(openai.BadRequestError, match="not supported on /v1/completions"):
        client.completions.create(model="tiny", prompt=prompt, stream=True)
    with pytest.raises(openai.NotFoundError):
        client.completions.create(model="gpt-9", prompt=prompt)
    raw = httpx.post(f"{base}/v1/completions", json={"model": "tiny", "prompt": [[1, 10 ** 9]]},
                     headers={"authorization": f"Bearer {site.key()}"})
    assert raw.status_code == 400 and raw.json()["error"]["param"] == "prompt"
