"""Customisation: saved chat profiles, API keys (sha256 only), served answers, enforcement
events, public feedback and regression cases made from it.

Revision ID: 0004
Revises: 0003
Created: 2026-11-26

Drafted by autogenerate, then checked by hand; tests/store's migration tests compare it with
the models (accord.customize._models) on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same types as accord.store._base.JSONType and UTCDateTime.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "chat_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("locked", JSON, nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_chat_profiles_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_profiles")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_chat_profiles_user_id_name")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("last_used_at", TIMESTAMP, nullable=True),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["chat_profiles.id"],
            name=op.f("fk_api_keys_profile_id_chat_profiles"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_keys_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_user_id"), ["user_id"], unique=False)

    op.create_table(
        "chat_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=80), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("messages", JSON, nullable=False),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("enforced", sa.Boolean(), nullable=False),
        sa.Column("finish_reason", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_chat_answers_api_key_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_answers")),
        sa.UniqueConstraint("public_id", name=op.f("uq_chat_answers_public_id")),
    )
    with op.batch_alter_table("chat_answers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chat_answers_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_chat_answers_owner"), ["owner"], unique=False)

    op.create_table(
        "enforcement_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=True),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("bounds", JSON, nullable=False),
        sa.Column("scores", JSON, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("shown", sa.Text(), nullable=False),
        sa.Column("withheld", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["chat_answers.id"],
            name=op.f("fk_enforcement_events_answer_id_chat_answers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enforcement_events")),
    )
    with op.batch_alter_table("enforcement_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enforcement_events_answer_id"), ["answer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_enforcement_events_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("review_item_id", sa.Integer(), nullable=True),
        sa.Column("triaged_by", sa.Integer(), nullable=True),
        sa.Column("triaged_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["chat_answers.id"],
            name=op.f("fk_feedback_answer_id_chat_answers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["review_item_id"],
            ["review_items.id"],
            name=op.f("fk_feedback_review_item_id_review_items"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["triaged_by"], ["users.id"], name=op.f("fk_feedback_triaged_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_answer_id"), ["answer_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_feedback_status_created_at"), ["status", "created_at"], unique=False
        )

    op.create_table(
        "regression_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feedback_id", sa.Integer(), nullable=True),
        sa.Column("probe", sa.String(length=64), nullable=False),
        sa.Column("messages", JSON, nullable=False),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_regression_cases_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback.id"],
            name=op.f("fk_regression_cases_feedback_id_feedback"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regression_cases")),
    )
    with op.batch_alter_table("regression_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_regression_cases_probe"), ["probe"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("regression_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_regression_cases_probe"))

    op.drop_table("regression_cases")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_status_created_at"))
        batch_op.drop_index(batch_op.f("ix_feedback_answer_id"))

    op.drop_table("feedback")
    with op.batch_alter_table("enforcement_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enforcement_events_created_at"))
        batch_op.drop_index(batch_op.f("ix_enforcement_events_answer_id"))

    op.drop_table("enforcement_events")
    with op.batch_alter_table("chat_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_answers_owner"))
        batch_op.drop_index(batch_op.f("ix_chat_answers_created_at"))

    op.drop_table("chat_answers")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_user_id"))

    op.drop_table("api_keys")
    op.drop_table("chat_profiles")
