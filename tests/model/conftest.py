"""Shared fixtures: a small templated chat corpus, its tokenizer, a pretrained tiny model.

The corpus is made here rather than by accord.world so the model package is tested on
its own; it is templated so a tiny model learns it in a few hundred steps.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch
from transformers import PreTrainedTokenizerFast

from accord.model import (
    PretrainConfig,
    PretrainResult,
    build_model,
    pretrain,
    render_chat,
    train_tokenizer,
)

PLACES = ["Alba", "Borin", "Cedra", "Dovan", "Elmira", "Fenwick", "Galor", "Hestia"]
THINGS = ["river", "market", "castle", "forest", "bridge", "library"]


def make_chats(n: int, seed: int = 0) -> list[list[dict]]:
    """``n`` short user/assistant chats about places, some with a system message."""
    r = random.Random(seed)
    chats = []
    for _ in range(n):
        a, b, thing = r.choice(PLACES), r.choice(PLACES), r.choice(THINGS)
        question = r.choice([f"Where is the {thing} of {a}?", f"Tell me about the {thing} in {a}."])
        answer = r.choice([f"The {thing} of {a} lies east of {b}.",
                           f"The {thing} in {a} is old and quiet, near {b}."])
        chat = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        if r.random() < 0.3:
            chat.insert(0, {"role": "system", "content": "You are a helpful guide."})
        chats.append(chat)
    return chats


@pytest.fixture(scope="session", autouse=True)
def one_cpu_thread():
    """Tiny models gain nothing from intra-op threads, and on shared CI cores (or under
    pytest-xdist) extra threads spin while waiting for each other: use one."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def chats() -> list[list[dict]]:
    return make_chats(600)


@pytest.fixture(scope="session")
def tokenizer(chats, tmp_path_factory) -> PreTrainedTokenizerFast:
    out = tmp_path_factory.mktemp("tokenizer")
    texts = [m["content"] for chat in chats for m in chat]
    return train_tokenizer(texts, vocab_size=400, out_dir=out)


@pytest.fixture(scope="session")
def documents(tokenizer, chats) -> list[str]:
    return [render_chat(tokenizer, chat) for chat in chats]


TINY_CONFIG = PretrainConfig(steps=120, batch_size=8, seq_len=64, learning_rate=1e-2,
                             warmup_steps=10, checkpoint_every=0, log_every=10,
                             num_threads=1, device="cpu")


@pytest.fixture(scope="session")
def tiny_config() -> PretrainConfig:
    """Settings that train the tiny model on the corpus in a few seconds."""
    return TINY_CONFIG


@pytest.fixture(scope="session")
def pretrained(tokenizer, documents, tmp_path_factory) -> PretrainResult:
    """A tiny model pretrained on the corpus (shared by the generation tests)."""
    out: Path = tmp_path_factory.mktemp("pretrain")
    model = build_model("tiny", tokenizer, seed=0)
    return pretrain(TINY_CONFIG, tokenizer, model, documents, out)
