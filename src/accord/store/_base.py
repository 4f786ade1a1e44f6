"""Declarative base, portable column types and the clock used for timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Every constraint and index gets a predictable name, so a later migration can drop or
# alter it by name on both SQLite (batch mode rebuilds tables by name) and PostgreSQL.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSONB on PostgreSQL (indexable, compared by value); JSON (stored as text) on SQLite.
JSONType = JSON().with_variant(postgresql.JSONB(), "postgresql")


def utcnow() -> datetime:
    """The current time, timezone-aware UTC. Set in Python so SQLite and PostgreSQL agree."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that always comes back timezone-aware UTC.

    SQLite keeps no zone with a datetime, so values are converted to UTC on the way in and
    the zone is put back on the way out; PostgreSQL's ``timestamptz`` round-trips as is.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of every Accord table; its metadata is what migrations are checked against."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def import_all_models() -> MetaData:
    """Import every ``accord.<package>._models`` module and return the full metadata.

    Each package keeps its tables in its own ``_models.py`` (on :class:`Base`). Nothing at
    run time needs them all at once; autogenerate and the migration-drift test do, and
    finding them by this convention spares a list every new package must remember to edit.
    """
    import importlib
    from pathlib import Path

    import accord

    for package_dir in sorted(Path(accord.__file__).parent.iterdir()):
        if (package_dir / "_models.py").is_file() and (package_dir / "__init__.py").is_file():
            importlib.import_module(f"accord.{package_dir.name}._models")
    return Base.metadata
