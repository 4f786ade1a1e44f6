"""The app a project folder makes: its database and spec folder, read once at start-up."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from accord.accounts import create_user, get_user, start_session
from accord.project import database_url_of, load_project, open_project_store
from accord.serve import SESSION_COOKIE, create_app
from accord.serve._main import app_from_project
from accord.store import DATABASE_URL_ENV

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    shutil.copytree(DEMO / "spec", tmp_path / "spec")
    (tmp_path / "accord.toml").write_text('[project]\nname = "t"\n')
    return tmp_path


def test_the_database_is_the_variable_then_the_table_then_sqlite(
        project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    sqlite = f"sqlite:///{project.resolve() / '.accord' / 'accord.sqlite3'}"
    assert database_url_of(load_project(project)) == sqlite
    configured = f"sqlite:///{tmp_path / 'configured.sqlite3'}"
    (project / "accord.toml").write_text(f'[project]\ndatabase_url = "{configured}"\n')
    assert database_url_of(load_project(project)) == configured
    monkeypatch.setenv(DATABASE_URL_ENV, "   ")  # blank: as if unset
    assert database_url_of(load_project(project)) == configured
    from_env = f"sqlite:///{tmp_path / 'env.sqlite3'}"
    monkeypatch.setenv(DATABASE_URL_ENV, from_env)
    assert database_url_of(load_project(project)) == from_env


def _admin_page(app, store) -> str:
    with store.session() as s:
        create_user(s, "admin", "correct horse battery", ["admin"])
        token, _ = start_session(s, get_user(s, "admin"))
    client = TestClient(app, follow_redirects=False)
    client.cookies.set(SESSION_COOKIE, token)
    page = client.get("/admin/deliberations")
    assert page.status_code == 200, page.text
    return page.text


def test_the_ratify_page_offers_the_served_projects_spec_folder(
        project: Path, monkeypatch: pytest.MonkeyPatch):
    app = app_from_project(project)
    assert app.state.spec_dir == (project / "spec").resolve()
    # Requests read the app's state, not the environment uvicorn's workers start from.
    monkeypatch.setenv("ACCORD_SERVE_PROJECT", "/nowhere")
    try:
        page = _admin_page(app, app.state.store)
    finally:
        app.state.store.close()
    assert f'value="{(project / "spec").resolve()}"' in page


def test_an_app_without_a_project_offers_no_spec_folder(project: Path):
    store = open_project_store(project)
    try:
        page = _admin_page(create_app(store), store)
    finally:
        store.close()
    assert 'name="spec_dir" value=""' in page
