"""Auditor access to the OpenAI-compatible API: grants made by an admin, and the one check
``/v1`` runs on an auditor's key.

An account with the ``auditor`` role calls ``/v1`` with an ordinary API key, but only for
the model versions an admin granted it (``accord audit grant USER --model VERSION``), within
the grant's own per-minute rate and token budget. The budget is charged with what a request
may use (its ``max_completion_tokens`` / ``max_tokens``, else the server's cap) before it
runs, so no request, streamed or not, can pass it. Every request is logged against the
grant, refused ones too. The role grants no permission on review data, deliberation votes
or demographics (``accord.accounts.ROLES``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from accord.errors import AccordError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from accord.audit._models import AuditGrant

AUDITOR = "auditor"
# The permission the auditor role grants (accord.accounts.ROLES): holders are held to
# their grants on /v1.
AUDIT_PERMISSION = "audit"
DEFAULT_TOKEN_BUDGET = 200_000
DEFAULT_PER_MINUTE = 60


@dataclass(frozen=True)
class AuditRefusal:
    """Why an auditor's request was refused: an HTTP status, a message and OpenAI's
    error ``type`` and ``code``."""

    status: int
    message: str
    type: str
    code: str


def grant_audit(session: Session, username: str, models: list[str], *, audit: str,
                token_budget: int = DEFAULT_TOKEN_BUDGET,
                per_minute: int = DEFAULT_PER_MINUTE) -> list[AuditGrant]:
    """Give ``username`` the auditor role and scoped ``/v1`` access to ``models``.

    Args:
        session: a store session.
        username: an existing account.
        models: model-version names (as ``/v1/models`` lists them).
        audit: what the access is for (a name the request log is kept under).
        token_budget: tokens this grant may use in all (per model version).
        per_minute: requests per minute.

    Raises:
        AccordError: no such user, no model, or a budget or rate below 1.
    """
    from accord.accounts import UserRole, get_user, roles_of
    from accord.audit._models import AuditGrant
    from accord.store import NotFoundError

    if not models:
        raise AccordError("name at least one --model VERSION to grant")
    if token_budget < 1 or per_minute < 1:
        raise AccordError("--tokens and --per-minute must be at least 1")
    if not audit.strip():
        raise AccordError("--audit NAME: say what the access is for")
    try:
        user = get_user(session, username)
    except NotFoundError as exc:
        raise AccordError(str(exc)) from None
    if AUDITOR not in roles_of(session, user.id):
        session.add(UserRole(user_id=user.id, role=AUDITOR))
    rows = [AuditGrant(user_id=user.id, model_version=m, audit=audit.strip()[:80],
                       token_budget=token_budget, tokens_used=0, per_minute=per_minute)
            for m in dict.fromkeys(models)]
    session.add_all(rows)
    session.flush()
    return rows


def revoke_grant(session: Session, grant_id: int) -> AuditGrant:
    """Revoke a grant (it stays listed, with its log).

    Raises:
        AccordError: no such grant.
    """
    from accord.audit._models import AuditGrant
    from accord.store import utcnow

    row = session.get(AuditGrant, grant_id)
    if row is None:
        raise AccordError(f"no audit grant {grant_id}; list them with: accord audit grants")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


def list_grants(session: Session) -> list[tuple[AuditGrant, str, int]]:
    """Every grant with its user's name and how many requests it logged, newest first."""
    from accord.accounts import User
    from accord.audit._models import AuditGrant, AuditRequest

    counts = dict(session.execute(select(AuditRequest.grant_id, func.count())
                                  .group_by(AuditRequest.grant_id)).all())
    rows = session.execute(select(AuditGrant, User.username)
                           .join(User, User.id == AuditGrant.user_id)
                           .order_by(AuditGrant.id.desc())).all()
    return [(g, name, int(counts.get(g.id, 0))) for g, name in rows]


def audit_gate(session: Session, *, user_id: int, roles: tuple[str, ...] | list[str],
               api_key_id: int | None, path: str, model: str,
               tokens: int) -> AuditRefusal | None:
    """The check ``/v1`` makes once per request, after the key is known: nothing for an
    account without the ``audit`` permission (the auditor role's); for an auditor, the
    grant for ``model`` must be live, within its rate and its token budget. The request is
    logged against the grant either way, and the budget charged ``tokens`` when it passes.

    Args:
        session: a writing store session (the log and the charge commit with it).
        user_id: the key's owner.
        roles: the owner's roles.
        api_key_id: the key used.
        path: the request path.
        model: the model the request names.
        tokens: what the request may use (its token cap).

    Returns:
        None to let the request through, else why it is refused.
    """
    from accord.accounts import permissions_of
    from accord.audit._models import AuditGrant, AuditRequest
    from accord.store import utcnow

    if AUDIT_PERMISSION not in permissions_of(tuple(roles)):
        return None
    grants = session.scalars(select(AuditGrant).where(
        AuditGrant.user_id == user_id, AuditGrant.model_version == model,
        AuditGrant.revoked_at.is_(None)).order_by(AuditGrant.id).with_for_update()).all()
    grant = next((g for g in grants if g.tokens_used < g.token_budget), grants[-1]
                 if grants else None)
    refusal: AuditRefusal | None = None
    if grant is None:
        allowed = sorted(set(session.scalars(select(AuditGrant.model_version).where(
            AuditGrant.user_id == user_id, AuditGrant.revoked_at.is_(None)))))
        refusal = AuditRefusal(403, f"this auditor key is not granted model {model!r} (granted: "
                               f"{', '.join(allowed) or 'none'}); ask an admin for "
                               "`accord audit grant`", "permission_error", "model_not_granted")
    elif grant.tokens_used + tokens > grant.token_budget:
        refusal = AuditRefusal(429, f"audit token budget spent: {grant.tokens_used} of "
                               f"{grant.token_budget} used and this request may use {tokens}",
                               "insufficient_quota", "insufficient_quota")
    else:
        since = utcnow() - timedelta(seconds=60)
        recent = session.scalar(select(func.count()).select_from(AuditRequest).where(
            AuditRequest.grant_id == grant.id, AuditRequest.status == 200,
            AuditRequest.created_at >= since)) or 0
        if recent >= grant.per_minute:
            refusal = AuditRefusal(429, f"audit rate limit: {grant.per_minute} requests per "
                                   "minute for this grant", "rate_limit_error",
                                   "rate_limit_exceeded")
    if refusal is None:
        assert grant is not None
        grant.tokens_used += tokens
    session.add(AuditRequest(grant_id=grant.id if grant else None, user_id=user_id,
                             api_key_id=api_key_id, path=path[:120], model=model[:255],
                             tokens=tokens if refusal is None else 0,
                             status=200 if refusal is None else refusal.status))
    session.flush()
    return refusal
