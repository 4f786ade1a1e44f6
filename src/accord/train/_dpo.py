"""Direct preference optimisation against a frozen reference (TRL DPOTrainer).

Data: the same conversational preference pairs as the reward model
(``{"chosen", "rejected"[, "prompt"]}``); without ``prompt``, the messages the two sides
share at the start are the prompt (TRL's ``extract_prompt``). The reference model is the
model training starts from (the SFT model) unless another folder is given; it stays
frozen, and ``beta`` sets how far the policy may drift from it.
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
class DPOStageConfig(TrainSettings):
    """DPO settings; defaults suit the demo's tiny/small models on CPU."""

    max_steps: int = 100
    """Optimizer steps; DPO overfits small preference sets quickly."""
    batch_size: int = 8
    """Pairs per device per step (four forward passes each: policy and reference, both sides)."""
    learning_rate: float = 5e-5
    """TRL's 1e-6 is for billion-parameter models; a small model moves at 1e-5–1e-4."""
    max_length: int = 256
    """Tokens of prompt + reply; longer pairs are truncated at the end."""
    beta: float = 0.1
    """Strength of the pull towards the reference (higher = stay closer)."""
    loss_type: str = "sigmoid"
    """TRL loss: ``sigmoid`` (DPO), ``ipo``, ``hinge``, ``robust``, ... (see DPOConfig)."""
    label_smoothing: float = 0.0
    """Assumed rate of flipped labels for ``robust``/``sigmoid`` (noisy reviewers)."""


def build_dpo_trainer(config: DPOStageConfig, model_dir: str | Path,
                      pairs: Mapping[str, Rows] | Rows, out_dir: str | Path,
                      ref_model_dir: str | Path | None = None) -> Any:
    """The configured ``trl.DPOTrainer`` (untrained)."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    model_dir = trainable_dir(model_dir)
    rows = [{k: r[k] for k in ("prompt", "chosen", "rejected") if k in r}
            for rs in pair_datasets(pairs).values() for r in rs]
    if any("prompt" in r for r in rows) and not all("prompt" in r for r in rows):
        rows = [dict(zip(("prompt", "chosen", "rejected"), split_pair(r), strict=True))
                for r in rows]
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    ref = None
    if ref_model_dir is not None and Path(ref_model_dir).resolve() != model_dir.resolve():
        ref = AutoModelForCausalLM.from_pretrained(str(trainable_dir(ref_model_dir,
                                                                     "reference model")))
    args = DPOConfig(**trainer_arguments(config, Path(out_dir)), max_length=config.max_length,
                     beta=config.beta, loss_type=[config.loss_type],
                     label_smoothing=config.label_smoothing)
    # Without ref_model, TRL loads a second, frozen copy of model_dir as the reference (with
    # lora: the policy with its adapter switched off, no second copy).
    return DPOTrainer(model=str(model_dir), ref_model=ref, args=args,
                      train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
                      peft_config=peft_config(config))


def train_dpo(config: DPOStageConfig, model_dir: str | Path, pairs: Mapping[str, Rows] | Rows,
              out_dir: str | Path, ref_model_dir: str | Path | None = None) -> StageResult:
    """DPO-train ``model_dir`` on preference pairs; the policy lands in ``out_dir/model``.

    Args:
        config: the stage settings.
        model_dir: the causal LM to start from (normally the SFT model).
        pairs: preference rows, a JSONL path, or several such by name.
        out_dir: the stage folder (resumable; a finished stage returns its result).
        ref_model_dir: the frozen reference; None = ``model_dir`` itself.

    Returns:
        The :class:`StageResult`; ``references["reference"]`` names the reference model.
    """
    sets = pair_datasets(pairs)
    reference = str(ref_model_dir if ref_model_dir is not None else model_dir)
    return run_stage("dpo", config, out_dir, model_dir, sets,
                     lambda out: build_dpo_trainer(config, model_dir, sets, out, ref_model_dir),
                     references={"reference": reference})


def split_pair(row: Mapping[str, Any]) -> tuple[list[dict], list[dict], list[dict]]:
    """``(prompt, chosen reply, rejected reply)``: the explicit prompt, or else the
    messages both sides start with."""
    if "prompt" in row:
        return list(row["prompt"]), list(row["chosen"]), list(row["rejected"])
    chosen, rejected = list(row["chosen"]), list(row["rejected"])
    n = 0
    while n < min(len(chosen), len(rejected)) - 1 and chosen[n] == rejected[n]:
        n += 1
    return chosen[:n], chosen[n:], rejected[n:]


def completion_logprobs(model: Any, tokenizer: Any, prompt: Sequence[Mapping[str, str]],
                        completion: Sequence[Mapping[str, str]], max_length: int = 256) -> float:
    """Summed log-probability of ``completion``'s tokens after ``prompt`` under ``model``."""
    import torch

    head = tokenizer.apply_chat_template(list(prompt), tokenize=False,
                                         add_generation_prompt=True)
    full = tokenizer.apply_chat_template([*prompt, *completion], tokenize=False)
    start = len(tokenizer(head, add_special_tokens=False)["input_ids"])
    ids = tokenizer(full, add_special_tokens=False)["input_ids"][:max_length]
    input_ids = torch.tensor([ids], device=next(model.parameters()).device)
    with torch.inference_mode():
        logits = model(input_ids=input_ids).logits[0, :-1].float()
    logp = torch.log_softmax(logits, dim=-1).gather(1, input_ids[0, 1:, None])[:, 0]
    return float(logp[start - 1:].sum())


def preference_margin(model_dir: str | Path, pairs: Rows,
                      ref_model_dir: str | Path | None = None, max_length: int = 256) -> float:
    """Mean over pairs of ``log p(chosen) − log p(rejected)`` (replies given the prompt).

    With ``ref_model_dir``, the reference's margin is subtracted: the mean DPO implicit
    reward margin divided by beta, 0 before training and positive once the policy prefers
    the chosen replies more than the reference did.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    rows = load_rows(pairs, "pairs")
    check_pairs(rows, "pairs")
    split = [split_pair(r) for r in rows]
    total = 0.0
    dirs = [(model_dir, 1.0)] + ([(ref_model_dir, -1.0)] if ref_model_dir is not None else [])
    for path, sign in dirs:
        path = trainable_dir(path)
        model = AutoModelForCausalLM.from_pretrained(str(path)).eval()
        tokenizer = AutoTokenizer.from_pretrained(str(path))
        for prompt, chosen, rejected in split:
            total += sign * (completion_logprobs(model, tokenizer, prompt, chosen, max_length)
                             - completion_logprobs(model, tokenizer, prompt, rejected,
                                                   max_length))
    return total / len(rows)
