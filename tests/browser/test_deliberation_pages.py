"""In Chromium: a participant votes with the keyboard and submits a statement; an admin
moderates it, reads the results (opinion map, consensus, bridging) and ratifies a statement
with broad support into a new spec version. Screenshots go to ACCORD_SCREENSHOTS (or a
temporary folder)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_site import DEMO_SPEC, PASSWORD, Site, build_site, live_server
from sqlalchemy import func, select

from accord.accounts import create_user
from accord.deliberate import (
    Conversation,
    DeliberationParticipant,
    DeliberationStatement,
    DeliberationVoteEvent,
    Participant,
    Statement,
    Vote,
    VoteLog,
    cast_vote,
    create_deliberation,
    get_deliberation,
    has_demographics,
    import_opendata,
    record_demographics,
    write_opendata,
)
from accord.spec import load_spec
from accord.store import SpecVersion, Store


def add_participants(session, row, n: int) -> list[DeliberationParticipant]:
    """``n`` participants as an import adds them (no account, no token)."""
    made = [DeliberationParticipant(deliberation_id=row.id, number=1000 + i) for i in range(n)]
    session.add_all(made)
    session.flush()
    return made

pytestmark = pytest.mark.browser
NAME = "contested-topics"
TEXTS = ["The assistant should present the main views fairly on contested topics.",
         "The assistant should take the progressive side by default.",
         "The assistant should take the conservative side by default.",
         "Refusing to discuss politics is better than getting it wrong.",
         "Users should never be able to choose a political perspective."]


def _conversation() -> Conversation:
    """24 people in two camps who all agree with statement 0, one vote every 4 s."""
    votes = []
    for i in range(24):
        row = [1 if i % 7 else 0] + [1 if j % 2 == i % 2 else -1 for j in range(1, 5)]
        votes += [Vote(i, j, v, 1_700_000_000_000 + 4_000 * (5 * i + j))
                  for j, v in enumerate(row)]
    return Conversation(
        topic="How should the assistant handle contested political topics by default?",
        statements={j: Statement(j, t, moderated=1) for j, t in enumerate(TEXTS)},
        participants={i: Participant(i) for i in range(24)}, votes=VoteLog.from_votes(votes))


@pytest.fixture(scope="module")
def deliberation_site(tmp_path_factory: pytest.TempPathFactory
                      ) -> Iterator[tuple[str, Site, Path]]:
    root = tmp_path_factory.mktemp("deliberation")
    spec = root / "spec"
    shutil.copytree(DEMO_SPEC, spec)
    write_opendata(_conversation(), root / "opendata")
    store = Store.open(f"sqlite:///{root / 'accord.sqlite3'}")
    site = build_site(store)
    with store.session() as s:
        create_user(s, "pat", PASSWORD, ["participant"])
        import_opendata(s, root / "opendata", name=NAME,
                        config={"participation": "accounts", "spec_dir": str(spec)})
    try:
        with live_server(site.client.app) as base:
            yield base, site, spec
    finally:
        store.close()


def _sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/")


def _page(browser, errors: list[str]):
    page = browser.new_page(viewport={"width": 1360, "height": 1000})
    # A script or style the CSP blocks shows up as a console error ("Refused to ..."); a
    # missing resource as a failed response (the browser's own favicon request aside).
    page.on("console", lambda m: errors.append(m.text) if m.type == "error"
            and not m.text.startswith("Failed to load resource") else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400
            and not r.url.endswith("/favicon.ico") else None)
    return page


def test_participant_votes_with_keys_and_admin_ratifies(deliberation_site, browser, shots):
    base, site, spec_dir = deliberation_site
    errors: list[str] = []
    page = _page(browser, errors)
    _sign_in(page, base, "pat")
    page.goto(f"{base}/deliberations/{NAME}")
    page.wait_for_selector("#statement-text")
    page.screenshot(path=str(shots / "deliberation-vote.png"), full_page=True)
    shown = []
    for key in ("a", "d", "p"):
        shown.append(int(page.get_attribute("#statement-text", "data-number")))
        with page.expect_navigation():
            page.keyboard.press(key)
    assert page.inner_text("#done") == "3" and len(set(shown)) == 3
    page.keyboard.press("/")
    page.keyboard.type("The assistant should say where its facts come from.")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "submitted=5" in page.url and page.is_visible("#submitted")
    page.screenshot(path=str(shots / "deliberation-submitted.png"), full_page=True)
    with site.store.session() as s:
        row = get_deliberation(s, NAME)
        pat = s.scalars(select(DeliberationParticipant).where(
            DeliberationParticipant.deliberation_id == row.id,
            DeliberationParticipant.user_id.is_not(None))).one()
        votes = s.execute(select(DeliberationStatement.number, DeliberationVoteEvent.value)
                          .join(DeliberationStatement,
                                DeliberationStatement.id == DeliberationVoteEvent.statement_id)
                          .where(DeliberationVoteEvent.participant_id == pat.id)
                          .order_by(DeliberationVoteEvent.id)).all()
        assert [tuple(v) for v in votes] == list(zip(shown, (1, -1, 0), strict=True))
        new = s.scalars(select(DeliberationStatement).where(
            DeliberationStatement.deliberation_id == row.id,
            DeliberationStatement.number == 5)).one()
        assert (new.moderation, new.author_number) == ("unmoderated", pat.number)
    page.close()

    admin = _page(browser, errors)
    _sign_in(admin, base, "admin")
    admin.goto(f"{base}/admin/deliberations/{NAME}")
    assert "unmoderated" in admin.inner_text("#s5")
    admin.screenshot(path=str(shots / "deliberation-moderate.png"), full_page=True)
    with admin.expect_navigation():
        admin.click("#s5 button[value=accepted]")
    assert "accepted" in admin.inner_text("#s5")

    admin.goto(f"{base}/deliberations/{NAME}/results")
    # The 24 imported participants are in groups; pat, with 3 votes, is counted, not drawn.
    assert admin.locator("#opinion-map circle.participant").count() == 24
    assert "1 participant with too few votes" in admin.inner_text(".legend")
    assert "25 participants cast" in admin.inner_text("#summary")
    assert "Group A" in admin.inner_text("main") and "Group B" in admin.inner_text("main")
    assert TEXTS[0] in admin.inner_text("#statement-table")
    admin.screenshot(path=str(shots / "deliberation-results.png"), full_page=True)

    admin.goto(f"{base}/admin/deliberations/{NAME}/ratification")
    with admin.expect_navigation():
        admin.click("#find-proposals button")
    proposal = admin.locator("section.proposal").first
    assert TEXTS[0] in proposal.inner_text()
    pid = proposal.get_attribute("id")
    # Switching the kind offers that kind's template (static/deliberate.js).
    admin.select_option(f"#{pid} select[name=kind]", "option")
    assert "values:" in admin.input_value(f"#{pid} textarea[name=change]")
    admin.select_option(f"#{pid} select[name=kind]", "principle")
    assert "critique:" in admin.input_value(f"#{pid} textarea[name=change]")
    admin.fill(f"#{pid} textarea[name=change]",
               "id: fair_on_contested_topics\ntext: On contested topics the assistant "
               "presents the main views fairly.\ncritique: Does the response favour one view?\n"
               "revision: Rewrite it to present the main views fairly.\ncomparison: Which "
               "response is fairer to the main views?\n")
    admin.fill(f"#{pid} input[name=summary]", "Fairness on contested topics")
    admin.screenshot(path=str(shots / "deliberation-draft.png"), full_page=True)
    with admin.expect_navigation():
        admin.click(f"#{pid} .draft-form button[type=submit]")
    with admin.expect_navigation():
        admin.click(f"#{pid} .ratify-form button")
    version = admin.inner_text(f"#{pid} .spec-version")
    assert "Ratified by admin" in admin.inner_text(f"#{pid}")
    assert version in admin.inner_text("#spec-versions")
    assert "statement 0" in admin.inner_text(f"#{pid} .provenance")
    admin.screenshot(path=str(shots / "deliberation-ratified.png"), full_page=True)
    admin.close()

    spec = load_spec(spec_dir)
    assert spec.version == version
    assert spec.constitution.principles[-1].id == "fair_on_contested_topics"
    with site.store.session() as s:
        stored = s.scalars(select(SpecVersion).where(SpecVersion.version == version)).one()
        record = stored.provenance[0]
        assert record["ratified_by"] == "admin" and record["details"]["deliberation"] == NAME
        assert record["details"]["statements"][0]["number"] == 0
    assert errors == []


def test_anonymous_visitor_votes_and_opts_in_to_demographics(deliberation_site, browser, shots):
    base, site, _ = deliberation_site
    targets = {"region": {"north": 0.5, "south": 0.5}}
    with site.store.session() as s:
        row = create_deliberation(s, "open-question", "Should the assistant swear if asked?",
                                  config={"participation": "anonymous",
                                          "demographic_targets": targets},
                                  seed_statements=TEXTS[:3])
        for i, p in enumerate(add_participants(s, row, 24)):
            for n in range(3):
                cast_vote(s, row, p, n, "agree" if (n + i) % 2 else "disagree")
            record_demographics(s, row, p, {"region": "north" if i < 14 else "south"},
                                consent=True)
    errors: list[str] = []
    page = _page(browser, errors)
    page.goto(f"{base}/deliberations/open-question")  # nobody signed in
    for key in ("d", "a"):
        with page.expect_navigation():
            page.keyboard.press(key)
    assert page.inner_text("#done") == "2"
    page.click("text=tell us a little about yourself")
    page.select_option("select[name='d.region']", "south")
    page.check("input[name=consent]")
    with page.expect_navigation():
        page.click("#about-form button[type=submit]")
    assert "You have shared answers" in page.inner_text("main")
    page.screenshot(path=str(shots / "deliberation-about-you.png"), full_page=True)
    with site.store.session() as s:
        row = get_deliberation(s, "open-question")
        visitor = s.scalars(select(DeliberationParticipant).where(
            DeliberationParticipant.deliberation_id == row.id,
            DeliberationParticipant.token_hash.is_not(None))).one()
        assert has_demographics(s, visitor)
        n_votes = s.scalar(select(func.count()).select_from(DeliberationVoteEvent).where(
            DeliberationVoteEvent.participant_id == visitor.id))
        assert n_votes == 2
    page.goto(f"{base}/deliberations/open-question/results")
    who = page.inner_text("main")
    # Totals only: 25 shared answers (14 north, 11 south); nothing under 11 is shown.
    assert "25 participants shared answers" in who and "hidden" in who
    page.screenshot(path=str(shots / "deliberation-results-weighted.png"), full_page=True)
    page.goto(f"{base}/deliberations/open-question/about-you")
    with page.expect_navigation():
        page.click("text=Withdraw my answers")
    with site.store.session() as s:
        assert not has_demographics(s, s.get(DeliberationParticipant, visitor.id))
    page.close()
    assert errors == []
