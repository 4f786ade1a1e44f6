"""Backends: the local model behind generate/score/next-token probabilities, model
resolution, the factory, and a package that loads torch only when a model is used."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
import torch

from accord.errors import AccordError
from accord.model import (
    Backend,
    LocalBackend,
    OpenAIBackend,
    SamplingConfig,
    generate,
    load_backend,
    load_model,
    resolve_model,
)

PROMPTS = [
    [{"role": "user", "content": "Where is the river of Alba?"}],
    [{"role": "system", "content": "You are a helpful guide."},
     {"role": "user", "content": "Tell me about the castle in Dovan."}],
    [{"role": "user", "content": "Where is the bridge of Hestia?"}],
]


@pytest.fixture(scope="module")
def backend(pretrained) -> LocalBackend:
    model, tokenizer = load_model(pretrained.model_dir)
    return LocalBackend(model, tokenizer, batch_size=2)


def _teacher_forced(backend: LocalBackend, conversation, option: str) -> float:
    """log p(option | prompt) from one plain forward pass over prompt + option."""
    tok = backend.tokenizer
    head = tok.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
    head_ids = tok(head, add_special_tokens=False)["input_ids"]
    ids = tok(head + option, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = backend.model(input_ids=torch.tensor([ids])).logits[0].float()
    logprobs = torch.log_softmax(logits, dim=-1)
    return sum(float(logprobs[j - 1, ids[j]]) for j in range(len(head_ids), len(ids)))


def test_generate_is_accord_model_generate(backend):
    sampling = SamplingConfig(temperature=1.0, max_new_tokens=16, seed=3)
    assert backend.generate(PROMPTS, sampling) == generate(
        backend.model, backend.tokenizer, PROMPTS, sampling, batch_size=3)
    assert backend.generate(PROMPTS, sampling, seeds=[4, 5, 6]) == generate(
        backend.model, backend.tokenizer, PROMPTS, sampling, seeds=[4, 5, 6])


def test_score_is_the_teacher_forced_log_probability(backend):
    options = ["The river", "The castle in Dovan is old.", "Yes"]
    scores = backend.score(PROMPTS, options)
    expected = [[_teacher_forced(backend, c, o) for o in options] for c in PROMPTS]
    assert scores == [pytest.approx(row, abs=1e-4) for row in expected]
    # The model learned the corpus: a reply starts with "The".
    assert all(row[0] > row[2] for row in scores)
    with pytest.raises(AccordError, match="at least one option"):
        backend.score(PROMPTS, [])


def test_next_token_distribution_is_exact_over_the_vocabulary(backend):
    full = backend.next_token_logprobs(PROMPTS, top=None)
    assert all(sum(math.exp(v) for v in d.values()) == pytest.approx(1.0, abs=1e-5)
               for d in full)
    top = backend.next_token_logprobs(PROMPTS, top=3)
    for whole, few in zip(full, top, strict=True):
        assert 1 <= len(few) <= 3
        assert min(few.values()) >= sorted(whole.values())[-3] - 1e-6
        assert all(few[t] == pytest.approx(whole[t], abs=1e-6) for t in few)
    # The most likely first token is what greedy decoding writes first.
    greedy = backend.generate(PROMPTS, SamplingConfig(temperature=0, max_new_tokens=1))
    assert [max(d, key=d.get).strip() for d in full] == [g.strip() for g in greedy]


def test_model_resolution_and_the_factory(pretrained, tmp_path):
    folder = pretrained.model_dir
    assert resolve_model(folder) == folder
    with pytest.raises(AccordError, match=r"judge model '.*nowhere' not found"):
        resolve_model(tmp_path / "nowhere", what="judge model")
    with pytest.raises(AccordError, match="not found"):
        LocalBackend(str(tmp_path / "nowhere"))
    one = load_backend(str(folder), shared=True, batch_size=1)
    two = load_backend(str(folder), shared=True, batch_size=4)
    assert one.model is two.model and (one.batch_size, two.batch_size) == (1, 4)
    assert load_backend(str(folder)).model is not one.model
    remote = load_backend("tiny", base_url="http://127.0.0.1:9/v1")
    assert isinstance(remote, OpenAIBackend) and remote.name == "tiny"
    assert isinstance(one, Backend) and isinstance(remote, Backend)


def test_an_endpoint_refuses_settings_the_openai_api_lacks():
    remote = OpenAIBackend("m", "http://127.0.0.1:9/v1", timeout_s=2)
    with pytest.raises(AccordError, match="top_k or repetition_penalty"):
        remote.generate(PROMPTS, SamplingConfig(top_k=5))
    with pytest.raises(AccordError, match=r"endpoint http://127\.0\.0\.1:9/v1 .* failed"):
        remote.next_token_logprobs(PROMPTS[:1])
    with pytest.raises(AccordError, match="ends with an assistant message"):
        remote.generate([[{"role": "assistant", "content": "Hi"}]], SamplingConfig())


def test_the_package_imports_without_torch():
    code = ("import sys; from accord.model import SamplingConfig, OpenAIBackend, load_backend; "
            "SamplingConfig(seed=1); load_backend('m', base_url='http://127.0.0.1:9/v1'); "
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
