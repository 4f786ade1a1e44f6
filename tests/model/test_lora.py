"""LoRA adapters end to end on the tiny model: a real TRL SFT step trains only the adapter,
the adapter folder carries its lineage and card, loads as base + adapter, and its merged
copy (``accord model merge``) gives the same outputs; a changed or missing base is refused."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from typer.testing import CliRunner

from accord.cli import app
from accord.errors import AccordError
from accord.model import (
    LocalBackend,
    SamplingConfig,
    is_adapter_dir,
    load_adapter_model,
    load_model,
    merge_adapter,
    read_lineage,
    resolve_model,
    weights_sha256,
    write_lineage,
)
from accord.train import SFTStageConfig, build_sft_trainer, train_sft

QUICK = dict(max_steps=3, batch_size=8, learning_rate=1e-2, logging_steps=1, warmup_steps=0,
             lora={"r": 4, "alpha": 8, "dropout": 0.0})
PROMPTS = [[{"role": "user", "content": "Where is the river of Alba?"}],
           [{"role": "system", "content": "You are a helpful guide."},
            {"role": "user", "content": "Tell me about the market in Cedra."}]]


@pytest.fixture(scope="module")
def adapter(pretrained, chats, tmp_path_factory):
    """A LoRA SFT stage on the pretrained tiny model: its StageResult."""
    out = tmp_path_factory.mktemp("lora-sft")
    rows = [{"messages": c} for c in chats[:64]]
    return train_sft(SFTStageConfig(**QUICK), pretrained.model_dir, rows, out)


def test_a_lora_sft_step_changes_only_adapter_weights(pretrained, chats, tmp_path):
    rows = [{"messages": c} for c in chats[:16]]
    trainer = build_sft_trainer(SFTStageConfig(**{**QUICK, "max_steps": 2}),
                                pretrained.model_dir, rows, tmp_path)
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    trainer.train()
    after = dict(trainer.model.named_parameters())
    changed = {n for n in before if not torch.equal(before[n], after[n].detach())}
    assert changed and all("lora_" in n for n in changed)
    assert any("lora_B" in n for n in changed)  # lora_B starts at 0: the update is real
    trainable = {n for n, p in trainer.model.named_parameters() if p.requires_grad}
    assert all("lora_" in n for n in trainable)


def test_the_adapter_folder_carries_its_lineage_and_card(pretrained,
                                                                          adapter):
    folder = Path(adapter.model_dir)
    assert is_adapter_dir(folder) and not (folder / "config.json").exists()
    lineage = read_lineage(folder)
    relative = os.path.relpath(pretrained.model_dir.resolve(), folder.resolve())
    assert lineage["base_model"] == {"path": str(pretrained.model_dir.resolve()),
                                     "relative_path": relative,
                                     "sha256": weights_sha256(pretrained.model_dir)}
    assert lineage["adapter"] == {"r": 4, "alpha": 8, "dropout": 0.0,
                                  "target_modules": "all-linear"}
    assert lineage["task"] == "CAUSAL_LM" and lineage["datasets"] == adapter.datasets
    card = (folder / "README.md").read_text()
    assert card.startswith("---\nbase_model: ") and "library_name: peft" in card
    assert adapter.datasets["train"] in card
    # Only adapter tensors were saved: no copy of the base's weights.
    saved = load_file(str(folder / "adapter_model.safetensors"))
    assert saved and all("lora_" in k for k in saved)


def test_loaded_adapter_equals_its_merged_copy_and_the_unmerged_peft_model(adapter, tmp_path):
    merged_dir = merge_adapter(adapter.model_dir, tmp_path / "merged")
    assert (merged_dir / "config.json").is_file()
    assert json.loads((merged_dir / "lineage.json").read_text())["merged_from"]["sha256"] == \
        weights_sha256(adapter.model_dir)

    via_adapter, via_merged = LocalBackend(adapter.model_dir), LocalBackend(merged_dir)
    greedy = SamplingConfig(max_new_tokens=12, temperature=0.0)
    assert via_adapter.generate(PROMPTS, greedy) == via_merged.generate(PROMPTS, greedy)
    options = ["The river", "The market", "Hello"]
    for a, b in zip(via_adapter.score(PROMPTS, options), via_merged.score(PROMPTS, options),
                    strict=True):
        assert a == pytest.approx(b, abs=1e-4)

    # The in-memory merge equals base + adapter applied unmerged (PEFT's own forward).
    peft_model, tokenizer = load_adapter_model(adapter.model_dir, merge=False)
    merged_model, _ = load_model(merged_dir)
    ids = tokenizer.apply_chat_template(PROMPTS[0], add_generation_prompt=True,
                                        return_tensors="pt", return_dict=True)["input_ids"]
    with torch.inference_mode():
        assert torch.allclose(peft_model(input_ids=ids).logits,
                              merged_model(input_ids=ids).logits, atol=1e-4)
        # ... and differs from the base: the adapter did something.
        with peft_model.disable_adapter():
            base_logits = peft_model(input_ids=ids).logits
        assert not torch.allclose(base_logits, merged_model(input_ids=ids).logits, atol=1e-3)


def test_accord_model_merge_cli(adapter, tmp_path):
    runner = CliRunner()
    out = tmp_path / "merged"
    result = runner.invoke(app, ["model", "merge", str(adapter.model_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "config.json").is_file() and (out / "README.md").is_file()
    again = runner.invoke(app, ["model", "merge", str(adapter.model_dir), "--out", str(out)])
    assert again.exit_code == 2 and "not empty" in again.output
    missing = runner.invoke(app, ["model", "merge", str(tmp_path), "--out", str(tmp_path / "x")])
    assert missing.exit_code == 2 and "not a LoRA adapter folder" in missing.output


def test_an_adapter_whose_base_changed_or_went_is_refused(adapter, tmp_path):
    copy = tmp_path / "adapter"
    shutil.copytree(adapter.model_dir, copy)
    lineage = json.loads((copy / "lineage.json").read_text())
    lineage["base_model"]["sha256"] = "0" * 64
    (copy / "lineage.json").write_text(json.dumps(lineage))
    with pytest.raises(AccordError, match="changed since the adapter was trained"):
        LocalBackend(copy)
    lineage["base_model"]["path"] = str(tmp_path / "gone")
    lineage["base_model"]["relative_path"] = "../gone-too"
    (copy / "lineage.json").write_text(json.dumps(lineage))
    with pytest.raises(AccordError, match=r"base model .* is not there any more"):
        resolve_model(copy)


def test_a_copied_project_loads_its_own_base_model(adapter, pretrained, tmp_path):
    """The lineage keeps the base's path relative to the adapter: after the project is
    copied, the copy's adapter loads the copy's base, not the original's (and still when
    the original is gone)."""
    project = tmp_path / "project"
    shutil.copytree(pretrained.model_dir, project / "base")
    shutil.copytree(adapter.model_dir, project / "stages" / "sft" / "model")
    lineage = read_lineage(adapter.model_dir)
    write_lineage(project / "stages" / "sft" / "model", project / "base",
                  lineage["adapter"], lineage["task"])
    copy = tmp_path / "copy"
    shutil.copytree(project, copy)
    original_base = str((project / "base").resolve())
    assert read_lineage(copy / "stages" / "sft" / "model")["base_model"]["path"] == original_base
    shutil.rmtree(project)
    backend = LocalBackend(copy / "stages" / "sft" / "model")
    reply = backend.generate(PROMPTS[:1], SamplingConfig(temperature=0.0, max_new_tokens=4))
    assert len(reply) == 1
