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

from accord.review._batches import _SPECS, SpecRef, spec_of
from accord.review._models import (
    Ranking,
    Rating,
    ReviewAssignment,
    ReviewBatch,
    ReviewItem,
    ReviewItemCompletion,
)
from accord.review._scales import RatingError, check_tiers, check_values
from accord.spec import Category, Spec
from accord.store import (
    Completion,
    ConflictError,
    NotFoundError,
    Prompt,
    SpecVersion,
    utcnow,
)

# A task nobody submitted within this time goes back to the pool (its slot is freed), so
# an abandoned browser tab cannot hold an item forever.
TASK_TIMEOUT = timedelta(minutes=30)
_ATTEMPTS = 8


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
    first_open = (select(ReviewItem.id, ReviewItem.is_gold)
                  .where(ReviewItem.batch_id == batch_id, ~seen,
                         (ReviewItem.is_gold.is_(True)) | (taken < batch.overlap))
                  .order_by(ReviewItem.position).limit(1))
    row_locks = session.get_bind().dialect.name == "postgresql"
    for _attempt in range(_ATTEMPTS):
        # A savepoint per attempt: a failed claim gives back the item's row lock at once,
        # so this transaction never holds a lock on an item it did not take.
        attempt = session.begin_nested()
        try:
            found = _lock_first_open(session, first_open, row_locks)
            if found is None:
                attempt.commit()
                return None
            task = _claim(session, batch, found[0], found[1], reviewer_id)
        except IntegrityError:
            task = None  # someone took the slot (or this reviewer raced themself)
        if task is None:
            attempt.rollback()
            continue
        attempt.commit()
        return task
    raise ConflictError(f"could not hand out a task of batch {batch_id} after {_ATTEMPTS} "
                        "tries (many reviewers at once); ask again")


def _lock_first_open(session: Session, first_open: Any, row_locks: bool) -> Any:
    """The first open item (id, is_gold), row-locked on PostgreSQL.

    Every reviewer asking at once wants the same first item; inserting the same
    (item, slot) in concurrent transactions makes each wait for the other's commit, a
    convoy that held every connection under load. Instead a claimer locks the item row
    and the others skip locked rows (``SKIP LOCKED``) and take the next item. Only when
    every open item is being claimed right now does it wait for one (``None`` must mean
    that nothing is left, not that others were busy). SQLite needs none of this: its
    writers are serialised by the write lock.
    """
    if not row_locks:
        return session.execute(first_open).first()
    # FOR NO KEY UPDATE: claimers exclude each other, but not a reviewer submitting a
    # rating of the same item (the rating's foreign key takes a KEY SHARE lock on the item
    # row, which FOR UPDATE would make wait for the claimer's commit).
    found = session.execute(first_open.with_for_update(
        of=ReviewItem, key_share=True, skip_locked=True)).first()
    if found is None:
        found = session.execute(first_open.with_for_update(of=ReviewItem, key_share=True)).first()
    return found


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
    session.add(task)
    session.flush()  # IntegrityError: the slot was taken after all (the caller rolls back)
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
    # One round trip (the prompt repeats on each of the K completion rows): it runs for
    # every task handed out.
    rows = session.execute(
        select(Completion.id, Completion.text, Prompt.messages, Prompt.meta, ReviewBatch.kind,
               SpecVersion.id, SpecVersion.hash, SpecVersion.version)
        .join(ReviewItemCompletion, ReviewItemCompletion.completion_id == Completion.id)
        .join(ReviewItem, ReviewItem.id == ReviewItemCompletion.item_id)
        .join(Prompt, Prompt.id == ReviewItem.prompt_id)
        .join(ReviewBatch, ReviewBatch.id == ReviewItem.batch_id)
        .join(SpecVersion, SpecVersion.id == ReviewBatch.spec_version_id)
        .where(ReviewItemCompletion.item_id == task.item_id)
        .order_by(ReviewItemCompletion.position)).all()
    if not rows:
        raise NotFoundError(f"task {task.id}: its item has no completions")
    first = rows[0]
    spec_ref = SpecRef(first[5], first[6], first[7])
    spec = _spec_by_ref(session, spec_ref)
    return TaskView(
        id=task.id, batch_id=task.batch_id, kind=first.kind, status=task.status,
        messages=list(first.messages),
        customisation=dict((first.meta or {}).get("customisation") or {}),
        completions=[(row[0], row[1]) for row in rows],
        spec_version=spec_ref.version, guidelines_version=spec.guidelines.version,
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
    task, kind, spec_ref, previous, completion_id = _rating_context(session, task_id,
                                                                    reviewer_id)
    if kind != "rating":
        raise ConflictError(f"task {task_id} is a comparison; submit a ranking, not a rating")
    spec = _spec_by_ref(session, spec_ref)
    unclear = sorted(set(unclear or []))
    known = {c.id for c in spec.guidelines.categories}
    if set(unclear) - known:
        raise RatingError(f"unclear names unknown categories {sorted(set(unclear) - known)}; "
                          f"allowed: {', '.join(sorted(known))}")
    checked = check_values(spec.guidelines.categories, values, partial=bool(unclear))
    if previous is not None:
        if previous.values == checked and previous.note == note.strip():
            return previous
        raise ConflictError(f"task {task_id} was already rated; a rating cannot be changed")
    _check_open(task)
    now = utcnow()
    rating = Rating(assignment_id=task.id, item_id=task.item_id, completion_id=completion_id,
                    reviewer_id=reviewer_id, spec_version_id=spec_ref.id, values=checked,
                    note=note.strip(), unclear=unclear, created_at=now,
                    seconds=(now - task.assigned_at).total_seconds())
    session.add(rating)
    task.status, task.submitted_at = "submitted", now
    session.flush()
    return rating


def _rating_context(session: Session, task_id: int, reviewer_id: int,
                    ) -> tuple[ReviewAssignment, str, SpecRef, Rating | None, int]:
    """The task, its batch's kind and spec version, any earlier rating and the rated
    completion: one round trip to the database, since this runs on every submission."""
    completion = (select(ReviewItemCompletion.completion_id)
                  .where(ReviewItemCompletion.item_id == ReviewAssignment.item_id)
                  .correlate(ReviewAssignment).limit(1).scalar_subquery())
    row = session.execute(
        select(ReviewAssignment, ReviewBatch.kind, SpecVersion.id, SpecVersion.hash,
               SpecVersion.version, Rating, completion)
        .join(ReviewBatch, ReviewBatch.id == ReviewAssignment.batch_id)
        .join(SpecVersion, SpecVersion.id == ReviewBatch.spec_version_id)
        .outerjoin(Rating, Rating.assignment_id == ReviewAssignment.id)
        .where(ReviewAssignment.id == task_id)).first()
    if row is None or row[0].reviewer_id != reviewer_id:
        own_task(session, task_id, reviewer_id)  # raises NotFoundError with its message
    assert row is not None
    return row[0], row[1], SpecRef(row[2], row[3], row[4]), row[5], row[6]


def _spec_by_ref(session: Session, ref: SpecRef) -> Spec:
    """The parsed spec of a version; its content is read only the first time."""
    cached = _SPECS.get(ref.hash)
    if cached is not None:
        return cached
    full = session.get(SpecVersion, ref.id)
    assert full is not None  # a foreign key
    return spec_of(full)


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
