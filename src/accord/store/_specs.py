"""Spec versions: record each version of the written spec once, find it again by any id."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.store._errors import ConflictError, NotFoundError, StoreError
from accord.store._hashing import SHORT_HASH_LENGTH
from accord.store._models import SpecVersion
from accord.store._unique import insert_once

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def record_spec_version(
    session: Session,
    *,
    hash: str,
    content: dict[str, Any],
    name: str,
    provenance: list[Any] | None = None,
) -> SpecVersion:
    """Store a spec version, or return the one already stored under ``hash``.

    Args:
        session: an open session; the row is flushed, not committed.
        hash: sha256 hex of the spec's canonical content (computed by ``accord.spec``).
        content: the canonical content itself, as JSON-compatible data.
        name: a human name for the spec (e.g. the project's spec title).
        provenance: where this version came from (e.g. ratified deliberations); ``[]``.

    Returns:
        The stored row. Recording the same hash twice returns the first row unchanged.

    Raises:
        StoreError: ``hash`` is not 64 lowercase hex digits.
    """
    if not _SHA256_HEX.fullmatch(hash):
        raise StoreError(f"spec hash {hash!r} is not a sha256 hex digest (64 characters 0-9, a-f)")
    row = SpecVersion(
        hash=hash,
        version=hash[:SHORT_HASH_LENGTH],
        name=name,
        content=content,
        provenance=list(provenance or []),
    )
    return insert_once(session, row, SpecVersion.hash, hash)


def get_spec_version(session: Session, ref: str | int) -> SpecVersion:
    """Find a spec version by full hash, 12-character version, or numeric id.

    Raises:
        NotFoundError: nothing matches; the message lists the newest versions stored.
        ConflictError: a 12-character version matches two hashes (use the full hash).
    """
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit() and len(ref) < 12):
        found = session.get(SpecVersion, int(ref))
        if found is None:
            raise _not_found(session, ref)
        return found
    text = ref.strip().lower()
    column = SpecVersion.hash if len(text) == 64 else SpecVersion.version
    rows = list(session.scalars(select(SpecVersion).where(column == text)).all())
    if len(rows) > 1:
        raise ConflictError(
            f"spec version {ref!r} matches {len(rows)} spec hashes; use the full hash: "
            + ", ".join(row.hash for row in rows)
        )
    if not rows:
        raise _not_found(session, ref)
    return rows[0]


def latest_spec_version(session: Session) -> SpecVersion | None:
    """The most recently recorded spec version, or ``None`` if none was recorded."""
    query = select(SpecVersion).order_by(SpecVersion.id.desc()).limit(1)
    return session.scalars(query).one_or_none()


def _not_found(session: Session, ref: str | int) -> NotFoundError:
    newest = session.scalars(select(SpecVersion).order_by(SpecVersion.id.desc()).limit(5))
    known = ", ".join(f"{row.version} (id {row.id}, {row.name})" for row in newest)
    return NotFoundError(
        f"no spec version {ref!r}; pass a full sha256 hash, a 12-character version or an "
        f"id. Newest stored: {known or 'none; record one first'}"
    )
