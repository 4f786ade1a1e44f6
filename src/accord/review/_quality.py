"""What admins see of a batch: progress, agreement, reviewer quality, disagreements, and
adjudication of the items reviewers disagreed on.

Figures are computed from the stored rows on request; every per-reviewer figure says
whether the reviewer is simulated.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from statistics import median
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.accounts import User
from accord.review._agreement import (
    RankingRecord,
    RatingRecord,
    alpha_by_category,
    gold_accuracy,
    pairwise_agreement,
    reviewer_agreement,
)
from accord.review._batches import batch_spec
from accord.review._models import (
    Adjudication,
    Ranking,
    Rating,
    ReviewAssignment,
    ReviewBatch,
    ReviewItem,
    ReviewItemCompletion,
)
from accord.review._repo import get_batch
from accord.review._scales import RatingError, check_tiers, check_values
from accord.store import NotFoundError


@dataclass(frozen=True)
class BatchProgress:
    """How far a batch is: submitted reviews of non-gold items against items × overlap."""

    batch_id: int
    items: int
    gold_items: int
    overlap: int
    needed: int
    submitted: int
    complete_items: int
    reviewers: int

    @property
    def fraction(self) -> float:
        return min(1.0, self.submitted / self.needed) if self.needed else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "fraction": round(self.fraction, 4)}


def batch_progress(session: Session, batch_id: int) -> BatchProgress:
    """Counts for the batch's progress bar."""
    batch = get_batch(session, batch_id)
    items = dict(session.execute(
        select(ReviewItem.is_gold, func.count()).where(ReviewItem.batch_id == batch_id)
        .group_by(ReviewItem.is_gold)).all())
    per_item = session.execute(
        select(ReviewAssignment.item_id, func.count())
        .join(ReviewItem, ReviewItem.id == ReviewAssignment.item_id)
        .where(ReviewAssignment.batch_id == batch_id, ReviewAssignment.status == "submitted",
               ReviewItem.is_gold.is_(False))
        .group_by(ReviewAssignment.item_id)).all()
    reviewers = session.scalar(
        select(func.count(func.distinct(ReviewAssignment.reviewer_id)))
        .where(ReviewAssignment.batch_id == batch_id, ReviewAssignment.status == "submitted"))
    regular = int(items.get(False, 0))
    return BatchProgress(
        batch_id=batch_id, items=regular, gold_items=int(items.get(True, 0)),
        overlap=batch.overlap, needed=regular * batch.overlap,
        submitted=sum(min(n, batch.overlap) for _, n in per_item),
        complete_items=sum(1 for _, n in per_item if n >= batch.overlap),
        reviewers=int(reviewers or 0),
    )


def rating_records(session: Session, batch_id: int, *, gold: bool = False,
                   include_simulated: bool = True) -> list[RatingRecord]:
    """Submitted ratings of the batch's regular (or, with ``gold``, gold) items, one record
    per category, marked simulated where a simulated reviewer made them."""
    batch = get_batch(session, batch_id)
    spec_row, spec = batch_spec(session, batch)
    known = {c.id for c in spec.guidelines.categories}
    query = (select(Rating.item_id, Rating.reviewer_id, Rating.values, User.is_simulated)
             .join(ReviewItem, ReviewItem.id == Rating.item_id)
             .join(User, User.id == Rating.reviewer_id)
             .where(ReviewItem.batch_id == batch_id, ReviewItem.is_gold.is_(gold)))
    if not include_simulated:
        query = query.where(User.is_simulated.is_(False))
    return [RatingRecord(str(item_id), str(reviewer_id), category, value, spec_row.version,
                         simulated=simulated)
            for item_id, reviewer_id, values, simulated in session.execute(query)
            for category, value in values.items() if category in known]


def batch_agreement(session: Session, batch_id: int) -> dict[str, Any]:
    """Krippendorff's alpha per category (ratings; flags per flag) or pairwise agreement
    (rankings) over the regular items; ``simulated`` says if simulated reviewers took part."""
    batch = get_batch(session, batch_id)
    _, spec = batch_spec(session, batch)
    if batch.kind == "rating":
        records = rating_records(session, batch_id)
        levels = {c.id: c.scale.type for c in spec.guidelines.categories}
        results = alpha_by_category(records, levels)
        return {"kind": "rating", "simulated_reviewers": any(r.simulated for r in records),
                "alpha": {k: v.to_dict() for k, v in results.items()}}
    rankings = _ranking_records(session, batch_id, gold=False)
    return {"kind": "comparison", "simulated_reviewers": any(r.simulated for r in rankings),
            "pairwise": dict(pairwise_agreement(rankings).__dict__)}


def _ranking_records(session: Session, batch_id: int, *, gold: bool) -> list[RankingRecord]:
    rows = session.execute(
        select(Ranking.item_id, Ranking.reviewer_id, Ranking.tiers, User.is_simulated)
        .join(ReviewItem, ReviewItem.id == Ranking.item_id)
        .join(User, User.id == Ranking.reviewer_id)
        .where(ReviewItem.batch_id == batch_id, ReviewItem.is_gold.is_(gold))).all()
    return [RankingRecord(str(item), str(reviewer), [[str(c) for c in t] for t in tiers],
                          simulated=simulated)
            for item, reviewer, tiers, simulated in rows]


def reviewer_quality(session: Session, batch_id: int) -> list[dict[str, Any]]:
    """Per reviewer: tasks done, median seconds, gold accuracy, agreement with peers
    (Likert within one point of the peers' mean, other scales the peers' majority)."""
    batch = get_batch(session, batch_id)
    timing = session.execute(
        select(ReviewAssignment.reviewer_id, ReviewAssignment.assigned_at,
               ReviewAssignment.submitted_at)
        .where(ReviewAssignment.batch_id == batch_id, ReviewAssignment.status == "submitted")
    ).all()
    seconds: dict[int, list[float]] = defaultdict(list)
    for reviewer, start, end in timing:
        seconds[reviewer].append((end - start).total_seconds())
    gold_items = {item.id: item.gold_answer or {} for item in session.scalars(
        select(ReviewItem).where(ReviewItem.batch_id == batch_id, ReviewItem.is_gold.is_(True)))}
    if batch.kind == "rating":
        peers = reviewer_agreement(rating_records(session, batch_id))
        truth = {(str(item), category): value for item, answer in gold_items.items()
                 for category, value in answer.items()}
        gold = gold_accuracy(rating_records(session, batch_id, gold=True), truth)
    else:
        peers = _ranking_peer_agreement(_ranking_records(session, batch_id, gold=False))
        gold = _ranking_gold(_ranking_records(session, batch_id, gold=True), gold_items)
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(seconds)))}
    return [{
        "reviewer_id": reviewer, "username": users[reviewer].username,
        "simulated": users[reviewer].is_simulated, "tasks": len(times),
        "median_seconds": round(median(times), 1),
        "gold_accuracy": _round(gold.get(str(reviewer))),
        "peer_agreement": _round(peers.get(str(reviewer))),
    } for reviewer, times in sorted(seconds.items(), key=lambda kv: users[kv[0]].username)]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _ranking_peer_agreement(records: list[RankingRecord]) -> dict[str, float]:
    by_group: dict[str, list[RankingRecord]] = defaultdict(list)
    for r in records:
        by_group[r.group_id].append(r)
    shares: dict[str, list[float]] = defaultdict(list)
    for group in by_group.values():
        for mine in group:
            for other in group:
                if other.reviewer_id != mine.reviewer_id:
                    rate = pairwise_agreement([mine, other]).rate
                    if rate is not None:
                        shares[mine.reviewer_id].append(rate)
    return {r: sum(v) / len(v) for r, v in shares.items()}


def _ranking_gold(records: list[RankingRecord],
                  gold_items: dict[int, dict[str, Any]]) -> dict[str, float]:
    shares: dict[str, list[float]] = defaultdict(list)
    for r in records:
        tiers = gold_items.get(int(r.group_id), {}).get("tiers")
        if tiers:
            truth = RankingRecord(r.group_id, "gold", [[str(c) for c in t] for t in tiers])
            rate = pairwise_agreement([r, truth]).rate
            if rate is not None:
                shares[r.reviewer_id].append(rate)
    return {r: sum(v) / len(v) for r, v in shares.items()}


def disagreements(session: Session, batch_id: int, *, with_text: bool = True,
                  items: Collection[int] | None = None) -> list[dict[str, Any]]:
    """Non-gold items where reviewers gave different answers, with what each gave (by
    reviewer name: admins need it to judge) and any adjudication already made.

    Args:
        with_text: Add each item's prompt and completions (two queries an item: leave out
            to rank a thousand disagreements, then ask again for the page shown).
        items: Only these item ids.
    """
    batch = get_batch(session, batch_id)
    table = Rating if batch.kind == "rating" else Ranking
    answer_col = Rating.values if table is Rating else Ranking.tiers
    rows = session.execute(
        select(table.item_id, User.username, answer_col)
        .join(ReviewItem, ReviewItem.id == table.item_id).join(User, User.id == table.reviewer_id)
        .where(ReviewItem.batch_id == batch_id, ReviewItem.is_gold.is_(False))
        .order_by(table.item_id, User.username)).all()
    by_item: dict[int, list[tuple[str, Any]]] = defaultdict(list)
    for item, username, answer in rows:
        by_item[item].append((username, answer))
    decided: dict[int, dict[str, Any]] = defaultdict(dict)
    for adj in session.scalars(select(Adjudication).join(ReviewItem).where(
            ReviewItem.batch_id == batch_id)):
        decided[adj.item_id][adj.category] = adj.value
    found = []
    for item, answers in by_item.items():
        if len(answers) < 2 or (items is not None and item not in items):
            continue
        if batch.kind == "rating":
            split = sorted({k for _, a in answers for k in a
                            if len({repr(b.get(k)) for _, b in answers if k in b}) > 1})
        else:
            split = ["ranking"] if len({repr(a) for _, a in answers}) > 1 else []
        if split:
            found.append({"item_id": item, "categories": split, "answers": answers,
                          "adjudicated": decided.get(item, {}),
                          **(_item_text(session, item) if with_text else {})})
    return found


def _item_text(session: Session, item_id: int) -> dict[str, Any]:
    """The prompt and completion(s) of an item, for an admin deciding on it."""
    from accord.store import Completion, Prompt

    item = session.get(ReviewItem, item_id)
    assert item is not None
    prompt = session.get(Prompt, item.prompt_id)
    rows = session.execute(
        select(Completion.id, Completion.text)
        .join(ReviewItemCompletion, ReviewItemCompletion.completion_id == Completion.id)
        .where(ReviewItemCompletion.item_id == item_id)
        .order_by(ReviewItemCompletion.position)).all()
    return {"messages": list(prompt.messages) if prompt else [],
            "completions": [{"id": cid, "text": text} for cid, text in rows]}


def adjudicate(session: Session, item_id: int, category: str, value: Any, decided_by: int,
               note: str = "") -> Adjudication:
    """Record (or replace) the final answer for one category of an item (``"ranking"`` for
    a comparison item).

    Raises:
        NotFoundError: no such item. RatingError: the value does not fit the scale.
    """
    item = session.get(ReviewItem, item_id)
    if item is None:
        raise NotFoundError(f"no review item {item_id}")
    batch = session.get(ReviewBatch, item.batch_id)
    assert batch is not None
    if batch.kind == "rating":
        _, spec = batch_spec(session, batch)
        value = check_values(spec.guidelines.categories, {category: value}, partial=True)[category]
    else:
        if category != "ranking":
            raise RatingError("a comparison item is adjudicated as category 'ranking'")
        ids = session.scalars(select(ReviewItemCompletion.completion_id).where(
            ReviewItemCompletion.item_id == item_id))
        value = check_tiers(list(ids), value)
    row = session.scalars(select(Adjudication).where(
        Adjudication.item_id == item_id, Adjudication.category == category)).first()
    if row is None:
        row = Adjudication(item_id=item_id, category=category, value=value, note=note,
                           decided_by=decided_by)
        session.add(row)
    else:
        row.value, row.note, row.decided_by = value, note, decided_by
    session.flush()
    return row

