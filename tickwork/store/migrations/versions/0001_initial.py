"""Initial schema: workflows, schedules, executions and their records.

Revision ID: 0001
Revises:
Create Date: 2026-01-01

Types are spelled out here (not imported from ``tables.py``) so this file never changes:
instants are ``timestamptz`` on PostgreSQL and integer microseconds on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INSTANT = sa.DateTime(timezone=True).with_variant(sa.BigInteger(), "sqlite")
_JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
_NAME = 128

_TRIGGERS = "'backfill', 'event', 'manual', 'retry', 'schedule', 'webhook'"
_STATUSES = (
    "'buffered', 'cancelled', 'dead', 'failed', 'missed', 'queued', 'retrying', "
    "'running', 'skipped', 'succeeded', 'timed_out', 'waiting'"
)


def _instant(name: str, *, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, _INSTANT, nullable=nullable)


def _timestamps() -> list[sa.Column[object]]:
    return [_instant("created_at", nullable=False), _instant("updated_at", nullable=False)]


def upgrade() -> None:
    op.create_table(
        "workflows",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("namespace", sa.String(_NAME), nullable=False),
        sa.Column("name", sa.String(_NAME), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", _JSON, nullable=False),
        sa.Column("managed_by", sa.String(255), nullable=True),
        sa.Column("managed_file", sa.Text(), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflows")),
        sa.UniqueConstraint("namespace", "name", name=op.f("uq_workflows_namespace_name")),
    )
    op.create_table(
        "schedules",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("namespace", sa.String(_NAME), nullable=False),
        sa.Column("name", sa.String(_NAME), nullable=False),
        sa.Column("document", _JSON, nullable=False),
        sa.Column("trigger_kind", sa.String(16), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("pause_note", sa.Text(), nullable=True),
        _instant("next_fire_at", nullable=True),
        _instant("last_fired_at", nullable=True),
        sa.Column("runs_count", sa.Integer(), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("managed_by", sa.String(255), nullable=True),
        sa.Column("managed_file", sa.Text(), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
        sa.UniqueConstraint("namespace", "name", name=op.f("uq_schedules_namespace_name")),
        sa.CheckConstraint(
            "trigger_kind IN ('at', 'cron', 'interval')", name=op.f("ck_schedules_trigger_kind")
        ),
        sa.CheckConstraint(
            "state IN ('active', 'completed', 'paused')", name=op.f("ck_schedules_state")
        ),
    )
    op.create_index("ix_schedules_due", "schedules", ["state", "next_fire_at"])

    op.create_table(
        "executions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("schedule_id", sa.Uuid(), nullable=True),
        sa.Column("schedule_name", sa.String(_NAME), nullable=True),
        sa.Column("namespace", sa.String(_NAME), nullable=False),
        sa.Column("workflow_name", sa.String(_NAME), nullable=True),
        sa.Column("workflow_version", sa.Integer(), nullable=True),
        sa.Column("trigger", sa.String(16), nullable=False),
        _instant("scheduled_for", nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("concurrency_key", sa.String(255), nullable=True),
        sa.Column("input", _JSON, nullable=False),
        _instant("queued_at", nullable=True),
        _instant("not_before", nullable=True),
        _instant("started_at", nullable=True),
        _instant("finished_at", nullable=True),
        sa.Column("lateness_ms", sa.BigInteger(), nullable=True),
        sa.Column("worker_id", sa.String(255), nullable=True),
        _instant("lease_expires_at", nullable=True),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", _JSON, nullable=True),
        _instant("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_executions")),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_executions_schedule_id_schedules"),
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(f'"trigger" IN ({_TRIGGERS})', name=op.f("ck_executions_trigger")),
        sa.CheckConstraint(f"status IN ({_STATUSES})", name=op.f("ck_executions_status")),
        sa.CheckConstraint(
            "attempt >= 1 AND max_attempts >= 1", name=op.f("ck_executions_attempts")
        ),
    )
    scheduled = sa.text("\"trigger\" = 'schedule'")
    has_key = sa.text("idempotency_key IS NOT NULL")
    has_key_no_schedule = sa.text("idempotency_key IS NOT NULL AND schedule_id IS NULL")
    op.create_index(
        "uq_executions_schedule_fire",
        "executions",
        ["schedule_id", "scheduled_for"],
        unique=True,
        sqlite_where=scheduled,
        postgresql_where=scheduled,
    )
    op.create_index(
        "uq_executions_schedule_idempotency",
        "executions",
        ["schedule_id", "idempotency_key"],
        unique=True,
        sqlite_where=has_key,
        postgresql_where=has_key,
    )
    op.create_index(
        "uq_executions_workflow_idempotency",
        "executions",
        ["namespace", "workflow_name", "idempotency_key"],
        unique=True,
        sqlite_where=has_key_no_schedule,
        postgresql_where=has_key_no_schedule,
    )
    op.create_index(
        "ix_executions_claim",
        "executions",
        [sa.column("status"), sa.column("priority").desc(), sa.column("scheduled_for")],
    )
    op.create_index("ix_executions_lease", "executions", ["status", "lease_expires_at"])
    op.create_index(
        "ix_executions_schedule_history", "executions", ["schedule_id", "scheduled_for"]
    )

    op.create_table(
        "missed_ranges",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("schedule_id", sa.Uuid(), nullable=False),
        _instant("first_instant", nullable=False),
        _instant("last_instant", nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        _instant("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_missed_ranges")),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_missed_ranges_schedule_id_schedules"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "count >= 1 AND first_instant <= last_instant", name=op.f("ck_missed_ranges_span")
        ),
    )
    op.create_index("ix_missed_ranges_schedule", "missed_ranges", ["schedule_id", "first_instant"])

    op.create_table(
        "step_results",
        sa.Column("execution_id", sa.Uuid(), nullable=False),
        sa.Column("step", sa.String(_NAME), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _instant("started_at", nullable=True),
        _instant("finished_at", nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("output", sa.Text(), nullable=True),
        sa.Column("output_truncated", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("execution_id", "step", "attempt", name=op.f("pk_step_results")),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["executions.id"],
            name=op.f("fk_step_results_execution_id_executions"),
            ondelete="CASCADE",
        ),
    )

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(_NAME), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("scopes", _JSON, nullable=False),
        sa.Column("namespace", sa.String(_NAME), nullable=True),
        _instant("created_at", nullable=False),
        _instant("last_used_at", nullable=True),
        _instant("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )

    op.create_table(
        "notification_channels",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(_NAME), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("config", _JSON, nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_channels")),
        sa.UniqueConstraint("name", name=op.f("uq_notification_channels_name")),
    )

    op.create_table(
        "scheduler_leases",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(255), nullable=False),
        _instant("expires_at", nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_leases")),
    )


def downgrade() -> None:
    for table in (
        "scheduler_leases",
        "notification_channels",
        "api_tokens",
        "step_results",
        "missed_ranges",
        "executions",
        "schedules",
        "workflows",
    ):
        op.drop_table(table)
