"""The decoding loop's batch: rows that end leave it, and the prompt pass computes only the
last position's logits, without changing any row's text."""

from __future__ import annotations

import pytest

from accord.model import DecodeRow, SamplingConfig, decode, load_model

PROMPTS = [
    [{"role": "user", "content": "Where is the river of Alba?"}],
    [{"role": "system", "content": "You are a helpful guide."},
     {"role": "user", "content": "Tell me about the castle in Dovan."}],
    [{"role": "user", "content": "Where is the bridge of Hestia?"}],
    [{"role": "user", "content": "Tell me about the market in Galor."}],
]
WARM = SamplingConfig(temperature=1.0, top_p=0.95, top_k=50, max_new_tokens=24, seed=5)


@pytest.fixture(scope="module")
def model_and_tokenizer(pretrained):
    return load_model(pretrained.model_dir)


def _ids(tokenizer, conversation) -> list[int]:
    text = tokenizer.apply_chat_template(conversation, tokenize=False,
                                         add_generation_prompt=True)
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def _record_forwards(model) -> tuple[list[tuple[int, int]], list[tuple[int, ...]], object]:
    """Hooks that record each forward's (batch, input length) and logits shape."""
    inputs: list[tuple[int, int]] = []
    logits: list[tuple[int, ...]] = []

    def before(_module, _args, kwargs):
        inputs.append(tuple(kwargs["input_ids"].shape))

    def after(_module, _args, _kwargs, output):
        logits.append(tuple(output.logits.shape))

    handles = (model.register_forward_pre_hook(before, with_kwargs=True),
               model.register_forward_hook(after, with_kwargs=True))
    return inputs, logits, handles


def _rows(tokenizer, lengths, cancel_after=None):
    steps = {"n": 0}

    def cancelled() -> bool:
        steps["n"] += 1
        return cancel_after is not None and steps["n"] > cancel_after

    return [DecodeRow(_ids(tokenizer, p), seed=5, stream=i, max_new_tokens=n,
                      cancelled=cancelled if i == 1 and cancel_after is not None else None)
            for i, (p, n) in enumerate(zip(PROMPTS, lengths, strict=True))]


def test_ended_rows_leave_the_batch_and_the_rest_is_unchanged(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    model.eval()
    rows = _rows(tokenizer, [3, 24, 8, 24], cancel_after=5)
    inputs, logits, handles = _record_forwards(model)
    try:
        decode(model, tokenizer, rows, WARM)
    finally:
        for h in handles:
            h.remove()
    assert [r.finish_reason for r in rows][:3] == ["length", "cancelled", "length"]
    # The prompt pass feeds every row and keeps only the last position's logits.
    assert inputs[0][0] == 4 and inputs[0][1] > 1
    assert logits[0] == (4, 1, model.config.vocab_size)
    # Every later step feeds only the rows still going: 4 rows, then 3 after the first
    # ends at 3 tokens, 2 after the cancel, 1 after the 8-token row.
    widths = [b for b, _ in inputs[1:]]
    assert widths == sorted(widths, reverse=True) and widths[0] == 4
    assert {1, 2, 3} <= set(widths) and all(n == 1 for _, n in inputs[1:])
    # Each row's text is what it gets alone (same key, same length, nothing to share).
    for i, row in enumerate(rows):
        if row.finish_reason == "cancelled":
            continue
        [alone] = _rows(tokenizer, [r.max_new_tokens for r in rows])[i:i + 1]
        decode(model, tokenizer, [alone], WARM)
        assert alone.tokens == row.tokens, f"row {i}"


def test_a_cancelled_row_keeps_the_tokens_it_made(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    rows = _rows(tokenizer, [24, 24, 24, 24], cancel_after=5)
    decode(model, tokenizer, rows, SamplingConfig(temperature=0, max_new_tokens=24))
    # The cancel check is polled once per step per live row: 5 polls pass, the 6th cancels.
    assert rows[1].finish_reason == "cancelled" and 0 < len(rows[1].tokens) <= 5
    assert all(r.finish_reason in ("stop", "length") for i, r in enumerate(rows) if i != 1)
