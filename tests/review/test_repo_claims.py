"""Handing out tasks on PostgreSQL while other reviewers' claims are still open: skip the
item they are claiming, wait only when nothing else is open, never answer "done" early."""

from __future__ import annotations

import threading

import pytest
from review_seed import Seeded, seed

from accord.accounts import write_session
from accord.review import create_batch, next_task, submit_rating
from accord.store import Store

GOOD = {"offensive": 1, "one_sided": 1, "objectionable": "no", "over_refusal": "no",
        "preachy": 1, "helpful": 5, "follows_customisation": "yes", "issues": []}

pytestmark = pytest.mark.postgres


def _batch(seeded: Seeded, *, prompts: int, overlap: int) -> int:
    with seeded.store.session() as s:
        return create_batch(s, name="claims", kind="rating", model_version=seeded.model,
                            spec_version=seeded.spec_version_id, prompts=prompts,
                            completions_per_prompt=1, overlap=overlap).id


def _in_thread(seeded: Seeded, batch: int, reviewer: int) -> tuple[threading.Thread, list]:
    got: list = []

    def run() -> None:
        with write_session(seeded.store) as s:
            task = next_task(s, batch, reviewer)
            got.append(None if task is None else task.item_id)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, got


def test_a_claim_in_progress_is_skipped_not_waited_for(postgres_store: Store):
    seeded = seed(postgres_store)
    batch = _batch(seeded, prompts=3, overlap=2)
    a, b = seeded.reviewers[:2]
    with write_session(seeded.store) as s:  # a's claim stays open (uncommitted) ...
        first = next_task(s, batch, a).item_id
        thread, got = _in_thread(seeded, batch, b)
        thread.join(timeout=10)  # ... and b is not held up by it: b takes the next item
        assert not thread.is_alive(), "b waited for a's transaction"
    assert got[0] is not None and got[0] != first


def test_when_only_a_claimed_item_is_left_the_call_waits_for_it(postgres_store: Store):
    seeded = seed(postgres_store)
    batch = _batch(seeded, prompts=1, overlap=2)  # one item, two slots
    a, b = seeded.reviewers[:2]
    with write_session(seeded.store) as s:
        item = next_task(s, batch, a).item_id
        thread, got = _in_thread(seeded, batch, b)
        thread.join(timeout=1.0)
        assert thread.is_alive(), "b answered before a's claim ended"
    thread.join(timeout=10)
    assert got == [item]  # the second slot, not "nothing left"


def test_nothing_left_once_the_last_slot_is_committed(postgres_store: Store):
    seeded = seed(postgres_store)
    batch = _batch(seeded, prompts=1, overlap=1)
    a, b = seeded.reviewers[:2]
    with write_session(seeded.store) as s:
        assert next_task(s, batch, a) is not None
        thread, got = _in_thread(seeded, batch, b)
        thread.join(timeout=1.0)
        assert thread.is_alive()
    thread.join(timeout=10)
    assert got == [None]


def test_a_claim_does_not_hold_up_a_rating_of_the_same_item(postgres_store: Store):
    seeded = seed(postgres_store)
    batch = _batch(seeded, prompts=1, overlap=2)
    a, b = seeded.reviewers[:2]
    with write_session(seeded.store) as s:
        task = next_task(s, batch, a).id
    with write_session(seeded.store) as s:  # b is claiming the same item's second slot ...
        assert next_task(s, batch, b) is not None
        done: list[int] = []

        def rate() -> None:
            with write_session(seeded.store) as other:
                done.append(submit_rating(other, task, a, GOOD).id)

        thread = threading.Thread(target=rate)
        thread.start()
        thread.join(timeout=10)  # ... while a's rating of it goes through
        assert not thread.is_alive(), "the rating waited for b's claim"
    assert done
