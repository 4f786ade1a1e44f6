"""Stored customisation: profiles, API keys, served answers and enforcement events.

Every function takes an open session and flushes (never commits): callers own the
transaction. API keys are shown once when made; only their sha256 is kept.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.customize._models import ApiKey, ChatAnswer, ChatProfile, EnforcementEvent
from accord.customize._profiles import Deployment, ProfileError, resolve_profile
from accord.errors import AccordError
from accord.spec import Spec
from accord.store import NotFoundError, utcnow

KEY_PREFIX = "acc-"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")


def key_hash(key: str) -> str:
    """The stored form of an API key (sha256, hex)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _check_name(what: str, name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise AccordError(f"{what} name {name!r} is not allowed: 1-64 characters, letters, "
                          "digits, space, '_', '.', '-', starting with a letter or digit")
    return name


# ---------------------------------------------------------------------------- profiles


def save_profile(session: Session, spec: Spec, user_id: int, name: str,
                 settings: dict[str, Any], *, locked: list[str] | None = None,
                 default: bool = True, deployment: Deployment | None = None) -> ChatProfile:
    """Create or replace one of a user's profiles after validating it against the bounds.

    Raises:
        ProfileError: a value outside the allowed set or forbidden by a bound (every
            problem listed, with the allowed values).
    """
    _check_name("profile", name)
    resolve_profile(spec, deployment=deployment, user=settings, user_locked=locked or [],
                    where=(f"profile {name!r}", "conversation"))
    row = session.scalars(select(ChatProfile).where(
        ChatProfile.user_id == user_id, ChatProfile.name == name)).one_or_none()
    if row is None:
        row = ChatProfile(user_id=user_id, name=name)
        session.add(row)
    row.settings = {str(k): str(v) for k, v in settings.items()}
    row.locked = list(locked or [])
    row.updated_at = utcnow()
    if default:
        for other in session.scalars(select(ChatProfile).where(
                ChatProfile.user_id == user_id, ChatProfile.is_default.is_(True))):
            other.is_default = False
        row.is_default = True
    session.flush()
    return row


def list_profiles(session: Session, user_id: int) -> list[ChatProfile]:
    """A user's profiles, by name."""
    return list(session.scalars(select(ChatProfile).where(ChatProfile.user_id == user_id)
                                .order_by(ChatProfile.name)))


def get_profile(session: Session, user_id: int, name: str | None = None) -> ChatProfile | None:
    """A user's profile by name, or their default one (``name=None``); None if absent.

    Raises:
        NotFoundError: a named profile does not exist.
    """
    query = select(ChatProfile).where(ChatProfile.user_id == user_id)
    if name is None:
        return session.scalars(query.where(ChatProfile.is_default.is_(True))).first()
    row = session.scalars(query.where(ChatProfile.name == name)).one_or_none()
    if row is None:
        names = ", ".join(p.name for p in list_profiles(session, user_id)) or "none"
        raise NotFoundError(f"no profile named {name!r}; your profiles: {names}")
    return row


def delete_profile(session: Session, user_id: int, name: str) -> None:
    """Delete one of a user's profiles (keys that used it fall back to the default)."""
    row = get_profile(session, user_id, name)
    assert row is not None
    session.delete(row)
    session.flush()


# ---------------------------------------------------------------------------- API keys


def create_api_key(session: Session, user_id: int, name: str,
                   profile: str | None = None) -> tuple[ApiKey, str]:
    """A new key for a user; returns the row and the key (shown once, never stored).

    Args:
        profile: the name of the user's profile to apply to every call made with the key
            (default: the user's default profile at the time of each call).
    """
    _check_name("key", name)
    profile_id = None
    if profile is not None:
        row = get_profile(session, user_id, profile)
        assert row is not None
        profile_id = row.id
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey(user_id=user_id, name=name, key_hash=key_hash(key),
                     prefix=key[:len(KEY_PREFIX) + 6], profile_id=profile_id)
    session.add(api_key)
    session.flush()
    return api_key, key


def list_api_keys(session: Session, user_id: int | None = None) -> list[ApiKey]:
    """Keys (one user's, or everyone's), newest first; revoked ones included."""
    query = select(ApiKey).order_by(ApiKey.id.desc())
    if user_id is not None:
        query = query.where(ApiKey.user_id == user_id)
    return list(session.scalars(query))


def revoke_api_key(session: Session, key_id: int, user_id: int | None = None) -> ApiKey:
    """Revoke a key at once: the next request made with it is refused.

    Args:
        user_id: the owner (a key of someone else is "not found"); ``None`` for admins.

    Raises:
        NotFoundError: no such key (or not that user's).
    """
    row = session.get(ApiKey, key_id)
    if row is None or (user_id is not None and row.user_id != user_id):
        raise NotFoundError(f"no API key with id {key_id}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    session.flush()
    return row


def key_owner(session: Session, key: str) -> ApiKey | None:
    """The live key row for a presented key (None: unknown, revoked, or owner disabled).

    Looked up on every request, so a revocation takes effect at once.
    """
    from accord.accounts import User

    if not key.startswith(KEY_PREFIX):
        return None
    row = session.scalars(select(ApiKey).join(User, User.id == ApiKey.user_id).where(
        ApiKey.key_hash == key_hash(key), ApiKey.revoked_at.is_(None),
        User.is_active.is_(True))).one_or_none()
    return row


def touch_key(session: Session, key_id: int) -> None:
    """Note that a key was used (at most once every five minutes: one write, not many)."""
    row = session.get(ApiKey, key_id)
    now = utcnow()
    if row is not None and (row.last_used_at is None
                            or now - row.last_used_at > timedelta(minutes=5)):
        row.last_used_at = now
        session.flush()


# ---------------------------------------------------------------------------- answers


def new_answer_id() -> str:
    """A public id for an answer, in OpenAI's ``chatcmpl-...`` style."""
    return "chatcmpl-" + secrets.token_hex(12)


def record_answer(session: Session, *, public_id: str, owner: str, model: str,
                  messages: list[dict[str, str]], settings: dict[str, str], text: str,
                  enforced: bool, finish_reason: str, source: str,
                  api_key_id: int | None = None,
                  events: Sequence[dict[str, Any]] = ()) -> ChatAnswer:
    """Store an answer as shown, with the enforcement events that shaped it."""
    answer = ChatAnswer(public_id=public_id, owner=owner, api_key_id=api_key_id, model=model,
                        messages=messages, settings=settings, text=text, enforced=enforced,
                        finish_reason=finish_reason, source=source)
    session.add(answer)
    session.flush()
    for event in events:
        session.add(EnforcementEvent(answer_id=answer.id, model=model, settings=settings,
                                     source=source, **event))
    session.flush()
    return answer


def answer_by_public_id(session: Session, public_id: str, owner: str | None) -> ChatAnswer:
    """An answer its owner may give feedback on.

    Raises:
        NotFoundError: no such answer, or it was shown to someone else.
    """
    row = session.scalars(select(ChatAnswer).where(ChatAnswer.public_id == public_id)).first()
    if row is None or (owner is not None and row.owner != owner):
        raise NotFoundError(f"no answer {public_id!r} of yours; feedback refers to the id "
                            "returned with an answer you received")
    return row


def check_profile_settings(spec: Spec, deployment: Deployment | None,
                           settings: dict[str, Any]) -> None:
    """Raise :class:`ProfileError` if ``settings`` could not be saved as a profile."""
    if not isinstance(settings, dict):
        raise ProfileError([f"profile: settings must be a mapping, got {type(settings).__name__}"])
    resolve_profile(spec, deployment=deployment, user=settings)
