"""Fixtures for the review store tests (see review_seed.py)."""

from __future__ import annotations

import pytest
from review_seed import Seeded, seed

from accord.store import Store


@pytest.fixture
def seeded(store: Store) -> Seeded:
    return seed(store)
