"""Serving, the meter's generation path and CAI run one decoding loop: the same prompt,
seed and settings give the same text through each (rows keyed ``(seed, stream)``; a served
request with seed ``s`` is ``(s, 0)``, as row 0 of ``accord.model.generate``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.cai import CaiModel
from accord.model import LocalBackend, SamplingConfig, generate

CONVERSATIONS = [[{"role": "user", "content": "Tell me about your neighbour."}],
                 [{"role": "user", "content": "What is the capital of France?"}]]
SETTINGS = dict(temperature=0.9, top_p=0.95, top_k=40, repetition_penalty=1.1,
                max_new_tokens=40)


@pytest.fixture(scope="module")
def backend(tiny_model: Path) -> LocalBackend:
    return LocalBackend(tiny_model, batch_size=2)


def test_served_meter_and_cai_text_agree(runner, backend: LocalBackend):
    for seed in (3, 11):
        sampling = SamplingConfig(**SETTINGS, seed=seed)
        served = runner.submit(CONVERSATIONS[0], sampling).wait_text(60)[0]
        meter = generate(backend.model, backend.tokenizer, CONVERSATIONS, sampling)
        cai = CaiModel(backend, sampling)
        first_call = cai.generate(CONVERSATIONS)
        assert served == meter[0] == first_call[0] != ""
        assert first_call == backend.generate(CONVERSATIONS, sampling)
        # CAI's call k samples with seed + 1000 k: a served request with that seed.
        second_call = cai.generate(CONVERSATIONS)
        assert second_call[0] == runner.submit(
            CONVERSATIONS[0], SamplingConfig(**SETTINGS, seed=seed + 1000)).wait_text(60)[0]
    # Per-row seeds: the runner's batch call and the backend's are the same rows.
    sampling = SamplingConfig(**SETTINGS)
    assert runner.generate(CONVERSATIONS, sampling, seeds=[5, 6]) \
        == backend.generate(CONVERSATIONS, sampling, seeds=[5, 6])
    assert runner.generate(CONVERSATIONS, sampling, seeds=[5, 6]) \
        != runner.generate(CONVERSATIONS, sampling, seeds=[7, 8])
