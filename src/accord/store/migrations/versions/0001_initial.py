"""Initial tables: spec versions, model versions, prompts, completions.

Revision ID: 0001
Revises:
Created: 2026-11-26

Written by hand; tests/store/test_migrations.py checks it against the models on SQLite
and PostgreSQL. Timestamps have no server default: Python sets them, in UTC.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# JSONB on PostgreSQL, JSON (text) on SQLite: the same type as accord.store._base.JSONType.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "spec_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("version", sa.String(12), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("content", JSON, nullable=False),
        sa.Column("provenance", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spec_versions")),
        sa.UniqueConstraint("hash", name=op.f("uq_spec_versions_hash")),
    )
    op.create_index(op.f("ix_spec_versions_version"), "spec_versions", ["version"])

    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("spec_version_id", sa.Integer(), nullable=True),
        sa.Column("artifact_path", sa.Text(), nullable=False),
        sa.Column("config", JSON, nullable=False),
        sa.Column("datasets", JSON, nullable=False),
        sa.Column("metrics", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
        sa.UniqueConstraint("name", name=op.f("uq_model_versions_name")),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["model_versions.id"],
            name=op.f("fk_model_versions_parent_id_model_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["spec_version_id"],
            ["spec_versions.id"],
            name=op.f("fk_model_versions_spec_version_id_spec_versions"),
        ),
    )
    op.create_index(op.f("ix_model_versions_parent_id"), "model_versions", ["parent_id"])

    op.create_table(
        "prompts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("messages", JSON, nullable=False),
        sa.Column("split", sa.String(32), nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("meta", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompts")),
        sa.UniqueConstraint("hash", name=op.f("uq_prompts_hash")),
    )
    op.create_index(op.f("ix_prompts_split"), "prompts", ["split"])

    op.create_table(
        "completions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prompt_id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sampling", JSON, nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_completions")),
        sa.ForeignKeyConstraint(
            ["prompt_id"], ["prompts.id"], name=op.f("fk_completions_prompt_id_prompts")
        ),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_completions_model_version_id_model_versions"),
        ),
    )
    op.create_index(
        op.f("ix_completions_prompt_id_model_version_id"),
        "completions",
        ["prompt_id", "model_version_id"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_completions_prompt_id_model_version_id"), table_name="completions")
    op.drop_table("completions")
    op.drop_index(op.f("ix_prompts_split"), table_name="prompts")
    op.drop_table("prompts")
    op.drop_index(op.f("ix_model_versions_parent_id"), table_name="model_versions")
    op.drop_table("model_versions")
    op.drop_index(op.f("ix_spec_versions_version"), table_name="spec_versions")
    op.drop_table("spec_versions")
