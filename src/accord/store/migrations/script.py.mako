"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Created: ${create_date}

Write migrations by hand (or fix up autogenerate's draft): they must run on SQLite and
PostgreSQL, use ``op.batch_alter_table`` for changes to existing tables, set no
database-side ``now()`` defaults, and name any constraint explicitly or via the naming
convention in accord/store/_base.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
${imports if imports else ""}

revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}

# JSONB on PostgreSQL, JSON (text) on SQLite: the same type as accord.store._base.JSONType.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
