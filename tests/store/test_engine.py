"""Choosing the database, connection settings, and the session's commit/rollback contract."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from accord.store import (
    DATABASE_URL_ENV,
    DatabaseURLError,
    SpecVersion,
    Store,
    StoreError,
    database_url,
    make_engine,
    open_store,
    record_spec_version,
)


def test_default_database_is_a_sqlite_file_in_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    assert database_url(tmp_path) == f"sqlite:///{tmp_path.resolve()}/.accord/accord.sqlite3"

    with open_store(tmp_path):
        assert (tmp_path / ".accord" / "accord.sqlite3").is_file()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/accord", "postgresql+psycopg://u:p@db:5432/accord"),
        ("postgresql://u@db/accord", "postgresql+psycopg://u@db/accord"),
        ("postgresql+psycopg://u@db/accord", "postgresql+psycopg://u@db/accord"),
        ("sqlite:////srv/accord.sqlite3", "sqlite:////srv/accord.sqlite3"),
    ],
)
def test_environment_variable_wins_and_is_normalised(
    given: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, given)
    assert database_url(tmp_path) == expected


@pytest.mark.parametrize("bad", ["mysql://u@db/accord", "not a url"])
def test_unusable_url_says_what_is_allowed(bad: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, bad)
    with pytest.raises(DatabaseURLError, match=r"sqlite:///.*postgresql://"):
        database_url(None)


def test_unreachable_server_raises_an_actionable_error() -> None:
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    with pytest.raises(StoreError, match="ACCORD_DATABASE_URL") as caught:
        Store.open("postgresql://accord:secret@127.0.0.1:1/accord")
    assert "secret" not in str(caught.value)


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db' / 'accord.sqlite3'}")
    try:
        # Two connections at once: the settings are per connection, so both must have them.
        with engine.connect() as first, engine.connect() as second:
            for connection in (first, second):
                pragmas = {
                    name: connection.execute(text(f"PRAGMA {name}")).scalar()
                    for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
                }
                assert pragmas["journal_mode"] == "wal"
                assert pragmas["foreign_keys"] == 1
                assert pragmas["synchronous"] == 2  # FULL
                assert pragmas["busy_timeout"] >= 5000
    finally:
        engine.dispose()


def _hash(n: int) -> str:
    return f"{n:064x}"


def test_session_commits_on_success_and_rolls_back_on_error(store: Store) -> None:
    with store.session() as session:
        record_spec_version(session, hash=_hash(1), content={}, name="kept")

    with pytest.raises(RuntimeError), store.session() as session:
        record_spec_version(session, hash=_hash(2), content={}, name="dropped")
        raise RuntimeError("boom")

    with store.session() as session:
        names = session.scalars(select(SpecVersion.name)).all()
        assert names == ["kept"]
        assert session.scalar(select(func.count()).select_from(SpecVersion)) == 1
