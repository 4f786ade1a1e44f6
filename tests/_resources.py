"""Resources some tests need (a browser, a model file, the shared data sets).

Where one is missing the test skips with the reason, except in CI (``CI=true``), where a
missing resource fails the run: a suite that silently skips its real-part tests in CI
would report green while testing nothing.
"""

from __future__ import annotations

import os

import pytest


def missing_resource(message: str) -> None:
    """Skip (locally) or fail (in CI) the calling test because a resource is missing."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: a missing resource fails the run)", pytrace=False)
    pytest.skip(message)
