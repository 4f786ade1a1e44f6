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

from accord.accounts import PUBLIC
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
    ("POST", "/batches/{batch_id}/next"): (303, 303, 303),
    ("GET", "/batches/{batch_id}/done"): (303, 200, 200),
    ("GET", "/account/password"): (303, 200, 200),
    ("POST", "/account/password"): (303, 422, 422),  # (with a wrong current password)
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
    ("GET", "/openapi.json"): (200, 200, 200),  # the published API document
    ("POST", "/api/login"): (200, 200, 200),
    ("POST", "/api/logout"): (401, 200, 200),
    ("GET", "/api/me"): (401, 200, 200),
    ("GET", "/api/batches"): (401, 200, 200),
    ("GET", "/api/batches/{batch_id}"): (401, 200, 200),
    ("POST", "/api/tasks/next"): (401, 200, 200),
    ("GET", "/api/tasks/next"): (405, 405, 405),  # a POST only: see test_limits.py
    ("POST", "/api/account/password"): (401, 422, 422),
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

# Deliberation pages (accord.serve._deliberate). The deliberation here runs with accounts, so
# taking part needs the 'deliberate' permission (admin has it; a reviewer does not) on top
# of the routes' public guard; moderation needs 'moderate', ratification 'admin'.
DELIBERATION = "perm-delib"
EXPECTED.update({
    ("GET", "/deliberate-static/{name}"): (200, 200, 200),
    ("GET", "/deliberations"): (200, 200, 200),
    ("GET", "/deliberations/{name}"): (303, 403, 200),
    ("POST", "/deliberations/{name}/vote"): (303, 403, 303),
    ("POST", "/deliberations/{name}/statements"): (303, 403, 303),
    ("GET", "/deliberations/{name}/about-you"): (303, 403, 200),
    ("POST", "/deliberations/{name}/about-you"): (303, 403, 303),
    ("POST", "/deliberations/{name}/about-you/withdraw"): (303, 403, 303),
    ("GET", "/deliberations/{name}/results"): (200, 200, 200),
    ("GET", "/admin/deliberations"): (303, 403, 200),
    ("POST", "/admin/deliberations"): (303, 403, 303),
    ("GET", "/admin/deliberations/{name}"): (303, 403, 200),
    ("POST", "/admin/deliberations/{name}/statements"): (303, 403, 303),
    ("POST", "/admin/deliberations/{name}/statements/{number}/moderation"): (303, 403, 303),
    ("GET", "/admin/deliberations/{name}/ratification"): (303, 403, 200),
    ("POST", "/admin/deliberations/{name}/proposals"): (303, 403, 303),
    ("POST", "/admin/proposals/{proposal_id}/draft"): (303, 403, 303),
    ("POST", "/admin/proposals/{proposal_id}/ratify"): (303, 403, 303),
    ("POST", "/admin/proposals/{proposal_id}/reject"): (303, 403, 303),
    ("GET", "/provenance/{model}"): (200, 200, 200),  # public, like the results
})
# Guideline clarity and exports (accord.serve._admin, _review_reports): admin only.
EXPECTED.update({
    ("GET", "/admin/clarity"): (303, 403, 200),
    ("GET", "/admin/batches/{batch_id}/clarity"): (303, 403, 200),
    ("GET", "/admin/exports"): (303, 403, 200),
    ("POST", "/admin/exports"): (303, 403, 303),
    ("GET", "/admin/exports/{name}/{filename}"): (303, 403, 200),
})


def _review_report_request(site: Site, method: str, path: str) -> tuple[str, dict[str, Any]]:
    """URL and form body for the clarity and export routes: an export folder, one rating
    that passes the SFT filters, and one export to download."""
    import tempfile
    from pathlib import Path

    from accord.review import submit_rating
    from accord.serve._review_reports import parse_filters, run_export

    state = site.client.app.state  # type: ignore[attr-defined]
    if getattr(state, "export_root", None) is None:
        state.export_root = Path(tempfile.mkdtemp(prefix="accord-exports-"))
        with site.store.session() as s:
            task = next_task(s, site.rating_batch, site.users["admin"])
            assert task is not None
            submit_rating(s, task.id, site.users["admin"], GOOD)
        with site.store.session() as s:
            form = {"min_helpfulness": "4", "min_reviewers": "1", "min_rating_gap": "1",
                    "min_vote_share": "0.5"}
            state.permission_export = run_export(s, [site.rating_batch], "sft",
                                                 parse_filters("sft", form), state.export_root,
                                                 "admin")[0]
    if path == "/admin/exports/{name}/{filename}":
        return f"/admin/exports/{state.permission_export}/data.jsonl", {}
    if method == "POST":
        return path, {"data": {"batch": str(site.rating_batch), "kind": "sft",
                               "min_helpfulness": "4", "min_reviewers": "1",
                               "require_majority": "yes", "exclude_unclear": "yes",
                               "min_rating_gap": "1", "min_vote_share": "0.5"}}
    return path.replace("{batch_id}", str(site.rating_batch)), {}


# Public writes that a signed-out visitor reaches with the CSRF token of a page they saw.
_ANONYMOUS_FORMS = {path for method, path in EXPECTED
                    if method == "POST" and path.startswith("/deliberations/")}


@pytest.fixture(autouse=True)
def _deliberation(request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> None:
    """The sites this module uses get one deliberation, with votes and a proposal."""
    import shutil

    from serve_site import DEMO_SPEC

    from accord.deliberate import (
        DeliberationParticipant,
        cast_vote,
        create_deliberation,
        get_deliberation,
        propose,
    )
    from accord.store import NotFoundError

    for name in ("shared_site", "site"):
        if name not in request.fixturenames:
            continue
        site = request.getfixturevalue(name)
        with site.store.session() as s:
            try:
                get_deliberation(s, DELIBERATION)
                continue
            except NotFoundError:
                pass
            spec = tmp_path_factory.mktemp("spec") / "spec"
            shutil.copytree(DEMO_SPEC, spec)
            row = create_deliberation(
                s, DELIBERATION, "How should the assistant handle contested topics?",
                config={"participation": "accounts", "spec_dir": str(spec),
                        "demographic_targets": {"region": {"upland": 0.5, "lowland": 0.5}}},
                seed_statements=["Present the main views fairly.", "Take a side.",
                                 "Refuse to discuss politics."])
            people = [DeliberationParticipant(deliberation_id=row.id, number=i + 1)
                      for i in range(12)]
            s.add_all(people)
            s.flush()
            for i, p in enumerate(people):
                cast_vote(s, row, p, 0, "agree")
                cast_vote(s, row, p, 1, "agree" if i % 2 else "disagree")
                cast_vote(s, row, p, 2, "disagree" if i % 2 else "agree")
            assert propose(s, row), "statement 0 passes the thresholds"


def _deliberation_request(site: Site, method: str, path: str) -> tuple[str, dict[str, Any]]:
    """URL and form body for a deliberation route (fresh proposals for decisions)."""
    from accord.deliberate import (
        DeliberationProposal,
        draft,
        get_deliberation,
        list_proposals,
    )

    n = next(_names)
    url = (path.replace("/deliberate-static/{name}", "/deliberate-static/deliberate.css")
           .replace("{name}", DELIBERATION).replace("{number}", "0"))
    if "{proposal_id}" in url:
        with site.store.session() as s:
            row = get_deliberation(s, DELIBERATION)
            first = list_proposals(s, row)[0]
            fresh = DeliberationProposal(deliberation_id=row.id, status="proposed",
                                         statement_numbers=[0], tallies=first.tallies,
                                         basis=first.basis)
            s.add(fresh)
            s.flush()
            if url.endswith("/ratify"):
                draft(s, fresh, "principle", {"id": f"perm_{n}", "text": "t", "critique": "c",
                                              "revision": "r", "comparison": "c"}, by="admin")
            url = url.replace("{proposal_id}", str(fresh.id))
    body: dict[str, Any] = {}
    if url.endswith("/vote"):
        body = {"statement": "0", "vote": "agree"}
    elif url.endswith("/statements"):
        body = {"text": f"A statement number {n}."}
    elif url.endswith("/about-you"):
        body = {"d.region": "upland", "consent": "yes"}
    elif url.endswith("/moderation"):
        body = {"state": "accepted"}
    elif url == "/admin/deliberations":
        body = {"name": f"made-{n}", "question": "Q?", "participation": "anonymous",
                "statements": "one\ntwo"}
    elif url.endswith("/draft"):
        body = {"kind": "principle", "summary": "s",
                "change": f"id: drafted_{n}\ntext: t\ncritique: c\nrevision: r\ncomparison: c\n"}
    return url, {"data": body} if method == "POST" else {}


# Customisation (accord.serve._chat, _chat_admin, _v1): the chat page and its JSON calls
# (anonymous chat is off here; no model is served, so /api/chat answers 404 once past the
# guard), API keys, the feedback triage (admin), and /v1, which only an API key opens.
EXPECTED.update({
    ("GET", "/chat"): (303, 200, 200),
    ("GET", "/chat/assets/{name}"): (200, 200, 200),
    ("GET", "/api/chat/profile"): (401, 200, 200),
    ("POST", "/api/chat/profile"): (401, 200, 200),
    ("POST", "/api/chat"): (401, 404, 404),
    ("POST", "/api/chat/feedback"): (401, 200, 200),
    ("GET", "/keys"): (303, 200, 200),
    ("POST", "/keys"): (303, 200, 200),
    ("POST", "/keys/{key_id}/revoke"): (303, 303, 303),
    ("GET", "/admin/feedback"): (303, 403, 200),
    ("POST", "/admin/feedback/{feedback_id}"): (303, 403, 303),
    ("GET", "/api/admin/feedback"): (401, 403, 200),
    ("POST", "/api/admin/feedback/{feedback_id}"): (401, 403, 200),
    ("GET", "/v1/models"): (401, 401, 401),
    ("GET", "/v1/models/{model_id:path}"): (401, 401, 401),
    ("POST", "/v1/chat/completions"): (401, 401, 401),
    ("POST", "/v1/completions"): (401, 401, 401),
    ("POST", "/v1/feedback"): (401, 401, 401),
})
_CUSTOMIZE = ("/chat", "/api/chat", "/keys", "/admin/feedback", "/api/admin/feedback", "/v1/")
# Published audits (accord.serve._audits): public to everyone; no audit is published on
# this site, so a named one is 404 once past the guard.
EXPECTED.update({
    ("GET", "/audits"): (200, 200, 200),
    ("GET", "/audits/{name}"): (404, 404, 404),
    ("GET", "/audits/{name}/bundle"): (404, 404, 404),
})


def test_an_auditor_opens_only_what_any_signed_in_account_opens(shared_site: Site):
    # The auditor role's one permission guards no page or JSON route: its use is the
    # scoped /v1 access (tests/serve/test_audits_page.py), never review data, votes or
    # demographics.
    from accord.accounts import SIGNED_IN, permissions_of

    table = shared_site.client.app.state.permissions  # type: ignore[attr-defined]
    auditor = permissions_of(["auditor"])
    assert {r for r, p in table.items() if p in auditor} == {
        r for r, p in table.items() if p in (PUBLIC, SIGNED_IN)}


def _customize_request(site: Site, role: str, method: str, path: str,
                       csrf: str | None) -> tuple[str, dict[str, Any]]:
    """URL and body for a customisation route (a fresh answer, key or feedback each)."""
    from accord.customize import add_feedback, create_api_key, new_answer_id, record_answer
    from accord.review import spec_of
    from accord.store import latest_spec_version

    uid = site.users[USER[role] or "reviewer"]
    n = next(_names)
    url = (path.replace("{name}", "chat.js").replace("{model_id:path}", "tiny"))
    with site.store.session() as s:
        answer = record_answer(s, public_id=new_answer_id(), owner=f"user:{uid}", model="m",
                               messages=[{"role": "user", "content": "Hi"}], settings={},
                               text="Hello.", enforced=False, finish_reason="stop",
                               source="chat")
        public_id = answer.public_id
        if "{key_id}" in url:
            url = url.replace("{key_id}", str(create_api_key(s, uid, f"k{n}")[0].id))
        if "{feedback_id}" in url:
            spec = spec_of(latest_spec_version(s))
            row = add_feedback(s, spec, answer_id=public_id, owner=None, kind="down")
            url = url.replace("{feedback_id}", str(row.id))
    body: dict[str, Any] = {}
    if url == "/api/chat/profile":
        body = {"settings": {"tone": "friendly"}}
    elif url == "/api/chat":
        body = {"messages": [{"role": "user", "content": "Hi"}]}
    elif url == "/api/chat/feedback":
        body = {"answer_id": public_id, "kind": "up"}
    elif url == "/keys":
        body = {"name": f"key {n}"}
    elif url.startswith(("/admin/feedback/", "/api/admin/feedback/")):
        body = {"action": "dismiss"}
    elif url == "/v1/chat/completions":
        body = {"model": "tiny", "messages": [{"role": "user", "content": "Hi"}]}
    elif url == "/v1/feedback":
        body = {"answer_id": public_id, "kind": "up"}
    if method != "POST":
        return url, {}
    if url.startswith(("/api/", "/v1/")):
        return url, {"json": body, **({"headers": {CSRF_HEADER: csrf}} if csrf else {})}
    return url, {"data": {**body, **({"csrf_token": csrf} if csrf else {})}}


def test_every_route_is_in_the_table(shared_site: Site):
    site = shared_site
    routes = set(site.client.app.state.permissions)  # type: ignore[attr-defined]
    assert routes == set(EXPECTED), (
        f"missing rows: {sorted(routes - set(EXPECTED))}; stale rows: "
        f"{sorted(set(EXPECTED) - routes)}")


def _request(site: Site, role: str, method: str, path: str,
             csrf: str | None) -> tuple[str, dict[str, Any]]:
    """A concrete, valid request for the route as ``role`` (fresh tasks for writes)."""
    if path.startswith(_CUSTOMIZE):
        return _customize_request(site, role, method, path, csrf)
    if path.startswith(("/admin/exports", "/admin/clarity")) or path.endswith("/clarity"):
        url, kwargs = _review_report_request(site, method, path)
        if method == "POST" and csrf:
            kwargs["data"] = {**kwargs["data"], "csrf_token": csrf}
        return url, kwargs
    if path == "/provenance/{model}":
        return "/provenance/canned", {}  # the canned completions' model version
    if "deliberat" in path or path.startswith("/admin/proposals/"):
        url, kwargs = _deliberation_request(site, method, path)
        if method == "POST" and csrf:
            kwargs["data"] = {**kwargs["data"], "csrf_token": csrf}
        return url, kwargs
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
    elif url in ("/account/password", "/api/account/password"):
        # A wrong current password: the route runs, and no one's password changes.
        body = {"current_password": "not the password", "new_password": "a new password 1",
                **({} if is_api else {"repeat_password": "a new password 1"})}
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
        if role == "anonymous" and method == "POST" and (path == "/login"
                                                         or path in _ANONYMOUS_FORMS):
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
