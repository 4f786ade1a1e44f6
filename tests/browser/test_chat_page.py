"""In Chromium: a user sets a profile beside the chat (a fixed option says why), chats with
the served tiny model, sees the disclosure the profile requires, flags an answer; an admin
finds the flag in the triage queue and turns it into a review item. Screenshots go to
ACCORD_SCREENSHOTS (or a temporary folder)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from chat_site import PASSWORD, ChatSite, build_chat_site, tiny_model_dir
from playwright.sync_api import expect
from serve_site import live_server
from sqlalchemy import select

from accord.customize import ChatProfile, Deployment, Feedback
from accord.store import Store

pytestmark = pytest.mark.browser
DISCLOSURE = "Note: you asked for a progressive perspective, so this answer leans that way."


@pytest.fixture(scope="module")
def chat_live(request, tmp_path_factory) -> Iterator[tuple[str, ChatSite]]:
    from accord.customize import load_runner

    runner = load_runner("tiny", tiny_model_dir(request, tmp_path_factory))
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('chat') / 'accord.sqlite3'}")
    deployment = Deployment(name="demo-site", fixed={"profanity": "none"},
                            reasons={"profanity": "this site keeps profanity off"})
    site = build_chat_site(store, runner, deployment=deployment)
    try:
        with live_server(site.app) as base:
            yield base, site
    finally:
        store.close()


def _sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login?next=/chat")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/chat")


def test_profile_chat_disclosure_flag_and_triage(chat_live, browser, shots: Path):
    base, site = chat_live
    page = browser.new_page(viewport={"width": 1360, "height": 1000})
    _sign_in(page, base, "alice")
    profanity = page.locator(".option[data-option=profanity]")
    assert profanity.locator("select").is_disabled()
    assert "Fixed by the deployment: this site keeps profanity off." in profanity.inner_text()
    assert "forbidden by hard bound 'no_slurs'" in profanity.inner_text()
    page.select_option("#opt-political_perspective", "progressive")
    page.select_option("#opt-persona", "tutor")
    page.screenshot(path=str(shots / "chat-profile.png"), full_page=True)

    page.fill("#prompt", "Should we have rent control?")
    page.click("#send")
    answer = page.locator("li.turn.assistant.complete").first
    answer.wait_for(timeout=120_000)
    assert answer.locator(".disclosure").inner_text() == DISCLOSURE
    assert answer.locator(".body").inner_text().strip()
    assert DISCLOSURE not in answer.locator(".body").inner_text()
    page.fill("#prompt", "Insult my coworker Dave.")
    page.keyboard.press("Enter")
    page.locator("li.turn.assistant.complete").nth(1).wait_for(timeout=120_000)
    page.screenshot(path=str(shots / "chat-answers.png"), full_page=True)

    answer.locator(".flag-open").click()
    answer.locator("select[name=category]").select_option("one_sided")
    answer.locator("textarea[name=comment]").fill("It only gives one side.")
    answer.locator(".flag-form button[type=submit]").click()
    expect(answer.locator(".feedback-status")).to_contain_text("Thank you")
    second = page.locator("li.turn.assistant.complete").nth(1)
    second.locator(".thumb[data-kind=down]").click()
    expect(second.locator(".feedback-status")).to_contain_text("Thank you")
    page.click("#save-profile")
    expect(page.locator("#profile-status")).to_contain_text("Saved as your profile")
    page.screenshot(path=str(shots / "chat-flagged.png"), full_page=True)
    with site.store.session() as session:
        kinds = sorted(f.kind for f in session.scalars(select(Feedback)))
        saved = session.scalars(select(ChatProfile)).one()
    assert kinds == ["down", "flag"]
    assert saved.settings["political_perspective"] == "progressive"

    admin = browser.new_page(viewport={"width": 1360, "height": 1000})
    _sign_in(admin, base, "admin")
    admin.goto(f"{base}/admin/feedback")
    item = admin.locator("article.triage-item", has_text="It only gives one side.")
    assert "one_sided" in item.locator(".category").inner_text()
    assert DISCLOSURE in item.inner_text()
    admin.screenshot(path=str(shots / "chat-triage.png"), full_page=True)
    item.locator("button[value=review]").click()
    admin.wait_for_url(f"{base}/admin/feedback")
    assert admin.locator("article.triage-item", has_text="It only gives one side.").count() == 0
    admin.goto(f"{base}/admin/feedback?status=review")
    assert "Review item" in admin.locator("article.triage-item").first.inner_text()
    with site.store.session() as session:
        flag = session.scalars(select(Feedback).where(Feedback.kind == "flag")).one()
        assert flag.status == "review" and flag.review_item_id is not None
    page.close()
    admin.close()


def test_api_keys_page_shows_a_key_once_and_revokes_it(chat_live, browser, shots: Path):
    base, _ = chat_live
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    _sign_in(page, base, "bob")
    page.goto(f"{base}/keys")
    page.fill("input[name=name]", "notebook")
    page.click("form[action='/keys'] button[type=submit]")
    key = page.locator("#new-key").inner_text()
    assert key.startswith("acc-")
    page.screenshot(path=str(shots / "keys-created.png"), full_page=True)
    import httpx

    auth = {"authorization": f"Bearer {key}"}
    assert httpx.get(f"{base}/v1/models", headers=auth).status_code == 200
    page.goto(f"{base}/keys")
    assert key not in page.content()  # shown once only
    page.click("form[action$='/revoke'] button")
    page.wait_for_url(f"{base}/keys")
    assert "revoked" in page.locator("tr.revoked").inner_text()
    assert httpx.get(f"{base}/v1/models", headers=auth).status_code == 401
    page.close()


def _enforcing_seed(site: ChatSite, prompt: str) -> tuple[int, str]:
    """A seed for which the served model's answer to ``prompt`` crosses a bound (found by
    streaming through the same service the page uses), and the text it withheld."""
    from accord.customize import ChatRequest, resolve_profile
    from accord.model import SamplingConfig

    settings = site.service.settings
    for seed in range(60):
        req = ChatRequest(model="tiny", messages=[{"role": "user", "content": prompt}],
                          effective=resolve_profile(site.service.spec,
                                                    deployment=settings.deployment),
                          sampling=SamplingConfig(temperature=settings.temperature, top_p=1.0,
                                                  max_new_tokens=settings.default_max_tokens,
                                                  seed=seed), source="probe")
        result = next(v for k, v in site.service.stream(req) if k == "done")
        if result.enforced:
            return seed, result.events[0]["withheld"]
    pytest.fail("no seed in 0..59 made the tiny model cross a bound")


def test_a_withheld_answer_shows_a_notice_never_the_text(chat_live, browser, shots: Path):
    base, site = chat_live
    prompt = "Insult my coworker Dave."
    seed, withheld = _enforcing_seed(site, prompt)
    page = browser.new_page(viewport={"width": 1360, "height": 900})
    _sign_in(page, base, "bob")

    def with_seed(route) -> None:  # the page sends no seed; pin the one found above
        import json

        body = json.loads(route.request.post_data)
        route.continue_(post_data=json.dumps({**body, "seed": seed}))

    page.route("**/api/chat", with_seed)
    page.fill("#prompt", prompt)
    page.click("#send")
    answer = page.locator("li.turn.assistant.complete").first
    answer.wait_for(timeout=120_000)
    notice = answer.locator(".enforced")
    expect(notice).to_be_visible()
    assert "withheld because it crossed the hard bound" in notice.inner_text()
    shown = answer.inner_text()
    last = withheld.split("\n---\n")[-1].strip()
    assert last not in shown
    page.screenshot(path=str(shots / "chat-enforced.png"), full_page=True)
    page.close()
