"""Metering one model through an ``accord.model`` backend: what ``accord run``'s eval and
ablation stages and ``accord eval`` all call."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from accord.audit import evaluate, measure, record_completions
from accord.errors import AccordError
from accord.model import (
    LocalBackend,
    SamplingConfig,
    build_model,
    generate,
    load_model,
    train_tokenizer,
)
from accord.store import Completion, Store, get_model_version, register_model_version
from accord.world import World

SAMPLING = SamplingConfig(temperature=0.9, top_p=1.0, max_new_tokens=6, seed=3)


@pytest.fixture(scope="module")
def model_dir(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained tiny Llama with a tokenizer fitted on the probes' text: its replies are
    noise, which the meter grades like any others."""
    texts = [m["content"] for records in world.probes.values() for p in records[:20]
             for m in p["messages"]]
    tokenizer = train_tokenizer(texts, 400)
    model = build_model("tiny", tokenizer, seed=0)
    out = tmp_path_factory.mktemp("tiny-model")
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def probes(world: World) -> dict[str, list[dict]]:
    return {name: list(records[:2]) for name, records in world.probes.items()}


def test_evaluate_meters_what_the_model_generates(world: World, model_dir: Path,
                                                  probes: dict[str, list[dict]]) -> None:
    metered = evaluate(LocalBackend(model_dir, batch_size=4), world, SAMPLING, samples=2,
                       probes=probes)
    # The same meter over accord.model.generate on the loaded model: what the pipeline
    # stages called before they took a backend.
    model, tokenizer = load_model(model_dir)
    asked: list[list[dict]] = []

    def direct(conversations: list[list[dict]]) -> list[str]:
        asked.extend(conversations)
        return generate(model, tokenizer, list(conversations), SAMPLING, 4)

    expected = measure(direct, world, seed=SAMPLING.seed, samples=2, probes=probes)
    assert metered.result.rows == expected.rows
    assert metered.result.samples == expected.samples
    assert metered.result.info == expected.info
    # Every graded reply is kept, in order, with its prompt and the sampling settings.
    assert len(metered.completions) == 2 * sum(len(v) for v in probes.values())
    assert [c["messages"] for c in metered.completions] == asked
    assert [c["text"] for c in metered.completions] == generate(model, tokenizer, asked,
                                                                SAMPLING, 4)
    assert all(c["sampling"] == SAMPLING.to_dict() for c in metered.completions)


def test_measure_takes_a_backend_with_its_sampling(world: World, model_dir: Path,
                                                   probes: dict[str, list[dict]]) -> None:
    backend = LocalBackend(model_dir, batch_size=4)
    with pytest.raises(AccordError, match="needs sampling="):
        measure(backend, world, probes=probes)
    direct = measure(backend, world, sampling=SAMPLING, seed=SAMPLING.seed, probes=probes)
    assert direct.rows == evaluate(backend, world, SAMPLING, probes=probes).result.rows


def test_record_keeps_replies_and_the_table_under_the_model_version(
        store: Store, world: World, model_dir: Path, probes: dict[str, list[dict]]) -> None:
    with store.session() as session:
        register_model_version(session, name="tiny", stage="external",
                               artifact_path=str(model_dir))
    metered = evaluate(LocalBackend(model_dir, batch_size=4), world, SAMPLING, probes=probes)
    assert metered.record(store, "tiny") == len(metered.completions)
    # Other samples of the same model (review prompts) go under their own split.
    review = [{"messages": [{"role": "user", "content": f"Review prompt {i}?"}],
               "text": f"reply {i}", "sampling": SAMPLING.to_dict()} for i in range(3)]
    assert record_completions(store, "tiny", review, "review") == 3
    with store.session() as session:
        mv = get_model_version(session, "tiny")
        assert mv.metrics["meter"] == metered.result.to_dict()["rows"]
        stored = session.scalar(select(func.count()).select_from(Completion)
                                .where(Completion.model_version_id == mv.id))
        texts = set(session.scalars(select(Completion.text)
                                    .where(Completion.model_version_id == mv.id)))
    assert stored == len(metered.completions) + 3
    assert texts == {c["text"] for c in metered.completions} | {r["text"] for r in review}
