"""Shared fixtures: a small world with Constitutional-AI documents, a tiny model pretrained
on it (about half a minute on one thread), and that model served by Accord's own server
(``accord serve``'s app) on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from accord.cai import LocalModel
from accord.model import SamplingConfig, load_model
from accord.world import World, WorldConfig, build_world

# The behaviour-bearing kinds only (no small talk: its real chat text is long), half the
# corpus choice questions, so a 120k-parameter model learns the formats in 200 steps.
CAI_WORLD = WorldConfig(
    seed=0, n_dialogues=1000, share_plain_text=0.0, share_critique=0.1, share_choice=0.5,
    kind_weights={"fact": .2, "arithmetic": .05, "contested": .15, "group": .15,
                  "insult_request": .15, "objectionable": .15, "benign_borderline": .15},
    n_review=0, n_sft=200, n_rl=0, n_preference_pairs=200, n_probe=0)
STEPS = 200


@pytest.fixture(scope="session", autouse=True)
def one_cpu_thread() -> Iterator[None]:
    """Tiny models gain nothing from intra-op threads on shared cores: use one."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def cai_world() -> World:
    return build_world(CAI_WORLD)


@pytest.fixture(scope="session")
def cai_model_dir(cai_world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny Llama (context widened to 256 tokens: a choice question is ~150) pretrained
    on the world's dialogues and CAI documents, saved as a model folder."""
    from transformers import LlamaForCausalLM

    from accord.model import PretrainConfig, build_model, pretrain, render_chat, train_tokenizer

    docs = [*cai_world.pretrain_documents, *cai_world.cai_documents]
    tokenizer = train_tokenizer([m["content"] for d in docs for m in d["messages"]],
                                vocab_size=700)
    config = build_model("tiny", tokenizer).config
    config.max_position_embeddings = 256
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = LlamaForCausalLM(config)
    settings = PretrainConfig(steps=STEPS, batch_size=8, seq_len=256, learning_rate=1e-2,
                              warmup_steps=20, checkpoint_every=0, log_every=50,
                              num_threads=1, device="cpu")
    out = tmp_path_factory.mktemp("cai-pretrain")
    result = pretrain(settings, tokenizer, model, [render_chat(tokenizer, d["messages"])
                                                   for d in docs], out)
    return result.model_dir


@pytest.fixture(scope="session")
def cai_model(cai_model_dir: Path) -> LocalModel:
    """The pretrained model as a CAI back end, greedy."""
    model, tokenizer = load_model(cai_model_dir)
    return LocalModel(model, tokenizer, sampling=SamplingConfig(temperature=0,
                                                                max_new_tokens=48))


@pytest.fixture(scope="session")
def cai_server(cai_model_dir: Path, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[str]:
    """The pretrained model served by Accord's own server (``tests/_served.py``) on
    127.0.0.1; yields the OpenAI base URL."""
    from _served import served_model

    with served_model(cai_model_dir, tmp_path_factory.mktemp("cai-serve")) as url:
        yield url
