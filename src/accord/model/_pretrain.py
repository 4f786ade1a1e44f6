"""Pretraining: a lean next-token loop in the spirit of nanoGPT's train.py.

AdamW, linear warmup then cosine decay, gradient clipping; fp32 on the CPU and bf16
autocast on a GPU that supports it. Documents are packed into rows without attention
across documents (see ``_packing``). Every ``checkpoint_every`` steps the whole training
state is saved atomically; calling :func:`pretrain` again with the same ``out_dir``
continues from there with the same data order, so a run killed with ``kill -9`` ends with
the same weights as one that was never interrupted.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from accord.errors import AccordError
from accord.model._checkpoint import (
    atomic_write_bytes,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from accord.model._curve import write_loss_curve
from accord.model._device import autocast, cpu_threads, pick_device
from accord.model._packing import IGNORE, PackedCorpus, pack_documents
from accord.progress import task


@dataclass
class PretrainConfig:
    """How to pretrain; everything that changes the result is part of the resume check."""

    # The defaults suit the demo: "small" on two CPU cores, ~3-4 minutes, ~400k tokens.
    steps: int = 200  # optimizer steps in total; a resumed run counts from its checkpoint
    batch_size: int = 8  # packed rows per step (more, smaller steps suit a small corpus)
    seq_len: int | None = None  # tokens per row; None = the model's context length
    learning_rate: float = 3e-3  # peak; small models take (and need) a high one
    min_lr_ratio: float = 0.1  # cosine decays to learning_rate * this (nanoGPT: ~lr/10)
    warmup_steps: int = 20  # linear warmup from 0, avoids early divergence with Adam
    weight_decay: float = 0.1  # on weight matrices only; never on norms (nanoGPT)
    beta1: float = 0.9  # AdamW first-moment decay
    beta2: float = 0.95  # lower than the default 0.999: steadier with small batches
    grad_clip: float = 1.0  # max global gradient norm; 0 disables clipping
    seed: int = 0  # fixes the data order (batch at step s = f(seed, s)) and RNG state
    checkpoint_every: int = 50  # steps between checkpoints; 0 = only the final model
    log_every: int = 10  # steps per loss-curve point (mean over the interval)
    device: str | None = None  # "cpu", "cuda", "cuda:1"; None = CUDA if present
    num_threads: int | None = None  # CPU threads; None = the cores this process may use

    def fingerprint(self) -> dict[str, Any]:
        """The fields a resumed run must share with the checkpoint it resumes."""
        ignore = {"checkpoint_every", "log_every", "device", "num_threads"}
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in ignore}


@dataclass
class PretrainResult:
    """What a pretraining run produced."""

    model_dir: Path  # save_pretrained model + tokenizer; pass this path to later stages
    steps: int  # optimizer steps in total (including those before a resume)
    resumed_from: int | None  # the checkpoint step this call continued from, if any
    tokens: int  # tokens trained on in total (batch_size * seq_len * steps)
    final_loss: float  # mean loss over the last logging interval
    tokens_per_second: float  # throughput of this call (0 when it had nothing to do)
    loss_curve_json: Path  # [{"step", "loss", "lr", "tokens"}, ...]
    loss_curve_png: Path  # the same, plotted

    def to_dict(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Path) else v
                for k, v in dataclasses.asdict(self).items()}


def lr_at(step: int, config: PretrainConfig) -> float:
    """Learning rate multiplier at ``step``: linear warmup, then cosine to min_lr_ratio."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    span = max(1, config.steps - config.warmup_steps)
    progress = min(1.0, (step - config.warmup_steps) / span)
    cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
    return config.min_lr_ratio + (1.0 - config.min_lr_ratio) * cosine


def make_optimizer(model: torch.nn.Module, config: PretrainConfig,
                   device: torch.device) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices (dim >= 2) and none on norms/biases."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": config.weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=config.learning_rate,
                             betas=(config.beta1, config.beta2),
                             fused=device.type == "cuda")


def _check_config(config: PretrainConfig, model: PreTrainedModel) -> int:
    """Validate ``config``; return the row length."""
    seq_len = config.seq_len or int(model.config.max_position_embeddings)
    problems = []
    if config.steps < 1:
        problems.append(f"steps={config.steps} must be >= 1")
    if config.batch_size < 1:
        problems.append(f"batch_size={config.batch_size} must be >= 1")
    if not 1 <= seq_len <= model.config.max_position_embeddings:
        problems.append(f"seq_len={seq_len} must be in 1..{model.config.max_position_embeddings}"
                        " (the model's context length)")
    if config.log_every < 1 or config.checkpoint_every < 0 or config.warmup_steps < 0:
        problems.append("log_every must be >= 1, checkpoint_every and warmup_steps >= 0")
    if problems:
        raise AccordError("invalid PretrainConfig: " + "; ".join(problems))
    return seq_len


def _resume_key(config: PretrainConfig, model: PreTrainedModel,
                corpus: PackedCorpus) -> dict[str, Any]:
    arch = model.config.to_dict()
    keep = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
            "num_attention_heads", "num_key_value_heads", "max_position_embeddings")
    return {"config": config.fingerprint(), "corpus": corpus.fingerprint(),
            "model": {k: arch.get(k) for k in keep}}


def pretrain(config: PretrainConfig, tokenizer: PreTrainedTokenizerBase,
             model: PreTrainedModel, documents: Sequence[str],
             out_dir: str | Path) -> PretrainResult:
    """Pretrain ``model`` (in place) on ``documents``; resume if ``out_dir`` has a checkpoint.

    Args:
        config: optimisation, schedule, checkpointing and device settings.
        tokenizer: encodes the documents; saved with the model.
        model: a causal LM, e.g. from :func:`build_model`. Its weights are replaced by the
            checkpoint's when resuming.
        documents: plain texts or rendered chats; each is one document (eos appended).
        out_dir: holds ``checkpoint.pt`` while running, then ``model/``,
            ``loss_curve.json``, ``loss_curve.png`` and ``result.json``.

    Returns:
        A :class:`PretrainResult`. If ``out_dir`` already holds a finished run with the same
        settings and data, it is returned without training again.

    Raises:
        AccordError: on invalid settings, or if ``out_dir`` holds a checkpoint of a
            different run (other settings, data or model shape).
    """
    out_dir = Path(out_dir)
    seq_len = _check_config(config, model)
    corpus = pack_documents(tokenizer, documents, seq_len)
    key = _resume_key(config, model, corpus)
    done = out_dir / "result.json"
    if done.exists():
        finished = json.loads(done.read_text())
        _check_same_run(finished["key"], key, out_dir)
        return _result_from_dict(finished["result"])
    out_dir.mkdir(parents=True, exist_ok=True)
    device = pick_device(config.device)
    with cpu_threads(config.num_threads if device.type == "cpu" else None):
        return _train(config, tokenizer, model, corpus, out_dir, device, key)


def _train(config: PretrainConfig, tokenizer: PreTrainedTokenizerBase, model: PreTrainedModel,
           corpus: PackedCorpus, out_dir: Path, device: torch.device,
           key: dict[str, Any]) -> PretrainResult:
    model.to(device)
    model.train()
    optimizer = make_optimizer(model, config, device)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_at(s, config))
    torch.manual_seed(config.seed)  # dropout, if a model has any, draws from it
    start, history, window = 0, [], [0.0, 0]  # window: loss sum, steps since last log point
    checkpoint = load_checkpoint(out_dir)
    if checkpoint is not None:
        _check_same_run(checkpoint["key"], key, out_dir)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        set_rng_state(checkpoint["rng"])
        start, history, window = checkpoint["step"], checkpoint["history"], checkpoint["window"]
    tokens_per_step = config.batch_size * corpus.seq_len
    loss_sum = torch.zeros((), device=device)  # summed on device: no sync every step
    loss_sum += window[0]
    t0, trained = time.perf_counter(), 0
    with task("pretrain", total=config.steps) as progress:
        progress.advance(start)
        reported = start
        upcoming = _load_batch(corpus, start, config, device)
        for step in range(start, config.steps):
            inputs, positions, targets = upcoming
            with autocast(device):
                # No attention mask + per-document position ids = block-diagonal causal
                # attention; use_cache=False keeps transformers on its packed-sequence path.
                logits = model(input_ids=inputs, position_ids=positions, use_cache=False).logits
            loss = F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.view(-1),
                                   ignore_index=IGNORE)
            loss.backward()
            if config.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            if step + 1 < config.steps:  # on a GPU, made while queued kernels run
                upcoming = _load_batch(corpus, step + 1, config, device)
            loss_sum += loss.detach()
            window[1] += 1
            trained += 1
            done = step + 1
            if window[1] == config.log_every or done == config.steps:
                mean = loss_sum.item() / window[1]
                lr = config.learning_rate * lr_at(step, config)  # the rate this step used
                history.append({"step": done, "loss": mean, "lr": lr,
                                "tokens": done * tokens_per_step})
                loss_sum.zero_()
                window = [0.0, 0]
                rate = trained * tokens_per_step / (time.perf_counter() - t0)
                progress.advance(done - reported, loss=f"{mean:.3f}", tok_s=f"{rate:.0f}")
                reported = done
            if config.checkpoint_every and done % config.checkpoint_every == 0 \
                    and done < config.steps:
                save_checkpoint(out_dir, {
                    "step": done, "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                    "rng": rng_state(), "history": history,
                    "window": [loss_sum.item(), window[1]], "key": key,
                    # The data position: the next batch is corpus.batch(step, ...) of this seed.
                    "data": {"next_step": done, "seed": config.seed, "rows": corpus.rows}})
    seconds = time.perf_counter() - t0
    return _finish(config, tokenizer, model, out_dir, history, key,
                   resumed_from=start or None, trained=trained, seconds=seconds,
                   tokens_per_step=tokens_per_step)


def _load_batch(corpus: PackedCorpus, step: int, config: PretrainConfig,
                device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The batch of ``step`` on ``device``.

    The rows are small (a few int64 tensors): a plain copy costs less than pinning host
    memory every step, which measured slower on an H200.
    """
    batch = corpus.batch(step, config.batch_size, config.seed)
    return (batch.input_ids.to(device, non_blocking=True),
            batch.position_ids.to(device, non_blocking=True),
            batch.targets.to(device, non_blocking=True))


def _finish(config: PretrainConfig, tokenizer: PreTrainedTokenizerBase, model: PreTrainedModel,
            out_dir: Path, history: list[dict[str, Any]], key: dict[str, Any], *,
            resumed_from: int | None, trained: int, seconds: float,
            tokens_per_step: int) -> PretrainResult:
    model.eval()
    model_dir = out_dir / "model"
    model.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    json_path, png_path = write_loss_curve(history, out_dir)
    result = PretrainResult(
        model_dir=model_dir, steps=config.steps, resumed_from=resumed_from,
        tokens=config.steps * tokens_per_step, final_loss=history[-1]["loss"],
        tokens_per_second=trained * tokens_per_step / seconds if trained else 0.0,
        loss_curve_json=json_path, loss_curve_png=png_path)
    record = json.dumps({"key": key, "result": result.to_dict()}, indent=1).encode()
    atomic_write_bytes(out_dir / "result.json", lambda f: f.write(record))
    # The final model supersedes the checkpoint; result.json marks the run as finished.
    (out_dir / "checkpoint.pt").unlink(missing_ok=True)
    return result


def _result_from_dict(d: dict[str, Any]) -> PretrainResult:
    paths = {"model_dir", "loss_curve_json", "loss_curve_png"}
    return PretrainResult(**{k: Path(v) if k in paths else v for k, v in d.items()})


def _check_same_run(saved: dict[str, Any], now: dict[str, Any], out_dir: Path) -> None:
    if saved == now:
        return
    diffs = [f"{part}.{k}: {saved[part].get(k)!r} -> {now[part].get(k)!r}"
             for part in ("config", "model") for k in now[part]
             if saved[part].get(k) != now[part].get(k)]
    if saved["corpus"] != now["corpus"]:
        diffs.append("the documents (or their tokenization) differ")
    raise AccordError(f"{out_dir} holds a pretraining run with other settings "
                      f"({'; '.join(diffs)}); use a new out_dir, or delete {out_dir} to start over")
