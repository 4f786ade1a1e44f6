"""The ``Store``: one engine and session factory per database, upgraded on open."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from accord.store._engine import database_url, make_engine, normalise_url
from accord.store._migrate import upgrade


@dataclass
class Store:
    """A database Accord reads and writes: engine plus session factory.

    Use :meth:`open` (or :func:`open_store`) rather than the constructor, so the schema
    is migrated to the newest revision before the first session.
    """

    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Store:
        """Connect to ``url`` and, unless ``migrate`` is false, upgrade it to head.

        Raises:
            DatabaseURLError: ``url`` is not a SQLite or PostgreSQL URL.
            StoreError: the server cannot be reached, or the database was migrated by a
                newer Accord.
        """
        url = normalise_url(url)
        if migrate:
            upgrade(url)
        engine = make_engine(url)
        # Objects stay readable after their session ends (no reload on attribute access),
        # which is what callers returning rows from ``with store.session()`` expect.
        sessions = sessionmaker(engine, expire_on_commit=False)
        return cls(url=url, engine=engine, sessions=sessions)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block ends and rolls back if it raises.

        Once the block has exited normally the writes are durable (see docs/store.md).
        """
        with self.sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        """Close every pooled connection. The store can still be used; it reconnects."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_store(project_dir: Path | None = None, url: str | None = None) -> Store:
    """Open the project's database (``url``, else :func:`database_url`), upgraded to head."""
    return Store.open(url if url is not None else database_url(project_dir))
