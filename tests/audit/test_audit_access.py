"""Auditor grants on a real SQLite store: the role grants nothing but scoped /v1 access;
the gate holds an auditor to the granted model versions, the grant's rate and its token
budget, and logs every request (refused ones too)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from accord.accounts import ADMIN, DELIBERATE, MODERATE, REVIEW, ROLES, SURVEY, create_user
from accord.audit import AuditRequest, audit_gate, grant_audit, list_grants, revoke_grant
from accord.cli import app
from accord.errors import AccordError
from accord.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'accord.sqlite3'}")
    with s.session() as session:
        create_user(session, "audra", "correct horse battery", ["participant"])
        create_user(session, "rev", "correct horse battery", ["reviewer"])
    yield s
    s.close()


def _gate(store: Store, user: str, model: str, tokens: int = 100):
    from accord.accounts import get_user, roles_of

    with store.session() as session:
        uid = get_user(session, user).id
        return audit_gate(session, user_id=uid, roles=roles_of(session, uid), api_key_id=None,
                          path="/v1/chat/completions", model=model, tokens=tokens)


def test_the_auditor_role_opens_no_review_votes_or_demographics() -> None:
    granted = ROLES["auditor"].permissions
    assert granted == frozenset({"audit"})
    assert not granted & {REVIEW, SURVEY, ADMIN, DELIBERATE, MODERATE}


def test_other_accounts_are_not_gated(store: Store) -> None:
    assert _gate(store, "rev", "anything") is None
    with store.session() as session:
        assert session.scalars(select(AuditRequest)).all() == []


def test_an_auditor_is_held_to_model_rate_and_budget(store: Store) -> None:
    with store.session() as session:
        grant_audit(session, "audra", ["demo-sft"], audit="spring-2027", token_budget=250,
                    per_minute=2)
    assert _gate(store, "audra", "demo-sft") is None
    other = _gate(store, "audra", "demo-dpo")
    assert other is not None and other.status == 403 and other.code == "model_not_granted"
    assert "demo-sft" in other.message
    assert _gate(store, "audra", "demo-sft") is None  # 200 of 250 tokens used
    over = _gate(store, "audra", "demo-sft", tokens=100)
    assert over is not None and over.status == 429 and over.code == "insufficient_quota"
    fast = _gate(store, "audra", "demo-sft", tokens=10)  # two passed in this minute
    assert fast is not None and fast.code == "rate_limit_exceeded"
    with store.session() as session:
        log = session.scalars(select(AuditRequest).order_by(AuditRequest.id)).all()
        assert [(r.model, r.status, r.tokens) for r in log] == [
            ("demo-sft", 200, 100), ("demo-dpo", 403, 0), ("demo-sft", 200, 100),
            ("demo-sft", 429, 0), ("demo-sft", 429, 0)]
        (grant, name, requests), = list_grants(session)
        assert (name, grant.tokens_used, requests) == ("audra", 200, 4)
        revoke_grant(session, grant.id)
    revoked = _gate(store, "audra", "demo-sft", tokens=1)
    assert revoked is not None and revoked.status == 403


def test_grant_errors_are_clear(store: Store) -> None:
    with store.session() as session:
        with pytest.raises(AccordError, match="no user named 'nobody'"):
            grant_audit(session, "nobody", ["m"], audit="a")
        with pytest.raises(AccordError, match="at least one --model"):
            grant_audit(session, "audra", [], audit="a")
        with pytest.raises(AccordError, match="at least 1"):
            grant_audit(session, "audra", ["m"], audit="a", token_budget=0)
        with pytest.raises(AccordError, match="no audit grant 99"):
            revoke_grant(session, 99)


def test_cli_grant_list_and_revoke(tmp_path: Path) -> None:
    project = tmp_path / "p"
    (project / ".accord").mkdir(parents=True)
    store = Store.open(f"sqlite:///{project / '.accord' / 'accord.sqlite3'}")
    with store.session() as session:
        create_user(session, "audra", "correct horse battery", ["participant"])
    store.close()
    runner = CliRunner()
    made = runner.invoke(app, ["audit", "grant", "audra", "--model", "demo-sft", "--model",
                               "demo-dpo", "--audit", "spring", "--tokens", "1000",
                               "--project", str(project)])
    assert made.exit_code == 0, made.output
    assert "grant 1: audra may call demo-sft" in made.output
    listed = runner.invoke(app, ["audit", "grants", "--project", str(project)])
    assert "demo-dpo" in listed.output and "0/1000 tokens" in listed.output
    revoked = runner.invoke(app, ["audit", "revoke", "1", "--project", str(project)])
    assert revoked.exit_code == 0 and "revoked grant 1" in revoked.output
    bad = runner.invoke(app, ["audit", "grant", "nobody", "--model", "m", "--audit", "a",
                              "--project", str(project)])
    assert bad.exit_code == 2 and "no user named" in bad.output


@pytest.mark.postgres
def test_concurrent_requests_never_overspend_a_grant(postgres_store: Store) -> None:
    """Twelve auditor requests race for a budget of five on PostgreSQL (real concurrent
    writers): the grant row is locked for each check, so exactly five pass and the charge
    equals the budget."""
    import threading

    from accord.audit import AuditGrant

    with postgres_store.session() as session:
        create_user(session, "audra", "correct horse battery", ["participant"])
        grant_audit(session, "audra", ["m"], audit="race", token_budget=500,
                    per_minute=1000)
    start = threading.Barrier(12)
    results: list[object] = []

    def ask() -> None:
        start.wait()
        results.append(_gate(postgres_store, "audra", "m", tokens=100))

    threads = [threading.Thread(target=ask) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 12
    assert sum(r is None for r in results) == 5
    assert {r.status for r in results if r is not None} == {429}
    with postgres_store.session() as session:
        assert session.scalars(select(AuditGrant)).one().tokens_used == 500
        logged = session.scalars(select(AuditRequest)).all()
        assert len(logged) == 12 and sum(r.status == 200 for r in logged) == 5
