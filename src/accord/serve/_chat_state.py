"""What the chat routes share: the chat service, the spec, profiles by layer, rate limits.

No torch here: the service's models are loaded (by ``accord serve --model``) before the
app is built, and the app only holds the service.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi import Request

from accord.accounts import counter_key, locked_counters, sweep_counters
from accord.customize import (
    ChatService,
    CustomizeSettings,
    Effective,
    get_profile,
    resolve_profile,
)
from accord.errors import AccordError
from accord.serve._permissions import ANON_CSRF_COOKIE, Viewer
from accord.serve._signin_limit import client_address
from accord.spec import Spec
from accord.store import Store


class RateLimited(AccordError):
    """Too many requests in the last minute (HTTP 429)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limit reached: try again in {retry_after} s")
        self.retry_after = retry_after


class RateLimiter:
    """Requests per minute per key, counted in the store so that every server process
    (``--workers N``) shares one count.

    Each key is a bucket of ``per_minute`` requests that refills continuously, one
    request every ``60 / per_minute`` seconds (the generic cell rate algorithm: one number
    per key, the time the bucket will be full again). A request names several keys (an API
    key and its account; an anonymous visitor and their address) and is let through only
    if every bucket has room; a refused request takes from none.
    """

    def __init__(self, store: Store, per_minute: int, *, lock: threading.Lock | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.per_minute = per_minute
        self._lock = lock
        self._clock = clock
        self._swept = 0.0

    def hit(self, *keys: str) -> None:
        """Count one request against each of ``keys``.

        Raises:
            RateLimited: a bucket is empty (with the seconds until it has room).
        """
        interval = 60.0 / self.per_minute
        now = self._clock()
        stored = [counter_key("rate", k) for k in keys]
        with locked_counters(self.store, stored, lock=self._lock) as counts:
            full_at = {k: max(counts[k].until, now) + interval for k in stored}
            late = max(full_at[k] - now - 60.0 for k in stored)
            if late > 1e-6:  # not 0: N × (60 / N) may round to a hair above 60
                raise RateLimited(max(1, math.ceil(late)))
            for k in stored:
                counts[k].until = counts[k].expires_at = full_at[k]
                counts[k].count += 1
                counts[k].last_at = now
        if now - self._swept >= 60.0:  # buckets that filled up again say nothing: delete
            self._swept = now
            sweep_counters(self.store, now, lock=self._lock)


def rate_keys(request: Request, viewer: Viewer, *, prefix: str = "chat") -> list[str]:
    """The buckets a request counts against: an API key and its account; a signed-in
    account; or an anonymous visitor (their cookie) *and* their address, so that a client
    that throws its cookie away gets no more than its address's share."""
    if viewer.account is not None:
        return [f"{prefix}:account:{viewer.account.id}"]
    return [f"{prefix}:{owner_of(request, viewer)}",
            f"{prefix}:address:{client_address(request)}"]


def api_rate_keys(key_id: int, user_id: int) -> list[str]:
    """An API key's bucket and its account's: keys are self-service, so one account's keys
    share the account's limit rather than each bringing a new one."""
    return [f"chat:key:{key_id}", f"chat:account:{user_id}"]


class MessageTooLong(AccordError):
    """A message longer than ``[customize] max_message_chars`` (HTTP 400)."""

    def __init__(self, where: str, length: int, limit: int) -> None:
        super().__init__(f"{where}: {length} characters; this server takes at most {limit} "
                         "per message")
        self.where, self.length, self.limit = where, length, limit


def check_length(where: str, text: str, limit: int) -> None:
    """Refuse a message longer than ``limit`` characters.

    Raises:
        MessageTooLong: it is.
    """
    if len(text) > limit:
        raise MessageTooLong(where, len(text), limit)


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
