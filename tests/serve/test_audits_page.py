"""The whole audit path on a live server: an auditor with a scoped key audits the served
tiny model through /v1, signs and publishes the bundle; /audits lists it, anyone downloads
it and ``verify --regrade`` passes on the download; the key opens no other model and no
review data."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from chat_site import ChatSite, build_chat_site, tiny_model_dir
from serve_site import live_server
from sqlalchemy import select

from _resources import missing_resource
from accord.accounts import create_user
from accord.audit import (
    AuditRequest,
    create_keys,
    default_data_dir,
    grant_audit,
    publish_bundle,
    run_audit,
    sign_bundle,
    verify_bundle,
)
from accord.errors import AccordError
from accord.store import Store

DATA = default_data_dir()


@pytest.fixture(scope="module")
def runner(request, tmp_path_factory):
    from accord.customize import load_runner

    return load_runner("tiny", tiny_model_dir(request, tmp_path_factory))


@pytest.fixture(scope="module")
def served(runner, tmp_path_factory) -> Iterator[tuple[str, ChatSite, str]]:
    """The tiny model served; auditor 'audra' granted 'tiny' with a key of her own."""
    if not (DATA / "xstest" / "xstest_prompts.csv").is_file():
        missing_resource(f"public data sets not found in {DATA} (set ACCORD_DATA_DIR)")
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('audits') / 'accord.sqlite3'}")
    site = build_chat_site(store, runner, requests_per_minute=1000)
    with store.session() as session:
        site.users["audra"] = create_user(session, "audra", "correct horse battery",
                                          ["auditor"]).id
        grant_audit(session, "audra", ["tiny"], audit="spring", token_budget=100_000,
                    per_minute=1000)
    key = site.key("audra")
    try:
        with live_server(site.app) as base:
            yield base, site, key
    finally:
        store.close()


@pytest.fixture(scope="module")
def published(served, tmp_path_factory, monkeypatch_module) -> tuple[Path, Path]:
    base, site, key = served
    monkeypatch_module.setenv("AUDRA_KEY", key)
    folder = tmp_path_factory.mktemp("bundles")
    private, public, _ = create_keys("audra", folder / "keys")
    out = folder / "tiny-spring"
    try:
        run_audit("xstest", out, model="tiny", endpoint=f"{base}/v1", api_key_env="AUDRA_KEY",
                  limit=4, max_new_tokens=24, auditor="Audra", data_dir=DATA)
    except AccordError as exc:
        if "grader" in str(exc):
            missing_resource(f"real-text graders not built: {exc}")
        raise
    sign_bundle(out, private)
    with site.store.session() as session:
        publish_bundle(session, out, public_key=public)
    return out, public


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_the_audit_ran_through_the_scoped_key_and_was_logged(served, published) -> None:
    _, site, _ = served
    out, _ = published
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model"] == {"kind": "endpoint", "name": "tiny",
                                 "endpoint": manifest["model"]["endpoint"],
                                 "reported": ["tiny"]}
    assert "AUDRA_KEY" not in (out / "manifest.json").read_text()
    with site.store.session() as session:
        log = session.scalars(select(AuditRequest)).all()
        assert len(log) >= 4 and all(r.status == 200 and r.model == "tiny" for r in log)
        assert {r.user_id for r in log} == {site.users["audra"]}


def test_audits_page_lists_and_serves_a_bundle_that_verifies(served, published,
                                                             tmp_path: Path) -> None:
    base, _, _ = served
    _, public = published
    page = httpx.get(f"{base}/audits")
    assert page.status_code == 200
    assert "tiny-spring" in page.text and "Audra" in page.text and "xstest" in page.text
    assert "over_refusal" in page.text and "yes, auditor's key" in page.text
    detail = httpx.get(f"{base}/audits/tiny-spring")
    assert detail.status_code == 200 and "<svg" in detail.text
    zipped = httpx.get(f"{base}/audits/tiny-spring/bundle")
    assert zipped.status_code == 200
    assert zipped.headers["content-type"] == "application/zip"
    zipfile.ZipFile(io.BytesIO(zipped.content)).extractall(tmp_path)
    result = verify_bundle(tmp_path / "tiny-spring", public_key=public, regrade=True)
    assert result.ok, result.render_text()
    assert httpx.get(f"{base}/audits/nothing").status_code == 404


def test_an_edited_bundle_is_not_published(served, published, tmp_path: Path) -> None:
    import shutil

    _, site, _ = served
    out, public = published
    copy = Path(shutil.copytree(out, tmp_path / "edited"))
    (copy / "report.html").write_bytes((copy / "report.html").read_bytes() + b" ")
    with site.store.session() as session, pytest.raises(AccordError,
                                                        match=r"file report\.html"):
        publish_bundle(session, copy, public_key=public)
    with site.store.session() as session, pytest.raises(AccordError,
                                                        match="already published"):
        publish_bundle(session, out, name="again", public_key=public, regrade=False)


def test_the_auditor_key_opens_only_the_granted_model(served) -> None:
    base, site, key = served
    client = openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0, timeout=60)
    ok = client.chat.completions.create(model="tiny", max_tokens=8,
                                        messages=[{"role": "user", "content": "Hi"}])
    assert ok.choices[0].message.content is not None
    with site.store.session() as session:
        from accord.audit import AuditGrant

        grant = session.scalars(select(AuditGrant)).one()
        grant.revoked_at = grant.created_at
    with pytest.raises(openai.PermissionDeniedError, match="not granted model 'tiny'"):
        client.chat.completions.create(model="tiny", max_tokens=8,
                                       messages=[{"role": "user", "content": "Hi"}])
    with site.store.session() as session:
        session.scalars(select(AuditGrant)).one().revoked_at = None


def test_an_auditor_account_sees_no_review_data(served) -> None:
    base, _, _ = served
    with httpx.Client(base_url=base) as http:
        login = http.post("/api/login", json={"username": "audra",
                                              "password": "correct horse battery"})
        assert login.status_code == 200, login.text
        for path in ("/api/batches", "/api/survey", "/admin/users"):
            assert http.get(path).status_code == 403, path


def test_a_completions_batch_is_charged_for_every_prompt(served) -> None:
    """/v1/completions with several prompts costs the auditor's budget each prompt's cap:
    eight prompts of 16 tokens do not fit in 100 tokens left, one does."""
    from accord.audit import AuditGrant

    base, site, key = served
    client = openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0, timeout=60)
    with site.store.session() as session:
        grant = session.scalars(select(AuditGrant)).one()
        saved = grant.tokens_used
        grant.tokens_used = grant.token_budget - 100
    try:
        with pytest.raises(openai.RateLimitError, match="may use 128"):
            client.completions.create(model="tiny", prompt=["Hi"] * 8, max_tokens=16)
        one = client.completions.create(model="tiny", prompt=["Hi"], max_tokens=16)
        assert len(one.choices) == 1
        with site.store.session() as session:
            left = session.scalars(select(AuditGrant)).one()
            assert left.token_budget - left.tokens_used == 100 - 16
    finally:
        with site.store.session() as session:
            session.scalars(select(AuditGrant)).one().tokens_used = saved
