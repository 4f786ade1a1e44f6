"""Batched, seeded sampling of assistant replies (the decoding loop is ``_decode``).

Row ``i``'s reply depends only on the model, the conversation, the settings and its key
``(sampling.seed, i)`` (or ``(seeds[i], 0)``; see ``accord.model._sampling``): not on the
batch size, the batch it landed in or what the other rows sampled.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from transformers import PreTrainedModel, PreTrainedTokenizerBase

from accord.errors import AccordError
from accord.model._decode import DecodeRow, decode, pad_token_id, stop_token_ids
from accord.model._device import cpu_threads
from accord.model._sampling import SamplingConfig
from accord.model._tokenizer import check_messages


def encode_conversations(tokenizer: PreTrainedTokenizerBase,
                         conversations: Sequence[Sequence[dict]]) -> list[list[int]]:
    """Token ids of each conversation rendered with the assistant header appended.

    Raises:
        AccordError: a conversation is malformed or ends with an assistant message.
    """
    prompts = []
    for i, conversation in enumerate(conversations):
        check_messages(conversation, where=f"conversation {i}")
        if conversation[-1]["role"] == "assistant":
            raise AccordError(f"conversation {i} ends with an assistant message; "
                              "it must end with the user (or system) turn to answer")
        text = tokenizer.apply_chat_template(list(conversation), tokenize=False,
                                             add_generation_prompt=True)
        prompts.append(tokenizer(text, add_special_tokens=False)["input_ids"])
    return prompts


def generate(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase,
             conversations: Sequence[list[dict]], sampling: SamplingConfig | None = None,
             batch_size: int = 16, *, seeds: Sequence[int] | None = None) -> list[str]:
    """Sample the assistant's next reply to each conversation.

    Args:
        model: a causal LM (Accord's or a base model).
        tokenizer: its tokenizer, with a chat template.
        conversations: message lists (``{"role", "content"}``) ending with a user or system
            message; the reply continues after the assistant header.
        sampling: temperature/top-p/top-k/length/penalty and the seed.
        batch_size: conversations per forward pass; it changes speed, never the replies.
        seeds: one seed per conversation: row ``i`` is keyed ``(seeds[i], 0)``, as a served
            request with that seed. None keys row ``i`` as ``(sampling.seed, i)``.

    Returns:
        The assistant text of each reply, in order, without special tokens; cut at the
        end-of-turn token.
    """
    sampling = sampling or SamplingConfig()
    if batch_size < 1:
        raise AccordError(f"batch_size={batch_size} must be >= 1")
    if seeds is not None and len(seeds) != len(conversations):
        raise AccordError(f"{len(seeds)} seeds for {len(conversations)} conversations; "
                          "give one seed per conversation, or none")
    prompts = encode_conversations(tokenizer, conversations)
    rows = [DecodeRow(p, seed=seeds[i] if seeds is not None else sampling.seed,
                stream=0 if seeds is not None else i, max_new_tokens=sampling.max_new_tokens)
                  for i, p in enumerate(prompts)]
    pad_id, stops = pad_token_id(tokenizer), stop_token_ids(model, tokenizer)
    was_training = model.training
    model.eval()
    # Similar lengths in one batch waste less on padding; replies go back in input order.
    order = sorted(range(len(rows)), key=lambda i: len(prompts[i]))
    # One token per row per step is too little work to split across threads: on a CPU,
    # a second intra-op thread only adds synchronisation, and when another process holds
    # the other core every tiny matmul waits for a descheduled thread (measured here: 64
    # replies took 2 s on one thread and 76 s on two with the second core busy).
    threads = cpu_threads(1) if model.device.type == "cpu" else contextlib.nullcontext()
    try:
        with threads:
            for lo in range(0, len(order), batch_size):
                decode(model, tokenizer, [rows[i] for i in order[lo:lo + batch_size]],
                       sampling, pad_id=pad_id, stops=stops)
    finally:
        model.train(was_training)
    return [tokenizer.decode(row.tokens, skip_special_tokens=True) for row in rows]
