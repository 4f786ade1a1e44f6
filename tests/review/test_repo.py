"""The review store on SQLite and PostgreSQL: batches, tasks, ratings, rankings, skips."""

from __future__ import annotations

import pytest
from review_seed import Seeded
from sqlalchemy import func, select

from accord.accounts import write_session
from accord.review import (
    GoldItem,
    Rating,
    RatingError,
    ReviewAssignment,
    batch_agreement,
    batch_progress,
    create_batch,
    disagreements,
    next_task,
    reviewer_progress,
    reviewer_quality,
    skip_task,
    submit_ranking,
    submit_rating,
    task_view,
)
from accord.store import ConflictError, NotFoundError

GOOD = {"offensive": 1, "one_sided": 1, "objectionable": "no", "over_refusal": "no",
        "preachy": 1, "helpful": 5, "follows_customisation": "yes", "issues": []}


def _batch(seeded: Seeded, kind: str = "rating", overlap: int = 2, **kw):
    with seeded.store.session() as s:
        return create_batch(s, name="b", kind=kind, model_version=seeded.model,
                            spec_version=seeded.spec_version_id, prompts=kw.pop("prompts", 2),
                            completions_per_prompt=kw.pop("k", 1), overlap=overlap,
                            created_by=seeded.admin, **kw).id


def test_each_item_goes_to_overlap_distinct_reviewers_and_ratings_are_stored(seeded: Seeded):
    batch = _batch(seeded, overlap=2)
    counts = {}
    for reviewer in seeded.reviewers:
        done = 0
        while True:
            with seeded.store.session() as s:
                task = next_task(s, batch, reviewer)
                if task is None:
                    break
                submit_rating(s, task.id, reviewer, {**GOOD, "helpful": 4 + done % 2})
            done += 1
        counts[reviewer] = done
    # 2 items × overlap 2 = 4 reviews; the first reviewers take them in order.
    assert sum(counts.values()) == 4
    with seeded.store.session() as s:
        per_item = s.execute(select(Rating.item_id, func.count()).group_by(Rating.item_id)).all()
        assert sorted(n for _, n in per_item) == [2, 2]
        progress = batch_progress(s, batch)
        assert (progress.needed, progress.submitted, progress.complete_items) == (4, 4, 2)
        assert progress.fraction == 1.0
        alpha = batch_agreement(s, batch)
        assert set(alpha["alpha"]) >= {"offensive", "helpful"}
        assert reviewer_progress(s, batch, seeded.reviewers[0])["left"] == 0


def test_open_task_is_returned_again_until_answered(seeded: Seeded):
    batch = _batch(seeded)
    with seeded.store.session() as s:
        first = next_task(s, batch, seeded.reviewers[0]).id
    with seeded.store.session() as s:
        assert next_task(s, batch, seeded.reviewers[0]).id == first
        view = task_view(s, s.get(ReviewAssignment, first))
        assert view.kind == "rating" and len(view.completions) == 1
        assert next(c.id for c in view.categories) == "offensive"


def test_ratings_are_checked_against_the_batch_guidelines(seeded: Seeded):
    batch = _batch(seeded)
    reviewer = seeded.reviewers[0]
    with seeded.store.session() as s:
        task = next_task(s, batch, reviewer).id
    bad = [({**GOOD, "offensive": 9}, "not a point of the scale"),
           ({**GOOD, "objectionable": "maybe"}, "answer 'yes' or 'no'"),
           ({**GOOD, "issues": ["typo"]}, "unknown flags"),
           ({k: v for k, v in GOOD.items() if k != "helpful"}, "'helpful' is not rated"),
           ({**GOOD, "tone": 1}, "unknown categories")]
    for values, message in bad:
        with pytest.raises(RatingError, match=message), seeded.store.session() as s:
            submit_rating(s, task, reviewer, values)
    with seeded.store.session() as s:  # unclear categories may stay unrated
        submit_rating(s, task, reviewer, {"offensive": 2}, unclear=["helpful"], note="vague")
    with seeded.store.session() as s:  # the same answer again (a retry) is accepted
        again = submit_rating(s, task, reviewer, {"offensive": 2}, unclear=["helpful"],
                              note="vague")
        assert again.unclear == ["helpful"] and again.values == {"offensive": 2}
    with pytest.raises(ConflictError, match="already rated"), seeded.store.session() as s:
        submit_rating(s, task, reviewer, GOOD)
    with pytest.raises(NotFoundError, match="no task"), seeded.store.session() as s:
        submit_rating(s, task, seeded.reviewers[1], GOOD)


def test_skip_frees_the_slot_for_another_reviewer(seeded: Seeded):
    batch = _batch(seeded, overlap=1, prompts=1)
    a, b = seeded.reviewers[:2]
    with seeded.store.session() as s:
        task = next_task(s, batch, a).id
        assert next_task(s, batch, b) is None  # the only slot is taken
        skip_task(s, task, a)
    with seeded.store.session() as s:
        assert next_task(s, batch, a) is None  # a does not get it back
        assert next_task(s, batch, b) is not None


def test_comparison_rankings_with_ties_and_gold(seeded: Seeded):
    with seeded.store.session() as s:
        ids = [c for c, in s.execute(select(Rating.completion_id).limit(0))]  # none yet
        assert ids == []
        from accord.store import Completion

        gold_ids = tuple(s.scalars(select(Completion.id).order_by(Completion.id.desc()).limit(3)))
    gold = GoldItem(gold_ids, {"tiers": [[gold_ids[0]], [gold_ids[1], gold_ids[2]]]})
    batch = _batch(seeded, kind="comparison", k=3, overlap=2, gold=[gold])
    answers = {}
    for reviewer in seeded.reviewers[:2]:
        while True:
            with seeded.store.session() as s:
                task = next_task(s, batch, reviewer)
                if task is None:
                    break
                view = task_view(s, task)
                ids = [cid for cid, _ in view.completions]
                tiers = [[ids[0]], ids[1:]] if reviewer == seeded.reviewers[0] else [ids]
                answers[task.item_id] = submit_ranking(s, task.id, reviewer, tiers).tiers
    with seeded.store.session() as s, pytest.raises(RatingError, match="exactly once"):
        task = next_task(s, _batch(seeded, kind="comparison", k=3), seeded.reviewers[2])
        submit_ranking(s, task.id, seeded.reviewers[2], [[1, 2]])
    with seeded.store.session() as s:
        quality = {q["username"]: q for q in reviewer_quality(s, batch)}
        assert quality["rev0"]["gold_accuracy"] == 1.0  # ranked exactly like the gold
        assert quality["rev1"]["gold_accuracy"] < 1.0
        assert batch_agreement(s, batch)["pairwise"]["n_groups"] == 2
        assert {d["item_id"] for d in disagreements(s, batch)} <= set(answers)
        assert batch_progress(s, batch).gold_items == 1


def test_concurrent_reviewers_never_push_an_item_past_its_overlap(seeded: Seeded):
    import threading

    from accord.accounts import create_user

    with seeded.store.session() as s:
        extra = [create_user(s, f"racer{i}", "racer password!", ["reviewer"]).id
                 for i in range(3)]
    reviewers = seeded.reviewers + extra
    batch = _batch(seeded, overlap=2, prompts=6, k=3)  # 18 items, 36 slots, 6 reviewers
    start = threading.Barrier(len(reviewers))
    failures: list[BaseException] = []

    def work(reviewer: int) -> None:
        try:
            start.wait()
            while True:
                with write_session(seeded.store) as s:  # queues on SQLite's write lock
                    task = next_task(s, batch, reviewer)
                    if task is None:
                        return
                    submit_rating(s, task.id, reviewer, GOOD)
        except BaseException as exc:  # reported below, with the thread's traceback lost
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(r,)) for r in reviewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    with seeded.store.session() as s:
        counts = [n for _, n in s.execute(
            select(Rating.item_id, func.count()).group_by(Rating.item_id)).all()]
        pairs = s.execute(select(Rating.item_id, Rating.reviewer_id)).all()
    assert len(counts) == 18 and set(counts) == {2}
    assert len(pairs) == len(set(pairs))  # distinct reviewers per item
