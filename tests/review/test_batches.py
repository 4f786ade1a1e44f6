"""Drawing review batches from stored completions (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from review_seed import Seeded
from sqlalchemy import select

from accord.review import (
    BatchError,
    GoldItem,
    ReviewItem,
    ReviewItemCompletion,
    create_batch,
    gold_from_spec_examples,
)
from accord.store import Completion, NotFoundError, SpecVersion


def _items(seeded: Seeded, batch_id: int) -> list[tuple[int, bool, list[int]]]:
    with seeded.store.session() as s:
        items = s.scalars(select(ReviewItem).where(ReviewItem.batch_id == batch_id)
                          .order_by(ReviewItem.position)).all()
        return [(i.prompt_id, i.is_gold, list(s.scalars(
            select(ReviewItemCompletion.completion_id)
            .where(ReviewItemCompletion.item_id == i.id)
            .order_by(ReviewItemCompletion.position)))) for i in items]


def _make(seeded: Seeded, **kw):
    args = {"name": "b", "kind": "rating", "model_version": seeded.model,
            "spec_version": seeded.spec_version_id, "prompts": 3, "completions_per_prompt": 2,
            "overlap": 2, **kw}
    with seeded.store.session() as s:
        return create_batch(s, **args).id


def test_rating_batches_have_n_times_k_items_and_the_seed_fixes_the_draw(seeded: Seeded):
    first, again, other = (_make(seeded, seed=s) for s in (1, 1, 2))
    items = _items(seeded, first)
    assert len(items) == 6 and all(len(c) == 1 for _, _, c in items)
    assert len({p for p, _, _ in items}) == 3
    assert items == _items(seeded, again)
    assert items != _items(seeded, other)


def test_comparison_batches_show_k_completions_of_one_prompt(seeded: Seeded):
    items = _items(seeded, _make(seeded, kind="comparison", completions_per_prompt=3))
    assert len(items) == 3
    with seeded.store.session() as s:
        for prompt_id, _, completions in items:
            prompts = set(s.scalars(select(Completion.prompt_id)
                                    .where(Completion.id.in_(completions))))
            assert len(completions) == 3 and prompts == {prompt_id}


def test_gold_items_from_the_guideline_examples_are_mixed_in(seeded: Seeded):
    with seeded.store.session() as s:
        gold = gold_from_spec_examples(s, s.get(SpecVersion, seeded.spec_version_id))
    assert len(gold) == 10  # the demo guidelines have ten worked examples
    items = _items(seeded, _make(seeded, gold=gold, seed=3))
    golds = [i for i, (_, is_gold, _) in enumerate(items) if is_gold]
    assert len(golds) == 10 and golds != list(range(6, 16))  # shuffled in, not appended
    with seeded.store.session() as s:  # asking twice reuses the stored examples
        again = gold_from_spec_examples(s, s.get(SpecVersion, seeded.spec_version_id))
    assert [g.completion_ids for g in again] == [g.completion_ids for g in gold]


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"kind": "pairs"}, BatchError, "allowed: rating, comparison"),
    ({"prompts": 7}, BatchError, "has 6 prompts in split 'review' with at least 2 stored"),
    ({"completions_per_prompt": 4}, BatchError, "has 0 prompts"),
    ({"kind": "comparison", "completions_per_prompt": 1}, BatchError, "needs at least 2"),
    ({"overlap": 0}, BatchError, "overlap is 0"),
    ({"model_version": "nope"}, NotFoundError, "no model version named 'nope'"),
    ({"gold": [GoldItem((1,), {"offensive": 9})]}, Exception, "not a point of the scale"),
])
def test_bad_requests_say_what_is_allowed(seeded: Seeded, kwargs, error, message):
    with pytest.raises(error, match=message):
        _make(seeded, **kwargs)
