"""Write transactions that queue instead of failing on SQLite."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from sqlalchemy.orm import Session

from accord.store import Store


@contextmanager
def write_session(store: Store, lock: threading.Lock | None = None) -> Iterator[Session]:
    """A session for work that reads and then writes (``next_task``, ``submit_rating``...);
    committed when the block ends, rolled back if it raises.

    On SQLite the transaction starts with ``BEGIN IMMEDIATE``: a deferred transaction that
    reads and then writes fails at once with "database is locked" when another writer
    committed since its read (WAL cannot upgrade a stale snapshot, and the busy timeout is
    not consulted); taking the write lock first makes writers wait their turn instead.
    ``lock``, if given, is held around the transaction so that one process's writers queue
    in order rather than polling SQLite's lock with sleeps of up to 100 ms. PostgreSQL
    needs neither: it is an ordinary session there.
    """
    if store.engine.dialect.name != "sqlite":
        with store.session() as session:
            yield session
        return
    with lock or nullcontext(), store.sessions() as session, session.begin():
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        yield session
