"""Fixtures shared by the whole suite: a database URL on each backend, and a store on it."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from accord.store import Store, upgrade

POSTGRES_ENV = "ACCORD_TEST_POSTGRES_URL"


def _postgres_server_url() -> str:
    """The server-level URL from the environment; fail in CI, skip elsewhere, if unset."""
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if url:
        return url
    message = (
        f"{POSTGRES_ENV} is not set, so there is no PostgreSQL server to test against; "
        "run the tests under scripts/with-postgres (e.g. "
        "scripts/with-postgres .venv/bin/pytest tests/store)"
    )
    if os.environ.get("CI", "").lower() == "true":
        # A PostgreSQL test that silently skips in CI would hide a broken backend.
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


class _Postgres:
    """Creates and drops uniquely named databases on the test server."""

    def __init__(self, server_url: str) -> None:
        self.server = make_url(server_url)
        self.admin_url = self.server.set(drivername="postgresql").render_as_string(
            hide_password=False
        )

    def url(self, name: str) -> str:
        return self.server.set(drivername="postgresql+psycopg", database=name).render_as_string(
            hide_password=False
        )

    def create(self, template: str | None = None) -> str:
        name = f"accord_test_{uuid.uuid4().hex[:16]}"
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(query)
        return name

    def drop(self, name: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            # FORCE: a test that failed may still hold connections open.
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per run; stores start as copies of it."""
    path = tmp_path_factory.mktemp("template") / "accord.sqlite3"
    upgrade(f"sqlite:///{path}")  # Disposing the engine checkpoints the WAL into the file.
    return path


@pytest.fixture(scope="session")
def _postgres() -> Iterator[tuple[_Postgres, str]]:
    """The test server, and a database on it migrated to head once per run (a template)."""
    server = _Postgres(_postgres_server_url())
    template = server.create()
    try:
        upgrade(server.url(template))
        yield server, template
    finally:
        server.drop(template)


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database's URL: a SQLite file in tmp_path, or a new PostgreSQL database.

    Empty, unless the test also uses ``store``: then it is copied from a database already
    migrated to head, which is what ``Store.open`` would make of it, only faster.
    """
    migrated = "store" in request.fixturenames
    if request.param == "sqlite":
        path = tmp_path / "accord.sqlite3"
        if migrated:
            shutil.copyfile(request.getfixturevalue("_migrated_sqlite"), path)
        yield f"sqlite:///{path}"
        return
    if migrated:
        server, template = request.getfixturevalue("_postgres")
        name = server.create(template=template)
    else:
        server = _Postgres(_postgres_server_url())
        name = server.create()
    try:
        yield server.url(name)
    finally:
        server.drop(name)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A ``Store`` on ``db_url``, upgraded to the newest migration."""
    opened = Store.open(db_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def postgres_store(_postgres: tuple[_Postgres, str]) -> Iterator[Store]:
    """A ``Store`` on a fresh PostgreSQL database, for behaviour SQLite cannot show
    (e.g. concurrent writers: SQLite serialises them on one lock)."""
    server, template = _postgres
    name = server.create(template=template)
    opened = Store.open(server.url(name))
    try:
        yield opened
    finally:
        opened.close()
        server.drop(name)
