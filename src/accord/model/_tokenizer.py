"""Byte-level BPE tokenizer and the chat format.

The chat format is ChatML-like, the same shape SmolLM2 and Qwen use, so a model trained
here and an off-the-shelf base model are driven the same way::

    <|im_start|>system\\n{content}<|im_end|><|im_start|>user\\n{content}<|im_end|>
    <|im_start|>assistant\\n{content}<|im_end|>

``<|im_end|>`` is both the end of a turn and the tokenizer's eos token: generation stops
there, TRL's trainers treat it as the end of a completion, and a rendered conversation
ends with it, so a conversation is a complete pretraining document with nothing appended.
No newline follows ``<|im_end|>`` for the same reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerBase, PreTrainedTokenizerFast

from accord.errors import AccordError

BOS = "<|endoftext|>"  # set as bos for tools that want one; never added automatically
PAD = "<|pad|>"  # distinct from eos so collators that mask padding keep the eos label
TURN_START = "<|im_start|>"
TURN_END = "<|im_end|>"  # end of turn == eos
SPECIAL_TOKENS = [BOS, PAD, TURN_START, TURN_END]
ROLES = ("system", "user", "assistant")

# `{% generation %}` marks what `return_assistant_tokens_mask=True` reports as assistant
# tokens: the content and the closing <|im_end|>, not the role header (the model must learn
# to stop, but is never asked to produce the header it was prompted with).
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] not in ['system', 'user', 'assistant'] -%}"
    "{{ raise_exception('unknown chat role ' ~ message['role'] ~ "
    "'; allowed: system, user, assistant') }}"
    "{%- endif -%}"
    "{%- if message['role'] == 'assistant' -%}"
    "{{ '<|im_start|>assistant\n' }}"
    "{%- generation -%}{{ message['content'] ~ '<|im_end|>' }}{%- endgeneration -%}"
    "{%- else -%}"
    "{{ '<|im_start|>' ~ message['role'] ~ '\n' ~ message['content'] ~ '<|im_end|>' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\n' }}{%- endif -%}"
)


def train_tokenizer(texts: Iterable[str], vocab_size: int,
                    out_dir: str | Path | None = None) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE tokenizer with Accord's chat format on ``texts``.

    Args:
        texts: the corpus (plain texts or rendered chats); special-token strings in it are
            learned as ordinary text, the special tokens themselves are added up front.
        vocab_size: target vocabulary size including the 256 byte symbols and the special
            tokens; at least 300.
        out_dir: where to ``save_pretrained`` the tokenizer, or ``None`` to keep it in memory.

    Returns:
        A ``PreTrainedTokenizerFast`` with bos/eos/pad set and the chat template attached.

    Raises:
        AccordError: if ``vocab_size`` is too small to hold the bytes and special tokens.
    """
    if vocab_size < 300:
        raise AccordError(f"tokenizer vocab_size={vocab_size} is too small: it must hold "
                          "256 byte symbols and the special tokens; use at least 300")
    bpe = Tokenizer(models.BPE())
    # No prefix space: a chat turn's content follows "\n" and must round-trip exactly.
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, min_frequency=2,
        # Every byte is in the vocabulary from the start, so any text encodes, unseen
        # scripts and emoji included.
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    bpe.train_from_iterator(texts, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, bos_token=BOS, eos_token=TURN_END, pad_token=PAD,
        additional_special_tokens=[TURN_START],
        clean_up_tokenization_spaces=False,  # decoding must give back the exact text
        model_max_length=1_000_000)
    tokenizer.chat_template = CHAT_TEMPLATE
    if out_dir is not None:
        tokenizer.save_pretrained(str(out_dir))
    return tokenizer


def check_messages(messages: Sequence[dict], where: str = "conversation") -> None:
    """Raise :class:`AccordError` unless ``messages`` is a list of role/content dicts."""
    if not messages:
        raise AccordError(f"{where} is empty; give at least one message")
    for i, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in ROLES or not isinstance(message.get("content"), str):
            raise AccordError(
                f"{where}, message {i}: expected {{'role': one of {', '.join(ROLES)}, "
                f"'content': str}}, got {message!r}")


def render_chat(tokenizer: PreTrainedTokenizerBase, messages: Sequence[dict],
                add_generation_prompt: bool = False) -> str:
    """Render ``messages`` with the tokenizer's chat template.

    Args:
        tokenizer: a tokenizer with a chat template (Accord's or a base model's).
        messages: ``[{"role": "system"|"user"|"assistant", "content": str}, ...]``.
        add_generation_prompt: append the assistant header so a model continues as the
            assistant.

    Returns:
        The rendered text; for Accord's template it ends with ``<|im_end|>`` (or with the
        assistant header when ``add_generation_prompt``).
    """
    check_messages(messages)
    if not getattr(tokenizer, "chat_template", None):
        raise AccordError("this tokenizer has no chat template; train one with "
                          "accord.model.train_tokenizer or use a chat model as base")
    text = tokenizer.apply_chat_template(list(messages), tokenize=False,
                                         add_generation_prompt=add_generation_prompt)
    return str(text)
