"""Insert-once for rows keyed by a unique column, safe against concurrent writers."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from accord.store._base import Base

RowT = TypeVar("RowT", bound=Base)


def insert_once(session: Session, row: RowT, key: InstrumentedAttribute[Any], value: Any) -> RowT:
    """Return the stored row whose ``key`` equals ``value``, inserting ``row`` if none.

    Another process may insert the same key between our look-up and our insert; the
    insert then fails on the unique constraint inside a savepoint, and we return the
    winner's row instead of failing the caller's whole transaction.
    """
    model = type(row)
    found = session.scalars(select(model).where(key == value)).one_or_none()
    if found is not None:
        return found
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        found = session.scalars(select(model).where(key == value)).one_or_none()
        if found is None:  # The failure was some other constraint: let the caller see it.
            raise
        return found
    return row
