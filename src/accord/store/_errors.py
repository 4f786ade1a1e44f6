"""Errors the store raises for problems a user can fix."""

from __future__ import annotations

from accord.errors import AccordError


class StoreError(AccordError):
    """The database cannot be reached, is at an unknown schema revision, or refused a write."""


class DatabaseURLError(StoreError):
    """``ACCORD_DATABASE_URL`` (or a URL passed in) is not one Accord can use."""


class NotFoundError(StoreError):
    """A row looked up by name, hash or id does not exist."""


class ConflictError(StoreError):
    """A write would contradict a row already stored under the same key."""
