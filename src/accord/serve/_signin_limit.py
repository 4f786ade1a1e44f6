"""Throttling repeated failed sign-ins, per account and per client address.

An attempt is counted against its account *before* the password is checked (so a burst
of parallel guesses at one account cannot all slip in before the first failure is
recorded) and forgiven when it succeeds; against the address only when it fails (a room
of people signing in at once from one address is no attack). After ``free`` failures on
a key, each further failure shuts that key for ``base_s · 2^k`` seconds (k = 0, 1, 2, ...
up to ``max_s``), counted from the end of the failed attempt: 5 wrong passwords for an
account cost nothing, the next ones 1 s, 2 s, 4 s, ... 15 min. While a key is shut, an
attempt is refused at once, without checking the password (no guessing, no argon2 work),
and is not counted, so a person retrying too early does not lengthen their wait.
A key's count is forgotten ``forget_s`` after its last failure.

Two keys per attempt: the account name (protects one account from guessing, whatever the
addresses) and the client address (slows one address trying many accounts; more lenient,
since a whole office can share an address). A successful sign-in clears the account's
count; the address's count only expires, or signing in to one's own account would wipe
out a run of guesses at others'.

The counts live in the server process's memory: with ``--workers N`` each worker keeps
its own (an attacker gets at most N times the attempts) and a restart forgets them.
Behind a reverse proxy, run uvicorn with ``--forwarded-allow-ips`` for the proxy so the
client address is the visitor's, not the proxy's.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI

_log = logging.getLogger("accord.serve")


@dataclass(frozen=True)
class LimitPolicy:
    """How many failures are free and how the wait grows after them."""

    free: int
    base_s: float = 1.0
    max_s: float = 900.0
    forget_s: float = 900.0

    def wait_after(self, failures: int) -> float:
        """Seconds a key is shut after its ``failures``-th failure (0 while free)."""
        over = failures - self.free
        return 0.0 if over <= 0 else min(self.base_s * 2 ** (over - 1), self.max_s)


ACCOUNT_POLICY = LimitPolicy(free=5)
ADDRESS_POLICY = LimitPolicy(free=20)


class SignInThrottled(Exception):
    """Too many failed sign-ins for this account or from this address (HTTP 429)."""

    def __init__(self, scope: str, retry_after: int) -> None:
        what = "for this account" if scope == "account" else "from your network address"
        unit = "second" if retry_after == 1 else "seconds"
        super().__init__(f"Too many failed sign-ins {what}. Try again in {retry_after} {unit}.")
        self.scope = scope
        self.retry_after = retry_after


@dataclass
class _Count:
    failures: int = 0
    last: float = 0.0
    shut_until: float = 0.0


@dataclass(frozen=True)
class Attempt:
    """A counted attempt; pass it back to :meth:`SignInLimiter.failed` or ``succeeded``."""

    account: str
    address: str


class SignInLimiter:
    """Counts failed sign-ins per account and per address (thread-safe, bounded memory)."""

    def __init__(self, account: LimitPolicy = ACCOUNT_POLICY,
                 address: LimitPolicy = ADDRESS_POLICY, *, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.policies = {"account": account, "address": address}
        self.max_keys = max_keys
        self._clock = clock
        self._counts: OrderedDict[tuple[str, str], _Count] = OrderedDict()
        self._lock = threading.Lock()

    def attempt(self, username: str, address: str) -> Attempt:
        """Check that neither the account nor the address is shut, and count the attempt
        against the account before the password is checked.

        Raises:
            SignInThrottled: the account or the address is shut for now (not counted).
        """
        attempt = Attempt(username.strip().lower(), address)
        now = self._clock()
        with self._lock:
            for scope, key in (("account", attempt.account), ("address", address)):
                count = self._counts.get((scope, key))
                if count is not None and count.shut_until > now:
                    raise SignInThrottled(scope, max(1, math.ceil(count.shut_until - now)))
            self._count(("account", attempt.account), now)
            self._trim(now)
        return attempt

    def failed(self, attempt: Attempt) -> None:
        """The password was wrong: count it against the address, and start any wait (of
        the account, counted already, and of the address) from now, the end of the attempt."""
        now = self._clock()
        with self._lock:
            account = self._counts.get(("account", attempt.account))
            if account is not None:
                self._shut(("account", attempt.account), account, now)
            self._count(("address", attempt.address), now)
            self._trim(now)

    def succeeded(self, attempt: Attempt) -> None:
        """The password was right: the account's count starts again from zero."""
        with self._lock:
            self._counts.pop(("account", attempt.account), None)

    def _count(self, key: tuple[str, str], now: float) -> None:
        count = self._get(key, now)
        count.failures += 1
        self._shut(key, count, now)

    def _shut(self, key: tuple[str, str], count: _Count, now: float) -> None:
        count.last = now
        wait = self.policies[key[0]].wait_after(count.failures)
        if wait:
            count.shut_until = max(count.shut_until, now + wait)
            _log.warning("sign-in: %d attempts in a row without success %s %r; the next is "
                         "allowed in %.0f s", count.failures,
                         "for account" if key[0] == "account" else "from address", key[1],
                         wait)

    def _get(self, key: tuple[str, str], now: float) -> _Count:
        count = self._counts.get(key)
        if count is None or now - count.last >= self.policies[key[0]].forget_s:
            count = self._counts[key] = _Count()
        self._counts.move_to_end(key)
        return count

    def _trim(self, now: float) -> None:
        # Guessing with random names must not grow memory without bound: drop forgotten
        # counts, then (if still too many) the least recently tried.
        if len(self._counts) <= self.max_keys:
            return
        for key in [k for k, c in self._counts.items()
                    if now - c.last >= self.policies[k[0]].forget_s and c.shut_until <= now]:
            del self._counts[key]
        while len(self._counts) > self.max_keys:
            self._counts.popitem(last=False)


_ATTACH = threading.Lock()


def sign_in_limiter(app: FastAPI) -> SignInLimiter:
    """The app's limiter, made on first use (one per app, shared by the form and the API)."""
    limiter = getattr(app.state, "sign_in_limiter", None)
    if limiter is None:
        with _ATTACH:
            limiter = getattr(app.state, "sign_in_limiter", None)
            if limiter is None:
                limiter = app.state.sign_in_limiter = SignInLimiter()
    return limiter
