"""Review tables: batches, items, assignments, ratings, rankings, adjudications, and the
reviewers' demographic self-reports (kept apart from accounts, which are in
``accord.accounts``).

Migration 0002 creates them; tests/store checks the migration against these models.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

# Imported so that the ``users`` table these rows point at is on the metadata whenever they
# are (a create_all or a join needs it).
from accord.accounts import User  # noqa: F401
from accord.store import Base, JSONType, UTCDateTime, utcnow


class ReviewBatch(Base):
    """A set of items drawn from one model version's stored completions, reviewed against
    one spec version (the guidelines shown are that version's, whatever is newer)."""

    __tablename__ = "review_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # "rating" or "comparison"
    spec_version_id: Mapped[int] = mapped_column(ForeignKey("spec_versions.id"))
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"))
    # Each non-gold item is reviewed by this many distinct reviewers.
    overlap: Mapped[int] = mapped_column(Integer)
    # How it was drawn (prompts, completions per prompt, seed, split), for provenance.
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReviewItem(Base):
    """One thing to review: a completion to rate, or K completions of a prompt to rank."""

    __tablename__ = "review_items"
    __table_args__ = (Index(None, "batch_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("review_batches.id", ondelete="CASCADE"))
    # Reviewers get items in this (shuffled) order, gold items mixed in.
    position: Mapped[int] = mapped_column(Integer)
    prompt_id: Mapped[int] = mapped_column(ForeignKey("prompts.id"))
    # Gold items have a known answer; every reviewer sees each one once.
    is_gold: Mapped[bool] = mapped_column(Boolean, default=False)
    # Rating: {category: value}; comparison: {"tiers": [[completion ids], ...]}.
    gold_answer: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)


class ReviewItemCompletion(Base):
    """The completions an item shows, in display order (one for rating, K for ranking)."""

    __tablename__ = "review_item_completions"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("review_items.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    completion_id: Mapped[int] = mapped_column(ForeignKey("completions.id"), index=True)


class ReviewAssignment(Base):
    """A task: one item given to one reviewer.

    ``slot`` (0..overlap-1) is unique per item, so concurrent reviewers can never push an
    item past its overlap: the second insert of a slot fails and takes the next one. Gold
    items and skipped tasks hold no slot (NULL is never equal to NULL in a unique key).
    """

    __tablename__ = "review_assignments"
    __table_args__ = (
        UniqueConstraint("item_id", "reviewer_id"),
        UniqueConstraint("item_id", "slot"),
        Index(None, "batch_id", "reviewer_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("review_batches.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("review_items.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    slot: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="assigned")  # submitted, skipped
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Rating(Base):
    """A reviewer's answers for one completion, tied to the guideline version shown."""

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("review_assignments.id", ondelete="CASCADE"), unique=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("review_items.id", ondelete="CASCADE"))
    completion_id: Mapped[int] = mapped_column(ForeignKey("completions.id"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    spec_version_id: Mapped[int] = mapped_column(ForeignKey("spec_versions.id"))
    # {category id: likert int | "yes"/"no" | [flag ids]}; unrated categories are absent.
    values: Mapped[dict[str, Any]] = mapped_column(JSONType)
    note: Mapped[str] = mapped_column(Text, default="")
    # Categories whose guideline the reviewer found unclear on this item.
    unclear: Mapped[list[str]] = mapped_column(JSONType, default=list)
    seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Ranking(Base):
    """A reviewer's ranking of an item's completions: best tier first, ties share a tier."""

    __tablename__ = "rankings"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("review_assignments.id", ondelete="CASCADE"), unique=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("review_items.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    spec_version_id: Mapped[int] = mapped_column(ForeignKey("spec_versions.id"))
    tiers: Mapped[list[list[int]]] = mapped_column(JSONType)
    note: Mapped[str] = mapped_column(Text, default="")
    unclear: Mapped[bool] = mapped_column(Boolean, default=False)
    seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Adjudication(Base):
    """An admin's final answer for an item where reviewers disagreed."""

    __tablename__ = "adjudications"
    __table_args__ = (UniqueConstraint("item_id", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("review_items.id", ondelete="CASCADE"))
    # A category id for ratings; "ranking" for comparisons.
    category: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JSONType)
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SurveyResponse(Base):
    """One reviewer's demographic self-report, keyed by an opaque random id.

    Nothing here names the reviewer; only ``survey_links`` does, and withdrawing deletes
    both rows. No page or API shows a single response; only aggregates are published.
    """

    __tablename__ = "survey_responses"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    answers: Mapped[dict[str, str]] = mapped_column(JSONType)
    consent_text: Mapped[str] = mapped_column(Text)
    # Day only: a precise time would help link a response to a login.
    consented_on: Mapped[str] = mapped_column(String(10))
    is_simulated: Mapped[bool] = mapped_column(Boolean, default=False)


class SurveyLink(Base):
    """Which account gave which response: kept only so that withdrawal can delete it."""

    __tablename__ = "survey_links"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    response_id: Mapped[str] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="CASCADE"), unique=True
    )
