"""Roles grant permissions; write transactions commit, roll back and queue."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from accord.accounts import (
    ADMIN,
    DELIBERATE,
    MODERATE,
    PERMISSIONS,
    PUBLIC,
    REVIEW,
    ROLES,
    SIGNED_IN,
    SURVEY,
    User,
    create_user,
    permissions_of,
    write_session,
)
from accord.store import Store

PASSWORD = "correct horse battery"


@pytest.mark.parametrize(("roles", "granted"), [
    ([], {PUBLIC, SIGNED_IN}),
    (["reviewer"], {PUBLIC, SIGNED_IN, REVIEW, SURVEY}),
    (["participant"], {PUBLIC, SIGNED_IN, DELIBERATE}),
    (["admin"], {PUBLIC, SIGNED_IN, REVIEW, SURVEY, ADMIN, DELIBERATE, MODERATE}),
    (["participant", "reviewer"], {PUBLIC, SIGNED_IN, REVIEW, SURVEY, DELIBERATE}),
    (["auditor"], {PUBLIC, SIGNED_IN, "audit"}),  # scoped /v1 only (docs/audits.md)
    (["owner"], {PUBLIC, SIGNED_IN}),  # an unknown role grants nothing
])
def test_roles_grant_their_permissions(roles, granted):
    assert permissions_of(roles) == granted


def test_every_role_grants_only_known_permissions():
    assert set(ROLES) == {"admin", "reviewer", "participant", "auditor"}
    for role in ROLES.values():
        assert role.permissions <= set(PERMISSIONS), role.name
        assert role.description


def test_write_session_commits_or_rolls_back(store: Store):
    with write_session(store) as s:
        create_user(s, "kept", PASSWORD, ["reviewer"])
    with pytest.raises(RuntimeError), write_session(store) as s:
        create_user(s, "dropped", PASSWORD, ["reviewer"])
        raise RuntimeError("abandon")
    with store.session() as s:
        assert list(s.scalars(select(User.username).order_by(User.username))) == ["kept"]


def test_a_write_session_waits_for_its_lock_on_sqlite(store: Store):
    lock = threading.Lock()
    entered = threading.Event()

    def write() -> None:
        with write_session(store, lock) as s:
            entered.set()
            create_user(s, "queued", PASSWORD, ["reviewer"])

    with lock:
        thread = threading.Thread(target=write)
        thread.start()
        # PostgreSQL needs no lock (ordinary session): the writer goes straight in.
        held_off = not entered.wait(0.3)
    thread.join(timeout=10)
    assert held_off == (store.engine.dialect.name == "sqlite")
    assert entered.is_set()
    with store.session() as s:
        assert s.scalars(select(User.username)).all() == ["queued"]


def test_the_users_create_help_names_every_role():
    from typer.testing import CliRunner

    from accord.cli import app

    result = CliRunner().invoke(app, ["users", "create", "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert all(name in result.output for name in ROLES), result.output
