"""Counters for rate limits and sign-in throttling, kept in the store so that every server
process (``accord serve --workers N``, several hosts on one PostgreSQL) counts together.

:func:`locked_counters` opens one write transaction in which the named counters are read
with their rows locked (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the
transaction holds the database's write lock from its start), so two processes updating
the same counter wait for each other instead of both reading the old value. What the
numbers mean belongs to the limiter using them (``accord.serve``).

Times are wall-clock seconds (``time.time()``), the one clock every process shares.
Each row carries ``expires_at``; expired rows are deleted by :func:`sweep_counters`,
which a limiter calls now and then, so guessing with random names grows the table only
until their counts are forgotten.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql

from accord.accounts._models import LimitCounter
from accord.accounts._write import write_session
from accord.store import Store


def counter_key(scope: str, value: str) -> str:
    """The stored key of ``value`` counted under ``scope`` (e.g. ``signin:account``).

    The value is stored as a hash: keys are bounded in length whatever a client sends, and
    the table does not list the names and addresses that were tried.
    """
    return f"{scope}:{hashlib.sha256(value.encode('utf-8', 'surrogatepass')).hexdigest()[:40]}"


@contextmanager
def locked_counters(store: Store, keys: Sequence[str], *, lock: threading.Lock | None = None
                    ) -> Iterator[dict[str, LimitCounter]]:
    """The counters named ``keys`` (created at zero when absent), locked until the block
    ends; changes are committed then (rolled back if the block raises).

    Args:
        store: the store shared by the server processes.
        keys: counter keys (from :func:`counter_key`); duplicates are fine.
        lock: the process's SQLite write lock, if it has one (see ``write_session``).
    """
    wanted = sorted(set(keys))  # one lock order everywhere: no deadlock between two keys
    with write_session(store, lock) as session:
        if session.get_bind().dialect.name == "postgresql":
            # Make the rows exist first: FOR UPDATE can only lock rows that are there.
            session.execute(postgresql.insert(LimitCounter)
                            .values([_fresh(k) for k in wanted])
                            .on_conflict_do_nothing(index_elements=["key"]))
            rows = session.scalars(select(LimitCounter).where(LimitCounter.key.in_(wanted))
                                   .order_by(LimitCounter.key).with_for_update()).all()
        else:
            rows = list(session.scalars(select(LimitCounter)
                                        .where(LimitCounter.key.in_(wanted))))
        found = {row.key: row for row in rows}
        for key in wanted:
            if key not in found:
                found[key] = LimitCounter(**_fresh(key))
                session.add(found[key])
        yield found


def _fresh(key: str) -> dict[str, object]:
    return {"key": key, "count": 0, "last_at": 0.0, "until": 0.0, "expires_at": 0.0}


def reset_counter(store: Store, key: str, *, lock: threading.Lock | None = None) -> None:
    """Forget one counter (e.g. an account's failed sign-ins after a success)."""
    with write_session(store, lock) as session:
        session.execute(delete(LimitCounter).where(LimitCounter.key == key))


def sweep_counters(store: Store, now: float, *, lock: threading.Lock | None = None) -> int:
    """Delete the counters that expired before ``now``, in a transaction of its own;
    returns how many. On PostgreSQL rows another process holds are skipped (they are being
    renewed), so a sweep never waits for, or deadlocks with, a limiter."""
    with write_session(store, lock) as session:
        expired = select(LimitCounter.key).where(LimitCounter.expires_at < now)
        if session.get_bind().dialect.name == "postgresql":
            expired = expired.with_for_update(skip_locked=True)
        result = session.execute(delete(LimitCounter).where(LimitCounter.key.in_(expired)))
        return int(getattr(result, "rowcount", 0) or 0)
