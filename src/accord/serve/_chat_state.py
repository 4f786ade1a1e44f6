"""What the chat routes share: the chat service, the spec, profiles by layer, rate limits.

No torch here: the service's models are loaded (by ``accord serve --model``) before the
app is built, and the app only holds the service.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from typing import Any

from fastapi import Request

from accord.customize import (
    ChatService,
    CustomizeSettings,
    Effective,
    get_profile,
    resolve_profile,
)
from accord.errors import AccordError
from accord.serve._permissions import ANON_CSRF_COOKIE, Viewer
from accord.spec import Spec


class RateLimited(AccordError):
    """Too many requests in the last minute (HTTP 429)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limit reached: try again in {retry_after} s")
        self.retry_after = retry_after


class RateLimiter:
    """At most ``per_minute`` requests per key in any 60-second window (in this process)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        """Count one request for ``key``.

        Raises:
            RateLimited: the window is full (with the seconds until a slot frees).
        """
        now = time.monotonic()
        with self._lock:
            window = self._seen.setdefault(key, deque())
            while window and now - window[0] >= 60:
                window.popleft()
            if len(window) >= self.per_minute:
                raise RateLimited(max(1, int(60 - (now - window[0])) + 1))
            window.append(now)


def chat_settings(request: Request) -> CustomizeSettings:
    return request.app.state.customize


def chat_service(request: Request) -> ChatService | None:
    return request.app.state.chat


def limiter(request: Request) -> RateLimiter:
    return request.app.state.chat_limiter


def current_spec(request: Request) -> Spec:
    """The served spec: the chat service's, else the newest stored spec version.

    Raises:
        AccordError: no spec at all (nothing to customise yet).
    """
    service = chat_service(request)
    if service is not None:
        return service.spec
    from accord.review import spec_of
    from accord.store import latest_spec_version

    with request.app.state.store.session() as session:
        row = latest_spec_version(session)
        if row is None:
            raise AccordError("no spec version is stored yet; run the pipeline first")
        return spec_of(row)


def owner_of(request: Request, viewer: Viewer) -> str:
    """Who an answer belongs to: ``user:<id>``, or ``anon:<hash of the visitor cookie>``."""
    if viewer.account is not None:
        return f"user:{viewer.account.id}"
    cookie = request.cookies.get(ANON_CSRF_COOKIE, "")
    if not cookie:
        raise AccordError("anonymous chat needs cookies: reload the page")
    return "anon:" + hashlib.sha256(cookie.encode()).hexdigest()[:40]


def effective_for(request: Request, user_id: int | None, conversation: Any,
                  profile_name: str | None = None, profile_id: int | None = None,
                  where: str = "request") -> Effective:
    """Resolve the layers for a caller: deployment, their saved profile, this request.

    Args:
        user_id: the account (None: anonymous, no saved profile).
        conversation: per-request settings (validated here).
        profile_name: one of the user's profiles to use instead of the default.
        profile_id: the profile bound to an API key.

    Raises:
        ProfileError: any layer's value is outside what the layers above allow.
        NotFoundError: ``profile_name`` is not one of the user's profiles.
    """
    from accord.customize import ChatProfile

    spec = current_spec(request)
    user: dict[str, Any] = {}
    locked: list[str] = []
    label = "profile"
    if user_id is not None:
        with request.app.state.store.session() as session:
            row = None
            if profile_id is not None:
                row = session.get(ChatProfile, profile_id)
            if row is None:
                row = get_profile(session, user_id, profile_name)
            if row is not None:
                user, locked, label = dict(row.settings), list(row.locked), f"profile {row.name!r}"
    return resolve_profile(spec, deployment=chat_settings(request).deployment, user=user,
                           user_locked=locked, conversation=conversation,
                           where=(label, where))
