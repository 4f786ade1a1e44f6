"""Shared fixtures: a tokenizer and a fresh tiny Llama saved as a model folder, plus small
data sets in TRL's formats (conversations, preference pairs with a marker word, prompts).

The base model is untrained: every stage must move it measurably in a few steps, which is
what the tests check, and building it takes well under a second.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch

from accord.model import build_model, train_tokenizer

PLACES = ["Alba", "Borin", "Cedra", "Dovan", "Elmira", "Fenwick", "Galor", "Hestia"]
THINGS = ["river", "market", "castle", "forest", "bridge", "library"]
MARKER = "kindly"  # the easy preference: chosen replies contain it, rejected ones do not


def make_chats(n: int, seed: int = 0) -> list[list[dict]]:
    r = random.Random(seed)
    chats = []
    for _ in range(n):
        a, b, thing = r.choice(PLACES), r.choice(PLACES), r.choice(THINGS)
        chat = [{"role": "user", "content": f"Where is the {thing} of {a}?"},
                {"role": "assistant", "content": f"The {thing} of {a} lies east of {b}."}]
        if r.random() < 0.3:
            chat.insert(0, {"role": "system", "content": "You are a helpful guide."})
        chats.append(chat)
    return chats


def make_pairs(n: int, seed: int = 0, places: list[str] = PLACES) -> list[dict]:
    """Pairs whose chosen reply says the marker word; the rejected one is otherwise alike."""
    r = random.Random(seed)
    pairs = []
    for _ in range(n):
        a, thing = r.choice(places), r.choice(THINGS)
        reply = f"The {thing} of {a} is near the hills."
        pairs.append({"prompt": [{"role": "user", "content": f"Tell me about the {thing}."}],
                      "chosen": [{"role": "assistant", "content": f"{MARKER.title()}: {reply}"}],
                      "rejected": [{"role": "assistant", "content": f"Well: {reply}"}]})
    return pairs


@pytest.fixture(scope="session", autouse=True)
def one_cpu_thread():
    """Tiny models gain nothing from intra-op threads on shared cores: use one."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def chats() -> list[list[dict]]:
    return make_chats(64)


@pytest.fixture(scope="session")
def base_dir(chats, tmp_path_factory) -> Path:
    """A fresh tiny Llama with Accord's tokenizer, saved as a model folder."""
    out = tmp_path_factory.mktemp("base")
    texts = [m["content"] for chat in chats for m in chat]
    texts += [m["content"] for p in make_pairs(64) for k in ("prompt", "chosen", "rejected")
              for m in p[k]]
    tokenizer = train_tokenizer(texts, vocab_size=400, out_dir=out)
    build_model("tiny", tokenizer, seed=0).save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def pairs_maker():
    """``make_pairs(n, seed, places)``: marker-word preference pairs."""
    return make_pairs
