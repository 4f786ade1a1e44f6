"""In Chromium: a reviewer rates and ranks with the keyboard only; an admin creates a batch
and reads its agreement figures. Screenshots go to ACCORD_SCREENSHOTS (or a temp folder)."""

from __future__ import annotations

import pytest
from serve_site import GOOD, PASSWORD
from sqlalchemy import select

from accord.review import Ranking, Rating, ReviewBatch, next_task, submit_rating, task_view

pytestmark = pytest.mark.browser


def _sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/")


def _start(page, base: str, batch_id: int) -> None:
    """Take the next task of a batch with the dashboard's button (a POST: GET is 405)."""
    page.goto(f"{base}/")
    page.click(f"form[action='/batches/{batch_id}/next'] button")
    page.wait_for_url(f"{base}/tasks/*")


def test_reviewer_rates_three_items_and_ranks_one_with_the_keyboard(live, browser, shots):
    base, site = live
    page = browser.new_page(viewport={"width": 1360, "height": 1000})
    _sign_in(page, base, "reviewer2")
    page.screenshot(path=str(shots / "dashboard.png"), full_page=True)
    assert "items complete" not in page.content() and "built-in" not in page.content()
    _start(page, base, site.rating_batch)
    rated = []
    for n in range(3):
        page.wait_for_selector("fieldset.category.active")
        rated.append(int(page.url.rsplit("/", 1)[1]))
        if n == 0:
            page.screenshot(path=str(shots / "task-rating.png"), full_page=True)
        # offensive 1, one_sided 2, objectionable n, over_refusal n, preachy 1, helpful 4,
        # follows_customisation y, then flag 1 (factual_error) on issues; Enter submits.
        for key in ["1", "2", "n", "n", "1", "4", "y", "1"]:
            page.keyboard.press(key)
        if n == 1:
            page.keyboard.press("u")  # the issues guideline is unclear here
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url, seen=rated[-1]: not url.endswith(f"/tasks/{seen}"))
    _start(page, base, site.comparison_batch)
    page.wait_for_selector("li.candidate.active")
    task_id = int(page.url.rsplit("/", 1)[1])
    order = [int(x) for x in page.eval_on_selector_all("li.candidate",
                                                       "els => els.map(e => e.dataset.cid)")]
    for key in ["2", "1", "2"]:  # the middle one is best; the other two tie
        page.keyboard.press(key)
    page.screenshot(path=str(shots / "task-ranking.png"), full_page=True)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: not url.endswith(f"/tasks/{task_id}"))
    with site.store.session() as s:
        rows = {r.assignment_id: r for r in s.scalars(select(Rating).where(
            Rating.reviewer_id == site.users["reviewer2"]))}
        assert sorted(rows) == sorted(rated)
        for task in rated:
            values = rows[task].values
            assert values["one_sided"] == 2 and values["helpful"] == 4
            assert values["objectionable"] == "no" and values["issues"] == ["factual_error"]
        assert rows[rated[1]].unclear == ["issues"]
        ranking = s.scalars(select(Ranking).where(Ranking.assignment_id == task_id)).one()
        assert ranking.tiers == [[order[1]], sorted([order[0], order[2]])]
    page.close()


def test_admin_creates_a_batch_and_sees_agreement(live, browser, shots):
    base, site = live
    page = browser.new_page(viewport={"width": 1360, "height": 1000})
    _sign_in(page, base, "admin")
    page.goto(f"{base}/admin")
    page.fill("#new-batch input[name=name]", "browser batch")
    page.fill("#new-batch input[name=prompts]", "4")
    page.fill("#new-batch input[name=overlap]", "2")
    page.screenshot(path=str(shots / "admin-new-batch.png"), full_page=True)
    assert "built-in" not in page.content()  # every template value rendered as data
    page.click("#new-batch button[type=submit]")
    page.wait_for_url(f"{base}/admin/batches/*")
    batch_id = int(page.url.rsplit("/", 1)[1])
    with site.store.session() as s:
        assert s.get(ReviewBatch, batch_id).name == "browser batch"
    # Two reviewers rate every regular item (gold items too), disagreeing on 'helpful'.
    for reviewer, helpful in (("reviewer", 5), ("reviewer2", 3)):
        for _ in range(40):
            with site.store.session() as s:
                task = next_task(s, batch_id, site.users[reviewer])
                if task is None:
                    break
                offensive = 1 + task_view(s, task).completions[0][0] % 2
                submit_rating(s, task.id, site.users[reviewer],
                              {**GOOD, "helpful": helpful, "offensive": offensive})
    page.reload()
    alpha = page.inner_text("#agreement")
    assert "offensive" in alpha and "helpful" in alpha
    assert page.inner_text("#reviewers").count("reviewer") >= 2
    assert "Disagreements" in page.content() and "Item " in page.inner_text("main")
    page.screenshot(path=str(shots / "admin-batch.png"), full_page=True)
    page.close()


def test_a_handed_out_password_is_replaced_at_the_first_sign_in(live, browser, shots):
    from accord.accounts import create_user

    base, site = live
    with site.store.session() as s:
        create_user(s, "firsttimer", "handed out once", ["reviewer"], one_time=True)
    page = browser.new_page(viewport={"width": 1360, "height": 1000})
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "firsttimer")
    page.fill("input[name=password]", "handed out once")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/account/password**")
    assert "handed to you" in page.content()
    page.screenshot(path=str(shots / "password-change.png"), full_page=True)
    page.goto(f"{base}/")  # nothing else opens until the password is changed
    page.wait_for_url(f"{base}/account/password")
    page.fill("input[name=current_password]", "handed out once")
    page.fill("input[name=new_password]", "my very own password")
    page.fill("input[name=repeat_password]", "my very own password")
    page.click("form[action='/account/password'] button[type=submit]")
    page.wait_for_url(f"{base}/")
    assert "Review batches" in page.content()
    page.close()


def test_unanswered_categories_are_named_in_place_and_answers_kept(live, browser, shots):
    base, site = live
    page = browser.new_page(viewport={"width": 1360, "height": 1000})
    _sign_in(page, base, "reviewer")
    _start(page, base, site.rating_batch)
    page.wait_for_selector("fieldset.category.active")
    task_url = page.url
    # Answer offensive (1) and one_sided (2) only, note something, then submit.
    page.check("input[name='c.offensive'][value='1']")
    page.check("input[name='c.one_sided'][value='2']")
    page.fill("#note", "kept across the retry")
    with page.expect_navigation():
        page.click("#review-form button[type=submit]")
    assert page.url.startswith(task_url)  # the same task (its form), not an error page
    summary = page.inner_text("#missing-summary")
    missing = page.eval_on_selector_all("fieldset.category.missing",
                                        "els => els.map(e => e.dataset.cat)")
    # Every unanswered category (flags may stay empty), each named by its question.
    assert missing == ["objectionable", "over_refusal", "preachy", "helpful",
                       "follows_customisation"]
    assert summary.count("\n") >= len(missing) and "5 categories need an answer" in summary
    for cat in missing:
        question = page.inner_text(f"#cat-{cat} legend")
        assert question in summary and cat not in question
    assert page.is_checked("input[name='c.offensive'][value='1']")
    assert page.is_checked("input[name='c.one_sided'][value='2']")
    assert page.input_value("#note") == "kept across the retry"
    page.screenshot(path=str(shots / "task-missing-categories.png"), full_page=True)
    with site.store.session() as s:
        task_id = int(task_url.rsplit("/", 1)[1])
        assert s.scalars(select(Rating).where(Rating.assignment_id == task_id)).first() is None
    page.close()
