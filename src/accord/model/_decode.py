"""The one token-by-token decoding loop over a local causal LM.

Every caller that samples text from a local model runs this loop: ``accord.model.generate``
(the meter, CAI, :class:`~accord.model.LocalBackend`) and the serving runner
(``accord.customize``), which adds its thread, queue and batching around it. One loop means
one answer to "what does seed s give for this prompt": the same text whoever asks.

A batch is left-padded so every row's next token is predicted from the last column, with
explicit position ids so a row's positions are those it would have alone, and a KV cache so
each step feeds one token per row; the prompt pass computes only the last position's
logits, and a row that ends leaves the batch, so a batch of replies of mixed lengths costs
what each row's own length costs (transformers' ``generate`` keeps feeding finished rows
padding until the longest one ends). Each row draws from its own generator, keyed by
``(seed, stream)`` (see ``accord.model._sampling``), one uniform number per token by
inverse CDF: a row's text depends on the model, its prompt, the settings and its key, not
on the batch it shares (the tiny float differences padding can cause almost never change a
choice).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from transformers import DynamicCache, PreTrainedModel, PreTrainedTokenizerBase

from accord.model._device import autocast
from accord.model._sampling import SamplingConfig, row_seed
from accord.model._tokenizer import TURN_END


@dataclass(eq=False)
class DecodeRow:
    """One sequence to continue; :func:`decode` fills in ``tokens``, ``shown`` and
    ``finish_reason``.

    Args:
        prompt_ids: the prompt's token ids (the chat template with the assistant header).
        seed, stream: the row's generator key (``accord.model._sampling``).
        max_new_tokens: most tokens this row may produce.
        stop: stop strings; the row ends where its text first contains one, cut before it.
        on_event: called with ``("delta", text)`` as text is made (held back while the
            text ends with half a UTF-8 character) and ``("done", finish_reason)`` once.
        cancelled: polled once per step; True ends the row with "cancelled".
    """

    prompt_ids: list[int]
    seed: int
    stream: int = 0
    max_new_tokens: int = 128
    stop: tuple[str, ...] = ()
    on_event: Callable[[str, str], None] | None = None
    cancelled: Callable[[], bool] | None = None
    tokens: list[int] = field(default_factory=list)  # produced, stop tokens excluded
    shown: str = ""  # text sent as deltas (only with on_event or stop strings)
    finish_reason: str | None = None  # "stop", "length" or "cancelled"

    def finish(self, reason: str) -> None:
        self.finish_reason = reason
        if self.on_event is not None:
            self.on_event("done", reason)


def pad_token_id(tokenizer: PreTrainedTokenizerBase) -> int:
    """The id that pads prompts on the left: the pad token, else eos."""
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None \
        else tokenizer.eos_token_id


def stop_token_ids(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> set[int]:
    """Tokens that end a reply: eos, the generation config's eos ids, ``<|im_end|>``."""
    ids = {tokenizer.eos_token_id}
    configured = getattr(model.generation_config, "eos_token_id", None)
    ids.update(configured if isinstance(configured, list) else [configured])
    turn_end = tokenizer.convert_tokens_to_ids(TURN_END)
    if isinstance(turn_end, int) and turn_end != tokenizer.unk_token_id:
        ids.add(turn_end)
    return {i for i in ids if i is not None}


def cache_argument(model: PreTrainedModel) -> str:
    """The KV-cache keyword: ``cache`` in transformers >= 5.2x, ``past_key_values`` before."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters \
        else "past_key_values"


def left_pad(prompts: Sequence[list[int]], pad_id: int, device: torch.device
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(ids, attention mask, position ids)`` of left-padded prompts: every prompt ends at
    the last column, padded keys are masked out, and each row's positions count from 0 at
    its first real token, as if it were alone."""
    width = max(len(p) for p in prompts)
    ids = torch.tensor([[pad_id] * (width - len(p)) + list(p) for p in prompts], device=device)
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts],
                        device=device)
    return ids, mask, (mask.cumsum(-1) - 1).clamp(min=0)


def filter_probabilities(logits: torch.Tensor, sampling: SamplingConfig) -> torch.Tensor:
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


def penalise_repeats(logits: torch.Tensor, seen: torch.Tensor, penalty: float) -> torch.Tensor:
    """CTRL's repetition penalty: shrink the logit of every token already in the row."""
    picked = logits.gather(-1, seen)
    picked = torch.where(picked > 0, picked / penalty, picked * penalty)
    return logits.scatter(-1, seen, picked)


def next_tokens(logits: torch.Tensor, seen: torch.Tensor, sampling: SamplingConfig,
                generators: Sequence[torch.Generator]) -> list[int]:
    """One token per row: greedy at temperature 0, else one uniform number per row from
    its generator, mapped through the row's filtered CDF."""
    if sampling.repetition_penalty != 1.0:
        logits = penalise_repeats(logits, seen, sampling.repetition_penalty)
    if sampling.temperature == 0:
        return logits.argmax(-1).tolist()
    cdf = filter_probabilities(logits, sampling).cumsum(-1).cpu()
    u = torch.stack([torch.rand((), generator=g) for g in generators])
    token = torch.searchsorted(cdf, (u * cdf[:, -1]).unsqueeze(-1)).squeeze(-1)
    return token.clamp(max=cdf.size(-1) - 1).tolist()


def _emit(tokenizer: PreTrainedTokenizerBase, row: DecodeRow) -> bool:
    """Send the row's new text; True when a stop string ended it."""
    text = tokenizer.decode(row.tokens, skip_special_tokens=True)
    if text.endswith("\ufffd"):
        return False  # half a UTF-8 character: wait for the rest
    for stop in row.stop:
        at = text.find(stop)
        if at >= 0:
            if at > len(row.shown) and row.on_event is not None:
                row.on_event("delta", text[len(row.shown):at])
            row.shown = text[:at]
            row.finish("stop")
            return True
    if len(text) > len(row.shown) and text.startswith(row.shown):
        if row.on_event is not None:
            row.on_event("delta", text[len(row.shown):])
        row.shown = text
    return False


def logits_argument(model: PreTrainedModel) -> dict[str, int]:
    """``{"logits_to_keep": 1}`` when the model can compute the last position's logits only
    (transformers' causal LMs can), else nothing: a prompt's other positions would cost a
    vocabulary-sized projection each and are never read."""
    return {"logits_to_keep": 1} if "logits_to_keep" in inspect.signature(
        model.forward).parameters else {}


# Inference mode, not only no_grad: no version counters or view tracking on the many small
# tensors of a step, a few per cent at batch 1 on a CPU, where per-op overhead dominates.
@torch.inference_mode()
def decode(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase,
           rows: Sequence[DecodeRow], sampling: SamplingConfig, *, pad_id: int | None = None,
           stops: set[int] | None = None) -> None:
    """Continue every row in one batch until each stops, reaches its length or is
    cancelled; results land in the rows.

    A row that ends leaves the batch (its KV-cache rows are dropped), so the rows still
    going stop paying for it: replies of mixed lengths cost what their own lengths cost.

    Args:
        model: a causal LM in eval mode (the caller sets the mode and the CPU threads).
        tokenizer: its tokenizer (decodes text for stop strings and streaming).
        rows: the batch; each row's own seed, length, stop strings and callbacks.
        sampling: temperature, top-p, top-k and repetition penalty, shared by the batch
            (its ``seed`` and ``max_new_tokens`` are ignored: each row has its own).
        pad_id: left padding (default :func:`pad_token_id`).
        stops: token ids that end a row (default :func:`stop_token_ids`).
    """
    pad_id = pad_token_id(tokenizer) if pad_id is None else pad_id
    stops = stop_token_ids(model, tokenizer) if stops is None else stops
    device = model.device
    ids, mask, positions = left_pad([r.prompt_ids for r in rows], pad_id, device)
    generators = [torch.Generator().manual_seed(row_seed(r.seed, r.stream)) for r in rows]
    # Tokens already in each row, for the repetition penalty. Padding is replaced by the
    # row's last prompt token (a repeat changes nothing), so a pad that doubles as eos
    # (SmolLM2) is not penalised in padded rows only, which would make replies depend on
    # the batch.
    seen = torch.where(mask.bool(), ids, ids[:, -1:])
    cache = DynamicCache()
    cache_arg = cache_argument(model)
    keep_last = logits_argument(model)
    active = list(rows)  # the rows still in the batch, in batch order
    step_ids = ids
    for step in range(max(r.max_new_tokens for r in rows)):
        with autocast(device):
            logits = model(input_ids=step_ids, attention_mask=mask, position_ids=positions,
                           use_cache=True, **{cache_arg: cache}, **keep_last
                           ).logits[:, -1, :].float()
        picked = next_tokens(logits, seen, sampling, generators)
        for row, token in zip(active, picked, strict=True):
            if row.cancelled is not None and row.cancelled():
                row.finish("cancelled")
                continue
            if token in stops:
                row.finish("stop")
                continue
            row.tokens.append(token)
            if (row.stop or row.on_event is not None) and _emit(tokenizer, row):
                continue
            if step + 1 >= row.max_new_tokens:
                row.finish("length")
        going = [k for k, r in enumerate(active) if r.finish_reason is None]
        if not going:
            return
        if len(going) < len(active):
            # Drop the ended rows from the batch and the cache: every later step is
            # cheaper, and no remaining row ever attended to them.
            index = torch.tensor(going, device=device)
            cache.batch_select_indices(index)
            mask, positions, seen = mask[index], positions[index], seen[index]
            active = [active[k] for k in going]
            generators = [generators[k] for k in going]
            picked = [picked[k] for k in going]
        step_ids = torch.tensor([[t] for t in picked], device=device)
        mask = torch.cat([mask, torch.ones_like(step_ids)], dim=-1)
        positions = positions[:, -1:] + 1
        seen = torch.cat([seen, step_ids], dim=-1)
    for row in active:
        if row.finish_reason is None:
            row.finish("length")
