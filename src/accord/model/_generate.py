"""Batched, seeded sampling of assistant replies.

A small loop over the model with a KV cache, rather than ``model.generate``, so each
conversation draws its random numbers from its own generator, seeded from
``(seed, index of the conversation)``. Row ``i``'s reply therefore depends only on the
model, the conversation, the settings and the seed: not on the batch size, the batch it
landed in or what the other rows sampled. Tokens are drawn by inverse CDF (one uniform
number per token), so the tiny float differences that padding can cause almost never
change a choice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from transformers import DynamicCache, PreTrainedModel, PreTrainedTokenizerBase

from accord.errors import AccordError
from accord.model._device import autocast, cpu_threads
from accord.model._tokenizer import TURN_END, check_messages


@dataclass
class SamplingConfig:
    """How to sample; stored with every completion so it can be reproduced."""

    temperature: float = 0.8  # 0 = greedy (argmax); higher = more varied
    top_p: float = 0.95  # nucleus: keep the smallest set of tokens with this much mass
    top_k: int = 0  # keep only the k most likely tokens; 0 = no limit
    max_new_tokens: int = 128  # reply length cap; the end-of-turn token stops earlier
    repetition_penalty: float = 1.0  # >1 discourages tokens already in the row (CTRL-style)
    seed: int = 0  # row i draws from a generator seeded with (seed, i)

    def __post_init__(self) -> None:
        problems = []
        if self.temperature < 0:
            problems.append(f"temperature={self.temperature} must be >= 0")
        if not 0 < self.top_p <= 1:
            problems.append(f"top_p={self.top_p} must be in (0, 1]")
        if self.top_k < 0:
            problems.append(f"top_k={self.top_k} must be >= 0")
        if self.max_new_tokens < 1:
            problems.append(f"max_new_tokens={self.max_new_tokens} must be >= 1")
        if self.repetition_penalty <= 0:
            problems.append(f"repetition_penalty={self.repetition_penalty} must be > 0")
        if problems:
            raise AccordError("invalid SamplingConfig: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def stop_token_ids(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> set[int]:
    """Tokens that end a reply: eos, the generation config's eos ids, ``<|im_end|>``."""
    ids = {tokenizer.eos_token_id}
    configured = getattr(model.generation_config, "eos_token_id", None)
    ids.update(configured if isinstance(configured, list) else [configured])
    turn_end = tokenizer.convert_tokens_to_ids(TURN_END)
    if isinstance(turn_end, int) and turn_end != tokenizer.unk_token_id:
        ids.add(turn_end)
    return {i for i in ids if i is not None}


def _filter(logits: torch.Tensor, sampling: SamplingConfig) -> torch.Tensor:
    """Apply temperature, top-k and top-p to ``[rows, vocab]`` logits; return probabilities."""
    logits = logits / sampling.temperature
    if sampling.top_k:
        kth = torch.topk(logits, min(sampling.top_k, logits.size(-1)), dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    if sampling.top_p < 1:
        sorted_probs, order = torch.sort(probs, dim=-1, descending=True)
        # Drop a token when the mass before it already reaches top_p; the first one stays.
        drop = sorted_probs.cumsum(-1) - sorted_probs >= sampling.top_p
        sorted_probs = sorted_probs.masked_fill(drop, 0.0)
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_probs)
        probs = probs / probs.sum(-1, keepdim=True)
    return probs


def _penalise(logits: torch.Tensor, seen: torch.Tensor, penalty: float) -> torch.Tensor:
    """CTRL's repetition penalty: shrink the logit of every token already in the row."""
    picked = logits.gather(-1, seen)
    picked = torch.where(picked > 0, picked / penalty, picked * penalty)
    return logits.scatter(-1, seen, picked)


def _cache_argument(model: PreTrainedModel) -> str:
    """The KV-cache keyword: ``cache`` in transformers >= 5.2x, ``past_key_values`` before."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters \
        else "past_key_values"


@torch.no_grad()
def _generate_batch(model: PreTrainedModel, prompts: list[list[int]], rows: list[int],
                    sampling: SamplingConfig, pad_id: int, stops: set[int]) -> list[list[int]]:
    device = model.device
    width = max(len(p) for p in prompts)
    # Left padding: every prompt ends at the same column, so the next token of all rows is
    # predicted from the last column; padded keys are masked out.
    ids = torch.tensor([[pad_id] * (width - len(p)) + p for p in prompts], device=device)
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    generators = [torch.Generator().manual_seed(int(np.random.SeedSequence(
        [sampling.seed, row]).generate_state(1, dtype=np.uint64)[0] >> 1)) for row in rows]
    # Tokens already in each row, for the repetition penalty. Padding is replaced by the
    # row's last prompt token (a repeat changes nothing), so a pad that doubles as eos
    # (SmolLM2) is not penalised in padded rows only, which would make replies depend on
    # the batch.
    seen = torch.where(mask.bool(), ids, ids[:, -1:])
    out: list[list[int]] = [[] for _ in prompts]
    done = torch.zeros(len(prompts), dtype=torch.bool, device=device)
    stop_ids = torch.tensor(sorted(stops), device=device)
    cache = DynamicCache()
    cache_arg = _cache_argument(model)
    step_ids = ids
    for _ in range(sampling.max_new_tokens):
        with autocast(device):
            logits = model(input_ids=step_ids, attention_mask=mask, position_ids=positions,
                           use_cache=True, **{cache_arg: cache}).logits[:, -1, :].float()
        if sampling.repetition_penalty != 1.0:
            logits = _penalise(logits, seen, sampling.repetition_penalty)
        if sampling.temperature == 0:
            token = logits.argmax(-1)
        else:
            cdf = _filter(logits, sampling).cumsum(-1).cpu()
            u = torch.stack([torch.rand((), generator=g) for g in generators])
            token = torch.searchsorted(cdf, (u * cdf[:, -1]).unsqueeze(-1)).squeeze(-1)
            token = token.clamp(max=cdf.size(-1) - 1).to(device)
        token = torch.where(done, torch.full_like(token, pad_id), token)
        for i, (t, finished) in enumerate(zip(token.tolist(), done.tolist(), strict=True)):
            if not finished:
                out[i].append(t)
        done |= torch.isin(token, stop_ids)
        if bool(done.all()):
            break
        step_ids = token.unsqueeze(-1)
        mask = torch.cat([mask, torch.ones_like(step_ids)], dim=-1)
        positions = positions[:, -1:] + 1
        seen = torch.cat([seen, step_ids], dim=-1)
    return out


def generate(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase,
             conversations: Sequence[list[dict]], sampling: SamplingConfig | None = None,
             batch_size: int = 16) -> list[str]:
    """Sample the assistant's next reply to each conversation.

    Args:
        model: a causal LM (Accord's or a base model).
        tokenizer: its tokenizer, with a chat template.
        conversations: message lists (``{"role", "content"}``) ending with a user or system
            message; the reply continues after the assistant header.
        sampling: temperature/top-p/top-k/length/penalty and the seed.
        batch_size: conversations per forward pass; it changes speed, never the replies.

    Returns:
        The assistant text of each reply, in order, without special tokens; cut at the
        end-of-turn token.
    """
    sampling = sampling or SamplingConfig()
    if batch_size < 1:
        raise AccordError(f"batch_size={batch_size} must be >= 1")
    prompts = []
    for i, conversation in enumerate(conversations):
        check_messages(conversation, where=f"conversation {i}")
        if conversation[-1]["role"] == "assistant":
            raise AccordError(f"conversation {i} ends with an assistant message; "
                              "it must end with the user (or system) turn to answer")
        text = tokenizer.apply_chat_template(list(conversation), tokenize=False,
                                             add_generation_prompt=True)
        prompts.append(tokenizer(text, add_special_tokens=False)["input_ids"])
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None \
        else tokenizer.eos_token_id
    stops = stop_token_ids(model, tokenizer)
    was_training = model.training
    model.eval()
    # Similar lengths in one batch waste less on padding; replies go back in input order.
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    replies: list[str] = [""] * len(prompts)
    # One token per row per step is too little work to split across threads: on a CPU,
    # a second intra-op thread only adds synchronisation, and when another process holds
    # the other core every tiny matmul waits for a descheduled thread (measured here: 64
    # replies took 2 s on one thread and 76 s on two with the second core busy).
    threads = cpu_threads(1) if model.device.type == "cpu" else contextlib.nullcontext()
    try:
        with threads:
            for lo in range(0, len(order), batch_size):
                rows = order[lo:lo + batch_size]
                tokens = _generate_batch(model, [prompts[i] for i in rows], rows, sampling,
                                         pad_id, stops)
                for i, toks in zip(rows, tokens, strict=True):
                    toks = [t for t in toks if t not in stops]
                    replies[i] = tokenizer.decode(toks, skip_special_tokens=True)
    finally:
        model.train(was_training)
    return replies
