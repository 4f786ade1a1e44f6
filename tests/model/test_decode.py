"""The one decoding loop: rows keyed by (seed, stream), streaming, stop strings,
cancellation and per-row lengths, and the sampling steps it is made of."""

from __future__ import annotations

import pytest
import torch

from accord.model import DecodeRow, SamplingConfig, decode, generate, load_model
from accord.model._decode import filter_probabilities, next_tokens, penalise_repeats

PROMPTS = [
    [{"role": "user", "content": "Where is the river of Alba?"}],
    [{"role": "system", "content": "You are a helpful guide."},
     {"role": "user", "content": "Tell me about the castle in Dovan."}],
    [{"role": "user", "content": "Where is the bridge of Hestia?"}],
]
WARM = SamplingConfig(temperature=1.0, top_p=0.95, top_k=50, max_new_tokens=24, seed=5)


@pytest.fixture(scope="module")
def model_and_tokenizer(pretrained):
    return load_model(pretrained.model_dir)


def _ids(tokenizer, conversation) -> list[int]:
    text = tokenizer.apply_chat_template(conversation, tokenize=False,
                                         add_generation_prompt=True)
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def test_a_row_is_keyed_by_seed_and_stream(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    batch = generate(model, tokenizer, PROMPTS, WARM)
    # Row 0 of a batch call is (seed, 0): what a row with its own seed gets.
    alone = generate(model, tokenizer, PROMPTS[:1], SamplingConfig(**{**WARM.to_dict(),
                                                                     "seed": 99}), seeds=[5])
    assert alone[0] == batch[0]
    # With one seed per row, row i is (seeds[i], 0) whatever its position or batch.
    own = generate(model, tokenizer, PROMPTS, WARM, seeds=[7, 8, 9], batch_size=2)
    assert own == [generate(model, tokenizer, [p], WARM, seeds=[s])[0]
                   for p, s in zip(PROMPTS, [7, 8, 9], strict=True)]
    assert own != generate(model, tokenizer, PROMPTS, WARM, seeds=[17, 18, 19])


def test_decode_streams_the_text_it_returns(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    events: list[tuple[str, str]] = []
    row = DecodeRow(_ids(tokenizer, PROMPTS[1]), seed=5, stream=0, max_new_tokens=24,
                    on_event=lambda kind, value: events.append((kind, value)))
    decode(model, tokenizer, [row], WARM)
    deltas = [v for k, v in events if k == "delta"]
    assert len(deltas) > 1 and events[-1] == ("done", row.finish_reason)
    assert "".join(deltas) == row.shown == tokenizer.decode(row.tokens,
                                                            skip_special_tokens=True)
    # Streaming changes nothing: generate's row 0 with the same key is the same text.
    assert row.shown == generate(model, tokenizer, [PROMPTS[1]], WARM)[0]


def test_rows_stop_cancel_and_end_on_their_own(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    greedy = SamplingConfig(temperature=0, max_new_tokens=40)
    full = generate(model, tokenizer, PROMPTS, greedy)
    word = full[0].split()[2]  # e.g. "The river of Alba ..." -> "of"
    rows = [DecodeRow(_ids(tokenizer, PROMPTS[0]), seed=0, max_new_tokens=40, stop=(word,)),
            DecodeRow(_ids(tokenizer, PROMPTS[1]), seed=0, max_new_tokens=40,
                      cancelled=lambda: True),
            DecodeRow(_ids(tokenizer, PROMPTS[2]), seed=0, max_new_tokens=2),
            DecodeRow(_ids(tokenizer, PROMPTS[1]), seed=0, max_new_tokens=40)]
    decode(model, tokenizer, rows, greedy)
    assert rows[0].finish_reason == "stop" and rows[0].shown == full[0][:full[0].find(word)]
    assert rows[1].finish_reason == "cancelled" and rows[1].tokens == []
    assert rows[2].finish_reason == "length" and len(rows[2].tokens) == 2
    # The end-of-turn token ends a row; it is not part of the reply.
    assert rows[3].finish_reason == "stop"
    assert tokenizer.decode(rows[3].tokens, skip_special_tokens=True) == full[1]


def test_the_sampling_steps():
    logits = torch.tensor([[2.0, 1.0, 0.5, -1.0]])
    top2 = filter_probabilities(logits, SamplingConfig(temperature=1.0, top_k=2, top_p=1.0))
    assert (top2[0, 2:] == 0).all() and top2.sum().item() == pytest.approx(1.0)
    assert top2[0, 0] / top2[0, 1] == pytest.approx(torch.e)
    # top_p keeps the smallest prefix of sorted tokens whose mass reaches it.
    nucleus = filter_probabilities(logits, SamplingConfig(temperature=1.0, top_p=0.6))
    assert nucleus[0].tolist() == [1.0, 0.0, 0.0, 0.0]
    hot = filter_probabilities(logits, SamplingConfig(temperature=100.0, top_p=1.0))
    assert hot.max() - hot.min() < 0.01
    # CTRL's penalty divides positive logits and multiplies negative ones.
    penalised = penalise_repeats(logits, torch.tensor([[0, 3]]), 2.0)
    assert penalised.tolist() == [[1.0, 1.0, 0.5, -2.0]]
    assert next_tokens(logits, torch.tensor([[1]]), SamplingConfig(temperature=0), []) == [0]
    certain = torch.tensor([[-50.0, 50.0, -50.0, -50.0]] * 3)
    draws = next_tokens(certain, torch.tensor([[0]] * 3), SamplingConfig(temperature=1.0),
                        [torch.Generator().manual_seed(s) for s in range(3)])
    assert draws == [1, 1, 1]
