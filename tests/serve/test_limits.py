"""Limits that hold: counters shared by every server on one store (SQLite and PostgreSQL),
anonymous chat limited by address as well as by cookie, /v1 limited per account as well as
per key, messages refused before tokenising, task hand-out only by POST, and one-time
passwords that must be replaced at the first sign-in."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest
from serve_site import PASSWORD, build_site, live_server
from starlette.requests import Request

from accord.accounts import (
    LimitCounter,
    create_user,
    get_user,
    locked_counters,
    session_account,
    start_session,
    sweep_counters,
)
from accord.customize import CustomizeSettings, create_api_key
from accord.serve import CSRF_HEADER, create_app
from accord.serve._signin_limit import client_address, trusted_networks
from accord.store import Store


@pytest.fixture
def two_servers(db_url: str) -> Iterator[tuple[list[str], Store]]:
    """Two apps, each with its own store object and connection pool, on one database —
    what two workers of ``accord serve --workers 2`` are — served on two ports."""
    with ExitStack() as stack:
        first = Store.open(db_url)
        stack.callback(first.close)
        build_site(first)  # accounts reviewer, reviewer2, admin; the demo spec
        second = Store.open(db_url)
        stack.callback(second.close)
        settings = CustomizeSettings(requests_per_minute=3)
        bases = [stack.enter_context(live_server(create_app(s, customize=settings)))
                 for s in (first, second)]
        yield bases, first


def _login(base: str, username: str, password: str) -> httpx.Response:
    return httpx.post(f"{base}/api/login", json={"username": username, "password": password},
                      timeout=60)


def test_sign_in_throttling_holds_across_two_servers_on_one_database(two_servers):
    bases, _store = two_servers
    for n in range(6):  # five free failures, then the account shuts for 1 s
        assert _login(bases[n % 2], "reviewer", "wrong password").status_code == 401
    for base in bases:  # each server refuses, though each saw only three failures
        refused = _login(base, "reviewer", PASSWORD)
        assert refused.status_code == 429, refused.text
        assert "for this account" in refused.json()["error"]
    time.sleep(1.1)
    assert _login(bases[1], "reviewer", PASSWORD).status_code == 200
    # Success on one server cleared the count for both.
    assert _login(bases[0], "reviewer", "wrong password").status_code == 401
    assert _login(bases[0], "reviewer", PASSWORD).status_code == 200


def test_api_rate_limits_hold_across_servers_per_key_and_per_account(two_servers):
    bases, store = two_servers
    with store.session() as s:
        alice = create_user(s, "alice", PASSWORD, ["reviewer"]).id
        bob = create_user(s, "bob", PASSWORD, ["reviewer"]).id
        first, second = (create_api_key(s, alice, name)[1] for name in ("one", "two"))
        other = create_api_key(s, bob, "bobs")[1]

    def models(base: str, key: str) -> httpx.Response:
        return httpx.get(f"{base}/v1/models", headers={"Authorization": f"Bearer {key}"},
                         timeout=60)

    # Three a minute per key and per account; alice's two keys on two servers share one.
    assert [models(bases[0], first).status_code, models(bases[1], first).status_code,
            models(bases[1], second).status_code] == [200, 200, 200]
    refused = models(bases[0], second)
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["type"] == "rate_limit_error" and error["code"] == "rate_limit_exceeded"
    assert int(refused.headers["retry-after"]) >= 1
    assert models(bases[1], first).status_code == 429  # the key's own bucket is empty too
    assert models(bases[0], other).status_code == 200  # another account is not affected


def test_counters_expire_and_are_swept(store: Store):
    with locked_counters(store, ["t:a", "t:b"]) as counts:
        counts["t:a"].expires_at = 100.0
        counts["t:b"].expires_at = 300.0
    assert sweep_counters(store, 200.0) == 1
    with store.session() as s:
        assert [row.key for row in s.query(LimitCounter).all()] == ["t:b"]


def _request(app, peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers,
                    "client": (peer, 5000), "app": app, "query_string": b""})


def test_forwarded_for_is_believed_only_from_trusted_proxies(tmp_path):
    with Store.open(f"sqlite:///{tmp_path / 'a.sqlite3'}") as store:
        plain = create_app(store)
        proxied = create_app(store, trusted_proxies=["10.0.0.0/8", "127.0.0.1"])
    # Off by default: a client cannot choose its address by sending the header.
    assert client_address(_request(plain, "203.0.113.9", "1.2.3.4")) == "203.0.113.9"
    # From a trusted proxy: the nearest address the trusted proxies did not add.
    assert client_address(_request(proxied, "127.0.0.1", "1.2.3.4, 198.51.100.7, 10.1.2.3")
                          ) == "198.51.100.7"
    # A client's own forged entries sit further left and are never reached.
    assert client_address(_request(proxied, "10.0.0.2", "6.6.6.6, 198.51.100.7")
                          ) == "198.51.100.7"
    # The header from an untrusted peer is ignored.
    assert client_address(_request(proxied, "203.0.113.9", "1.2.3.4")) == "203.0.113.9"
    with pytest.raises(Exception, match="not an IP address"):
        trusted_networks(["localhost"])


def test_anonymous_feedback_limit_holds_when_the_cookie_changes_each_time(tmp_path):
    # The same per-visitor limit guards anonymous chat (see test_chat_limits.py, which
    # runs a model); feedback needs none, and its refusals after the limit are the point.
    with Store.open(f"sqlite:///{tmp_path / 'a.sqlite3'}") as store:
        build_site(store)
        app = create_app(store, customize=CustomizeSettings(anonymous_chat=True,
                                                            requests_per_minute=3))
        with live_server(app) as base:
            codes = []
            for n in range(5):
                # A fresh visitor cookie and a fresh forwarded-for each time.
                codes.append(httpx.post(
                    f"{base}/api/chat/feedback", json={"answer_id": "nope", "kind": "up"},
                    cookies={"accord_csrf": f"fresh-{n}"},
                    headers={"x-forwarded-for": f"198.51.100.{n}"}, timeout=60).status_code)
    assert codes == [404, 404, 404, 429, 429]


def test_task_hand_out_is_post_only(tmp_path):
    with Store.open(f"sqlite:///{tmp_path / 'a.sqlite3'}") as store:
        site = build_site(store)
        client, csrf = site.as_user("reviewer")
        page = client.get(f"/batches/{site.rating_batch}/next")
        assert page.status_code == 405
        api = client.get(f"/api/tasks/next?batch={site.rating_batch}")
        assert api.status_code == 405
        assert client.post(f"/api/tasks/next?batch={site.rating_batch}").status_code == 403
        task = client.post(f"/api/tasks/next?batch={site.rating_batch}",
                           headers={CSRF_HEADER: csrf}).json()["task"]
        assert task["kind"] == "rating"
        # The dashboard offers a button (a form), not a link, to take a task.
        dashboard = client.get("/").text
        assert f'action="/batches/{site.rating_batch}/next"' in dashboard
        assert f'href="/batches/{site.rating_batch}/next"' not in dashboard
        start = client.post(f"/batches/{site.rating_batch}/next", data={"csrf_token": csrf})
        assert start.status_code == 303 and start.headers["location"] == f"/tasks/{task['id']}"


def test_a_one_time_password_must_be_replaced_at_the_first_sign_in(store: Store):
    site = build_site(store)
    with store.session() as s:
        create_user(s, "newbie", "handed out once", ["reviewer"], one_time=True)
    client = site.client
    client.cookies.clear()
    csrf = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
    signed = client.post("/login", data={"csrf_token": csrf, "username": "newbie",
                                         "password": "handed out once", "next": "/survey"})
    assert signed.status_code == 303
    assert signed.headers["location"] == "/account/password?next=/survey"
    # Until it is changed, pages lead to the password page and the API refuses.
    assert client.get("/").headers["location"] == "/account/password"
    assert client.get(f"/batches/{site.rating_batch}/done").status_code == 303
    assert client.get("/api/batches").status_code == 403
    assert client.get("/api/me").json()["must_change_password"] is True
    form = client.get("/account/password?next=/survey")
    assert form.status_code == 200 and "handed to you" in form.text
    token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    change = {"csrf_token": token, "current_password": "handed out once",
              "new_password": "my own password", "repeat_password": "my own password",
              "next": "/survey"}
    # An older session of the same account (e.g. another browser) is signed out later.
    with store.session() as s:
        other_token, _ = start_session(s, get_user(s, "newbie"))
    wrong = client.post("/account/password", data={**change, "current_password": "guess!!!!!"})
    assert wrong.status_code == 422 and "current password is wrong" in wrong.text
    differ = client.post("/account/password", data={**change, "repeat_password": "other one!"})
    assert differ.status_code == 422 and "differ" in differ.text
    same = client.post("/account/password", data={**change, "new_password": "handed out once",
                                                   "repeat_password": "handed out once"})
    assert same.status_code == 422 and "must differ" in same.text
    done = client.post("/account/password", data=change)
    assert done.status_code == 303 and done.headers["location"] == "/survey"
    assert client.get("/").status_code == 200  # the same session goes on
    with store.session() as s:
        assert get_user(s, "newbie").must_change_password is False
    with store.session() as s:
        assert session_account(s, other_token) is None  # the other session was ended
    # The handed-out password is spent; the new one signs in straight to the page asked for.
    client.cookies.clear()
    assert client.post("/api/login", json={"username": "newbie",
                                           "password": "handed out once"}).status_code == 401
    again = client.post("/api/login", json={"username": "newbie",
                                            "password": "my own password"})
    assert again.status_code == 200 and again.json()["must_change_password"] is False


def test_the_api_changes_a_password_and_counts_wrong_guesses(store: Store):
    site = build_site(store)
    with store.session() as s:
        create_user(s, "apiuser", "handed out once", ["reviewer"], one_time=True)
    client = site.client
    client.cookies.clear()
    login = client.post("/api/login", json={"username": "apiuser",
                                            "password": "handed out once"})
    assert login.json()["must_change_password"] is True
    headers = {CSRF_HEADER: login.json()["csrf_token"]}
    body = {"current_password": "wrong guess", "new_password": "my own password"}
    codes = [client.post("/api/account/password", json=body, headers=headers).status_code
             for _ in range(7)]
    assert codes[:5] == [422] * 5 and 429 in codes[5:]  # guesses are throttled like sign-ins
    time.sleep(2.1)
    changed = client.post("/api/account/password", headers=headers,
                          json={**body, "current_password": "handed out once"})
    assert changed.status_code == 200 and changed.json() == {"changed": True}
    assert client.get("/api/batches").status_code == 200


def test_accounts_made_by_the_cli_and_the_admin_page_get_one_time_passwords(tmp_path,
                                                                            monkeypatch):
    from typer.testing import CliRunner

    from accord.accounts import users_app
    from accord.project import open_project_store

    monkeypatch.delenv("ACCORD_DATABASE_URL", raising=False)
    runner = CliRunner()
    made = runner.invoke(users_app, ["create", "carol", "-p", str(tmp_path)])
    assert made.exit_code == 0 and "to be changed at the first sign-in" in made.output
    sim = runner.invoke(users_app, ["create", "robot", "--simulated", "-p", str(tmp_path)])
    assert sim.exit_code == 0
    with open_project_store(tmp_path) as store:
        with store.session() as s:
            assert get_user(s, "carol").must_change_password is True
            assert get_user(s, "robot").must_change_password is False  # a program
        site = build_site(store)
        admin, csrf = site.as_user("admin")
        page = admin.post("/admin/users", data={"csrf_token": csrf, "username": "dave",
                                                "role": "reviewer"})
        assert page.status_code == 200
        with store.session() as s:
            assert get_user(s, "dave").must_change_password is True
    reset = runner.invoke(users_app, ["reset-password", "robot", "-p", str(tmp_path)])
    assert reset.exit_code == 0
    with open_project_store(tmp_path) as store, store.session() as s:
        assert get_user(s, "robot").must_change_password is True
