"""Customisation tables: saved profiles, API keys (hashed), served answers, enforcement
events, public feedback and the regression cases made from it.

Migration 0004 creates them; tests/store checks the migration against these models.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accord.store import Base, JSONType, UTCDateTime, utcnow


class ChatProfile(Base):
    """One user's saved customisation (the *user* layer of the chain of command).

    ``settings`` maps option ids to values; ``locked`` lists options a conversation may not
    change. Values are validated against the spec and the deployment every time they are
    used, so a profile saved under older bounds can never widen newer ones.
    """

    __tablename__ = "chat_profiles"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    locked: Mapped[list[str]] = mapped_column(JSONType, default=list)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiKey(Base):
    """A key for the OpenAI-compatible API. Only the key's sha256 is stored; ``prefix``
    (its first characters) lets people tell their keys apart. Revoked keys stay listed."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    profile_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_profiles.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ChatAnswer(Base):
    """An answer as shown to its user (after enforcement), so feedback can point at it.

    ``owner`` is who may give feedback on it: ``user:<id>`` for accounts (pages and API
    keys alike) or ``anon:<sha256 of the visitor's cookie>`` for anonymous chats.
    """

    __tablename__ = "chat_answers"
    __table_args__ = (Index(None, "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(64), unique=True)
    owner: Mapped[str] = mapped_column(String(80), index=True)
    api_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL"), nullable=True)
    model: Mapped[str] = mapped_column(String(255))
    messages: Mapped[list[dict[str, str]]] = mapped_column(JSONType)
    settings: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    text: Mapped[str] = mapped_column(Text)
    enforced: Mapped[bool] = mapped_column(Boolean, default=False)
    finish_reason: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))  # "api", "chat", "attack"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EnforcementEvent(Base):
    """A response that crossed a hard bound: which bound, the grader scores, how many
    samples were tried, and what the user was shown instead (never the violating text)."""

    __tablename__ = "enforcement_events"
    __table_args__ = (Index(None, "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_answers.id", ondelete="CASCADE"), nullable=True, index=True)
    model: Mapped[str] = mapped_column(String(255))
    settings: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    bounds: Mapped[list[str]] = mapped_column(JSONType)
    scores: Mapped[dict[str, Any]] = mapped_column(JSONType)
    attempts: Mapped[int] = mapped_column(Integer)
    # "resampled" (a later sample passed), "safe_completion", or "cut_off" (a stream was
    # stopped after clean text had been shown, and the safe completion followed).
    outcome: Mapped[str] = mapped_column(String(16))
    shown: Mapped[str] = mapped_column(Text)
    withheld: Mapped[str] = mapped_column(Text)  # for admins' audits; never shown to users
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Feedback(Base):
    """Thumbs up/down or a flag (a guideline category and a comment) on one answer."""

    __tablename__ = "feedback"
    __table_args__ = (Index(None, "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(
        ForeignKey("chat_answers.id", ondelete="CASCADE"), index=True)
    owner: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(8))  # "up", "down", "flag"
    category: Mapped[str | None] = mapped_column(String(64), nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    # "open" until an admin triages it: "review" (made a review item), "regression"
    # (made a regression case for the behaviour meter) or "dismissed".
    status: Mapped[str] = mapped_column(String(16), default="open")
    review_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("review_items.id", ondelete="SET NULL"), nullable=True)
    triaged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    triaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RegressionCase(Base):
    """A conversation the behaviour meter should keep getting right, made from feedback.

    ``probe`` is the meter probe set it joins (e.g. ``insult_requests``), so
    :func:`accord.customize.regression_probes` can hand the cases to ``measure(probes=)``.
    """

    __tablename__ = "regression_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback.id", ondelete="SET NULL"), nullable=True)
    probe: Mapped[str] = mapped_column(String(64), index=True)
    messages: Mapped[list[dict[str, str]]] = mapped_column(JSONType)
    settings: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    category: Mapped[str | None] = mapped_column(String(64), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
