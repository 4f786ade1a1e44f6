"""The byte-level BPE tokenizer and Accord's chat format."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from accord.errors import AccordError
from accord.model import render_chat, train_tokenizer

UNICODE_TEXTS = [
    "plain ascii, with punctuation: (a) [b] {c}!",
    "accents: café naïve Ångström, ß and ǅ",
    "CJK 世界 and 日本語のテキスト, Hangul 한국어",
    "emoji 🌍🚀 with ZWJ 👩‍👩‍👧 and flags 🇳🇿",
    "  leading spaces, tabs\tand\nnewlines\r\n trailing  ",
    "combining e\u0301 and RTL שלום مرحبا",
    "\x00 control \x07 bytes and the replacement char \ufffd",
]


def test_any_unicode_text_round_trips(tokenizer, tmp_path):
    tokenizer.save_pretrained(tmp_path)
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    for text in UNICODE_TEXTS:
        for tok in (tokenizer, reloaded):
            ids = tok.encode(text, add_special_tokens=False)
            assert tok.decode(ids) == text


def test_special_tokens_are_set_for_trl(tokenizer):
    assert tokenizer.eos_token == "<|im_end|>"  # end of turn: generation stops there
    assert tokenizer.pad_token == "<|pad|>" and tokenizer.pad_token_id != tokenizer.eos_token_id
    assert tokenizer.bos_token == "<|endoftext|>"
    # Special tokens are single tokens, never split by BPE.
    assert len(tokenizer.encode("<|im_start|>", add_special_tokens=False)) == 1


CHAT = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi there"},
    {"role": "assistant", "content": "Hello!"},
    {"role": "user", "content": "Where is Alba?"},
    {"role": "assistant", "content": "East of Borin."},
]


def test_render_chat(tokenizer):
    assert render_chat(tokenizer, CHAT[:3]) == (
        "<|im_start|>system\nBe brief.<|im_end|>"
        "<|im_start|>user\nHi there<|im_end|>"
        "<|im_start|>assistant\nHello!<|im_end|>")


def test_generation_prompt_opens_an_assistant_turn(tokenizer):
    text = render_chat(tokenizer, CHAT[:2], add_generation_prompt=True)
    assert text.endswith("<|im_start|>user\nHi there<|im_end|><|im_start|>assistant\n")
    assert render_chat(tokenizer, CHAT[:2]).endswith("<|im_end|>")


def test_assistant_mask_covers_exactly_the_assistant_content_and_end_token(tokenizer):
    out = tokenizer.apply_chat_template(CHAT, tokenize=True, return_dict=True,
                                        return_assistant_tokens_mask=True)
    ids, mask = out["input_ids"], out["assistant_masks"]
    assert len(ids) == len(mask)
    # The masked tokens form one span per assistant turn: content + <|im_end|>.
    spans, current = [], []
    for token, m in zip(ids, mask, strict=True):
        if m:
            current.append(token)
        elif current:
            spans.append(current)
            current = []
    if current:
        spans.append(current)
    assert [tokenizer.decode(s) for s in spans] == ["Hello!<|im_end|>", "East of Borin.<|im_end|>"]
    # Everything else (headers, system and user turns) is unmasked.
    unmasked = tokenizer.decode([t for t, m in zip(ids, mask, strict=True) if not m])
    assert unmasked == (
        "<|im_start|>system\nBe brief.<|im_end|><|im_start|>user\nHi there<|im_end|>"
        "<|im_start|>assistant\n<|im_start|>user\nWhere is Alba?<|im_end|>"
        "<|im_start|>assistant\n")


def test_bad_messages_and_sizes_are_user_errors(tokenizer):
    with pytest.raises(AccordError, match=r"expected \{.role.: one of system, user, assistant"):
        render_chat(tokenizer, [{"role": "tool", "content": "x"}])
    with pytest.raises(AccordError, match="empty"):
        render_chat(tokenizer, [])
    with pytest.raises(AccordError, match="at least 300"):
        train_tokenizer(["some text"], vocab_size=100)
