"""Fixtures: a small world (for held-out phrasings and fact probes) and the demo spec."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from accord.spec import Rules, load_spec
from accord.world import World, WorldConfig, build_world

DEMO_SPEC = Path(__file__).resolve().parents[2] / "examples" / "demo" / "spec"


@pytest.fixture(scope="session")
def world() -> World:
    # The inventories and probes are fixed tables; a small corpus is enough here.
    return build_world(WorldConfig(n_dialogues=500))


@pytest.fixture(scope="session")
def demo_spec() -> Path:
    return DEMO_SPEC


@pytest.fixture(scope="session")
def rules() -> Rules:
    return load_spec(DEMO_SPEC).rules


@pytest.fixture(scope="session")
def tiny_judge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Llama and a tokenizer whose vocabulary holds "Yes" and "No" tokens,
    saved as a Hugging Face folder (what a real local judge would be)."""
    from accord.model import build_model, train_tokenizer

    corpus = ["Yes. No. Yes, it does. No, it does not. yes no Yes No",
              "Does the response apologise? Yes. Does it refuse? No.",
              "I'm sorry, I can't help with that. Here is the answer you asked for."] * 50
    tokenizer = train_tokenizer(corpus, vocab_size=400)
    model = build_model("tiny", tokenizer, seed=0)
    out = tmp_path_factory.mktemp("judge") / "tiny-judge"
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    return out


def _chat_app(model_dir: Path) -> Any:
    """A minimal OpenAI-compatible /v1/chat/completions that returns the next token's
    logprobs from a real transformers model (the shape vLLM and OpenAI return)."""
    import torch
    from fastapi import FastAPI

    from accord.model import load_model

    model, tokenizer = load_model(model_dir)
    app = FastAPI()

    @app.post("/v1/chat/completions")
    def complete(body: dict) -> dict:
        text = tokenizer.apply_chat_template(body["messages"], tokenize=False,
                                             add_generation_prompt=True)
        ids = tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
        with torch.no_grad():
            logprobs = torch.log_softmax(model(input_ids=ids).logits[0, -1].float(), dim=-1)
        # Like vLLM's max_logprobs: at most the vocabulary.
        k = min(int(body.get("top_logprobs") or 0), logprobs.shape[0])
        top = torch.topk(logprobs, max(k, 1))

        def entry(i: int) -> dict:
            token = tokenizer.decode([i])
            return {"token": token, "logprob": float(logprobs[i]),
                    "bytes": list(token.encode())}

        first = entry(int(top.indices[0]))
        first["top_logprobs"] = [entry(int(i)) for i in top.indices[:k]]
        return {"id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
                "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "length",
                             "message": {"role": "assistant", "content": first["token"]},
                             "logprobs": {"content": [first]} if body.get("logprobs") else None}],
                "usage": {"prompt_tokens": ids.shape[1], "completion_tokens": 1,
                          "total_tokens": ids.shape[1] + 1}}

    return app


@pytest.fixture(scope="session")
def judge_server(tiny_judge_dir: Path) -> Iterator[str]:
    """The tiny judge served by uvicorn on 127.0.0.1; yields the OpenAI base URL."""
    from accord.serve import live_server

    with live_server(_chat_app(tiny_judge_dir)) as url:
        yield f"{url}/v1"
