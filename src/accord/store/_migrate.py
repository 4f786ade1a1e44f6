"""Alembic migrations, configured in code so they work from an installed package."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, MetaData
from sqlalchemy.exc import OperationalError

from accord.store._base import import_all_models
from accord.store._engine import make_engine, safe_url
from accord.store._errors import StoreError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(
    connection: Connection | None = None, target_metadata: MetaData | None = None
) -> Config:
    """An Alembic ``Config`` for Accord's migrations, with no ``alembic.ini`` needed.

    The connection travels in ``config.attributes`` rather than as the
    ``sqlalchemy.url`` option, because options are ``%``-interpolated and would mangle
    URL-encoded passwords.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Revision files are named "0002_add_reviews.py", in order, like 0001_initial.py.
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if connection is not None:
        config.attributes["connection"] = connection
    if target_metadata is not None:
        config.attributes["target_metadata"] = target_metadata
    return config


@functools.cache  # The shipped migrations cannot change while the process runs.
def head_revision() -> str:
    """The newest migration this version of Accord ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # Only possible if the package was installed without its migrations.
        raise StoreError(f"no migrations found in {MIGRATIONS_DIR}; reinstall accord")
    return head


def current_revision(url: str) -> str | None:
    """The migration the database at ``url`` is at; ``None`` for a new, empty database.

    Raises:
        StoreError: the database server cannot be reached.
    """
    with _engine(url) as engine, engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` forward to ``revision`` (default: the newest).

    Raises:
        StoreError: the database is at a revision this Accord does not know (made by a
            newer Accord), or ``revision`` does not exist.
    """
    # Opening a store upgrades it every time; skip loading Alembic's scripts when the
    # database is already at head (the usual case).
    if revision == "head" and current_revision(url) == head_revision():
        return
    _run(url, "upgrade", revision)


def downgrade(url: str, revision: str = "base") -> None:
    """Migrate the database at ``url`` back to ``revision`` (default: no tables at all)."""
    _run(url, "downgrade", revision)


def new_revision(message: str, *, autogenerate: bool = True) -> Path:
    """Write a new migration file into the package, for developers adding a table.

    With ``autogenerate`` the file is filled with the difference between the models (every
    ``accord.<package>._models``) and a scratch SQLite database upgraded to the current
    head; read it and fix it by hand
    (see docs/store.md) before committing.

    Returns:
        The path of the new file in ``src/accord/store/migrations/versions/``.
    """
    import tempfile

    script = ScriptDirectory.from_config(alembic_config())
    number = len(list(script.walk_revisions())) + 1
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'scratch.sqlite3'}"
        upgrade(url)
        engine = make_engine(url)
        try:
            with engine.begin() as connection:
                made = command.revision(
                    alembic_config(connection, import_all_models()),
                    message=message,
                    autogenerate=autogenerate,
                    rev_id=f"{number:04d}",
                )
        finally:
            engine.dispose()
    assert made is not None and not isinstance(made, list)
    return Path(made.path)


@contextmanager
def _engine(url: str) -> Iterator[Engine]:
    """An engine for one migration command, disposed after, with connection errors
    turned into a message that says what to check."""
    engine = make_engine(url)
    try:
        yield engine
    except OperationalError as exc:
        raise StoreError(
            f"cannot open the database at {safe_url(url)}: {exc.orig}. Check that the "
            "server is running and ACCORD_DATABASE_URL is right (unset it to use the "
            "project's SQLite file)."
        ) from exc
    finally:
        engine.dispose()


def _run(url: str, direction: str, revision: str) -> None:
    # IMMEDIATE (SQLite): take the write lock up front so concurrent upgrades queue.
    with (
        _engine(url) as engine,
        engine.connect().execution_options(sqlite_begin="IMMEDIATE") as connection,
    ):
        if connection.dialect.name == "sqlite":
            # Batch mode rebuilds a table by copy, drop and rename; with foreign keys on,
            # the drop would cascade or fail. The pragma is a no-op inside a transaction,
            # so set it on the raw connection before SQLAlchemy BEGINs; env.py checks
            # every key before committing.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        config = alembic_config(connection)
        try:
            if direction == "upgrade":
                command.upgrade(config, revision)
            else:
                command.downgrade(config, revision)
        except CommandError as exc:
            raise StoreError(
                f"cannot {direction} the database at {safe_url(url)} to {revision!r}: "
                f"{exc}. This Accord knows revisions up to {head_revision()!r}; a "
                "database migrated by a newer Accord needs that newer Accord."
            ) from exc
