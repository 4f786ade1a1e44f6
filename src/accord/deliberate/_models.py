"""Deliberation tables: deliberations, statements, participants, votes (current and every
change), opt-in participant demographics (kept apart), and spec-change proposals.

Migration 0003 creates them; tests/store checks the migration against these models.
Statement and participant ``number``s are the ids as in the source data (Polis's
``comment-id`` and ``participant``), unique within a deliberation; rows refer to each
other by the surrogate ``id``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

# Accounts (participants who sign in, moderators) live in accord.accounts' tables.
from accord.accounts import User  # noqa: F401
from accord.store import Base, JSONType, UTCDateTime, utcnow

# Moderation states of a statement (see MODERATION_TO_POLIS for the openData mapping).
ACCEPTED, REJECTED, META, UNMODERATED = "accepted", "rejected", "meta", "unmoderated"
MODERATION_STATES = (ACCEPTED, REJECTED, META, UNMODERATED)


class Deliberation(Base):
    """One deliberation: the question put to the public and how it runs (``config``)."""

    __tablename__ = "deliberations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    question: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(Text, default="")
    # Page views, when the source system counted them (Polis summary.csv).
    views: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # accord.deliberate.DeliberationConfig as JSON: participation mode, ratification
    # thresholds, demographic target margins, analysis settings, the spec folder.
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeliberationParticipant(Base):
    """Someone who takes part: an account, an anonymous browser, or an imported id.

    Anonymous browsers hold a random token in a cookie; only its sha256 (salted with the
    deliberation id, so one browser is not linkable across deliberations) is stored.
    """

    __tablename__ = "deliberation_participants"
    __table_args__ = (
        UniqueConstraint("deliberation_id", "number"),
        UniqueConstraint("deliberation_id", "user_id"),
        UniqueConstraint("deliberation_id", "token_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deliberation_id: Mapped[int] = mapped_column(
        ForeignKey("deliberations.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The session/invite token the source data names (accord-participants.csv), pooled
    # by bulk-voting detection; not a credential.
    token: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # The source system's opinion group (Polis group-id), kept for comparison.
    source_group: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeliberationStatement(Base):
    """A statement participants vote on: a seed from the organisers or a participant's."""

    __tablename__ = "deliberation_statements"
    __table_args__ = (UniqueConstraint("deliberation_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deliberation_id: Mapped[int] = mapped_column(
        ForeignKey("deliberations.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    moderation: Mapped[str] = mapped_column(String(16), default=UNMODERATED)
    is_seed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The author's participant number as in the source data (Polis author-id); authors
    # need not have voted, so this is a number, not a foreign key.
    author_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    moderated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class DeliberationVote(Base):
    """A participant's current vote on a statement: one row per pair, the latest wins."""

    __tablename__ = "deliberation_votes"
    __table_args__ = (Index(None, "deliberation_id", "statement_id"),)

    participant_id: Mapped[int] = mapped_column(
        ForeignKey("deliberation_participants.id", ondelete="CASCADE"), primary_key=True)
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("deliberation_statements.id", ondelete="CASCADE"), primary_key=True)
    deliberation_id: Mapped[int] = mapped_column(
        ForeignKey("deliberations.id", ondelete="CASCADE"))
    value: Mapped[int] = mapped_column(SmallInteger)  # 1 agree, -1 disagree, 0 pass
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)


class DeliberationVoteEvent(Base):
    """Every vote ever cast, changes included, in the order received (the history that
    Polis's k-smoothing depends on and openData's votes.csv holds)."""

    __tablename__ = "deliberation_vote_events"
    __table_args__ = (Index(None, "deliberation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deliberation_id: Mapped[int] = mapped_column(
        ForeignKey("deliberations.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("deliberation_participants.id", ondelete="CASCADE"))
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("deliberation_statements.id", ondelete="CASCADE"))
    value: Mapped[int] = mapped_column(SmallInteger)
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)


class DeliberationDemographics(Base):
    """A participant's opt-in demographic answers, with the consent they gave.

    Kept apart from the participant row and deleted on withdrawal. Used only to compute
    post-stratification weights; no page, API or export shows one person's answers (the
    protections of the reviewers' survey, see accord.review._survey).
    """

    __tablename__ = "deliberation_demographics"

    participant_id: Mapped[int] = mapped_column(
        ForeignKey("deliberation_participants.id", ondelete="CASCADE"), primary_key=True)
    answers: Mapped[dict[str, str]] = mapped_column(JSONType)
    consent_text: Mapped[str] = mapped_column(Text)
    # Day only: a precise time would help link the answers to a vote.
    consented_on: Mapped[str] = mapped_column(String(10))


class DeliberationProposal(Base):
    """A spec change that statements with broad support justify, from proposal to
    ratification: ``proposed`` (found by the thresholds, with tallies), ``drafted`` (an
    admin wrote the change), ``ratified`` (written into the spec) or ``rejected``."""

    __tablename__ = "deliberation_proposals"
    __table_args__ = (Index(None, "deliberation_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deliberation_id: Mapped[int] = mapped_column(
        ForeignKey("deliberations.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    # Statement numbers (as in the source data) and their tallies when proposed.
    statement_numbers: Mapped[list[int]] = mapped_column(JSONType)
    tallies: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # The thresholds and analysis (seed, method, counts) that produced the proposal.
    basis: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # principle, default, bound or option; the drafted item (see accord.deliberate.KINDS).
    kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    change: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    drafted_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    drafted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The spec version the change was applied to, and the version ratifying made.
    base_spec_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    spec_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("spec_versions.id"), nullable=True)
