"""Fixtures: a live app over a seeded store (see serve_site.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_site import Site, build_site

from accord.store import Store


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    store = Store.open(f"sqlite:///{tmp_path / 'accord.sqlite3'}")
    try:
        yield build_site(store)
    finally:
        store.close()


@pytest.fixture(scope="module")
def shared_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One site for a whole module, for tests that only add rows (each takes fresh tasks)."""
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('site') / 'accord.sqlite3'}")
    try:
        yield build_site(store)
    finally:
        store.close()
