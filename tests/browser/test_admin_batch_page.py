"""In Chromium: the admin batch page with 1,000 disagreements stays usable: paged and
filterable, the most-disputed items first, adjudication forms with nothing pre-selected,
flag categories as checkboxes and reviewers' answers shown as the labels they chose."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from serve_site import DEMO_SPEC, GOOD, PASSWORD, Site, build_site, live_server
from sqlalchemy import select

from accord.review import (
    Adjudication,
    create_batch,
    next_task,
    store_canned_completions,
    submit_rating,
)
from accord.spec import load_spec
from accord.store import SpecVersion, Store

pytestmark = pytest.mark.browser
ITEMS = 1000


@pytest.fixture(scope="module")
def disputed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Site, int]]:
    """A batch of 1,000 items, each rated by two reviewers who disagree on every item:
    on 'helpful' by 1 to 4 points (item by item), and on the 'issues' flags for one in
    three items."""
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('disputed') / 'accord.sqlite3'}")
    site = build_site(store)
    spec = load_spec(DEMO_SPEC)
    with store.session() as s:
        row = s.scalars(select(SpecVersion).where(SpecVersion.hash == spec.hash)).one()
        model = store_canned_completions(s, row, prompts=ITEMS // 2, completions_per_prompt=2,
                                         name="canned-many", seed=1)
        batch = create_batch(s, name="many disagreements", kind="rating", model_version=model,
                             spec_version=row.id, prompts=ITEMS // 2, completions_per_prompt=2,
                             overlap=2).id
    for reviewer in ("reviewer", "reviewer2"):
        with store.session() as s:
            for _ in range(ITEMS):
                task = next_task(s, batch, site.users[reviewer])
                assert task is not None
                gap = 1 + task.item_id % 4 if reviewer == "reviewer2" else 0
                flags = ["factual_error"] if reviewer == "reviewer" and task.item_id % 3 == 0 \
                    else []
                submit_rating(s, task.id, site.users[reviewer],
                              {**GOOD, "helpful": 5 - gap, "issues": flags})
            assert next_task(s, batch, site.users[reviewer]) is None  # every item rated
    try:
        with live_server(site.client.app) as base:
            yield base, site, batch
    finally:
        store.close()


def test_a_thousand_disagreements_are_paged_sorted_and_filterable(disputed, browser, shots):
    base, site, batch = disputed
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.goto(f"{base}/admin/batches/{batch}")
    assert f"{ITEMS} items match" in page.inner_text("#disagreement-count")
    cards = page.eval_on_selector_all("section.disagreement",
                                      "els => els.map(e => parseFloat(e.dataset.degree))")
    assert len(cards) == 20 and cards == sorted(cards, reverse=True) and cards[0] == 1.0
    height = page.evaluate("() => document.documentElement.scrollHeight")
    assert height < 40_000  # was 68,500 px with 60 items, every one on the page
    page.screenshot(path=str(shots / "admin-batch-1000.png"), full_page=False)
    # Nothing is pre-selected: a stray click on "Decide" records nothing.
    assert page.eval_on_selector_all("form.adjudicate input:checked", "els => els.length") == 0
    first = page.locator("section.disagreement").first
    item = int(first.get_attribute("id").removeprefix("item-"))
    likert = first.locator("form.adjudicate").first
    assert likert.evaluate("f => f.checkValidity()") is False  # the browser will not send it
    # Reviewers' answers as labels, flags as checkboxes.
    text = first.inner_text()
    assert "5 · " in text and "issues:" not in text
    assert first.locator("form.adjudicate input[type=checkbox][name=value]").count() == 5
    with site.store.session() as s:
        assert s.scalars(select(Adjudication).where(Adjudication.item_id == item)).first() \
            is None
    # Filter by the flags category: only items split on it (one in three), still sorted.
    page.select_option("#disagreement-filter select[name=category]", "issues")
    with page.expect_navigation():
        page.click("#disagreement-filter button")
    count = page.inner_text("#disagreement-count")
    assert 300 <= int(count.split()[0]) <= 340  # item ids divisible by 3
    # Decide one item by ticking a flag; it leaves the "not yet decided" list.
    first = page.locator("section.disagreement").first
    item = int(first.get_attribute("id").removeprefix("item-"))
    form = first.locator("form.adjudicate", has=page.locator("input[value=issues]"))
    form.locator("input[type=checkbox][value=factual_error]").check()
    with page.expect_navigation():
        form.locator("button").click()
    assert "category=issues" in page.url
    with site.store.session() as s:
        decided = s.scalars(select(Adjudication).where(Adjudication.item_id == item)).one()
        assert decided.category == "issues" and decided.value == ["factual_error"]
    # Paging: the last page holds the rest, and "Next" is gone there.
    page.goto(f"{base}/admin/batches/{batch}?page=50")
    assert "page 50 of 50" in page.inner_text("#disagreement-count")
    assert page.locator("a[rel=next]").count() == 0 and page.locator("a[rel=prev]").count() == 1
    page.close()
