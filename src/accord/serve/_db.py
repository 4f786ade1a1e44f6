"""Stores and sessions for request handlers: read, or write with the write lock taken up front."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import Request
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from accord.accounts import write_session
from accord.store import Store

# Connections a server process keeps open to PostgreSQL, and how many more it may open at
# a peak: together the 40 threads of AnyIO's pool, each of which holds at most one
# connection at a time. SQLAlchemy's default (5 kept, 10 more) made a server under 200
# reviewers open and close about four connections a second (a process fork on the
# database side each time) and let threads queue for a connection.
POOL_SIZE = 20
POOL_OVERFLOW = 20


def serving_store(store: Store) -> Store:
    """``store`` with a connection pool sized for a web server's threads (PostgreSQL; a
    SQLite store is returned as it is). The engine is configured as ``accord.store``
    configures it (connections checked before use, JSON kept readable), only the pool
    differs; the original engine is closed.

    With ``--workers N`` the server may hold N × 40 connections at a peak: PostgreSQL's
    default ``max_connections`` (100) allows two workers.
    """
    if store.engine.dialect.name != "postgresql":
        return store
    engine = create_engine(store.url, pool_pre_ping=True, pool_size=POOL_SIZE,
                           max_overflow=POOL_OVERFLOW,
                           json_serializer=lambda value: json.dumps(value, ensure_ascii=False))
    store.engine.dispose()
    return Store(url=store.url, engine=engine,
                 sessions=sessionmaker(engine, expire_on_commit=False))


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


@contextmanager
def lookup_session(store: Store) -> Iterator[Session]:
    """A session for single look-ups that run on every request (who is signed in), on
    PostgreSQL without a transaction around them.

    PostgreSQL's default isolation (READ COMMITTED) gives each statement its own snapshot
    anyway, so wrapping reads in BEGIN ... COMMIT buys nothing and costs two round trips
    to the server per request, which is what a loaded server queues on. Autocommit is a
    setting of the client connection (no statement is sent) and is undone when the
    connection goes back to the pool. SQLite keeps its ordinary session: its BEGIN and
    COMMIT are function calls. Nothing may be written through this session.
    """
    if store.engine.dialect.name != "postgresql":
        with store.session() as session:
            yield session
        return
    engine = store.engine.execution_options(isolation_level="AUTOCOMMIT")
    with Session(engine, expire_on_commit=False) as session:
        yield session
