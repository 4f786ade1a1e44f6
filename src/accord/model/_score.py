"""Reading probabilities from a local model without sampling: the log-probability of given
continuations (teacher forcing), and the next token's distribution.

Both are exact (nothing is truncated to a top-N list) and batch with left padding and
explicit position ids, so batching never changes a number beyond float rounding.
"""

from __future__ import annotations

import copy
import math
import weakref
from collections.abc import Sequence

import numpy as np
import torch
from transformers import DynamicCache, PreTrainedModel, PreTrainedTokenizerBase

from accord.errors import AccordError
from accord.model._decode import cache_argument, left_pad

# Token texts of each tokenizer's vocabulary, decoded once (50k decodes take ~1 s).
_VOCAB: weakref.WeakKeyDictionary[PreTrainedTokenizerBase, tuple[np.ndarray, np.ndarray]] = \
    weakref.WeakKeyDictionary()


def _option_ids(tokenizer: PreTrainedTokenizerBase, conversation: Sequence[dict],
                options: Sequence[str], max_length: int) -> tuple[list[int], list[list[int]]]:
    """Token ids of the prompt (ending with the assistant header) and of each option."""
    head = tokenizer.apply_chat_template(list(conversation), tokenize=False,
                                         add_generation_prompt=True)
    head_ids = tokenizer(head, add_special_tokens=False)["input_ids"]
    tails = []
    for option in options:
        ids = tokenizer(head + option, add_special_tokens=False)["input_ids"]
        if ids[:len(head_ids)] != head_ids:  # the option merged with the header's end
            ids = head_ids + tokenizer(option, add_special_tokens=False)["input_ids"]
        tail = ids[len(head_ids):]
        if not tail or len(tail) >= max_length:
            raise AccordError(f"score: option {option!r} has no tokens or more than "
                              f"max_length={max_length}")
        tails.append(tail)
    longest = max(len(t) for t in tails)
    return head_ids[-(max_length - longest):], tails


def score_options(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase,
                  conversations: Sequence[Sequence[dict]], options: Sequence[str], *,
                  batch_size: int = 16, max_length: int | None = None) -> list[list[float]]:
    """Summed log-probability of each option's tokens as the start of the assistant's reply
    to each conversation (teacher forcing).

    Each prompt runs once and every option continues from a copy of its key/value cache.

    Args:
        model: a causal LM.
        tokenizer: its tokenizer, with a chat template.
        conversations: message lists ending with the turn to answer.
        options: continuations to score, the same for every conversation.
        batch_size: conversations per forward pass.
        max_length: keep the last this-many tokens of each input (default: the model's
            ``max_position_embeddings``).

    Raises:
        AccordError: no options, or an option with no tokens or longer than max_length.
    """
    if not options:
        raise AccordError("score: give at least one option")
    max_length = max_length or int(getattr(model.config, "max_position_embeddings", 0)
                                   or 1_000_000)
    rows = [_option_ids(tokenizer, c, options, max_length) for c in conversations]
    out: list[list[float]] = []
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for lo in range(0, len(rows), batch_size):
                out += _score_batch(model, tokenizer, rows[lo:lo + batch_size])
    finally:
        model.train(was_training)
    return out


def _score_batch(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase,
                 batch: list[tuple[list[int], list[list[int]]]]) -> list[list[float]]:
    device = next(model.parameters()).device
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    cache_arg = cache_argument(model)
    ids, mask, positions = left_pad([head for head, _ in batch], pad, device)
    cache = DynamicCache()
    first = model(input_ids=ids, attention_mask=mask, position_ids=positions,
                  use_cache=True, logits_to_keep=1, **{cache_arg: cache}).logits
    first = torch.log_softmax(first[:, -1].float(), dim=-1)  # [rows, vocab]
    scores = [[0.0] * len(tails) for _, tails in batch]
    n_options = len(batch[0][1])
    for o in range(n_options):
        tails = [t[o] for _, t in batch]
        for r, tail in enumerate(tails):
            scores[r][o] = float(first[r, tail[0]])
        longest = max(len(t) for t in tails)
        if longest == 1:
            continue
        # Feed every token but the last; right padding sits after the real tokens,
        # where causal attention keeps it from touching them.
        feed = torch.tensor([t[:-1] + [pad] * (longest - len(t)) for t in tails],
                            device=device)
        feed_mask = torch.tensor([[1] * (len(t) - 1) + [0] * (longest - len(t))
                                  for t in tails], device=device)
        step = positions[:, -1:] + 1 + torch.arange(longest - 1, device=device)
        this = copy.deepcopy(cache) if o < n_options - 1 else cache
        logits = model(input_ids=feed, attention_mask=torch.cat([mask, feed_mask], -1),
                       position_ids=step, use_cache=True, **{cache_arg: this}).logits
        logprobs = torch.log_softmax(logits.float(), dim=-1)
        for r, tail in enumerate(tails):
            scores[r][o] += sum(float(logprobs[r, j, tail[j + 1]])
                                for j in range(len(tail) - 1))
    return scores


def _vocabulary(tokenizer: PreTrainedTokenizerBase) -> tuple[np.ndarray, np.ndarray]:
    """The distinct token texts, and for each token id the index of its text."""
    if tokenizer not in _VOCAB:
        words = tokenizer.batch_decode([[i] for i in range(len(tokenizer))])
        _VOCAB[tokenizer] = np.unique(np.array(words, dtype=object), return_inverse=True)
    return _VOCAB[tokenizer]


def next_token_logprobs(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase,
                        conversations: Sequence[Sequence[dict]], *, top: int | None = 20,
                        batch_size: int = 16) -> list[dict[str, float]]:
    """The distribution of the first token of the assistant's reply to each conversation,
    by token text (tokens with the same text are merged: their probabilities add up).

    Args:
        model: a causal LM.
        tokenizer: its tokenizer, with a chat template.
        conversations: message lists ending with the turn to answer.
        top: keep the ``top`` most likely tokens; None keeps the whole vocabulary (exact
            sums over any set of tokens, e.g. every "yes"-like token).
        batch_size: conversations per forward pass (in input order).

    Returns:
        For each conversation, token text -> natural-log probability.
    """
    if top is not None and top < 1:
        raise AccordError(f"next_token_logprobs: top={top} must be >= 1 (or None for all)")
    device = next(model.parameters()).device
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    out: list[dict[str, float]] = []
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(conversations), batch_size):
            texts = [tokenizer.apply_chat_template(list(c), tokenize=False,
                                                   add_generation_prompt=True)
                     for c in conversations[start:start + batch_size]]
            ids, mask, positions = left_pad(
                [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts], pad,
                device)
            with torch.no_grad():
                logits = model(input_ids=ids, attention_mask=mask,
                               position_ids=positions).logits[:, -1, :].float()
            probs = torch.softmax(logits, dim=-1).cpu()
            out += [_by_text(tokenizer, row, top) for row in probs]
    finally:
        model.train(was_training)
    return out


def _by_text(tokenizer: PreTrainedTokenizerBase, probs: torch.Tensor,
             top: int | None) -> dict[str, float]:
    words, index = _vocabulary(tokenizer)
    probs = probs[:len(index)]  # a model may reserve ids its tokenizer never produces
    if top is None:
        mass = np.bincount(index, weights=probs.double().numpy(), minlength=len(words))
        with np.errstate(divide="ignore"):
            return dict(zip(words.tolist(), np.log(mass).tolist(), strict=True))
    found: dict[str, float] = {}
    values, ids = torch.topk(probs, min(top, probs.numel()))
    for p, i in zip(values.tolist(), ids.tolist(), strict=True):
        word = words[index[i]]
        found[word] = found.get(word, 0.0) + p
    return {w: math.log(p) if p > 0 else float("-inf") for w, p in found.items()}


def token_logprobs(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase,
                   prompt_ids: Sequence[int], token_ids: Sequence[int], *, top: int = 0,
                   score_prompt: bool = False, end: bool = False) -> list[dict]:
    """The log-probability of each given token after the ones before it (teacher forcing,
    one forward pass), with the ``top`` most likely alternatives at each position: what an
    OpenAI-compatible server reports as ``logprobs`` for tokens it returned.

    Args:
        model: a causal LM.
        tokenizer: its tokenizer (decodes token texts).
        prompt_ids: the context the tokens continue (not scored unless ``score_prompt``).
        token_ids: the tokens to score.
        top: alternatives listed per position (0: none).
        score_prompt: also score the prompt's tokens after its first (its first token has
            no context and gets ``None``).
        end: the reply ended on an end-of-turn token after ``token_ids``: list it too (the
            most likely of the model's stop tokens there), as servers do.

    Returns:
        One dict per scored token: ``id``, ``token`` (its text), ``logprob`` (natural log,
        of the model's own distribution: no temperature) and ``top`` (a list of ``(id,
        text, logprob)``, most likely first).
    """
    from accord.model._decode import stop_token_ids

    ids = [*prompt_ids, *token_ids]
    if not ids:
        return []
    stops = sorted(stop_token_ids(model, tokenizer)) if end else []
    start = 1 if score_prompt else len(prompt_ids)
    if start == 0:  # no context at all: the first token cannot be scored
        raise AccordError("token_logprobs: give at least one prompt token")
    max_length = int(getattr(model.config, "max_position_embeddings", 0) or len(ids))
    if len(ids) > max_length:
        raise AccordError(f"token_logprobs: {len(ids)} tokens; the model reads at most "
                          f"{max_length}")
    device = next(model.parameters()).device
    out: list[dict] = []
    if score_prompt:
        out.append({"id": ids[0], "token": tokenizer.decode([ids[0]]), "logprob": None,
                    "top": []})
    if start >= len(ids):
        return out
    fed = ids if stops else ids[:-1]
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([fed], device=device)).logits[0]
    logprobs = torch.log_softmax(logits[start - 1:].float(), dim=-1).cpu()
    if stops:
        last = logprobs[-1]
        ids.append(max(stops, key=lambda i: float(last[i])))
    k = min(top, logprobs.shape[-1])
    best = torch.topk(logprobs, k, dim=-1) if k > 0 else None
    for j, token in enumerate(ids[start:]):
        alternatives = [] if best is None else [
            (i, tokenizer.decode([i]), float(v))
            for v, i in zip(best.values[j].tolist(), best.indices[j].tolist(), strict=True)]
        out.append({"id": token, "token": tokenizer.decode([token]),
                    "logprob": float(logprobs[j, token]), "top": alternatives})
    return out
