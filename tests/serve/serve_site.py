"""A seeded store behind the app (FastAPI TestClient), and helpers to act as a role."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fastapi.testclient import TestClient

from accord.accounts import create_user, get_user, start_session
from accord.review import SurveyField, create_batch, store_canned_completions
from accord.serve import (
    SESSION_COOKIE,
    create_app,
    live_server,  # noqa: F401  (tests import it from here)
)
from accord.spec import load_spec
from accord.store import Store, record_spec_version

DEMO_SPEC = Path(__file__).resolve().parents[2] / "examples" / "demo" / "spec"
PASSWORD = "correct horse battery"
# Distinctive answers: no page or API may ever show them (only totals are published).
SURVEY_FIELDS = [
    SurveyField(id="region", question="Where you live",
                options=["Qzxv-Northreach", "Jwyk-Southmarch"]),
    SurveyField(id="political_leaning", question="Political leaning",
                options=["Vrrp-Leftish", "Kqqz-Rightish"]),
]
GOOD = {"offensive": 1, "one_sided": 1, "objectionable": "no", "over_refusal": "no",
        "preachy": 1, "helpful": 5, "follows_customisation": "yes", "issues": []}


@dataclass
class Site:
    store: Store
    client: TestClient
    rating_batch: int
    comparison_batch: int
    spec_version: str
    users: dict[str, int] = field(default_factory=dict)

    def session_for(self, username: str) -> tuple[str, str]:
        """A fresh signed-in session (cookie token, CSRF token), without argon2's cost."""
        with self.store.session() as session:
            return start_session(session, get_user(session, username))

    def as_user(self, username: str | None) -> tuple[TestClient, str]:
        """The shared client with the cookies of a fresh session for ``username``."""
        self.client.cookies.clear()
        if username is None:
            return self.client, ""
        token, csrf = self.session_for(username)
        self.client.cookies.set(SESSION_COOKIE, token)
        return self.client, csrf


def build_site(store: Store) -> Site:
    spec = load_spec(DEMO_SPEC)
    with store.session() as session:
        row = record_spec_version(session, hash=spec.hash, content=spec.content(), name="demo")
        store_canned_completions(session, row, prompts=30, completions_per_prompt=3)
        users = {name: create_user(session, name, PASSWORD, roles).id
                 for name, roles in (("admin", ["admin"]), ("reviewer", ["reviewer"]),
                                     ("reviewer2", ["reviewer"]))}
        rating = create_batch(session, name="ratings", kind="rating", model_version="canned",
                              spec_version=row.id, prompts=30, completions_per_prompt=2,
                              overlap=3, created_by=users["admin"]).id
        comparison = create_batch(session, name="rankings", kind="comparison",
                                  model_version="canned", spec_version=row.id, prompts=30,
                                  completions_per_prompt=3, overlap=3).id
        version = row.version
    app = create_app(store, survey_fields=SURVEY_FIELDS)
    client = TestClient(app, follow_redirects=False)
    return Site(store, client, rating, comparison, version, users)


