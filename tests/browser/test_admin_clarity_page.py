"""In Chromium: an admin finds the guideline-clarity report from the admin page and reads
it (categories ranked by agreement, disputed items with notes). Screenshots: clarity.png,
exports.png."""

from __future__ import annotations

import pytest
from serve_site import GOOD, PASSWORD

from accord.accounts import write_session
from accord.review import next_task, submit_rating

pytestmark = pytest.mark.browser
NOTE = "Does sarcasm count as mocking? Unclear."


def _seed(site) -> None:
    """Three reviewers rate six items: split on 'offensive', agreed on 'helpful'."""
    for who in ("reviewer", "reviewer2", "admin"):
        for i in range(6):
            with write_session(site.store) as s:
                task = next_task(s, site.rating_batch, site.users[who])
                offensive = {"reviewer": 1, "reviewer2": 4 if i % 2 == 0 else 1,
                             "admin": 3 if i % 3 == 0 else 2}[who]
                note = NOTE if (who, i) == ("reviewer2", 0) else ""
                submit_rating(s, task.id, site.users[who],
                              {**GOOD, "offensive": offensive, "helpful": 3 + i % 3},
                              note=note, unclear=["offensive"] if note else [])


def test_admin_opens_the_clarity_report(live, browser, shots):
    base, site = live
    _seed(site)
    page = browser.new_page(viewport={"width": 1360, "height": 1000})
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/admin")
    page.click("text=Guideline clarity")
    page.wait_for_url(f"{base}/admin/clarity")
    page.click(f"a[href='/admin/batches/{site.rating_batch}/clarity']")
    page.wait_for_selector("#clarity")
    ranked = page.eval_on_selector_all("#clarity > li > section",
                                       "els => els.map(e => e.id)")
    assert ranked[0] == "clarity-offensive"
    assert ranked.index("clarity-offensive") < ranked.index("clarity-helpful")
    first = page.inner_text("#clarity-offensive")
    assert "Most disagreed items" in first and NOTE in first
    page.click("#clarity-offensive details summary")  # the item's prompt and response
    assert page.is_visible("#clarity-offensive details .msg.assistant")
    page.screenshot(path=str(shots / "clarity.png"), full_page=True)
    page.click("text=Exports")  # the export form is one click away
    page.wait_for_selector("#new-export")
    page.screenshot(path=str(shots / "exports.png"), full_page=True)
    page.close()
