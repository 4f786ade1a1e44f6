"""Reviewers' tasks: hand out the next item, record ratings, rankings and skips.

Every write here is flushed in the caller's transaction; the web app commits it before
it answers, so an acknowledged rating survives a crash of the server.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from accord.review._batches import batch_spec
from accord.review._models import (
    Ranking,
    Rating,
    ReviewAssignment,
    ReviewBatch,
    ReviewItem,
    ReviewItemCompletion,
)
from accord.review._scales import RatingError, check_tiers, check_values
from accord.spec import Category
from accord.store import Completion, ConflictError, NotFoundError, Prompt, utcnow

# A task nobody submitted within this time goes back to the pool (its slot is freed), so
# an abandoned browser tab cannot hold an item forever.
TASK_TIMEOUT = timedelta(minutes=30)
_CANDIDATES = 8


@dataclass(frozen=True)
class TaskView:
    """Everything a reviewer sees for one task (gold items look like any other)."""

    id: int
    batch_id: int
    kind: str
    status: str
    messages: list[dict[str, str]]
    customisation: dict[str, Any]
    completions: list[tuple[int, str]]
    spec_version: str
    guidelines_version: str | None
    categories: list[Category]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "batch_id": self.batch_id, "kind": self.kind, "status": self.status,
            "messages": self.messages, "customisation": self.customisation,
            "completions": [{"id": cid, "text": text} for cid, text in self.completions],
            "spec_version": self.spec_version, "guidelines_version": self.guidelines_version,
            "categories": _categories_json(self.spec_version, self.categories),
        }


_CATEGORIES_JSON: dict[str, list[dict[str, Any]]] = {}


def _categories_json(spec_version: str, categories: list[Category]) -> list[dict[str, Any]]:
    # The same few kilobytes go out with every task of a batch; dump them once per version.
    dumped = _CATEGORIES_JSON.get(spec_version)
    if dumped is None:
        dumped = _CATEGORIES_JSON[spec_version] = [c.model_dump(mode="json")
                                                   for c in categories]
    return dumped


def get_batch(session: Session, batch_id: int) -> ReviewBatch:
    """The batch with this id. Raises NotFoundError."""
    batch = session.get(ReviewBatch, batch_id)
    if batch is None:
        raise NotFoundError(f"no review batch {batch_id}; see the batch list at /")
    return batch


def next_task(session: Session, batch_id: int, reviewer_id: int) -> ReviewAssignment | None:
    """The reviewer's open task in the batch, or a new one, or ``None`` when none is left.

    Items are handed out in their (shuffled) batch order, each to at most ``overlap``
    distinct reviewers; gold items go to every reviewer once. Safe under concurrent calls:
    a slot taken by someone else between our read and our insert makes us try the next.
    """
    batch = get_batch(session, batch_id)
    now = utcnow()
    mine = session.scalars(select(ReviewAssignment).where(
        ReviewAssignment.batch_id == batch_id, ReviewAssignment.reviewer_id == reviewer_id,
        ReviewAssignment.status == "assigned")).first()
    if mine is not None and mine.assigned_at >= now - TASK_TIMEOUT:
        return mine
    if mine is not None or _sweep_due(batch_id):
        session.execute(delete(ReviewAssignment).where(
            ReviewAssignment.batch_id == batch_id, ReviewAssignment.status == "assigned",
            ReviewAssignment.assigned_at < now - TASK_TIMEOUT))
    other = aliased(ReviewAssignment)
    taken = (select(func.count()).select_from(other)
             .where(other.item_id == ReviewItem.id, other.slot.is_not(None))
             .correlate(ReviewItem).scalar_subquery())
    seen = exists().where(other.item_id == ReviewItem.id, other.reviewer_id == reviewer_id)
    for _attempt in range(4):
        candidates = session.execute(
            select(ReviewItem.id, ReviewItem.is_gold, taken)
            .where(ReviewItem.batch_id == batch_id, ~seen,
                   (ReviewItem.is_gold.is_(True)) | (taken < batch.overlap))
            .order_by(ReviewItem.position).limit(_CANDIDATES)
        ).all()
        if not candidates:
            return None
        for item_id, is_gold, _count in candidates:
            task = _claim(session, batch, item_id, is_gold, reviewer_id)
            if task is not None:
                return task
    return None


_last_sweep: dict[int, float] = {}


def _sweep_due(batch_id: int) -> bool:
    """Whether to look for expired tasks now: at most every 30 s per batch and process,
    since a sweep is a write every reviewer would otherwise queue behind."""
    clock = time.monotonic()
    if clock - _last_sweep.get(batch_id, -1e9) < 30:
        return False
    _last_sweep[batch_id] = clock
    return True


def _claim(session: Session, batch: ReviewBatch, item_id: int, is_gold: bool,
           reviewer_id: int) -> ReviewAssignment | None:
    slot: int | None = None
    if not is_gold:
        used = set(session.scalars(select(ReviewAssignment.slot).where(
            ReviewAssignment.item_id == item_id, ReviewAssignment.slot.is_not(None))))
        free = [s for s in range(batch.overlap) if s not in used]
        if not free:
            return None
        slot = free[0]
    task = ReviewAssignment(batch_id=batch.id, item_id=item_id, reviewer_id=reviewer_id,
                            slot=slot, status="assigned", assigned_at=utcnow())
    try:
        with session.begin_nested():
            session.add(task)
    except IntegrityError:
        return None  # someone took the slot (or this reviewer raced themself): next item
    return task


def own_task(session: Session, task_id: int, reviewer_id: int) -> ReviewAssignment:
    """The reviewer's task ``task_id``; another reviewer's task is reported as not found."""
    task = session.get(ReviewAssignment, task_id)
    if task is None or task.reviewer_id != reviewer_id:
        raise NotFoundError(f"no task {task_id} of yours; it may have expired after "
                            f"{TASK_TIMEOUT.seconds // 60} minutes. Take the next task instead")
    return task


def task_view(session: Session, task: ReviewAssignment) -> TaskView:
    """What the reviewer sees: the prompt, the completion(s), and the guideline version."""
    batch = get_batch(session, task.batch_id)
    item = session.get(ReviewItem, task.item_id)
    assert item is not None
    prompt = session.get(Prompt, item.prompt_id)
    assert prompt is not None
    rows = session.execute(
        select(Completion.id, Completion.text)
        .join(ReviewItemCompletion, ReviewItemCompletion.completion_id == Completion.id)
        .where(ReviewItemCompletion.item_id == item.id).order_by(ReviewItemCompletion.position)
    ).all()
    spec_row, spec = batch_spec(session, batch)
    return TaskView(
        id=task.id, batch_id=batch.id, kind=batch.kind, status=task.status,
        messages=list(prompt.messages),
        customisation=dict(prompt.meta.get("customisation") or {}),
        completions=[(cid, text) for cid, text in rows],
        spec_version=spec_row.version, guidelines_version=spec.guidelines.version,
        categories=list(spec.guidelines.categories),
    )


def submit_rating(session: Session, task_id: int, reviewer_id: int, values: dict[str, Any], *,
                  note: str = "", unclear: list[str] | None = None) -> Rating:
    """Record a rating for the reviewer's task.

    Categories marked ``unclear`` may be left unrated. Submitting the same answers again
    (a client retrying after a lost response) returns the stored rating.

    Raises:
        NotFoundError: not the reviewer's task (or it expired).
        ConflictError: the task was skipped, is a comparison, or was answered differently.
        RatingError: a value off its scale, or a category missing.
    """
    task = own_task(session, task_id, reviewer_id)
    batch = get_batch(session, task.batch_id)
    if batch.kind != "rating":
        raise ConflictError(f"task {task_id} is a comparison; submit a ranking, not a rating")
    spec_row, spec = batch_spec(session, batch)
    unclear = sorted(set(unclear or []))
    known = {c.id for c in spec.guidelines.categories}
    if set(unclear) - known:
        raise RatingError(f"unclear names unknown categories {sorted(set(unclear) - known)}; "
                          f"allowed: {', '.join(sorted(known))}")
    checked = check_values(spec.guidelines.categories, values, partial=bool(unclear))
    previous = session.scalars(select(Rating).where(Rating.assignment_id == task.id)).first()
    if previous is not None:
        if previous.values == checked and previous.note == note.strip():
            return previous
        raise ConflictError(f"task {task_id} was already rated; a rating cannot be changed")
    _check_open(task)
    completion_id = session.scalars(select(ReviewItemCompletion.completion_id).where(
        ReviewItemCompletion.item_id == task.item_id)).one()
    now = utcnow()
    rating = Rating(assignment_id=task.id, item_id=task.item_id, completion_id=completion_id,
                    reviewer_id=reviewer_id, spec_version_id=spec_row.id, values=checked,
                    note=note.strip(), unclear=unclear, created_at=now,
                    seconds=(now - task.assigned_at).total_seconds())
    session.add(rating)
    task.status, task.submitted_at = "submitted", now
    session.flush()
    return rating


def submit_ranking(session: Session, task_id: int, reviewer_id: int, tiers: Any, *,
                   note: str = "", unclear: bool = False) -> Ranking:
    """Record a ranking (tiers best first; ties share a tier) for the reviewer's task.

    Raises:
        NotFoundError, ConflictError, RatingError: as :func:`submit_rating`.
    """
    task = own_task(session, task_id, reviewer_id)
    batch = get_batch(session, task.batch_id)
    if batch.kind != "comparison":
        raise ConflictError(f"task {task_id} is a rating task; submit a rating, not a ranking")
    ids = list(session.scalars(select(ReviewItemCompletion.completion_id).where(
        ReviewItemCompletion.item_id == task.item_id)))
    checked = check_tiers(ids, tiers)
    previous = session.scalars(select(Ranking).where(Ranking.assignment_id == task.id)).first()
    if previous is not None:
        if previous.tiers == checked:
            return previous
        raise ConflictError(f"task {task_id} was already ranked; a ranking cannot be changed")
    _check_open(task)
    now = utcnow()
    ranking = Ranking(assignment_id=task.id, item_id=task.item_id, reviewer_id=reviewer_id,
                      spec_version_id=batch.spec_version_id, tiers=checked, note=note.strip(),
                      unclear=unclear, created_at=now,
                      seconds=(now - task.assigned_at).total_seconds())
    session.add(ranking)
    task.status, task.submitted_at = "submitted", now
    session.flush()
    return ranking


def skip_task(session: Session, task_id: int, reviewer_id: int) -> ReviewAssignment:
    """Give the task back: its slot goes to another reviewer; this one won't see it again."""
    task = own_task(session, task_id, reviewer_id)
    if task.status == "skipped":
        return task
    _check_open(task)
    task.status, task.slot, task.submitted_at = "skipped", None, utcnow()
    session.flush()
    return task


def _check_open(task: ReviewAssignment) -> None:
    if task.status != "assigned":
        raise ConflictError(f"task {task.id} is {task.status}; take the next task instead")


def reviewer_progress(session: Session, batch_id: int, reviewer_id: int) -> dict[str, int]:
    """How many tasks this reviewer finished in the batch, and how many items remain open
    to them (not yet seen, with a free slot)."""
    done = session.scalar(select(func.count()).select_from(ReviewAssignment).where(
        ReviewAssignment.batch_id == batch_id, ReviewAssignment.reviewer_id == reviewer_id,
        ReviewAssignment.status == "submitted")) or 0
    batch = get_batch(session, batch_id)
    other = aliased(ReviewAssignment)
    taken = (select(func.count()).select_from(other)
             .where(other.item_id == ReviewItem.id, other.slot.is_not(None))
             .correlate(ReviewItem).scalar_subquery())
    seen = exists().where(and_(other.item_id == ReviewItem.id, other.reviewer_id == reviewer_id))
    left = session.scalar(select(func.count()).select_from(ReviewItem).where(
        ReviewItem.batch_id == batch_id, ~seen,
        ReviewItem.is_gold.is_(True) | (taken < batch.overlap))) or 0
    return {"done": int(done), "left": int(left)}
