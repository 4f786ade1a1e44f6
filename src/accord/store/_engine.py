"""Which database to use, and engines that are configured the same way every time."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from accord.store._errors import DatabaseURLError

DATABASE_URL_ENV = "ACCORD_DATABASE_URL"
SQLITE_RELATIVE_PATH = Path(".accord") / "accord.sqlite3"

# How long a writer waits for another writer's lock before failing with "database is
# locked". Writes are short, so waiting a while beats failing a reviewer's submission.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def database_url(project_dir: Path | None = None) -> str:
    """Decide which database a project uses.

    Args:
        project_dir: the project folder; defaults to the current directory.

    Returns:
        ``ACCORD_DATABASE_URL`` (normalised to the psycopg 3 driver for PostgreSQL) when it
        is set, else ``sqlite:///<project>/.accord/accord.sqlite3``. Nothing is created.

    Raises:
        DatabaseURLError: the variable is set to a URL Accord cannot use.
    """
    from_env = os.environ.get(DATABASE_URL_ENV, "").strip()
    if from_env:
        return normalise_url(from_env, origin=DATABASE_URL_ENV)
    base = (project_dir or Path.cwd()).resolve()
    return f"sqlite:///{base / SQLITE_RELATIVE_PATH}"


def normalise_url(url: str, *, origin: str = "the database URL") -> str:
    """Return ``url`` with PostgreSQL spelled for psycopg 3 (``postgresql+psycopg://``).

    Raises:
        DatabaseURLError: ``url`` does not parse, or names neither SQLite nor PostgreSQL.
    """
    parsed = _parse(url, origin)
    # "postgres://" is what Heroku-style providers hand out; SQLAlchemy wants "postgresql".
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    """Create an engine for ``url`` with Accord's connection settings.

    SQLite gets WAL journaling, enforced foreign keys, a busy timeout and real
    transactions (see ``_configure_sqlite``); its folder is created if missing.
    PostgreSQL connections are checked before use so a restarted server is survived.

    Raises:
        DatabaseURLError: ``url`` does not parse, or names neither SQLite nor PostgreSQL.
    """
    parsed = _parse(normalise_url(url), "the database URL")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, json_serializer=_json_dumps)
        _configure_sqlite(engine)
        return engine
    return create_engine(parsed, pool_pre_ping=True, json_serializer=_json_dumps)


def safe_url(url: str | URL) -> str:
    """``url`` with any password masked, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def _json_dumps(value: Any) -> str:
    # Keep non-ASCII text readable in the SQLite file and in psql.
    return json.dumps(value, ensure_ascii=False)


def _parse(url: str, origin: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseURLError(
            f"{origin} {url!r} is not a database URL; use sqlite:///path/to/file.sqlite3 "
            "or postgresql://user:password@host:port/dbname"
        ) from exc
    if parsed.get_backend_name() not in ("sqlite", "postgresql", "postgres"):
        raise DatabaseURLError(
            f"{origin} {safe_url(parsed)!r} names the {parsed.get_backend_name()!r} backend; "
            "Accord supports sqlite:/// and postgresql:// URLs only"
        )
    return parsed


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Python < 3.12's sqlite3 only BEGINs before DML, which breaks SAVEPOINTs and
        # transactional DDL (a failed migration would leave half a schema). Turn its
        # implicit transactions off and BEGIN ourselves in ``_on_begin``.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # WAL: readers never block the writer, and a commit is one append to the log.
            cursor.execute("PRAGMA journal_mode=WAL")
            # FULL syncs the log on every commit: an accepted write survives a process
            # crash *and* a power cut. (NORMAL would survive a process crash only.)
            cursor.execute("PRAGMA synchronous=FULL")
            # SQLite ignores REFERENCES unless asked, per connection.
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Migrations ask for IMMEDIATE so two processes upgrading at once queue on the
        # write lock instead of one failing halfway.
        mode = connection.get_execution_options().get("sqlite_begin", "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())
