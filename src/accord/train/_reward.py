"""The reward model: a Bradley–Terry scorer of whole conversations (TRL RewardTrainer).

Data: conversational preference pairs ``{"chosen": [...messages], "rejected": [...]}``,
optionally with a shared ``{"prompt": [...]}`` (then ``chosen``/``rejected`` hold only the
assistant reply) — reviewer comparisons and AI-feedback labels, in TRL's format.

The model is ``AutoModelForSequenceClassification`` with one output, initialised from a
causal LM folder (the SFT model or the base): for Llama that is
``LlamaForSequenceClassification``, whose new linear ``score`` head reads the hidden state
at the last non-pad token, so ``config.pad_token_id`` must be the tokenizer's pad.
The loss is ``-log σ(r(chosen) − r(rejected))``.

Conversations longer than ``max_length`` keep their *end*: the turns that differ between
``chosen`` and ``rejected`` are the last ones (TRL would drop such pairs instead).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accord.train._common import (
    Rows,
    StageResult,
    TrainSettings,
    check_pairs,
    load_rows,
    pair_datasets,
    peft_config,
    run_stage,
    trainable_dir,
    trainer_arguments,
)


@dataclass
class RewardStageConfig(TrainSettings):
    """Reward-model settings; defaults suit the demo's tiny/small models on CPU."""

    max_steps: int = 200
    """Optimizer steps."""
    batch_size: int = 8
    """Pairs per device per step (each pair is two sequences)."""
    learning_rate: float = 2e-4
    """The score head starts random: small models need 1e-4–5e-4 (TRL's 1e-4 is for large)."""
    max_length: int = 256
    """Tokens per conversation; longer ones keep their last ``max_length`` tokens."""
    center_rewards_coefficient: float | None = None
    """Penalty on the mean reward squared (keeps scores near 0); 0.01 is the paper's value."""
    eval_batch_size: int = 16
    """Pairs per forward pass when scoring held-out pairs after training."""


def _conversation(row: Mapping[str, Any], side: str) -> list[dict[str, str]]:
    return [*row.get("prompt", []), *row[side]]


def _tokenize_end(tokenizer: Any, messages: Sequence[Mapping[str, str]],
                  max_length: int) -> list[int]:
    """Token ids of a rendered conversation, keeping the last ``max_length``."""
    text = tokenizer.apply_chat_template(list(messages), tokenize=False)
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return list(ids[-max_length:])


def build_reward_trainer(config: RewardStageConfig, model_dir: str | Path,
                         pairs: Mapping[str, Rows] | Rows, out_dir: str | Path) -> Any:
    """The configured ``trl.RewardTrainer`` (untrained) over pre-tokenized pairs."""
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import RewardConfig, RewardTrainer

    model_dir = trainable_dir(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    rows = [{"chosen_ids": _tokenize_end(tokenizer, _conversation(r, "chosen"),
                                         config.max_length),
             "rejected_ids": _tokenize_end(tokenizer, _conversation(r, "rejected"),
                                           config.max_length)}
            for rs in pair_datasets(pairs).values() for r in rs]
    args = RewardConfig(**trainer_arguments(config, Path(out_dir)),
                        max_length=config.max_length,
                        center_rewards_coefficient=config.center_rewards_coefficient)
    # With lora, PEFT trains the new score head whole (task SEQ_CLS) and the adapter.
    return RewardTrainer(model=str(model_dir), args=args, train_dataset=Dataset.from_list(rows),
                         processing_class=tokenizer, peft_config=peft_config(config, "SEQ_CLS"))


def train_reward_model(config: RewardStageConfig, model_dir: str | Path,
                       pairs: Mapping[str, Rows] | Rows, out_dir: str | Path,
                       eval_pairs: Rows | None = None) -> StageResult:
    """Train a reward model on preference pairs; it lands in ``out_dir/model``.

    Args:
        config: the stage settings.
        model_dir: the causal LM folder the scorer starts from (SFT model or base).
        pairs: ``{"chosen", "rejected"[, "prompt"]}`` rows, a JSONL path, or several such by
            name (``{"comparisons": ..., "ai_feedback": ...}``).
        out_dir: the stage folder (resumable; a finished stage returns its result).
        eval_pairs: held-out pairs; their pairwise accuracy is ``metrics["eval_accuracy"]``.

    Returns:
        The :class:`StageResult`; ``model_dir`` holds a sequence-classification model.
    """
    sets = pair_datasets(pairs)
    held_out = load_rows(eval_pairs, "eval_pairs") if eval_pairs is not None else None
    if held_out is not None:
        check_pairs(held_out, "eval_pairs")
        sets_hashed = {**sets, "eval:held_out": held_out}
    else:
        sets_hashed = sets

    def after(model: Path) -> dict[str, float]:
        if held_out is None:
            return {}
        return {"eval_accuracy": evaluate_reward_model(
            model, held_out, max_length=config.max_length, batch_size=config.eval_batch_size),
            "eval_pairs": float(len(held_out))}

    return run_stage("reward", config, out_dir, model_dir, sets_hashed,
                     lambda out: build_reward_trainer(config, model_dir, sets, out), after=after)


def load_reward_model(model_dir: str | Path) -> tuple[Any, Any]:
    """A saved reward model and its tokenizer, in eval mode, pad token id set."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model_dir = trainable_dir(model_dir, "reward model")  # an adapter: its merged copy
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForSequenceClassification.from_pretrained(str(model_dir), num_labels=1)
    model.config.pad_token_id = tokenizer.pad_token_id
    return model.eval(), tokenizer


def reward_scores(model_dir: str | Path | tuple[Any, Any],
                  conversations: Sequence[Sequence[Mapping[str, str]]], max_length: int = 256,
                  batch_size: int = 16) -> list[float]:
    """The reward model's score of each whole conversation (higher = preferred).

    Args:
        model_dir: a reward model folder, or ``(model, tokenizer)`` already loaded.
        conversations: message lists, rendered with the tokenizer's chat template.
        max_length: tokens kept per conversation (its end).
        batch_size: conversations per forward pass.
    """
    import torch

    model, tokenizer = (load_reward_model(model_dir) if isinstance(model_dir, str | Path)
                        else model_dir)
    device = next(model.parameters()).device
    scores: list[float] = []
    for start in range(0, len(conversations), batch_size):
        ids = [_tokenize_end(tokenizer, c, max_length)
               for c in conversations[start:start + batch_size]]
        width = max(len(x) for x in ids)
        input_ids = torch.full((len(ids), width), tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros_like(input_ids)
        for i, x in enumerate(ids):  # right padding: the head reads the last real token
            input_ids[i, :len(x)] = torch.tensor(x)
            mask[i, :len(x)] = 1
        with torch.inference_mode():
            logits = model(input_ids=input_ids.to(device), attention_mask=mask.to(device)).logits
        scores.extend(logits[:, 0].float().cpu().tolist())
    return scores


def evaluate_reward_model(model_dir: str | Path, pairs: Rows, max_length: int = 256,
                          batch_size: int = 16) -> float:
    """Pairwise accuracy: the fraction of pairs whose chosen side scores higher (chance 0.5).

    Ties count as half right, so a constant scorer gets exactly 0.5.
    """
    rows = load_rows(pairs, "pairs")
    check_pairs(rows, "pairs")
    loaded = load_reward_model(model_dir)
    chosen = reward_scores(loaded, [_conversation(r, "chosen") for r in rows], max_length,
                           batch_size)
    rejected = reward_scores(loaded, [_conversation(r, "rejected") for r in rows], max_length,
                             batch_size)
    right = sum(1.0 if c > r else 0.5 if c == r else 0.0
                for c, r in zip(chosen, rejected, strict=True))
    return right / len(rows)
