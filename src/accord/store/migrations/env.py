"""Alembic environment for Accord: runs on the connection handed over in config.attributes.

Accord's own API (``accord.store.upgrade``) opens the connection with the same settings
the app uses (SQLite pragmas included) and passes it in; nothing is read from an ini file.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from accord.store._engine import make_engine

# Any number would do; all Accord processes must use the same one.
_PG_MIGRATION_LOCK = 0x41CC0
# Only autogenerate needs the models: accord.store.new_revision passes in the metadata of
# every accord.<package>._models. Plain upgrades run the migration files alone.
_target_metadata = context.config.attributes.get("target_metadata")


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=_target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=True,
        compare_type=True,
        # Our SQLite connections run real transactions (see accord.store._engine), so a
        # failed upgrade rolls back whole instead of leaving half a schema.
        transactional_ddl=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Two Accord processes starting at once must not both create the tables.
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
            )
        context.run_migrations()
        if connection.dialect.name == "sqlite":
            # Foreign keys are off while migrating (batch mode rebuilds tables); check
            # them all before committing, as SQLite's table-rebuild procedure advises.
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"migration left rows with broken foreign keys: {broken}")


def _run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = _url()
    if not url:
        raise RuntimeError("pass a connection or url in alembic Config.attributes")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _url() -> str | None:
    return context.config.attributes.get("url") or context.config.get_main_option("sqlalchemy.url")


def _run_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=_target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
else:
    _run_online()
