"""Stored reviews become the analytics' records: exports read them (both databases)."""

from __future__ import annotations

from review_seed import Seeded

from accord.review import (
    ADJUDICATOR,
    adjudicate,
    create_batch,
    expand_ranking,
    next_task,
    preference_rows,
    reviewed_completions,
    sft_rows,
    submit_ranking,
    submit_rating,
    task_view,
)

GOOD = {"offensive": 1, "one_sided": 1, "objectionable": "no", "over_refusal": "no",
        "preachy": 1, "helpful": 5, "follows_customisation": "yes", "issues": []}


def test_ratings_rankings_and_adjudications_reach_the_export_rows(seeded: Seeded):
    with seeded.store.session() as s:
        rating = create_batch(s, name="r", kind="rating", model_version=seeded.model,
                              spec_version=seeded.spec_version_id, prompts=2,
                              completions_per_prompt=1, overlap=2).id
        ranking = create_batch(s, name="c", kind="comparison", model_version=seeded.model,
                               spec_version=seeded.spec_version_id, prompts=1,
                               completions_per_prompt=3, overlap=2).id
    item = None
    for n, reviewer in enumerate(seeded.reviewers[:2]):
        while True:
            with seeded.store.session() as s:
                task = next_task(s, rating, reviewer)
                if task is None:
                    break
                item = task.item_id
                submit_rating(s, task.id, reviewer, {**GOOD, "helpful": 5 - n},
                              note="unsure" if n else "", unclear=["preachy"] if n else [])
        with seeded.store.session() as s:
            task = next_task(s, ranking, reviewer)
            ids = [c for c, _ in task_view(s, task).completions]
            submit_ranking(s, task.id, reviewer, [[ids[0]], [ids[1]], [ids[2]]])
    with seeded.store.session() as s:
        adjudicate(s, item, "helpful", 5, seeded.admin, note="it answers fully")
        rated, rankings, version = reviewed_completions(s, [rating, ranking])
    assert len(version) == 12 and len(rankings) == 2
    by_reviewer = {r.reviewer_id for c in rated for r in c.ratings if r.category == "helpful"}
    assert ADJUDICATOR in by_reviewer  # the decision replaced the reviewers' helpful answers
    assert any(n.unclear and n.category == "preachy" for c in rated for n in c.notes)
    assert [len(expand_ranking(r.tiers)) for r in rankings] == [3, 3]  # C(3, 2) pairs each
    assert preference_rows(rated, rankings)  # the export's own filters decide which pass
    assert all(row["messages"][-1]["role"] == "assistant" for row in sft_rows(rated))
