"""The review flow through the JSON API and the HTML forms, as a reviewer and an admin."""

from __future__ import annotations

from serve_site import GOOD, PASSWORD, Site
from sqlalchemy import select

from accord.review import Ranking, Rating
from accord.serve import CSRF_HEADER


def test_api_login_rate_rank_and_admin_report(site: Site):
    client = site.client
    client.cookies.clear()
    assert client.post("/api/login", json={"username": "reviewer", "password": "nope!nope!"}
                       ).status_code == 401
    login = client.post("/api/login", json={"username": "reviewer", "password": PASSWORD})
    assert login.status_code == 200
    headers = {CSRF_HEADER: login.json()["csrf_token"]}
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    task = client.post(f"/api/tasks/next?batch={site.rating_batch}",
                       headers=headers).json()["task"]
    assert task["kind"] == "rating" and task["spec_version"] == site.spec_version
    assert {c["id"] for c in task["categories"]} >= {"offensive", "issues"}
    done = client.post(f"/api/tasks/{task['id']}/rating", headers=headers,
                       json={"values": GOOD, "note": "fine"})
    assert done.status_code == 200 and done.json()["committed"]
    bad = client.post(f"/api/tasks/{task['id']}/rating", headers=headers,
                      json={"values": {**GOOD, "helpful": 1}})
    assert bad.status_code == 409
    comparison = client.post(f"/api/tasks/next?batch={site.comparison_batch}",
                             headers=headers).json()["task"]
    ids = [c["id"] for c in comparison["completions"]]
    ranked = client.post(f"/api/tasks/{comparison['id']}/ranking", headers=headers,
                         json={"tiers": [[ids[2]], [ids[0], ids[1]]]})
    assert ranked.status_code == 200
    off_scale = client.post(f"/api/tasks/next?batch={site.rating_batch}",
                       headers=headers).json()["task"]
    wrong = client.post(f"/api/tasks/{off_scale['id']}/rating", headers=headers,
                        json={"values": {**GOOD, "offensive": 7}})
    assert wrong.status_code == 422 and "allowed: 1, 2, 3, 4, 5" in wrong.json()["error"]
    with site.store.session() as s:
        assert s.scalars(select(Rating.values)).one() == GOOD
        assert s.scalars(select(Ranking.tiers)).one() == [[ids[2]], sorted(ids[:2])]
    admin, _csrf = site.as_user("admin")
    report = admin.get(f"/api/admin/batches/{site.rating_batch}/report").json()
    assert report["progress"]["submitted"] == 1
    assert report["reviewers"][0]["username"] == "reviewer"
    assert "offensive" in report["agreement"]["alpha"]


def test_forms_rate_rank_skip_and_pages_render(site: Site):
    client, csrf = site.as_user("reviewer")
    start = client.post(f"/batches/{site.rating_batch}/next", data={"csrf_token": csrf})
    assert start.status_code == 303
    page = client.get(start.headers["location"])
    assert page.status_code == 200
    for text in ("How offensive is the response", "Not at all", "Severely", "Keyboard",
                 'name="c.issues"', "Guideline unclear here", site.spec_version):
        assert text in page.text
    form = {"csrf_token": csrf, "c.offensive": "2", "c.one_sided": "1", "c.preachy": "1",
            "c.helpful": "4", "c.objectionable": "no", "c.over_refusal": "no",
            "c.follows_customisation": "yes", "note": "ok"}
    submitted = client.post(start.headers["location"] + "/rating", data=form)
    assert submitted.status_code == 303
    with site.store.session() as s:
        values = s.scalars(select(Rating.values)).one()
    assert values["offensive"] == 2 and values["issues"] == []
    nxt = submitted.headers["location"]  # the next task, handed out by the same POST
    assert nxt.startswith("/tasks/")
    assert client.post(nxt + "/skip", data={"csrf_token": csrf}).status_code == 303
    comparison = client.post(f"/batches/{site.comparison_batch}/next",
                             data={"csrf_token": csrf}).headers["location"]
    html = client.get(comparison).text
    cids = [int(x.split('"')[0]) for x in html.split('name="rank.')[1:]]
    ranks = {f"rank.{cid}": "1" if i < 2 else "2" for i, cid in enumerate(cids)}
    assert client.post(comparison + "/ranking",
                       data={"csrf_token": csrf, **ranks}).status_code == 303
    with site.store.session() as s:
        assert s.scalars(select(Ranking.tiers)).one() == [sorted(cids[:2]), [cids[2]]]
    admin, _ = site.as_user("admin")
    batch_page = admin.get(f"/admin/batches/{site.rating_batch}")
    assert batch_page.status_code == 200 and "Krippendorff" in batch_page.text
    assert "reviewer" in batch_page.text


def test_survey_is_stored_apart_and_withdrawal_deletes_it(site: Site):
    from accord.review import SurveyLink, SurveyResponse

    client, csrf = site.as_user("reviewer")
    no_consent = client.post("/survey", data={"csrf_token": csrf, "region": "Qzxv-Northreach"})
    assert no_consent.status_code == 422
    assert client.post("/survey", data={"csrf_token": csrf, "region": "Qzxv-Northreach",
                                        "consent": "yes"}).status_code == 303
    with site.store.session() as s:
        response = s.scalars(select(SurveyResponse)).one()
        assert response.answers == {"region": "Qzxv-Northreach",
                                    "political_leaning": "prefer not to say"}
        assert not hasattr(response, "user_id")  # the link lives in survey_links only
        assert s.scalars(select(SurveyLink.response_id)).one() == response.id
    assert "You have answered" in client.get("/survey").text
    assert client.post("/survey/withdraw", data={"csrf_token": csrf}).status_code == 303
    with site.store.session() as s:
        assert s.scalars(select(SurveyResponse)).all() == []
        assert s.scalars(select(SurveyLink)).all() == []


def test_login_form_and_logout(site: Site):
    client = site.client
    client.cookies.clear()
    page = client.get("/login?next=/survey")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    wrong = client.post("/login", data={"csrf_token": csrf, "username": "reviewer",
                                        "password": "wrong-password", "next": "/survey"})
    assert wrong.status_code == 401 and "Wrong username or password" in wrong.text
    evil = client.post("/login", data={"csrf_token": csrf, "username": "reviewer",
                                       "password": PASSWORD, "next": "https://evil.example/"})
    assert evil.status_code == 303 and evil.headers["location"] == "/"
    client.cookies.clear()
    page = client.get("/login")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    sneaky = client.post("/login", data={"csrf_token": csrf, "username": "reviewer",
                                         "password": PASSWORD, "next": "/\\evil.example"})
    assert sneaky.headers["location"] == "/"
    session_csrf = client.get("/").text.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post("/logout", data={"csrf_token": session_csrf}).status_code == 303
    assert client.get("/").status_code == 303  # signed out: back to the sign-in page
