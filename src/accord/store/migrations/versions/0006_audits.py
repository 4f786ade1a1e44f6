"""Published audits, auditor grants and the log of auditors' API requests.

Revision ID: 0006
Revises: 0005
Created: 2026-12-06

Written by hand; tests/store's migration tests compare it with the models
(accord.audit._models) on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same types as accord.store._base.JSONType and UTCDateTime.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "audits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("auditor", sa.String(length=120), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("key_registered", sa.Boolean(), nullable=False),
        sa.Column("model_name", sa.String(length=255), nullable=False),
        sa.Column("model_kind", sa.String(length=16), nullable=False),
        sa.Column("suites", JSON, nullable=False),
        sa.Column("headline", JSON, nullable=False),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=False),
        sa.Column("audited_at", sa.String(length=32), nullable=False),
        sa.Column("verification", JSON, nullable=False),
        sa.Column("bundle", sa.LargeBinary(), nullable=False),
        sa.Column("bundle_sha256", sa.String(length=64), nullable=False),
        sa.Column("published_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audits")),
        sa.UniqueConstraint("manifest_sha256", name=op.f("uq_audits_manifest_sha256")),
        sa.UniqueConstraint("name", name=op.f("uq_audits_name")),
    )
    with op.batch_alter_table("audits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audits_fingerprint"), ["fingerprint"], unique=False)

    op.create_table(
        "audit_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.String(length=255), nullable=False),
        sa.Column("audit", sa.String(length=80), nullable=False),
        sa.Column("token_budget", sa.Integer(), nullable=False),
        sa.Column("tokens_used", sa.Integer(), nullable=False),
        sa.Column("per_minute", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_audit_grants_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_grants")),
    )
    with op.batch_alter_table("audit_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_grants_user_id"), ["user_id"], unique=False)

    op.create_table(
        "audit_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("path", sa.String(length=120), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["grant_id"], ["audit_grants.id"],
                                name=op.f("fk_audit_requests_grant_id_audit_grants"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_audit_requests_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_requests")),
    )
    with op.batch_alter_table("audit_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_requests_created_at"), ["created_at"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_audit_requests_grant_id"), ["grant_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_audit_requests_user_id"), ["user_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_requests_user_id"))
        batch_op.drop_index(batch_op.f("ix_audit_requests_grant_id"))
        batch_op.drop_index(batch_op.f("ix_audit_requests_created_at"))
    op.drop_table("audit_requests")
    with op.batch_alter_table("audit_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_grants_user_id"))
    op.drop_table("audit_grants")
    with op.batch_alter_table("audits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audits_fingerprint"))
    op.drop_table("audits")
