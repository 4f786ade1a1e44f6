"""SFT: assistant-only labels on a real batch, the loss falls, lineage, resume/rerun rules."""

from __future__ import annotations

import json

import pytest

from accord.errors import AccordError
from accord.model import load_model
from accord.train import SFTStageConfig, build_sft_trainer, hash_rows, train_sft

QUICK = dict(max_steps=8, batch_size=8, learning_rate=3e-3, logging_steps=1, save_steps=4,
             warmup_steps=0)


def test_only_assistant_tokens_are_labelled_on_a_real_batch(base_dir, chats, tmp_path):
    rows = [{"messages": c} for c in chats[:8]]
    trainer = build_sft_trainer(SFTStageConfig(**QUICK), base_dir, rows, tmp_path)
    tokenizer = trainer.processing_class
    batch = next(iter(trainer.get_train_dataloader()))
    texts = {tokenizer.decode(ids) for ids in batch["input_ids"]}
    for ids, labels in zip(batch["input_ids"], batch["labels"], strict=True):
        kept = [int(t) for t, lab in zip(ids, labels, strict=True) if lab != -100]
        assert all(int(lab) in (-100, int(t)) for t, lab in zip(ids, labels, strict=True))
        # What is learned is exactly the assistant's reply and its end-of-turn token...
        text = tokenizer.decode(ids, skip_special_tokens=False)
        reply = text.split("<|im_start|>assistant\n", 1)[1].split("<|pad|>")[0]
        assert tokenizer.decode(kept) == reply
        assert reply.endswith("<|im_end|>") and "<|im_start|>" not in reply
    # ...and never a user or system turn or the role header.
    assert all("user\n" in t for t in texts)


def test_sft_loss_falls_and_the_result_carries_lineage(base_dir, chats, tmp_path):
    data = {"reviews": [{"messages": c} for c in chats[:40]],
            "revisions": [{"messages": c} for c in chats[40:]]}
    config = SFTStageConfig(**QUICK)
    result = train_sft(config, base_dir, data, tmp_path / "sft")

    losses = [h["loss"] for h in result.log_history if "loss" in h]
    assert losses[-1] < losses[0] - 0.3
    assert result.steps == 8 and result.stage == "sft"
    assert result.parent == str(base_dir)
    assert result.datasets == {name: hash_rows(rows) for name, rows in data.items()}
    assert result.config["learning_rate"] == 3e-3
    model, tokenizer = load_model(result.model_dir)  # a plain save_pretrained folder
    assert tokenizer.chat_template and model.config.model_type == "llama"
    assert not (tmp_path / "sft" / "checkpoints").exists()  # superseded by the model
    assert json.loads((tmp_path / "sft" / "result.json").read_text())["steps"] == 8

    # A rerun of the finished stage returns its result without training again.
    again = train_sft(config, base_dir, data, tmp_path / "sft")
    assert again == result
    # Other settings or data in the same folder are refused, naming what changed.
    with pytest.raises(AccordError, match=r"config.learning_rate: 0.003 -> 0.001"):
        train_sft(SFTStageConfig(**{**QUICK, "learning_rate": 1e-3}), base_dir, data,
                  tmp_path / "sft")
    with pytest.raises(AccordError, match="datasets"):
        train_sft(config, base_dir, {"reviews": data["reviews"]}, tmp_path / "sft")


def test_malformed_rows_name_the_data_set_and_row(base_dir, chats, tmp_path):
    rows = [{"messages": c} for c in chats[:3]] + [{"text": "hello"}]
    with pytest.raises(AccordError, match=r"reviews, row 3: SFT rows are conversational"):
        train_sft(SFTStageConfig(**QUICK), base_dir, {"reviews": rows}, tmp_path)
    bad_role = [{"messages": [{"role": "bot", "content": "hi"}]}]
    with pytest.raises(AccordError, match=r"train, row 0, message 0"):
        train_sft(SFTStageConfig(**QUICK), base_dir, bad_role, tmp_path)
    with pytest.raises(AccordError, match="not a saved model folder"):
        train_sft(SFTStageConfig(**QUICK), tmp_path / "nowhere", rows[:3], tmp_path)
