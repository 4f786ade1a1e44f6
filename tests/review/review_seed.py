"""A store with the demo spec recorded, canned completions, an admin and three reviewers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accord.accounts import create_user
from accord.review import store_canned_completions
from accord.spec import load_spec
from accord.store import Store, record_spec_version

DEMO_SPEC = Path(__file__).resolve().parents[2] / "examples" / "demo" / "spec"
PASSWORD = "correct horse battery"


@dataclass
class Seeded:
    store: Store
    spec_version_id: int
    model: str
    admin: int
    reviewers: list[int]


def seed(store: Store) -> Seeded:
    spec = load_spec(DEMO_SPEC)
    with store.session() as session:
        row = record_spec_version(session, hash=spec.hash, content=spec.content(), name="demo")
        store_canned_completions(session, row, prompts=6, completions_per_prompt=3)
        admin = create_user(session, "admin", PASSWORD, ["admin"]).id
        reviewers = [create_user(session, f"rev{i}", PASSWORD, ["reviewer"])
                     .id for i in range(3)]
        return Seeded(store, row.id, "canned", admin, reviewers)
