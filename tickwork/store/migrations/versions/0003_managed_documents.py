"""YAML-managed schedules and workflows keep the document their file declared.

What a managed row's ``document`` holds beyond its ``managed_document`` was changed
through the API or the dashboard: an override, shown until the next apply restores the
file's state.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    for table in ("schedules", "workflows"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("managed_document", _JSON, nullable=True))


def downgrade() -> None:
    for table in ("schedules", "workflows"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("managed_document")
