"""The admin's guideline-clarity pages and exports, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from serve_site import DEMO_SPEC, GOOD, Site, build_site

from accord.accounts import write_session
from accord.review import (
    SFTFilters,
    content_hash,
    create_batch,
    load_export,
    next_task,
    reviewed_completions,
    sft_rows,
    submit_rating,
)
from accord.spec import load_spec
from accord.store import Store, record_spec_version

NOTE = "Is sarcasm offensive? The guideline does not say."


@pytest.fixture
def rated(store: Store) -> Site:
    """The site with six items rated by three reviewers: they split on 'offensive' and
    agree on 'helpful' (which varies from item to item)."""
    site = build_site(store)
    _rate(site, site.rating_batch, items=6, split=True)
    return site


def _rate(site: Site, batch: int, *, items: int, split: bool) -> None:
    for who in ("reviewer", "reviewer2", "admin"):
        for i in range(items):
            with write_session(site.store) as s:
                task = next_task(s, batch, site.users[who])
                assert task is not None
                offensive = {"reviewer": 1, "reviewer2": 1 if i % 2 else 4,
                             "admin": 3 if i % 3 == 0 else 1}[who] if split else 1 + i % 3
                values = {**GOOD, "offensive": offensive, "helpful": 3 + i % 3}
                note = NOTE if (who, i) == ("reviewer2", 0) else ""
                unclear = ["offensive"] if note else []
                submit_rating(s, task.id, site.users[who], values, note=note, unclear=unclear)


def test_clarity_page_ranks_categories_and_shows_disputed_items_with_notes(rated: Site):
    client, _ = rated.as_user("admin")
    page = client.get(f"/admin/batches/{rated.rating_batch}/clarity")
    assert page.status_code == 200, page.text[:500]
    html = page.text
    # The split category comes first (lowest α), the agreed one after it.
    assert html.index('id="clarity-offensive"') < html.index('id="clarity-helpful"')
    section = html[html.index('id="clarity-offensive"'):html.index('id="clarity-helpful"')]
    assert "Most disagreed items" in section
    assert "reviewer2: <code>4</code>" in section and "admin: <code>3</code>" in section
    assert "Is sarcasm offensive? The guideline does not say." in section
    assert '<span class="tag">unclear</span>' in section
    assert "prompt and response" in section  # the item's text, to judge it
    # α per category for the batch, as on the batch page.
    assert 'id="agreement"' in html and "<td>helpful</td>" in html
    # The index links to it; a reviewer may not see it.
    assert f"/admin/batches/{rated.rating_batch}/clarity" in client.get("/admin/clarity").text
    reviewer, _ = rated.as_user("reviewer")
    assert reviewer.get(f"/admin/batches/{rated.rating_batch}/clarity").status_code == 403


def test_comparison_batch_has_no_clarity_report(rated: Site):
    client, _ = rated.as_user("admin")
    page = client.get(f"/admin/batches/{rated.comparison_batch}/clarity")
    assert page.status_code == 400 and "comparison batch" in page.text


def test_comparing_two_guideline_versions(rated: Site, tmp_path: Path):
    spec_dir = tmp_path / "spec"
    shutil.copytree(DEMO_SPEC, spec_dir)
    guidelines = spec_dir / "guidelines.yaml"
    text = guidelines.read_text(encoding="utf-8")
    guidelines.write_text(text.replace("is not offensive by itself;",
                                       "is not offensive by itself, nor is mild sarcasm;"),
                          encoding="utf-8")
    spec = load_spec(spec_dir)
    with rated.store.session() as s:
        row = record_spec_version(s, hash=spec.hash, content=spec.content(), name="clearer")
        version_b = row.version
        batch_b = create_batch(s, name="after", kind="rating", model_version="canned",
                               spec_version=row.id, prompts=6, completions_per_prompt=1,
                               overlap=3).id
    assert version_b != rated.spec_version
    _rate(rated, batch_b, items=6, split=False)  # under the new text everyone agrees
    client, _ = rated.as_user("admin")
    page = client.get("/admin/clarity", params={"a": rated.spec_version, "b": version_b})
    assert page.status_code == 200, page.text[:500]
    table = page.text[page.text.index('id="comparison"'):]
    row_html = table[table.index("<td>offensive</td>"):].split("</tr>")[0]
    cells = [c.split(">", 1)[1].split("<")[0] for c in row_html.split("<td")[1:]]
    alpha_a, alpha_b = float(cells[2]), float(cells[3])
    assert alpha_a < 0.5 and alpha_b == 1.0
    assert f"{rated.rating_batch}" in table and f"{batch_b}" in table
    same = client.get("/admin/clarity", params={"a": version_b, "b": version_b})
    assert same.status_code == 400 and "two different guideline versions" in same.text


def test_export_from_the_web_matches_the_cli_and_can_be_downloaded(rated: Site,
                                                                     tmp_path: Path):
    root = tmp_path / "exports"
    rated.client.app.state.export_root = root  # type: ignore[attr-defined]
    client, csrf = rated.as_user("admin")
    form = {"csrf_token": csrf, "batch": str(rated.rating_batch), "kind": "sft",
            "min_helpfulness": "4", "min_reviewers": "1", "require_majority": "yes",
            "exclude_unclear": "yes", "best_per_prompt": "1",
            "max_violation": ", ".join(f"{k}={v}" for k, v in
                                       SFTFilters().max_violation.items()),
            "min_rating_gap": "1", "min_vote_share": "0.5"}
    done = client.post("/admin/exports", data=form)
    assert done.status_code == 303, _error(done.text)
    name = done.headers["location"].split("created=")[1].split("#")[0]
    rows, manifest = load_export(root / name)  # re-hashes the rows
    # The same rows as `accord review export` (default filters) writes.
    with rated.store.session() as s:
        rated_completions, _, version = reviewed_completions(s, [rated.rating_batch])
    assert manifest.hash == content_hash(sft_rows(rated_completions)) and rows
    assert manifest.meta["spec_version"] == version
    assert manifest.meta["batch_ids"] == [rated.rating_batch]
    assert manifest.meta["filters"] == SFTFilters().to_dict()
    assert manifest.meta["exported_by"] == "admin"
    listing = client.get("/admin/exports").text
    assert f'id="export-{name}"' in listing and manifest.hash[:12] in listing
    data = client.get(f"/admin/exports/{name}/data.jsonl")
    assert data.status_code == 200 and "attachment" in data.headers["content-disposition"]
    assert [json.loads(line) for line in data.text.splitlines()] == rows
    assert client.get(f"/admin/exports/{name}/manifest.json").json()["hash"] == manifest.hash
    for bad in (f"/admin/exports/{name}/accord.sqlite3", "/admin/exports/..%2F..%2Fetc/passwd",
                f"/admin/exports/{name}x/data.jsonl"):
        assert client.get(bad).status_code == 404, bad


def test_export_filters_and_errors_are_shown_on_the_form(rated: Site, tmp_path: Path):
    client, csrf = rated.as_user("admin")
    base = {"csrf_token": csrf, "kind": "preference", "min_rating_gap": "1",
            "min_vote_share": "0.5", "min_helpfulness": "4", "min_reviewers": "1",
            "from_ratings": "yes", "batch": str(rated.rating_batch)}
    nowhere = client.post("/admin/exports", data=base)
    assert nowhere.status_code == 422 and "without a project folder" in nowhere.text
    rated.client.app.state.export_root = tmp_path  # type: ignore[attr-defined]
    assert "choose at least one batch" in client.post(
        "/admin/exports", data={k: v for k, v in base.items() if k != "batch"}).text
    bad = client.post("/admin/exports", data={**base, "min_vote_share": "2"})
    assert bad.status_code == 422 and "min_vote_share: 2 is outside 0..1" in bad.text
    # Every item rated: the two completions of a prompt differ in helpfulness (3, 4, 5),
    # so rating pairs with a gap of 1+ exist.
    _rate(rated, rated.rating_batch, items=54, split=False)
    done = client.post("/admin/exports", data=base)
    assert done.status_code == 303, _error(done.text)
    name = done.headers["location"].split("created=")[1].split("#")[0]
    rows, manifest = load_export(tmp_path / name)
    assert manifest.kind == "preference" and rows
    assert manifest.meta["filters"]["from_rankings"] is False
    assert set(rows[0]) == {"prompt", "chosen", "rejected"}


def _error(html: str) -> str:
    return html.split('class="error"')[1][:300] if 'class="error"' in html else html[:300]
