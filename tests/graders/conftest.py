"""Fixtures: a small world (for held-out phrasings and fact probes) and the demo spec."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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


@pytest.fixture(scope="session")
def judge_server(tiny_judge_dir: Path, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[str]:
    """The tiny judge served by Accord's own server (``tests/_served.py``); yields the
    OpenAI base URL."""
    from _served import served_model

    with served_model(tiny_judge_dir, tmp_path_factory.mktemp("judge-serve")) as url:
        yield url
