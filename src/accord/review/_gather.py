"""From stored reviews to the analytics' records: what exports and clarity reports read.

Ratings of a completion become :class:`RatedCompletion` (keyed by completion id, so the
same completion reviewed in two batches pools its ratings); rankings become
:class:`RankingRecord`; notes and "unclear" marks become :class:`Note`. An adjudicated
category replaces the reviewers' answers on that completion with the admin's decision.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.accounts import User
from accord.errors import AccordError
from accord.review._agreement import RankingRecord, RatingRecord
from accord.review._batches import batch_spec
from accord.review._clarity import Note
from accord.review._export import RatedCompletion
from accord.review._models import (
    Adjudication,
    Ranking,
    Rating,
    ReviewAssignment,
    ReviewItem,
    ReviewItemCompletion,
)
from accord.review._repo import get_batch
from accord.store import Completion, ModelVersion, Prompt

ADJUDICATOR = "adjudication"


def reviewed_completions(session: Session, batch_ids: Sequence[int],
                         ) -> tuple[list[RatedCompletion], list[RankingRecord], str]:
    """The reviewed completions and rankings of some batches, and their spec version.

    Gold items are left out (they are for measuring reviewers, not training data).

    Raises:
        NotFoundError: a batch does not exist.
        AccordError: the batches were reviewed against different spec versions (their
            ratings mean different things; export them separately).
    """
    versions = {}
    for batch_id in batch_ids:
        ref, _ = batch_spec(session, get_batch(session, batch_id))
        versions[batch_id] = ref.version
    if len(set(versions.values())) > 1:
        raise AccordError(f"batches {sorted(versions)} were reviewed against different spec "
                          f"versions {versions}; export each version separately")
    version = next(iter(versions.values()), "")
    items = session.execute(
        select(ReviewItem.id, ReviewItem.batch_id, ReviewItem.prompt_id,
               ReviewItemCompletion.completion_id)
        .join(ReviewItemCompletion, ReviewItemCompletion.item_id == ReviewItem.id)
        .where(ReviewItem.batch_id.in_(batch_ids), ReviewItem.is_gold.is_(False))).all()
    completion_ids = sorted({row.completion_id for row in items})
    texts = {c.id: c for c in session.scalars(
        select(Completion).where(Completion.id.in_(completion_ids)))}
    prompts = {p.id: p for p in session.scalars(select(Prompt).where(
        Prompt.id.in_({c.prompt_id for c in texts.values()})))}
    models = dict(session.execute(select(ModelVersion.id, ModelVersion.name).where(
        ModelVersion.id.in_({c.model_version_id for c in texts.values()}))).all())
    item_ids = sorted({row.id for row in items})
    ratings, notes = _ratings(session, item_ids, version)
    skipped = dict(session.execute(
        select(ReviewItemCompletion.completion_id, func.count())
        .join(ReviewAssignment, ReviewAssignment.item_id == ReviewItemCompletion.item_id)
        .where(ReviewAssignment.item_id.in_(item_ids), ReviewAssignment.status == "skipped")
        .group_by(ReviewItemCompletion.completion_id)).all())
    batch_of = {row.completion_id: row.batch_id for row in items}
    rated = [RatedCompletion(
        completion_id=str(cid), prompt_messages=list(prompts[texts[cid].prompt_id].messages),
        text=texts[cid].text, ratings=ratings.get(cid, []), notes=notes.get(cid, []),
        skipped=int(skipped.get(cid, 0)),
        meta={"prompt_id": texts[cid].prompt_id, "batch_id": batch_of[cid],
              "model_version": models.get(texts[cid].model_version_id)})
        for cid in completion_ids]
    return rated, _rankings(session, item_ids), version


def _ratings(session: Session, item_ids: list[int], version: str,
             ) -> tuple[dict[int, list[RatingRecord]], dict[int, list[Note]]]:
    rows = session.execute(
        select(Rating.completion_id, Rating.item_id, Rating.reviewer_id, Rating.values,
               Rating.note, Rating.unclear, User.is_simulated)
        .join(User, User.id == Rating.reviewer_id)
        .where(Rating.item_id.in_(item_ids))).all()
    decided: dict[int, dict[str, Any]] = defaultdict(dict)
    for adj in session.scalars(select(Adjudication).where(Adjudication.item_id.in_(item_ids))):
        decided[adj.item_id][adj.category] = adj.value
    ratings: dict[int, list[RatingRecord]] = defaultdict(list)
    notes: dict[int, list[Note]] = defaultdict(list)
    done: set[tuple[int, str]] = set()
    for cid, item, reviewer, values, note, unclear, simulated in rows:
        for category, value in values.items():
            if category in decided[item]:
                if (cid, category) not in done:
                    done.add((cid, category))
                    ratings[cid].append(RatingRecord(str(cid), ADJUDICATOR, category,
                                                     decided[item][category], version))
                continue
            ratings[cid].append(RatingRecord(str(cid), str(reviewer), category, value, version,
                                             simulated=simulated))
        for category in unclear:
            notes[cid].append(Note(str(cid), str(reviewer), category, note, True, simulated))
        if note and not unclear:
            notes[cid].append(Note(str(cid), str(reviewer), None, note, False, simulated))
    return ratings, notes


def _rankings(session: Session, item_ids: list[int]) -> list[RankingRecord]:
    rows = session.execute(
        select(Ranking.item_id, Ranking.reviewer_id, Ranking.tiers, User.is_simulated)
        .join(User, User.id == Ranking.reviewer_id)
        .where(Ranking.item_id.in_(item_ids)).order_by(Ranking.id)).all()
    decided = dict(session.execute(select(Adjudication.item_id, Adjudication.value).where(
        Adjudication.item_id.in_(item_ids), Adjudication.category == "ranking")).all())
    records = [RankingRecord(str(item), str(reviewer), [[str(c) for c in t] for t in tiers],
                             simulated=simulated)
               for item, reviewer, tiers, simulated in rows if item not in decided]
    records += [RankingRecord(str(item), ADJUDICATOR, [[str(c) for c in t] for t in tiers])
                for item, tiers in decided.items()]
    return records
