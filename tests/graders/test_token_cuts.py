"""Each head cuts the texts it reads at its own number of tokens, and one call embeds a text
once per distinct cut it needs (a text shorter than the short cut: once in all).

Real parts only: the MiniLM embedder from its package and the shipped head files.
"""

from __future__ import annotations

import numpy as np
import pytest

import accord.graders._embed as embed_module
from accord.errors import AccordError
from accord.graders import as_exchanges, get_grader, load_head
from accord.graders._embed import LONG_TOKENS, MAX_TOKENS, embed_pairs, token_counts
from accord.graders._heads import REAL_GRADERS
from accord.graders._train import CUTS

# ~14 tokens a sentence: 15 of them end past 128 tokens and before 256.
_SENTENCE = "The ferry to the island leaves at noon and returns before dark each day. "


@pytest.fixture
def passes(monkeypatch):
    """The texts each real forward pass embeds, by cut (the real pass still runs)."""
    seen: list[tuple[int, list[str]]] = []
    real = embed_module._forward

    def counting(texts, max_tokens):
        seen.append((max_tokens, list(texts)))
        return real(texts, max_tokens)

    monkeypatch.setattr(embed_module, "_forward", counting)
    return seen


def test_a_long_cut_reads_text_the_short_cut_drops():
    long = _SENTENCE * 15 + "Tickets can be bought on board."
    n = token_counts([long], LONG_TOKENS)[0]
    assert MAX_TOKENS < n <= LONG_TOKENS
    short_cut, long_cut = embed_pairs([long], MAX_TOKENS)[0], embed_pairs([long], LONG_TOKENS)[0]
    assert float(short_cut[0] @ long_cut[0]) < 0.9999
    # The tail after the short cut moves the long cut's vector, not the short one's.
    other = _SENTENCE * 15 + "Bicycles travel free of charge."
    assert np.allclose(embed_pairs([other], MAX_TOKENS)[0], short_cut, atol=1e-6)
    assert float(embed_pairs([other], LONG_TOKENS)[0, 0] @ long_cut[0]) < 0.9999


def test_a_short_text_is_embedded_once_for_every_cut(passes):
    short = "Pack a raincoat: the forecast says showers all afternoon on the coast road."
    long = _SENTENCE * 16 + "(a second long text, unseen so far)"
    a = embed_pairs([short, long], MAX_TOKENS)
    b = embed_pairs([short, long], LONG_TOKENS)
    c = embed_pairs([short, long], LONG_TOKENS)
    # Pass 1 reads both at 128; pass 2 reads only the long text again, at 256; the third
    # call is all cache.
    assert [(cut, len(texts)) for cut, texts in passes] == [(MAX_TOKENS, 2), (LONG_TOKENS, 1)]
    assert passes[1][1] == [long]
    assert np.array_equal(a[0], b[0]) and np.array_equal(b, c)
    assert not np.allclose(a[1], b[1], atol=1e-4)


def test_a_cut_outside_the_embedders_range_is_a_clear_error():
    for bad in (8, 4096):
        with pytest.raises(AccordError, match="token cut"):
            embed_pairs(["hello"], bad)


def test_the_shipped_heads_carry_the_cut_they_were_trained_at():
    for name in REAL_GRADERS:
        head = load_head(name)
        assert head.max_tokens == CUTS.get(name, MAX_TOKENS), name
        assert f"{head.max_tokens} tokens" in head.record["embedder"], name
    assert load_head("refusal").max_tokens == MAX_TOKENS
    assert load_head("moderation:H").max_tokens == LONG_TOKENS


def test_graders_at_two_cuts_share_one_pass_for_short_answers(passes):
    answers = ["I'm sorry, but I can't help with making a weapon.",
               "Knead the dough for ten minutes, then let it rise for an hour."]
    for name in ("refusal", "offensive", "harmful_content", "moderation:V"):
        get_grader(name).score(as_exchanges(answers))
    assert [(cut, len(texts)) for cut, texts in passes] == [(MAX_TOKENS, 2)]


def test_forward_batches_hold_at_most_a_token_budget_and_every_row_once():
    from accord.graders._embed import _BATCH_TOKENS, _MAX_BATCH, _batches

    padded = [3] * 100 + [40] * 70 + [128] * 40 + [256] * 20 + [4096]
    order = list(range(len(padded)))
    batches = _batches(order, padded)
    assert [i for b in batches for i in b] == order  # in order, each once
    for b in batches:
        assert len(b) <= _MAX_BATCH
        assert len(b) == 1 or len(b) * max(padded[i] for i in b) <= _BATCH_TOKENS
    assert batches[-1] == [len(padded) - 1]  # longer than the budget: alone
    assert max(len(b) for b in batches) == _MAX_BATCH  # short texts fill whole batches
    assert _batches([], []) == []


def test_batching_does_not_change_the_vectors():
    """Rows embedded in one batch or one at a time get the same vectors (padding is masked)."""
    texts = [_SENTENCE * k for k in (1, 3, 12, 20)] + ["Short.", "A bit longer text here."]
    together = embed_pairs(texts, LONG_TOKENS)
    embed_module._SEEN.clear()
    embed_module._LENGTH.clear()
    alone = np.stack([embed_pairs([t], LONG_TOKENS)[0] for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)
