"""Deliberation: deliberations, statements, participants, votes with history, opt-in
participant demographics kept apart from participants, and spec-change proposals.

Revision ID: 0003
Revises: 0002
Created: 2026-11-27

Written by hand; tests/store's migration tests compare it with the models
(accord.deliberate._models) on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same types as accord.store._base.JSONType and UTCDateTime.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "deliberations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=True),
        sa.Column("config", JSON, nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_deliberations_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliberations")),
        sa.UniqueConstraint("name", name=op.f("uq_deliberations_name")),
    )
    op.create_table(
        "deliberation_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deliberation_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("token", sa.String(length=255), nullable=True),
        sa.Column("source_group", sa.Integer(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["deliberation_id"],
            ["deliberations.id"],
            name=op.f("fk_deliberation_participants_deliberation_id_deliberations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_deliberation_participants_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliberation_participants")),
        sa.UniqueConstraint(
            "deliberation_id",
            "number",
            name=op.f("uq_deliberation_participants_deliberation_id_number"),
        ),
        sa.UniqueConstraint(
            "deliberation_id",
            "token_hash",
            name=op.f("uq_deliberation_participants_deliberation_id_token_hash"),
        ),
        sa.UniqueConstraint(
            "deliberation_id",
            "user_id",
            name=op.f("uq_deliberation_participants_deliberation_id_user_id"),
        ),
    )
    op.create_table(
        "deliberation_statements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deliberation_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("moderation", sa.String(length=16), nullable=False),
        sa.Column("is_seed", sa.Boolean(), nullable=False),
        sa.Column("author_number", sa.Integer(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=True),
        sa.Column("moderated_by", sa.Integer(), nullable=True),
        sa.Column("moderated_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["deliberation_id"],
            ["deliberations.id"],
            name=op.f("fk_deliberation_statements_deliberation_id_deliberations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["moderated_by"],
            ["users.id"],
            name=op.f("fk_deliberation_statements_moderated_by_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliberation_statements")),
        sa.UniqueConstraint(
            "deliberation_id",
            "number",
            name=op.f("uq_deliberation_statements_deliberation_id_number"),
        ),
    )
    op.create_table(
        "deliberation_votes",
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.Integer(), nullable=False),
        sa.Column("deliberation_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.SmallInteger(), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deliberation_id"],
            ["deliberations.id"],
            name=op.f("fk_deliberation_votes_deliberation_id_deliberations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["deliberation_participants.id"],
            name=op.f("fk_deliberation_votes_participant_id_deliberation_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["deliberation_statements.id"],
            name=op.f("fk_deliberation_votes_statement_id_deliberation_statements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "participant_id", "statement_id", name=op.f("pk_deliberation_votes")
        ),
    )
    op.create_index(
        op.f("ix_deliberation_votes_deliberation_id_statement_id"),
        "deliberation_votes",
        ["deliberation_id", "statement_id"],
    )
    op.create_table(
        "deliberation_vote_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deliberation_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.SmallInteger(), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deliberation_id"],
            ["deliberations.id"],
            name=op.f("fk_deliberation_vote_events_deliberation_id_deliberations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["deliberation_participants.id"],
            name=op.f("fk_deliberation_vote_events_participant_id_deliberation_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["deliberation_statements.id"],
            name=op.f("fk_deliberation_vote_events_statement_id_deliberation_statements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliberation_vote_events")),
    )
    op.create_index(
        op.f("ix_deliberation_vote_events_deliberation_id_id"),
        "deliberation_vote_events",
        ["deliberation_id", "id"],
    )
    op.create_table(
        "deliberation_demographics",
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("answers", JSON, nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=False),
        sa.Column("consented_on", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["deliberation_participants.id"],
            name=op.f("fk_deliberation_demographics_participant_id_deliberation_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("participant_id", name=op.f("pk_deliberation_demographics")),
    )
    op.create_table(
        "deliberation_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deliberation_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("statement_numbers", JSON, nullable=False),
        sa.Column("tallies", JSON, nullable=False),
        sa.Column("basis", JSON, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("change", JSON, nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("proposed_at", TIMESTAMP, nullable=False),
        sa.Column("drafted_by", sa.String(length=255), nullable=True),
        sa.Column("drafted_at", TIMESTAMP, nullable=True),
        sa.Column("decided_by", sa.String(length=255), nullable=True),
        sa.Column("decided_at", TIMESTAMP, nullable=True),
        sa.Column("base_spec_hash", sa.String(length=64), nullable=True),
        sa.Column("spec_version_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["deliberation_id"],
            ["deliberations.id"],
            name=op.f("fk_deliberation_proposals_deliberation_id_deliberations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["spec_version_id"],
            ["spec_versions.id"],
            name=op.f("fk_deliberation_proposals_spec_version_id_spec_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliberation_proposals")),
    )
    op.create_index(
        op.f("ix_deliberation_proposals_deliberation_id_status"),
        "deliberation_proposals",
        ["deliberation_id", "status"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_deliberation_proposals_deliberation_id_status"),
        table_name="deliberation_proposals",
    )
    op.drop_table("deliberation_proposals")
    op.drop_table("deliberation_demographics")
    op.drop_index(
        op.f("ix_deliberation_vote_events_deliberation_id_id"),
        table_name="deliberation_vote_events",
    )
    op.drop_table("deliberation_vote_events")
    op.drop_index(
        op.f("ix_deliberation_votes_deliberation_id_statement_id"),
        table_name="deliberation_votes",
    )
    op.drop_table("deliberation_votes")
    op.drop_table("deliberation_statements")
    op.drop_table("deliberation_participants")
    op.drop_table("deliberations")
