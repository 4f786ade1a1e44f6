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

The counts live in the store (``accord.accounts.locked_counters``), so every worker of
``accord serve --workers N`` and every server on one database counts together, and a
restart forgets nothing. The client address is the connection's, or the visitor's as a
trusted proxy reports it (``[review] trusted_proxies``; see :func:`client_address`).
"""

from __future__ import annotations

import ipaddress
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fastapi import FastAPI, Request

from accord.accounts import (
    LimitCounter,
    counter_key,
    locked_counters,
    reset_counter,
    sweep_counters,
)
from accord.errors import AccordError
from accord.store import Store

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


@dataclass(frozen=True)
class Attempt:
    """A counted attempt; pass it back to :meth:`SignInLimiter.failed` or ``succeeded``."""

    account: str
    address: str


_SCOPES = ("account", "address")
_SWEEP_EVERY_S = 60.0


class SignInLimiter:
    """Counts failed sign-ins per account and per address, in the store shared by every
    server process (thread- and process-safe: each step is one locked transaction)."""

    def __init__(self, store: Store, account: LimitPolicy = ACCOUNT_POLICY,
                 address: LimitPolicy = ADDRESS_POLICY, *, lock: threading.Lock | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.policies = {"account": account, "address": address}
        self._lock = lock
        self._clock = clock
        self._swept = 0.0

    def _key(self, scope: str, value: str) -> str:
        return counter_key(f"signin:{scope}", value)

    def attempt(self, username: str, address: str) -> Attempt:
        """Check that neither the account nor the address is shut, and count the attempt
        against the account before the password is checked.

        Raises:
            SignInThrottled: the account or the address is shut for now (not counted).
        """
        attempt = Attempt(username.strip().lower(), address)
        now = self._clock()
        keys = {"account": self._key("account", attempt.account),
                "address": self._key("address", address)}
        with locked_counters(self.store, list(keys.values()), lock=self._lock) as counts:
            for scope in _SCOPES:
                count = counts[keys[scope]]
                if count.until > now:
                    raise SignInThrottled(scope, max(1, math.ceil(count.until - now)))
            self._count("account", attempt.account, counts[keys["account"]], now)
        self._sweep(now)
        return attempt

    def failed(self, attempt: Attempt) -> None:
        """The password was wrong: count it against the address, and start any wait (of
        the account, counted already, and of the address) from now, the end of the attempt."""
        now = self._clock()
        account, address = (self._key("account", attempt.account),
                            self._key("address", attempt.address))
        with locked_counters(self.store, [account, address], lock=self._lock) as counts:
            if counts[account].count:
                self._shut("account", attempt.account, counts[account], now)
            self._count("address", attempt.address, counts[address], now)

    def succeeded(self, attempt: Attempt) -> None:
        """The password was right: the account's count starts again from zero."""
        reset_counter(self.store, self._key("account", attempt.account), lock=self._lock)

    def _count(self, scope: str, name: str, count: LimitCounter, now: float) -> None:
        if now - count.last_at >= self.policies[scope].forget_s:
            count.count, count.until = 0, 0.0
        count.count += 1
        self._shut(scope, name, count, now)

    def _shut(self, scope: str, name: str, count: LimitCounter, now: float) -> None:
        policy = self.policies[scope]
        count.last_at = now
        wait = policy.wait_after(count.count)
        if wait:
            count.until = max(count.until, now + wait)
            _log.warning("sign-in: %d attempts in a row without success %s %r; the next is "
                         "allowed in %.0f s", count.count,
                         "for account" if scope == "account" else "from address", name, wait)
        count.expires_at = max(count.until, now + policy.forget_s)

    def _sweep(self, now: float) -> None:
        # Counts of names tried once and never again: deleted once forgotten, at most
        # once a minute per process (a sweep is a transaction of its own).
        if now - self._swept >= _SWEEP_EVERY_S:
            self._swept = now
            sweep_counters(self.store, now, lock=self._lock)


_ATTACH = threading.Lock()


def sign_in_limiter(app: FastAPI) -> SignInLimiter:
    """The app's limiter, made on first use (one per app, shared by the form and the API)."""
    limiter = getattr(app.state, "sign_in_limiter", None)
    if limiter is None:
        with _ATTACH:
            limiter = getattr(app.state, "sign_in_limiter", None)
            if limiter is None:
                limiter = app.state.sign_in_limiter = SignInLimiter(
                    app.state.store, lock=app.state.sqlite_write_lock)
    return limiter


def client_address(request: Request) -> str:
    """The caller's address: the connection's, or — when the connection comes from a
    proxy listed in ``[review] trusted_proxies`` — the nearest address in
    ``X-Forwarded-For`` that is not itself a trusted proxy.

    The header is read right to left: each proxy appends the address it saw, so only the
    entries added by trusted proxies can be believed; anything further left was written
    by the client and is ignored. With no trusted proxies (the default) the header is
    never read, so a client cannot choose its own address.
    """
    peer = request.client.host if request.client else "unknown"
    trusted: tuple[Network, ...] = getattr(request.app.state, "trusted_proxies", ())
    if not trusted or not _within(peer, trusted):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _within(hop, trusted):
            return hop
    return peer


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(entries: Sequence[str]) -> tuple[Network, ...]:
    """Parse ``[review] trusted_proxies`` (addresses or CIDR networks).

    Raises:
        AccordError: an entry is not an address or a network.
    """
    out = []
    for entry in entries:
        try:
            out.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise AccordError(f"trusted_proxies: {entry!r} is not an IP address or network "
                              "(e.g. 127.0.0.1 or 10.0.0.0/8)") from None
    return tuple(out)


def _within(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in n for n in networks)
