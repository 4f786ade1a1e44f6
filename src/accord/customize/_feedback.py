"""Public feedback on answers, and the admins' triage: review items or regression cases.

A flag names a guideline category (the spec's) and may carry a comment. Admins turn an
open item into a **review item** — the answer stored as a completion and added to the
spec version's "Feedback" review batch, so reviewers rate it like any other — or into a
**regression case** for the behaviour meter (:func:`regression_probes` hands the cases to
``accord.audit.measure(probes=...)``), or dismiss it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.customize._models import ChatAnswer, EnforcementEvent, Feedback, RegressionCase
from accord.customize._repo import answer_by_public_id
from accord.errors import AccordError
from accord.spec import Spec
from accord.store import NotFoundError, utcnow

KINDS = ("up", "down", "flag")
STATUSES = ("open", "review", "regression", "dismissed")
MAX_COMMENT = 2000
# The behaviour meter's probe sets a regression case may join.
PROBE_SETS = ("facts", "arithmetic", "contested", "groups", "insult_requests",
              "objectionable", "benign_borderline", "customisation")
# Where a flag's category sends a case unless the admin picks another set.
DEFAULT_PROBE = {"offensive": "insult_requests", "one_sided": "contested",
                 "objectionable": "objectionable", "over_refusal": "benign_borderline",
                 "preachy": "benign_borderline", "helpful": "facts",
                 "follows_customisation": "customisation"}


class FeedbackError(AccordError):
    """Feedback that cannot be recorded or triaged as asked."""


def add_feedback(session: Session, spec: Spec, *, answer_id: str, owner: str | None,
                 kind: str, category: str | None = None, comment: str = "") -> Feedback:
    """Record a thumbs up/down or a flag on an answer the caller received.

    Args:
        answer_id: the answer's public id (``chatcmpl-...``).
        owner: who gives it (``user:<id>`` / ``anon:<hash>``); must be who got the answer.
        kind: ``up``, ``down`` or ``flag``.
        category: a guideline category id (required for a flag, optional otherwise).
        comment: free text, up to 2000 characters.

    Raises:
        FeedbackError: bad kind, category or comment (the message lists what is allowed).
        NotFoundError: no such answer of the caller's.
    """
    if kind not in KINDS:
        raise FeedbackError(f"feedback kind {kind!r} is not allowed; allowed: "
                            f"{', '.join(KINDS)}")
    categories = [c.id for c in spec.guidelines.categories]
    if kind == "flag" and not category:
        raise FeedbackError("a flag needs a guideline category; allowed: "
                            + ", ".join(categories))
    if category and category not in categories:
        raise FeedbackError(f"category {category!r} is not a guideline category; allowed: "
                            + ", ".join(categories))
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
        raise FeedbackError(f"comment must be text of at most {MAX_COMMENT} characters")
    answer = answer_by_public_id(session, answer_id, owner)
    row = Feedback(answer_id=answer.id, owner=owner or answer.owner, kind=kind,
                   category=category or None, comment=comment.strip())
    session.add(row)
    session.flush()
    return row


def triage_queue(session: Session, status: str = "open", limit: int = 200) -> list[dict]:
    """Feedback items with their answers, newest first (flags before thumbs)."""
    if status not in STATUSES:
        raise FeedbackError(f"status {status!r} is not allowed; allowed: {', '.join(STATUSES)}")
    rows = session.execute(
        select(Feedback, ChatAnswer).join(ChatAnswer, ChatAnswer.id == Feedback.answer_id)
        .where(Feedback.status == status)
        .order_by((Feedback.kind == "flag").desc(), Feedback.id.desc()).limit(limit)).all()
    return [{"id": f.id, "kind": f.kind, "category": f.category, "comment": f.comment,
             "status": f.status, "created_at": f.created_at.isoformat(),
             "answer_id": a.public_id, "model": a.model, "settings": a.settings,
             "messages": a.messages, "text": a.text, "enforced": a.enforced,
             "source": a.source, "review_item_id": f.review_item_id} for f, a in rows]


def _open_item(session: Session, feedback_id: int) -> tuple[Feedback, ChatAnswer]:
    row = session.get(Feedback, feedback_id)
    if row is None:
        raise NotFoundError(f"no feedback with id {feedback_id}")
    if row.status != "open":
        raise FeedbackError(f"feedback {feedback_id} was already triaged ({row.status})")
    answer = session.get(ChatAnswer, row.answer_id)
    assert answer is not None
    return row, answer


def _close(row: Feedback, status: str, admin_id: int) -> None:
    row.status, row.triaged_by, row.triaged_at = status, admin_id, utcnow()


def to_review_item(session: Session, feedback_id: int, admin_id: int, *,
                   overlap: int = 2) -> int:
    """Make a rating item of the answer in the latest spec version's feedback batch.

    The answer is stored as a completion (prompt split ``feedback``) of the model version
    it came from (registered as ``served:<name>`` when the registry does not know it).

    Returns:
        The review item's id.

    Raises:
        FeedbackError: no spec version is stored yet.
    """
    from accord.review import ReviewBatch, ReviewItem, ReviewItemCompletion
    from accord.store import (
        ModelVersion,
        add_completions,
        latest_spec_version,
        register_model_version,
        upsert_prompt,
    )

    row, answer = _open_item(session, feedback_id)
    spec_row = latest_spec_version(session)
    if spec_row is None:
        raise FeedbackError("no spec version is stored; run the pipeline (or record the "
                            "spec) before making review items")
    model = session.scalars(select(ModelVersion).where(
        ModelVersion.name == answer.model)).one_or_none()
    if model is None:
        model = register_model_version(session, name=f"served:{answer.model}", stage="served",
                                       artifact_path=f"served:{answer.model}")
    prompt = upsert_prompt(session, answer.messages, split="feedback", source="feedback",
                           meta={"settings": answer.settings})
    completion = add_completions(session, [{"prompt_id": prompt.id, "model_version_id": model.id,
                                            "text": answer.text}])[0]
    name = f"Feedback ({spec_row.version})"
    batch = session.scalars(select(ReviewBatch).where(
        ReviewBatch.name == name, ReviewBatch.spec_version_id == spec_row.id)).first()
    if batch is None:
        batch = ReviewBatch(name=name, kind="rating", spec_version_id=spec_row.id,
                            model_version_id=model.id, overlap=overlap,
                            created_by=admin_id, config={"source": "feedback"})
        session.add(batch)
        session.flush()
    position = session.scalar(select(func.coalesce(func.max(ReviewItem.position), -1)).where(
        ReviewItem.batch_id == batch.id)) + 1
    item = ReviewItem(batch_id=batch.id, position=position, prompt_id=prompt.id)
    session.add(item)
    session.flush()
    session.add(ReviewItemCompletion(item_id=item.id, position=0, completion_id=completion.id))
    row.review_item_id = item.id
    _close(row, "review", admin_id)
    session.flush()
    return item.id


def to_regression_case(session: Session, feedback_id: int, admin_id: int,
                       probe: str | None = None, note: str = "") -> RegressionCase:
    """Make a regression case for the behaviour meter from a feedback item.

    Args:
        probe: the meter probe set it joins (default: by the flag's category).

    Raises:
        FeedbackError: ``probe`` is not one of the meter's probe sets.
    """
    row, answer = _open_item(session, feedback_id)
    probe = probe or DEFAULT_PROBE.get(row.category or "", "customisation")
    if probe not in PROBE_SETS:
        raise FeedbackError(f"probe set {probe!r} is not allowed; allowed: "
                            + ", ".join(PROBE_SETS))
    case = RegressionCase(feedback_id=row.id, probe=probe, messages=list(answer.messages),
                          settings=answer.settings, category=row.category,
                          note=note or row.comment, created_by=admin_id)
    session.add(case)
    _close(row, "regression", admin_id)
    session.flush()
    return case


def dismiss(session: Session, feedback_id: int, admin_id: int) -> None:
    """Close a feedback item without acting on it."""
    row, _ = _open_item(session, feedback_id)
    _close(row, "dismissed", admin_id)
    session.flush()


def regression_probes(session: Session) -> dict[str, list[dict[str, Any]]]:
    """The regression cases as meter probe records (``{set: [{messages, settings, ...}]}``)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for case in session.scalars(select(RegressionCase).order_by(RegressionCase.id)):
        out.setdefault(case.probe, []).append({
            "id": f"regression-{case.id}", "kind": case.probe, "messages": case.messages,
            "settings": case.settings, "probe": case.probe, "meta": {"note": case.note,
                                                                     "category": case.category}})
    return out


def feedback_counts(session: Session) -> dict[str, Any]:
    """Totals for the report: by kind, by flagged category, by triage status."""
    rows = session.execute(select(Feedback.kind, Feedback.category, Feedback.status)).all()
    return {"total": len(rows), "by_kind": dict(Counter(k for k, _, _ in rows)),
            "by_category": dict(Counter(c for k, c, _ in rows if k == "flag" and c)),
            "by_status": dict(Counter(s for _, _, s in rows))}


def enforcement_counts(session: Session) -> dict[str, Any]:
    """Totals for the report: answers served, events by bound and by outcome."""
    answers = session.scalar(select(func.count()).select_from(ChatAnswer)) or 0
    enforced = session.scalar(select(func.count()).select_from(ChatAnswer).where(
        ChatAnswer.enforced.is_(True))) or 0
    by_bound: Counter[str] = Counter()
    by_outcome: Counter[str] = Counter()
    for bounds, outcome in session.execute(select(EnforcementEvent.bounds,
                                                  EnforcementEvent.outcome)):
        by_bound.update(bounds)
        by_outcome[outcome] += 1
    return {"answers": answers, "answers_replaced": enforced,
            "events": sum(by_outcome.values()), "by_bound": dict(by_bound),
            "by_outcome": dict(by_outcome)}
