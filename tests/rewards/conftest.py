"""Shared fixtures: the demo spec's rules, the gold data (skipped if absent), and a tiny
real judge model saved to disk and served over an OpenAI-compatible chat API."""

from __future__ import annotations

from pathlib import Path

import pytest

from _resources import missing_resource
from accord.spec import Rules, load_spec

ROOT = Path(__file__).resolve().parents[2]
DEMO_SPEC = ROOT / "examples" / "demo" / "spec"
DATA = ROOT.parent / "shared" / "data"
GOLD = DATA / "rbr" / "gold-train.jsonl"


@pytest.fixture(scope="session")
def demo_spec() -> Path:
    return DEMO_SPEC


@pytest.fixture(scope="session")
def rules() -> Rules:
    return load_spec(DEMO_SPEC).rules


@pytest.fixture(scope="session")
def gold_path() -> Path:
    if not GOLD.is_file():
        missing_resource(f"the RBR gold set is not at {GOLD} (the repository's sibling "
                    "shared/data/rbr/); it is public data from openai/safety-rbr-code-and-data")
    return GOLD
