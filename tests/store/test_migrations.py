"""Migrations: upgrade and downgrade on both databases, and no drift from the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from accord.store import (
    Store,
    StoreError,
    current_revision,
    downgrade,
    head_revision,
    import_all_models,
    make_engine,
    upgrade,
)

TABLES = {"spec_versions", "model_versions", "prompts", "completions"}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_and_upgrade_again(db_url: str) -> None:
    assert current_revision(db_url) is None

    upgrade(db_url)
    assert current_revision(db_url) == head_revision()
    assert _tables(db_url) >= TABLES

    downgrade(db_url)
    assert current_revision(db_url) is None
    assert _tables(db_url) == set()

    upgrade(db_url)
    assert current_revision(db_url) == head_revision()
    assert _tables(db_url) >= TABLES


def test_migrations_match_the_models(db_url: str) -> None:
    # Every package's tables (accord.<package>._models), not only the store's own.
    metadata = import_all_models()
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_opening_a_store_upgrades_it(db_url: str) -> None:
    with Store.open(db_url):
        assert current_revision(db_url) == head_revision()


def test_database_from_a_newer_accord_is_refused(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        engine.dispose()
    with pytest.raises(StoreError, match="newer Accord"):
        Store.open(db_url)
