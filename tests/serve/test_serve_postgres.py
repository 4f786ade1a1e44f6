"""The review API on PostgreSQL as ``accord serve`` opens it: the pool sized for the
server's threads, sign-in looked up without a transaction, submissions committed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from serve_site import GOOD, PASSWORD, Site, build_site
from sqlalchemy import select, text

from accord.review import Rating
from accord.serve import CSRF_HEADER, SESSION_COOKIE
from accord.serve._db import POOL_OVERFLOW, POOL_SIZE, serving_store
from accord.store import Store, upsert_prompt

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_site(postgres_store: Store) -> Iterator[Site]:
    store = serving_store(postgres_store)
    try:
        yield build_site(store)
    finally:
        store.close()


def test_serving_store_keeps_the_store_settings_with_a_bigger_pool(pg_site: Site):
    engine = pg_site.store.engine
    assert engine.pool.size() == POOL_SIZE and engine.pool._max_overflow == POOL_OVERFLOW
    with pg_site.store.session() as s:
        upsert_prompt(s, [{"role": "user", "content": "Un café, s'il vous plaît"}],
                      split="review", source="test")
    with pg_site.store.session() as s:
        raw = s.execute(text("SELECT messages::text FROM prompts WHERE source = 'test'"))
        assert "café" in raw.scalar_one()  # JSON kept readable, as accord.store writes it


def test_sign_in_review_and_sign_out_over_the_api(pg_site: Site):
    client = pg_site.client
    client.cookies.clear()
    login = client.post("/api/login", json={"username": "reviewer", "password": PASSWORD})
    assert login.status_code == 200
    headers = {CSRF_HEADER: login.json()["csrf_token"]}
    task = client.post("/api/tasks/next", params={"batch": pg_site.rating_batch},
                       headers=headers).json()["task"]
    assert task["completions"] and task["categories"]
    done = client.post(f"/api/tasks/{task['id']}/rating", headers=headers,
                       json={"values": GOOD, "note": "fine"})
    assert done.status_code == 200 and done.json()["committed"] is True
    again = client.post(f"/api/tasks/{task['id']}/rating", headers=headers,
                        json={"values": GOOD, "note": "fine"})  # a retry: same row
    assert again.json()["rating_id"] == done.json()["rating_id"]
    changed = client.post(f"/api/tasks/{task['id']}/rating", headers=headers,
                          json={"values": {**GOOD, "helpful": 1}, "note": "fine"})
    assert changed.status_code == 409
    with pg_site.store.session() as s:
        row = s.scalars(select(Rating).where(Rating.assignment_id == task["id"])).one()
        assert row.values["helpful"] == GOOD["helpful"] and row.note == "fine"
    token = client.cookies.get(SESSION_COOKIE)
    assert client.post("/api/logout", headers=headers).status_code == 200
    client.cookies.set(SESSION_COOKIE, token)  # the old cookie is refused at once
    assert client.get("/api/me").status_code == 401
