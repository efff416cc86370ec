"""The worker: concurrency limits on runs, richer step records, the workers table.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INSTANT = sa.DateTime(timezone=True).with_variant(sa.BigInteger(), "sqlite")
_JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("concurrency_limit", sa.Integer(), nullable=True))
    op.create_index("ix_executions_worker", "executions", ["worker_id", "status"])
    with op.batch_alter_table("step_results") as batch:
        batch.add_column(sa.Column("stderr", sa.Text(), nullable=True))
        batch.add_column(sa.Column("failure", sa.String(16), nullable=True))
        batch.add_column(sa.Column("detail", _JSON, nullable=True))
    op.create_table(
        "workers",
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("running", sa.Integer(), nullable=False),
        sa.Column("started_at", _INSTANT, nullable=False),
        sa.Column("heartbeat_at", _INSTANT, nullable=False),
        sa.Column("stopped_at", _INSTANT, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
    )


def downgrade() -> None:
    op.drop_table("workers")
    with op.batch_alter_table("step_results") as batch:
        batch.drop_column("detail")
        batch.drop_column("failure")
        batch.drop_column("stderr")
    op.drop_index("ix_executions_worker", table_name="executions")
    with op.batch_alter_table("executions") as batch:
        batch.drop_column("concurrency_limit")
