"""Accounts, sessions and the first admin on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accord.accounts import (
    AccountError,
    authenticate,
    create_user,
    end_session,
    ensure_admin,
    get_user,
    session_account,
    set_password,
    start_session,
)
from accord.store import ConflictError, Store, utcnow

PASSWORD = "correct horse battery"


@pytest.fixture
def users(store: Store) -> Store:
    """A store with an admin and three reviewers (rev0..rev2)."""
    with store.session() as session:
        create_user(session, "admin", PASSWORD, ["admin"])
        for i in range(3):
            create_user(session, f"rev{i}", PASSWORD, ["reviewer"])
    return store


def test_sign_in_sessions_expire_and_end(users: Store):
    with users.session() as s:
        assert authenticate(s, "rev0", "wrong password") is None
        assert authenticate(s, "nobody", PASSWORD) is None
        user = authenticate(s, "rev0", PASSWORD)
        token, csrf = start_session(s, user)
    with users.session() as s:
        account = session_account(s, token)
        assert account.username == "rev0" and account.roles == ("reviewer",)
        assert account.csrf_token == csrf and "review" in account.permissions
        assert "admin" not in account.permissions
        assert session_account(s, token, now=utcnow() + timedelta(days=8)) is None
        assert session_account(s, "forged") is None
        set_password(s, "rev0", "another long password")  # signs out everywhere
    with users.session() as s:
        assert session_account(s, token) is None
        token, _ = start_session(s, get_user(s, "rev0"))
        end_session(s, token)
    with users.session() as s:
        assert session_account(s, token) is None


@pytest.mark.parametrize(("username", "password", "roles", "error", "message"), [
    ("Bob", PASSWORD, ["reviewer"], AccountError, "lowercase letters"),
    ("bob", "short", ["reviewer"], AccountError, "at least 10"),
    ("bob", PASSWORD, ["owner"], AccountError, "one of: admin, reviewer"),
    ("rev0", PASSWORD, ["reviewer"], ConflictError, "taken"),
])
def test_bad_accounts_are_refused(users: Store, username, password, roles, error, message):
    with pytest.raises(error, match=message), users.session() as s:
        create_user(s, username, password, roles)


def test_the_first_admin_is_made_once(store: Store):
    with store.session() as s:
        password = ensure_admin(s)
        assert password and authenticate(s, "admin", password) is not None
        assert ensure_admin(s) is None
