"""Shared counters lose no update between processes' connections, and handed-out passwords
are flagged until their owner replaces them (SQLite and PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from accord.accounts import (
    AccountError,
    LimitCounter,
    change_password,
    counter_key,
    create_user,
    ensure_admin,
    get_user,
    locked_counters,
    session_account,
    set_password,
    start_session,
)
from accord.store import Store


def test_concurrent_increments_from_two_stores_are_all_counted(store: Store, db_url: str):
    # Two Store objects are two connection pools, as two server processes have.
    other = Store.open(db_url)
    try:
        def bump(s: Store) -> None:
            for _ in range(20):
                with locked_counters(s, ["test:shared", "test:also"]) as counts:
                    counts["test:shared"].count += 1
                    counts["test:also"].count += 2
                    counts["test:shared"].expires_at = counts["test:also"].expires_at = 1e12

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(bump, [store, other, store, other]))
    finally:
        other.close()
    with store.session() as s:
        counts = {row.key: row.count for row in s.query(LimitCounter).all()}
    assert counts == {"test:shared": 80, "test:also": 160}


def test_counter_keys_are_bounded_and_do_not_list_what_was_tried():
    key = counter_key("signin:account", "x" * 10_000)
    assert len(key) <= 96 and "xxx" not in key
    assert counter_key("a", "bob") != counter_key("b", "bob")
    assert counter_key("a", "\ud800") != counter_key("a", "")  # any text, even a lone surrogate


def test_handed_out_passwords_are_flagged_and_a_change_clears_the_flag(store: Store):
    with store.session() as s:
        first = ensure_admin(s)
        assert first is not None and get_user(s, "admin").must_change_password
        user = create_user(s, "ann", "handed out once", ["reviewer"], one_time=True)
        keep, _ = start_session(s, user)
        drop, _ = start_session(s, user)
        assert session_account(s, keep).must_change_password is True
    with store.session() as s, pytest.raises(AccountError, match="current password is wrong"):
        change_password(s, user.id, "not it at all", "my own password")
    with store.session() as s, pytest.raises(AccountError, match="at least 10"):
        change_password(s, user.id, "handed out once", "short")
    with store.session() as s, pytest.raises(AccountError, match="must differ"):
        change_password(s, user.id, "handed out once", "handed out once")
    with store.session() as s:
        change_password(s, user.id, "handed out once", "my own password", keep_session=keep)
    with store.session() as s:
        assert get_user(s, "ann").must_change_password is False
        account = session_account(s, keep)
        assert account is not None and account.must_change_password is False
        assert session_account(s, drop) is None
        set_password(s, "ann", "a reset password", one_time=True)  # a reset hands out again
        assert get_user(s, "ann").must_change_password is True
        assert session_account(s, keep) is None
