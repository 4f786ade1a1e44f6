"""Audit tables: published audit bundles, the grants that give an auditor scoped access to
the OpenAI-compatible API, and the log of every request made under a grant.

Migration 0006 creates them; tests/store checks the migration against these models.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from accord.accounts import User  # noqa: F401 (the users table the grants point at)
from accord.store import Base, JSONType, UTCDateTime, utcnow


class PublishedAudit(Base):
    """A signed audit bundle, verified when it was published (``accord audit publish``).

    The bundle itself (a zip of its files) is kept here so every server process and any
    later reader can download exactly what was verified; ``headline`` holds the first
    figures of each suite for the public list.
    """

    __tablename__ = "audits"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    auditor: Mapped[str] = mapped_column(String(120))
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    key_registered: Mapped[bool] = mapped_column(Boolean, default=False)
    model_name: Mapped[str] = mapped_column(String(255))
    model_kind: Mapped[str] = mapped_column(String(16))
    suites: Mapped[list[str]] = mapped_column(JSONType, default=list)
    headline: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    manifest_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    audited_at: Mapped[str] = mapped_column(String(32))
    verification: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    bundle: Mapped[bytes] = mapped_column(LargeBinary)
    bundle_sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditGrant(Base):
    """An admin's grant: this account may call ``/v1`` as an auditor for one model version,
    within its own token budget and rate. Revoked grants stay, with their request log."""

    __tablename__ = "audit_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    model_version: Mapped[str] = mapped_column(String(255))
    audit: Mapped[str] = mapped_column(String(80))
    token_budget: Mapped[int] = mapped_column(Integer)
    tokens_used: Mapped[int] = mapped_column(Integer, default=0)
    per_minute: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AuditRequest(Base):
    """One ``/v1`` request made under a grant (refused ones too, with their status)."""

    __tablename__ = "audit_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int | None] = mapped_column(
        ForeignKey("audit_grants.id", ondelete="CASCADE"), nullable=True, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    # Not a foreign key: the log keeps the id of a key deleted later.
    api_key_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    path: Mapped[str] = mapped_column(String(120))
    model: Mapped[str] = mapped_column(String(255))
    tokens: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
