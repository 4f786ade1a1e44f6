"""Every page, as each role sees it, at 1280 and 390 px in Chromium: no horizontal
overflow, axe-core finds no serious or critical violation, and the navigation offers only
pages the role may open. Screenshots of every page at both widths go to
ACCORD_SCREENSHOTS (or a temporary folder) for people to look at."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_site import DEMO_SPEC, PASSWORD, Site, build_site, live_server

from _resources import missing_resource
from accord.accounts import create_user
from accord.deliberate import (
    Conversation,
    Participant,
    Statement,
    Vote,
    VoteLog,
    import_opendata,
    write_opendata,
)
from accord.store import Store

pytestmark = pytest.mark.browser
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (1280, 390)
NAME = "contested-topics"


def _conversation() -> Conversation:
    texts = ["Present the main views fairly on contested topics.",
             "Take the progressive side by default.", "Take the conservative side by default.",
             "Refusing to discuss politics is better than getting it wrong."]
    votes = [Vote(i, j, 1 if (j == 0 or j % 2 == i % 2) else -1, 1_700_000_000_000 + 997 * i + j)
             for i in range(20) for j in range(len(texts))]
    return Conversation(topic="How should the assistant handle contested topics?",
                        statements={j: Statement(j, t, moderated=1) for j, t in enumerate(texts)},
                        participants={i: Participant(i) for i in range(20)},
                        votes=VoteLog.from_votes(votes))


@pytest.fixture(scope="module")
def every_page_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Site]]:
    root = tmp_path_factory.mktemp("every-page")
    shutil.copytree(DEMO_SPEC, root / "spec")
    write_opendata(_conversation(), root / "opendata")
    store = Store.open(f"sqlite:///{root / 'accord.sqlite3'}")
    site = build_site(store)
    with store.session() as s:
        create_user(s, "pat", PASSWORD, ["participant"])
        import_opendata(s, root / "opendata", name=NAME,
                        config={"participation": "accounts", "spec_dir": str(root / "spec")})
    try:
        with live_server(site.client.app) as base:
            yield base, site
    finally:
        store.close()


def _pages(role: str | None, site: Site) -> list[str]:
    # The deliberation runs with accounts: its vote page is for participants (and admins).
    public = ["/deliberations", f"/deliberations/{NAME}/results"]
    if role is None:
        return ["/login", *public]
    if role == "participant":
        return ["/", *public, f"/deliberations/{NAME}", f"/deliberations/{NAME}/about-you",
                "/keys", "/account/password"]
    if role == "reviewer":
        return ["/", "TASK", f"/batches/{site.rating_batch}/done", "/survey", "/keys",
                "/chat", "/account/password", *public]
    return ["/admin", f"/admin/batches/{site.rating_batch}",
            f"/admin/batches/{site.comparison_batch}",
            f"/admin/batches/{site.rating_batch}/clarity", "/admin/clarity", "/admin/exports",
            "/admin/users", "/admin/feedback", "/admin/deliberations",
            f"/admin/deliberations/{NAME}", f"/admin/deliberations/{NAME}/ratification"]


def _sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _axe(page) -> list[str]:
    """Serious and critical axe-core violations on the page, one line each."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => ['serious', 'critical'].includes(v.impact))
            .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
    }""")
    return list(result)


@pytest.mark.parametrize("role", [None, "participant", "reviewer", "admin"])
def test_every_page_fits_a_phone_and_passes_axe(every_page_site, browser, shots, role):
    if not AXE.exists():
        missing_resource(f"{AXE} is missing; run `make axe` (npm ci)")
    base, site = every_page_site
    username = {"reviewer": "reviewer2"}.get(role or "", role)
    problems: list[str] = []
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        if username:
            _sign_in(page, base, username)
        for path in _pages(role, site):
            if path == "TASK":  # the next task of the rating batch (a POST from the dashboard)
                page.goto(f"{base}/")
                with page.expect_navigation():
                    page.click(f"form[action='/batches/{site.rating_batch}/next'] button")
                path = page.url.removeprefix(base)
            else:
                response = page.goto(f"{base}{path}")
                if response is None or response.status >= 400:
                    problems.append(f"{role} {path}: HTTP {response and response.status}")
                    continue
            name = re.sub(r"[^a-z0-9]+", "-", f"{role or 'anonymous'}{path}".lower()).strip("-")
            page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
            wide = page.evaluate("() => document.documentElement.scrollWidth")
            if wide > width:
                problems.append(f"{role} {path} @ {width}px: page is {wide}px wide")
            problems += [f"{role} {path} @ {width}px: {v}" for v in _axe(page)]
            # Every navigation link opens for this role (no link to a permission error).
            for href in page.eval_on_selector_all("nav[aria-label=Site] a",
                                                  "els => els.map(e => e.getAttribute('href'))"):
                status = page.request.get(f"{base}{href}", max_redirects=0).status
                if status >= 400:
                    problems.append(f"{role} {path}: nav link {href} answers {status}")
        context.close()
    assert not problems, json.dumps(problems, indent=1)
