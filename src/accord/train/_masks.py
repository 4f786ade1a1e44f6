"""Which tokens of a conversation the assistant wrote, for any chat template.

TRL's ``assistant_only_loss`` needs ``{% generation %}`` markers in the chat template, which
most models' templates (SmolLM2's among them) do not have: TRL then stops with "The chat
template is not training-compatible". Instead of rewriting each template, Accord finds the
assistant turns by rendering: for the assistant message ``i``, the template's rendering of
``messages[:i]`` with the generation prompt is a prefix of its rendering of
``messages[:i + 1]``, and what the longer one adds is the reply and its end-of-turn token.
Character spans become token positions through the fast tokenizer's offsets.

Trailing whitespace after the end-of-turn token (``<|im_end|>\\n``) is left out: the
model stops at the end-of-turn token, so what follows it is never generated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from accord.errors import AccordError

_HOW_TO_FIX = ("Give the model a chat template in which rendering the first turns of a "
               "conversation (with the generation prompt) is a prefix of rendering the "
               "whole conversation, or set assistant_only_loss = false to learn every token.")


def _render(tokenizer: Any, messages: Sequence[Mapping[str, str]], prompt: bool) -> str:
    return tokenizer.apply_chat_template([dict(m) for m in messages], tokenize=False,
                                         add_generation_prompt=prompt)


def assistant_spans(tokenizer: Any, messages: Sequence[Mapping[str, str]],
                    where: str = "conversation") -> tuple[str, list[tuple[int, int]]]:
    """The rendered conversation and the character spans of its assistant turns.

    Args:
        tokenizer: a tokenizer with a chat template.
        messages: the conversation.
        where: how errors name the conversation ("reviews, row 3").

    Raises:
        AccordError: the template renders a conversation's start differently from the
            whole conversation, so the turns cannot be located (with what to do).
    """
    text = _render(tokenizer, messages, prompt=False)
    spans = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        head = _render(tokenizer, messages[:i], prompt=True) if i else ""
        upto = _render(tokenizer, messages[:i + 1], prompt=False)
        if not upto.startswith(head) or not text.startswith(upto):
            raise AccordError(f"{where}: the chat template renders the first {i} message(s) "
                              "differently on their own than inside the whole conversation, "
                              f"so the assistant turn {i} cannot be located. {_HOW_TO_FIX}")
        start, end = len(head), len(upto.rstrip())
        if message["content"].strip() and message["content"].strip() not in text[start:end]:
            raise AccordError(f"{where}: the chat template does not render assistant turn {i} "
                              f"where expected. {_HOW_TO_FIX}")
        spans.append((start, end))
    return text, spans


def assistant_mask(tokenizer: Any, messages: Sequence[Mapping[str, str]],
                   where: str = "conversation") -> tuple[list[int], list[int]]:
    """``(input_ids, mask)``: the conversation's tokens and 1 on those the assistant wrote.

    A token counts as the assistant's when its characters lie inside an assistant span
    (see :func:`assistant_spans`); a token straddling a span's edge counts when it starts
    inside (the end-of-turn token is one token, wholly inside).

    Raises:
        AccordError: the tokenizer is not a fast one (no offsets), or see
            :func:`assistant_spans`.
    """
    if not getattr(tokenizer, "is_fast", False):
        raise AccordError("assistant-only SFT needs a fast tokenizer (character offsets); "
                          f"{type(tokenizer).__name__} is not one. Save the model with its "
                          "tokenizer.json, or set assistant_only_loss = false")
    text, spans = assistant_spans(tokenizer, messages, where)
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    mask = []
    for begin, finish in encoded["offset_mapping"]:
        inside = any(start <= begin < end and finish > begin for start, end in spans)
        mask.append(1 if inside else 0)
    return list(encoded["input_ids"]), mask


def tokenize_conversations(tokenizer: Any, rows: Sequence[Mapping[str, Any]],
                           assistant_only: bool = True) -> list[dict[str, list[int]]]:
    """Pre-tokenized SFT rows for TRL: ``input_ids`` and, when ``assistant_only``,
    ``assistant_masks`` (TRL turns them into labels, -100 outside the assistant turns).

    Raises:
        AccordError: a conversation whose assistant turns cannot be located, or one
            with no assistant token at all.
    """
    out = []
    for i, row in enumerate(rows):
        where = str(row.get("_where", f"row {i}"))
        messages = row["messages"]
        if not assistant_only:
            ids = tokenizer(_render(tokenizer, messages, prompt=False),
                            add_special_tokens=False)["input_ids"]
            out.append({"input_ids": list(ids)})
            continue
        ids, mask = assistant_mask(tokenizer, messages, where)
        if not any(mask):
            raise AccordError(f"{where}: no assistant token to learn from (empty replies?)")
        out.append({"input_ids": ids, "assistant_masks": mask})
    return out
