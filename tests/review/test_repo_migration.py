"""Migration 0002 (review tables) up and down on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect

from accord.store import current_revision, downgrade, make_engine, upgrade

REVIEW_TABLES = {"users", "user_roles", "web_sessions", "review_batches", "review_items",
                 "review_item_completions", "review_assignments", "ratings", "rankings",
                 "adjudications", "survey_responses", "survey_links"}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_0002_adds_and_removes_only_the_review_tables(db_url: str):
    upgrade(db_url, "0001")
    before = _tables(db_url)
    assert not before & REVIEW_TABLES
    upgrade(db_url, "0002")
    assert current_revision(db_url) == "0002"
    assert _tables(db_url) == before | REVIEW_TABLES
    downgrade(db_url, "0001")
    assert current_revision(db_url) == "0001"
    assert _tables(db_url) == before
