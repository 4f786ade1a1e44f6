"""Account tables: users, the roles they hold, and signed-in web sessions.

Migration 0002 creates them (with the review tables), 0005 adds the forced password
change and the shared limit counters; tests/store checks the migrations against these
models.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from accord.store import Base, UTCDateTime, utcnow


class User(Base):
    """An account. What it may do comes from its roles (``user_roles``), never from flags."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Simulated reviewers are programs; every report says so and can leave them out.
    is_simulated: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set when the password was handed out (one-time): the next sign-in must replace it.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False,
                                                       server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UserRole(Base):
    """One role held by one user; roles are names looked up in ``accord.accounts.ROLES``."""

    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class WebSession(Base):
    """A signed-in browser or API client. The cookie holds a random token; only its
    sha256 is stored, so a copy of the database does not let anyone sign in."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LimitCounter(Base):
    """One rate-limit or sign-in counter, shared by every server process on the store.

    ``key`` names what is counted (``signin:account:<hash>``, ``chat:key:12``...); what the
    numbers mean is up to the limiter that owns the key (``accord.accounts._limits``).
    Times are seconds since the epoch (every worker reads the same clock); a row whose
    ``expires_at`` has passed says nothing any more and is swept.
    """

    __tablename__ = "limit_counters"

    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[float] = mapped_column(Float, default=0.0)
    until: Mapped[float] = mapped_column(Float, default=0.0)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
