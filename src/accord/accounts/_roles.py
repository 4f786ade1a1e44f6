"""Roles as data: each role is a name, a description and the permissions it grants.

A later issue adds a role (``participant``, ``auditor``, ``user``...) by adding an entry
here; the web app checks permissions, never role names, so no route changes.
"""

from __future__ import annotations

from dataclasses import dataclass

# Permissions the web app knows. ``public`` and ``signed_in`` are granted by the request
# itself (anyone / any session), the rest by a role.
PUBLIC = "public"
SIGNED_IN = "signed_in"
REVIEW = "review"  # take tasks, submit ratings and rankings
SURVEY = "survey"  # fill in or withdraw one's own demographic self-report
ADMIN = "admin"  # batches, users, reviewer quality, adjudication
DELIBERATE = "deliberate"  # vote and submit statements in deliberations run with accounts
MODERATE = "moderate"  # accept, reject or mark meta the statements participants submit
# Call /v1 under an admin's audit grant: scoped to the granted model versions, with the
# grant's own rate and token budget, every request logged (accord.audit.audit_gate).
AUDIT = "audit"

PERMISSIONS = (PUBLIC, SIGNED_IN, REVIEW, SURVEY, ADMIN, DELIBERATE, MODERATE, AUDIT)


@dataclass(frozen=True)
class Role:
    """A named set of permissions."""

    name: str
    description: str
    permissions: frozenset[str]


ROLES: dict[str, Role] = {
    role.name: role
    for role in (
        Role("admin", "runs review batches and deliberations, manages accounts, "
             "adjudicates, moderates, ratifies",
             frozenset({REVIEW, SURVEY, ADMIN, DELIBERATE, MODERATE})),
        Role("reviewer", "rates and ranks model outputs against the guidelines",
             frozenset({REVIEW, SURVEY})),
        Role("participant", "votes and submits statements in public deliberations",
             frozenset({DELIBERATE})),
        # No review data, deliberation votes or demographics: only its granted /v1 access.
        Role("auditor", "calls the OpenAI-compatible API for the model versions an admin "
             "granted, within the grant's rate and token budget (docs/audits.md)",
             frozenset({AUDIT})),
    )
}


def permissions_of(roles: list[str] | tuple[str, ...] | set[str]) -> frozenset[str]:
    """Every permission any of ``roles`` grants (unknown role names grant nothing)."""
    granted: set[str] = {PUBLIC, SIGNED_IN}
    for name in roles:
        role = ROLES.get(name)
        if role is not None:
            granted |= role.permissions
    return frozenset(granted)
