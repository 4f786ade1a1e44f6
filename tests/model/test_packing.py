"""Packed rows: documents never see each other, and the data order is a function of the step."""

from __future__ import annotations

import torch

from accord.model import build_model, pack_documents
from accord.model._packing import IGNORE


def test_a_document_in_a_packed_row_gives_the_same_logits_as_alone(tokenizer, documents):
    model = build_model("tiny", tokenizer, seed=1).eval()
    doc_a, doc_b = documents[0], documents[1]
    corpus = pack_documents(tokenizer, [doc_a, doc_b, documents[2]], seq_len=128)
    ids_a = tokenizer(doc_a, add_special_tokens=False)["input_ids"]
    ids_b = tokenizer(doc_b, add_special_tokens=False)["input_ids"]
    assert ids_a[-1] == ids_b[-1] == tokenizer.eos_token_id  # a rendered chat ends with eos
    inputs, positions, _ = corpus.row(0)
    start, end = len(ids_a), len(ids_a) + len(ids_b)
    assert end <= 128, "both documents must fit in the first row for this test"
    assert inputs[start:end].tolist() == ids_b
    assert positions[start:end].tolist() == list(range(len(ids_b)))  # reset per document

    with torch.no_grad():
        packed = model(input_ids=inputs[None], position_ids=positions[None],
                       use_cache=False).logits[0, start:end]
        alone = model(input_ids=torch.tensor([ids_b]), use_cache=False).logits[0]
        # Without the per-document positions the same row *does* mix documents: the test
        # above would catch a model that ignored them.
        mixed = model(input_ids=inputs[None], use_cache=False).logits[0, start:end]
    torch.testing.assert_close(packed, alone, atol=1e-5, rtol=1e-5)
    assert (mixed - alone).abs().max() > 1e-3


def test_no_target_crosses_a_document_boundary(tokenizer, documents):
    docs = documents[:40]
    corpus = pack_documents(tokenizer, docs, seq_len=64)
    lengths = [len(tokenizer(d, add_special_tokens=False)["input_ids"]) for d in docs]
    starts = set(torch.tensor(lengths).cumsum(0).tolist()[:-1]) | {0}  # stream offsets
    for r in range(corpus.rows):
        _, positions, targets = corpus.row(r)
        index = range(r * 64, (r + 1) * 64)
        for i, (pos, target) in zip(index, zip(positions, targets, strict=True), strict=True):
            if i + 1 in starts:  # last token (eos) of a document: nothing to predict
                assert target == IGNORE
            else:
                assert target == corpus.tokens[i + 1]
            # Position ids restart at each document start and at the row start.
            assert (pos == 0) == (i in starts or i == r * 64)


def test_the_batch_at_a_step_is_a_pure_function_of_seed_and_step(tokenizer, documents):
    corpus = pack_documents(tokenizer, documents, seq_len=64)
    again = pack_documents(tokenizer, documents, seq_len=64)
    for step in (0, 7, 3 * corpus.rows):  # the last one is several epochs in
        a, b = corpus.batch(step, 8, seed=5), again.batch(step, 8, seed=5)
        assert torch.equal(a.input_ids, b.input_ids)
        assert torch.equal(a.targets, b.targets)
    assert not torch.equal(corpus.batch(0, 8, seed=5).input_ids,
                           corpus.batch(0, 8, seed=6).input_ids)
    # One epoch visits every row exactly once.
    per_epoch = corpus.rows // 4
    seen = torch.cat([corpus.batch(s, 4, seed=5).input_ids[:, 0] for s in range(per_epoch)])
    firsts = torch.stack([corpus.row(r)[0][0] for r in range(per_epoch * 4)])
    assert sorted(seen.tolist()) == sorted(firsts.tolist()) or corpus.rows % 4
