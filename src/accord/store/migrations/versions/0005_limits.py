"""Limits that hold across server processes: shared rate-limit and sign-in counters, and a
forced change of handed-out (one-time) passwords.

Revision ID: 0005
Revises: 0004
Created: 2026-12-06

Written by hand; tests/store's migration tests compare it with the models
(accord.accounts._models) on SQLite and PostgreSQL. Accounts that exist before this
migration keep their passwords without being asked to change them: only passwords handed
out from now on are one-time.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "limit_counters",
        sa.Column("key", sa.String(length=96), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.Float(), nullable=False),
        sa.Column("until", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_limit_counters")),
    )
    with op.batch_alter_table("limit_counters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_limit_counters_expires_at"), ["expires_at"],
                              unique=False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("must_change_password")
    with op.batch_alter_table("limit_counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_limit_counters_expires_at"))
    op.drop_table("limit_counters")
