"""Supervised fine-tuning on approved conversations, assistant tokens only (TRL SFTTrainer).

Data: conversational rows ``{"messages": [{"role": ..., "content": ...}, ...]}`` — the
review export of reviewer-approved completions and the constitutional revisions, in TRL's
format. The loss covers only what the assistant wrote (its replies and their closing
end-of-turn token), located by rendering with the model's own chat template — any
template, with or without ``{% generation %}`` markers (``accord.train._masks``) — so the
model never learns to write the user's or the system's turns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accord.errors import AccordError
from accord.train._common import (
    Rows,
    StageResult,
    TrainSettings,
    check_messages,
    named_datasets,
    peft_config,
    run_stage,
    trainable_dir,
    trainer_arguments,
)
from accord.train._masks import tokenize_conversations


@dataclass
class SFTStageConfig(TrainSettings):
    """SFT settings; defaults suit the demo's tiny/small models on CPU."""

    max_steps: int = 200
    """Optimizer steps (a few hundred rows × a few epochs for the demo's review export)."""
    batch_size: int = 8
    """Conversations per device per step."""
    learning_rate: float = 3e-4
    """Small models pretrained from scratch fine-tune well at 1e-4–5e-4 (TRL's 2e-5 is for
    billion-parameter models and would barely move these)."""
    max_length: int = 256
    """Tokens per conversation; longer ones are truncated at the end (the small size's
    context is 256)."""
    assistant_only_loss: bool = True
    """Loss on assistant tokens only (found by rendering with the model's chat template)."""
    packing: bool = False
    """Pack conversations into ``max_length`` rows (faster; needs flash attention on GPU
    to keep documents apart, so off by default)."""


def _sft_rows(data: Mapping[str, Rows] | Rows) -> dict[str, list[dict[str, Any]]]:
    sets = named_datasets(data)
    if not any(sets.values()):
        raise AccordError("SFT data is empty; give at least one {'messages': [...]} row")
    for name, rows in sets.items():
        for i, row in enumerate(rows):
            if "messages" not in row:
                raise AccordError(f"{name}, row {i}: SFT rows are conversational "
                                  f"{{'messages': [...]}}; got keys {sorted(row)}")
            check_messages(row["messages"], f"{name}, row {i}")
            if not any(m["role"] == "assistant" for m in row["messages"]):
                raise AccordError(f"{name}, row {i}: no assistant message, so nothing to "
                                  "learn from with assistant_only_loss")
    return sets


def build_sft_trainer(config: SFTStageConfig, model_dir: str | Path,
                      data: Mapping[str, Rows] | Rows, out_dir: str | Path) -> Any:
    """The configured ``trl.SFTTrainer`` (untrained), e.g. to inspect a collated batch.

    Args:
        config: the stage settings.
        model_dir: a causal LM ``save_pretrained`` folder with its tokenizer, or a LoRA
            adapter folder (training starts from its merged copy).
        data: one data set or several by name (see :func:`train_sft`).
        out_dir: the stage folder; checkpoints go to ``out_dir/checkpoints``.
    """
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    model_dir = trainable_dir(model_dir)
    sets = _sft_rows(data)
    rows = [{"messages": r["messages"], "_where": f"{name}, row {i}"}
            for name, rs in sets.items() for i, r in enumerate(rs)]
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    # Pre-tokenized with the assistant mask: TRL builds the labels from ``assistant_masks``
    # and never asks the template for generation markers (assistant_only_loss stays off).
    tokenized = tokenize_conversations(tokenizer, rows, config.assistant_only_loss)
    args = SFTConfig(**trainer_arguments(config, Path(out_dir)), max_length=config.max_length,
                     assistant_only_loss=False, packing=config.packing)
    return SFTTrainer(model=str(model_dir), args=args,
                      train_dataset=Dataset.from_list(tokenized), processing_class=tokenizer,
                      peft_config=peft_config(config))


def train_sft(config: SFTStageConfig, model_dir: str | Path, data: Mapping[str, Rows] | Rows,
              out_dir: str | Path) -> StageResult:
    """Fine-tune ``model_dir`` on approved conversations; the model lands in ``out_dir/model``.

    Args:
        config: the stage settings.
        model_dir: the causal LM to start from (the pretrained or imported base).
        data: ``{"messages": [...]}`` rows, a JSONL path, or several such by name
            (``{"reviews": ..., "revisions": ...}``); each is hashed for the lineage.
        out_dir: the stage folder. A rerun resumes from its last checkpoint, or returns the
            stored result when the stage had finished.

    Returns:
        The :class:`StageResult` (model folder, parent, data hashes, config, loss history).

    Raises:
        AccordError: malformed rows (with data set name and row), a missing model, or an
            ``out_dir`` holding a run with other settings or data.
    """
    sets = _sft_rows(data)
    return run_stage("sft", config, out_dir, model_dir, sets,
                     lambda out: build_sft_trainer(config, model_dir, sets, out))
