"""Every route × every role (and signed-out) → the expected status, CSRF on every write,
and no response ever shows one person's survey answers.

The expected table is written out by hand: a route added without a row here fails the
first test, and a permission changed by mistake fails the second.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from serve_site import GOOD, PASSWORD, SURVEY_FIELDS, Site

from accord.review import next_task, task_view
from accord.serve import CSRF_HEADER

ROLES = ("anonymous", "reviewer", "admin")
USER = {"anonymous": None, "reviewer": "reviewer", "admin": "admin"}

# (method, path) -> (status signed out, as reviewer, as admin). Signed-out callers are sent
# to the sign-in page (303) or get 401 from the API; missing permission is 403.
EXPECTED: dict[tuple[str, str], tuple[int, int, int]] = {
    ("GET", "/"): (303, 200, 200),
    ("GET", "/login"): (200, 200, 200),
    ("POST", "/login"): (303, 303, 303),
    ("POST", "/logout"): (303, 303, 303),
    ("GET", "/static/{name}"): (200, 200, 200),
    ("GET", "/batches/{batch_id}/next"): (303, 303, 303),
    ("GET", "/tasks/{task_id}"): (303, 200, 200),
    ("POST", "/tasks/{task_id}/rating"): (303, 303, 303),
    ("POST", "/tasks/{task_id}/ranking"): (303, 303, 303),
    ("POST", "/tasks/{task_id}/skip"): (303, 303, 303),
    ("GET", "/survey"): (303, 200, 200),
    ("POST", "/survey"): (303, 303, 303),
    ("POST", "/survey/withdraw"): (303, 303, 303),
    ("GET", "/admin"): (303, 403, 200),
    ("POST", "/admin/batches"): (303, 403, 303),
    ("GET", "/admin/batches/{batch_id}"): (303, 403, 200),
    ("POST", "/admin/items/{item_id}/adjudication"): (303, 403, 303),
    ("GET", "/admin/users"): (303, 403, 200),
    ("POST", "/admin/users"): (303, 403, 200),
    ("GET", "/api/health"): (200, 200, 200),
    ("POST", "/api/login"): (200, 200, 200),
    ("POST", "/api/logout"): (401, 200, 200),
    ("GET", "/api/me"): (401, 200, 200),
    ("GET", "/api/batches"): (401, 200, 200),
    ("GET", "/api/batches/{batch_id}"): (401, 200, 200),
    ("GET", "/api/tasks/next"): (401, 200, 200),
    ("GET", "/api/tasks/{task_id}"): (401, 200, 200),
    ("POST", "/api/tasks/{task_id}/rating"): (401, 200, 200),
    ("POST", "/api/tasks/{task_id}/ranking"): (401, 200, 200),
    ("POST", "/api/tasks/{task_id}/skip"): (401, 200, 200),
    ("GET", "/api/survey"): (401, 200, 200),
    ("POST", "/api/survey"): (401, 200, 200),
    ("POST", "/api/survey/withdraw"): (401, 200, 200),
    ("POST", "/api/admin/batches"): (401, 403, 200),
    ("GET", "/api/admin/batches/{batch_id}/report"): (401, 403, 200),
}
_names = itertools.count()


def test_every_route_is_in_the_table(shared_site: Site):
    site = shared_site
    routes = set(site.client.app.state.permissions)  # type: ignore[attr-defined]
    assert routes == set(EXPECTED), (
        f"missing rows: {sorted(routes - set(EXPECTED))}; stale rows: "
        f"{sorted(set(EXPECTED) - routes)}")


def _request(site: Site, role: str, method: str, path: str,
             csrf: str | None) -> tuple[str, dict[str, Any]]:
    """A concrete, valid request for the route as ``role`` (fresh tasks for writes)."""
    user = USER[role] or "reviewer"
    task_kind = "ranking" if path.endswith("/ranking") else "rating"
    batch = site.comparison_batch if task_kind == "ranking" else site.rating_batch
    kwargs: dict[str, Any] = {}
    url = path.replace("{name}", "style.css").replace("{batch_id}", str(site.rating_batch))
    if "{task_id}" in url or "{item_id}" in url:
        with site.store.session() as s:
            task = next_task(s, batch, site.users[user])
            assert task is not None
            completions = [cid for cid, _ in task_view(s, task).completions]
            url = url.replace("{task_id}", str(task.id)).replace("{item_id}", str(task.item_id))
    is_api = url.startswith("/api/")
    body: dict[str, Any] = {}
    if url.endswith("/rating"):
        body = {"values": GOOD} if is_api else {f"c.{k}": v for k, v in GOOD.items()
                                                if not isinstance(v, list)}
    elif url.endswith("/ranking"):
        body = ({"tiers": [completions]} if is_api
                else {f"rank.{c}": "1" for c in completions})
    elif url.endswith("/login"):
        body = {"username": user, "password": PASSWORD}
    elif url in ("/survey", "/api/survey") and method == "POST":
        body = {"region": "Qzxv-Northreach", "consent": "yes"}
        body = {"answers": {"region": "Qzxv-Northreach"}, "consent": True} if is_api else body
    elif url == "/api/admin/batches":
        body = {"name": "api", "model_version": "canned", "spec_version": site.spec_version,
                "prompts": 2}
    elif url == "/admin/batches":
        body = {"name": "form", "kind": "rating", "model_version": "canned",
                "spec_version": site.spec_version, "prompts": "2", "overlap": "2",
                "completions_per_prompt": "1", "seed": "0", "gold_examples": "yes"}
    elif url == "/admin/users":
        body = {"username": f"new{next(_names)}", "role": "reviewer"}
    elif "/adjudication" in url:
        body = {"category": "offensive", "value": "2"}
    elif url == "/api/tasks/next":
        kwargs["params"] = {"batch": site.rating_batch}
    if method == "POST":
        if is_api:
            kwargs["json"] = body
            if csrf:
                kwargs["headers"] = {CSRF_HEADER: csrf}
        else:
            kwargs["data"] = {**body, **({"csrf_token": csrf} if csrf else {})}
    return url, kwargs


@pytest.mark.parametrize("route", sorted(EXPECTED), ids=lambda r: f"{r[0]} {r[1]}")
def test_route_by_role(shared_site: Site, route: tuple[str, str]):
    site = shared_site
    method, path = route
    for role, expected in zip(ROLES, EXPECTED[route], strict=True):
        client, csrf = site.as_user(USER[role])
        if role == "anonymous" and method == "POST" and path == "/login":
            csrf = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
        url, kwargs = _request(site, role, method, path, csrf)
        response = client.request(method, url, **kwargs)
        assert response.status_code == expected, (
            f"{method} {url} as {role}: {response.status_code} {response.text[:300]}")
        if role == "anonymous" and expected == 303 and path not in ("/login",):
            assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("route", sorted(r for r in EXPECTED if r[0] == "POST"),
                         ids=lambda r: f"{r[0]} {r[1]}")
def test_writes_without_or_with_a_wrong_csrf_token_are_refused(shared_site: Site, route):
    site = shared_site
    method, path = route
    for csrf in (None, "not-the-token"):
        client, _ = site.as_user("admin")  # admin holds every permission
        url, kwargs = _request(site, "admin", method, path, csrf)
        response = client.request(method, url, **kwargs)
        assert response.status_code == 403, f"{url} with CSRF {csrf!r}: {response.status_code}"
        assert "CSRF" in response.text


def test_signed_out_form_login_needs_the_cookie_and_field_to_match(shared_site: Site):
    site = shared_site
    client, _ = site.as_user(None)
    form = {"username": "reviewer", "password": PASSWORD}
    assert client.post("/login", data=form).status_code == 403
    assert client.post("/login", data={**form, "csrf_token": "forged"}).status_code == 403


def test_no_response_shows_anyones_survey_answers(site: Site):
    answers = {"region": "Qzxv-Northreach", "political_leaning": "Vrrp-Leftish"}
    for user in ("reviewer", "admin"):  # both answered, so no one is shown the empty form
        client, csrf = site.as_user(user)
        assert client.post("/api/survey", headers={CSRF_HEADER: csrf},
                           json={"answers": answers, "consent": True}).status_code == 200
    secrets = [o for f in SURVEY_FIELDS for o in f.options]
    for (method, path), role in itertools.product(sorted(EXPECTED), ROLES):
        if method != "GET":
            continue
        client, csrf = site.as_user(USER[role])
        url, kwargs = _request(site, role, method, path, csrf)
        text = client.request(method, url, follow_redirects=True, **kwargs).text
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"GET {url} as {role} shows survey answers {leaked}"
