"""Sessions for request handlers: read, or write with the write lock taken up front."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import Request
from sqlalchemy.orm import Session

from accord.review import write_session
from accord.store import Store


def store_of(request: Request) -> Store:
    return request.app.state.store


@contextmanager
def writing(request: Request) -> Iterator[Session]:
    """A session for a request that writes, committed before the response is sent.

    On SQLite, writers take the write lock up front and queue on a process lock (see
    :func:`accord.review.write_session`), so they wait in order instead of failing with
    "database is locked".
    """
    with write_session(store_of(request), request.app.state.sqlite_write_lock) as session:
        yield session


@contextmanager
def reading(request: Request) -> Iterator[Session]:
    """A session for a request that only reads."""
    with store_of(request).session() as session:
        yield session
