"""Accounts, roles and server-side sessions.

Passwords are hashed with argon2id. A session is a random token held in the client's
cookie; the database keeps only its sha256, the user it belongs to, a CSRF token and an
expiry, so signing out (deleting the row) ends it at once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from accord.accounts._models import User, UserRole, WebSession
from accord.accounts._roles import ROLES, permissions_of
from accord.errors import AccordError
from accord.store import ConflictError, NotFoundError, utcnow

SESSION_LIFETIME = timedelta(days=7)
MIN_PASSWORD_LENGTH = 10
_USERNAME = re.compile(r"[a-z0-9][a-z0-9_.-]{1,63}")
# argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): argon2-cffi's
# default (64 MiB, 3 passes, 4 lanes) takes about a second per sign-in on a 2-core server,
# which turns a room of reviewers signing in at 9:00 into a queue.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


class AccountError(AccordError):
    """A username, password or role a user gave is not acceptable."""


@dataclass(frozen=True)
class Account:
    """What a request needs to know about its signed-in user."""

    id: int
    username: str
    roles: tuple[str, ...]
    is_simulated: bool
    csrf_token: str
    # Signed in with a handed-out password: every page but the password change is refused.
    must_change_password: bool = False

    @property
    def permissions(self) -> frozenset[str]:
        return permissions_of(self.roles)


def create_user(session: Session, username: str, password: str, roles: list[str], *,
                simulated: bool = False, one_time: bool = False) -> User:
    """Create an account.

    Args:
        one_time: the password is handed out (printed, shown once): the first sign-in
            must replace it.

    Raises:
        AccountError: the username, password or a role is not allowed.
        ConflictError: the username is taken.
    """
    _check_username(username)
    _check_password(password)
    _check_roles(roles)
    if session.scalars(select(User.id).where(User.username == username)).first() is not None:
        raise ConflictError(f"username {username!r} is taken; choose another")
    user = User(username=username, password_hash=_hasher.hash(password), is_simulated=simulated,
                is_active=True, must_change_password=one_time)
    session.add(user)
    session.flush()
    session.add_all(UserRole(user_id=user.id, role=role) for role in sorted(set(roles)))
    session.flush()
    return user


def set_password(session: Session, username: str, password: str, *,
                 one_time: bool = False) -> None:
    """Replace a user's password and sign out every session they have.

    Args:
        one_time: the password is handed out (a reset): the next sign-in must replace it.

    Raises:
        NotFoundError: no such user. AccountError: the password is too short.
    """
    _check_password(password)
    user = get_user(session, username)
    user.password_hash = _hasher.hash(password)
    user.must_change_password = one_time
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))


def change_password(session: Session, user_id: int, current: str, new: str, *,
                    keep_session: str = "") -> None:
    """A signed-in user replaces their own password (the one-time one, or any).

    Every other session of the user is signed out; ``keep_session`` (the cookie token of
    the request) stays signed in.

    Raises:
        AccountError: the current password is wrong, or the new one is too short or the
            same as the current one.
    """
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise AccountError("this account no longer exists")
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise AccountError("the current password is wrong") from None
    _check_password(new)
    if new == current:
        raise AccountError("the new password must differ from the current one")
    user.password_hash = _hasher.hash(new)
    user.must_change_password = False
    others = delete(WebSession).where(WebSession.user_id == user.id)
    if keep_session:
        others = others.where(WebSession.token_hash != _token_hash(keep_session))
    session.execute(others)


def generate_password() -> str:
    """A random password to hand out once (about 120 bits)."""
    return secrets.token_urlsafe(15)


def get_user(session: Session, username: str) -> User:
    """The user called ``username``. Raises NotFoundError."""
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None:
        raise NotFoundError(f"no user named {username!r}; list them with: accord users list")
    return user


def roles_of(session: Session, user_id: int) -> tuple[str, ...]:
    """The role names a user holds, sorted."""
    query = select(UserRole.role).where(UserRole.user_id == user_id).order_by(UserRole.role)
    return tuple(session.scalars(query))


def list_users(session: Session) -> list[tuple[User, tuple[str, ...]]]:
    """Every account with its roles, oldest first."""
    users = session.scalars(select(User).order_by(User.id)).all()
    return [(user, roles_of(session, user.id)) for user in users]


def has_admin(session: Session) -> bool:
    """Whether any active account holds the admin role."""
    query = (select(User.id).join(UserRole, UserRole.user_id == User.id)
             .where(UserRole.role == "admin", User.is_active.is_(True)))
    return session.scalars(query).first() is not None


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user whose password this is, or ``None`` (same time either way)."""
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


@cache
def _dummy_hash() -> str:
    # Verifying against a real hash when the user does not exist keeps the time of a failed
    # sign-in the same whether or not the name exists.
    return _hasher.hash(secrets.token_hex(16))


def start_session(session: Session, user: User) -> tuple[str, str]:
    """Open a session for ``user``; returns (cookie token, CSRF token). Only the token's
    hash is stored."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(WebSession(token_hash=_token_hash(token), user_id=user.id, csrf_token=csrf,
                           created_at=now, expires_at=now + SESSION_LIFETIME))
    # Expired sessions of this user go now rather than by a background job.
    session.execute(delete(WebSession).where(WebSession.user_id == user.id,
                                             WebSession.expires_at < now))
    return token, csrf


def session_account(session: Session, token: str, now: datetime | None = None) -> Account | None:
    """The account signed in with cookie ``token``, or ``None`` if unknown or expired.

    One query (session, user and roles joined): it runs on every request.
    """
    if not token:
        return None
    rows = session.execute(
        select(WebSession.expires_at, WebSession.csrf_token, User.id, User.username,
               User.is_active, User.is_simulated, User.must_change_password, UserRole.role)
        .join(User, User.id == WebSession.user_id)
        .outerjoin(UserRole, UserRole.user_id == User.id)
        .where(WebSession.token_hash == _token_hash(token))).all()
    if not rows:
        return None
    first = rows[0]
    if first.expires_at < (now or utcnow()) or not first.is_active:
        return None
    roles = tuple(sorted(row.role for row in rows if row.role is not None))
    return Account(id=first.id, username=first.username, roles=roles,
                   is_simulated=first.is_simulated, csrf_token=first.csrf_token,
                   must_change_password=first.must_change_password)


def end_session(session: Session, token: str) -> None:
    """Sign out: forget the session (a no-op for an unknown token)."""
    session.execute(delete(WebSession).where(WebSession.token_hash == _token_hash(token)))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_username(username: str) -> None:
    if not _USERNAME.fullmatch(username):
        raise AccountError(
            f"username {username!r} is not allowed; use 2-64 characters: lowercase letters, "
            "digits, '_', '.', '-', starting with a letter or digit"
        )


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password is {len(password)} characters; use at least "
                           f"{MIN_PASSWORD_LENGTH}")


def _check_roles(roles: list[str]) -> None:
    unknown = sorted(set(roles) - set(ROLES))
    if unknown or not roles:
        raise AccountError(f"roles {unknown or roles} are not allowed; an account needs at least "
                           f"one of: {', '.join(ROLES)}")


def ensure_admin(session: Session, username: str = "admin") -> str | None:
    """Create the first admin if the store has none; returns its one-time password (for the
    caller to show once, never to log), or ``None`` when an admin exists."""
    if has_admin(session):
        return None
    password = generate_password()
    existing = session.scalars(select(User).where(User.username == username)).one_or_none()
    if existing is None:
        create_user(session, username, password, ["admin"], one_time=True)
    else:  # a former admin account kept its name: give the role back, with a new password
        set_password(session, username, password, one_time=True)
        existing.is_active = True
        session.merge(UserRole(user_id=existing.id, role="admin"))
    return password
