"""Review: accounts, web sessions, review batches/items/tasks, ratings, rankings,
adjudications, and demographic self-reports kept apart from accounts.

Revision ID: 0002
Revises: 0001
Created: 2026-11-26

Drafted by autogenerate, then checked by hand; tests/store's migration tests compare it with
the models (accord.review._models) on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same types as accord.store._base.JSONType and UTCDateTime.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("answers", JSON, nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=False),
        sa.Column("consented_on", sa.String(length=10), nullable=False),
        sa.Column("is_simulated", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("is_simulated", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "survey_links",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["survey_responses.id"],
            name=op.f("fk_survey_links_response_id_survey_responses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_survey_links_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_survey_links")),
        sa.UniqueConstraint("response_id", name=op.f("uq_survey_links_response_id")),
    )
    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "role", name=op.f("pk_user_roles")),
    )
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_web_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_sessions")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "review_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("spec_version_id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("overlap", sa.Integer(), nullable=False),
        sa.Column("config", JSON, nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_review_batches_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_review_batches_model_version_id_model_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["spec_version_id"],
            ["spec_versions.id"],
            name=op.f("fk_review_batches_spec_version_id_spec_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_batches")),
    )
    op.create_table(
        "review_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("prompt_id", sa.Integer(), nullable=False),
        sa.Column("is_gold", sa.Boolean(), nullable=False),
        sa.Column("gold_answer", JSON, nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["review_batches.id"],
            name=op.f("fk_review_items_batch_id_review_batches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["prompt_id"], ["prompts.id"], name=op.f("fk_review_items_prompt_id_prompts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_items")),
    )
    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_items_batch_id_position"), ["batch_id", "position"], unique=False
        )

    op.create_table(
        "adjudications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("value", JSON, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_adjudications_decided_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["review_items.id"],
            name=op.f("fk_adjudications_item_id_review_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adjudications")),
        sa.UniqueConstraint("item_id", "category", name=op.f("uq_adjudications_item_id_category")),
    )
    op.create_table(
        "review_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assigned_at", TIMESTAMP, nullable=False),
        sa.Column("submitted_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["review_batches.id"],
            name=op.f("fk_review_assignments_batch_id_review_batches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["review_items.id"],
            name=op.f("fk_review_assignments_item_id_review_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name=op.f("fk_review_assignments_reviewer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_assignments")),
        sa.UniqueConstraint(
            "item_id", "reviewer_id", name=op.f("uq_review_assignments_item_id_reviewer_id")
        ),
        sa.UniqueConstraint("item_id", "slot", name=op.f("uq_review_assignments_item_id_slot")),
    )
    with op.batch_alter_table("review_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_assignments_batch_id_reviewer_id_status"),
            ["batch_id", "reviewer_id", "status"],
            unique=False,
        )

    op.create_table(
        "review_item_completions",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("completion_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["completion_id"],
            ["completions.id"],
            name=op.f("fk_review_item_completions_completion_id_completions"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["review_items.id"],
            name=op.f("fk_review_item_completions_item_id_review_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("item_id", "position", name=op.f("pk_review_item_completions")),
    )
    with op.batch_alter_table("review_item_completions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_item_completions_completion_id"), ["completion_id"], unique=False
        )

    op.create_table(
        "rankings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("spec_version_id", sa.Integer(), nullable=False),
        sa.Column("tiers", JSON, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("unclear", sa.Boolean(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["review_assignments.id"],
            name=op.f("fk_rankings_assignment_id_review_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["review_items.id"],
            name=op.f("fk_rankings_item_id_review_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name=op.f("fk_rankings_reviewer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["spec_version_id"],
            ["spec_versions.id"],
            name=op.f("fk_rankings_spec_version_id_spec_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rankings")),
        sa.UniqueConstraint("assignment_id", name=op.f("uq_rankings_assignment_id")),
    )
    with op.batch_alter_table("rankings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rankings_reviewer_id"), ["reviewer_id"], unique=False)

    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("completion_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("spec_version_id", sa.Integer(), nullable=False),
        sa.Column("values", JSON, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("unclear", JSON, nullable=False),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["review_assignments.id"],
            name=op.f("fk_ratings_assignment_id_review_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["completion_id"], ["completions.id"], name=op.f("fk_ratings_completion_id_completions")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["review_items.id"],
            name=op.f("fk_ratings_item_id_review_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name=op.f("fk_ratings_reviewer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["spec_version_id"],
            ["spec_versions.id"],
            name=op.f("fk_ratings_spec_version_id_spec_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ratings")),
        sa.UniqueConstraint("assignment_id", name=op.f("uq_ratings_assignment_id")),
    )
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ratings_reviewer_id"), ["reviewer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ratings_reviewer_id"))

    op.drop_table("ratings")
    with op.batch_alter_table("rankings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rankings_reviewer_id"))

    op.drop_table("rankings")
    with op.batch_alter_table("review_item_completions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_item_completions_completion_id"))

    op.drop_table("review_item_completions")
    with op.batch_alter_table("review_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_assignments_batch_id_reviewer_id_status"))

    op.drop_table("review_assignments")
    op.drop_table("adjudications")
    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_items_batch_id_position"))

    op.drop_table("review_items")
    op.drop_table("review_batches")
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_user_id"))

    op.drop_table("web_sessions")
    op.drop_table("user_roles")
    op.drop_table("survey_links")
    op.drop_table("users")
    op.drop_table("survey_responses")
