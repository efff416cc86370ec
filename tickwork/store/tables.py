"""The database schema: the one source Alembic migrations are checked against.

Every constraint and index has a name (``NAMING_CONVENTION`` or an explicit one), so
migrations can refer to them and ``Conflict.constraint`` can say which one refused a write.
A test upgrades an empty database on SQLite and PostgreSQL and asserts that Alembic finds no
difference from this module: change a table here, then add a migration under
``store/migrations/versions``.

Decisions recorded here:

* Instants are ``UTCDateTime`` (aware UTC; integer microseconds on SQLite), never naive,
  and never defaulted by the server: the caller binds ``now`` from the injected clock.
* ``executions.schedule_id`` is ``ON DELETE SET NULL``: deleting a schedule keeps its run
  history (the product promises visibility of what ran); ``schedule_name`` keeps the runs
  readable. Whoever deletes a schedule cancels its queued runs first. ``missed_ranges``
  belong to their schedule and cascade; ``step_results`` cascade with their execution.
* Exactly-once firing is the partial unique index ``uq_executions_schedule_fire`` on
  ``(schedule_id, scheduled_for) WHERE trigger = 'schedule'``; manual runs, backfills and
  re-runs are other triggers and may repeat an instant.
* Idempotency keys of manual starts are unique per schedule, and per (namespace, workflow)
  for runs started from a workflow without a schedule.
* Enumerated columns carry CHECK constraints built from the policy enums, so a new enum
  member needs a migration (a test inserts every member to catch a forgotten one).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from tickwork.schedule.policies import ExecutionStatus, ExecutionTrigger, ScheduleState
from tickwork.store.types import JSON, UUID, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TRIGGER_KINDS = ("cron", "interval", "at")
"""``schedules.trigger_kind``: which of the document's ``trigger`` keys is set."""

STEP_OUTPUT_MAX_CHARS = 64 * 1024
"""Cap on ``step_results.output``; writers truncate and set ``output_truncated``."""

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

_NAME = 128  # [a-z0-9][a-z0-9-_.]{0,127}


def _one_of(column: str, values: Iterable[str]) -> sa.CheckConstraint:
    """``CHECK (column IN (...))`` named ``ck_<table>_<column>``."""
    return sa.CheckConstraint(sa.column(column).in_(sorted(str(v) for v in values)), name=column)


def _timestamps() -> list[sa.Column[datetime]]:
    return [
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    ]


workflows = sa.Table(
    "workflows",
    metadata,
    sa.Column("id", UUID(), primary_key=True),
    sa.Column("namespace", sa.String(_NAME), nullable=False),
    sa.Column("name", sa.String(_NAME), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False, default=1),
    sa.Column("document", JSON, nullable=False),
    sa.Column("managed_by", sa.String(255), nullable=True),
    sa.Column("managed_file", sa.Text(), nullable=True),
    sa.Column("managed_document", JSON, nullable=True),
    *_timestamps(),
    sa.UniqueConstraint("namespace", "name"),
)

schedules = sa.Table(
    "schedules",
    metadata,
    sa.Column("id", UUID(), primary_key=True),
    sa.Column("namespace", sa.String(_NAME), nullable=False),
    sa.Column("name", sa.String(_NAME), nullable=False),
    sa.Column("document", JSON, nullable=False),
    sa.Column("trigger_kind", sa.String(16), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False, default=ScheduleState.ACTIVE.value),
    sa.Column("pause_note", sa.Text(), nullable=True),
    sa.Column("next_fire_at", UTCDateTime(), nullable=True),
    sa.Column("last_fired_at", UTCDateTime(), nullable=True),  # last nominal instant handled
    sa.Column("runs_count", sa.Integer(), nullable=False, default=0),
    sa.Column("consecutive_failures", sa.Integer(), nullable=False, default=0),
    sa.Column("revision", sa.Integer(), nullable=False, default=1),  # optimistic concurrency
    sa.Column("managed_by", sa.String(255), nullable=True),  # the YAML set that owns it
    sa.Column("managed_file", sa.Text(), nullable=True),
    # The document as its file declares it: what ``document`` differs by is an override.
    sa.Column("managed_document", JSON, nullable=True),
    *_timestamps(),
    sa.UniqueConstraint("namespace", "name"),
    _one_of("trigger_kind", TRIGGER_KINDS),
    _one_of("state", ScheduleState),
    # The due query: WHERE state = 'active' AND next_fire_at <= :now ORDER BY next_fire_at.
    sa.Index("ix_schedules_due", "state", "next_fire_at"),
)

executions = sa.Table(
    "executions",
    metadata,
    sa.Column("id", UUID(), primary_key=True),  # UUIDv7: sorts by creation
    sa.Column(
        "schedule_id",
        UUID(),
        sa.ForeignKey("schedules.id", ondelete="SET NULL"),
        nullable=True,  # NULL: a workflow started without a schedule, or a deleted schedule
    ),
    sa.Column("schedule_name", sa.String(_NAME), nullable=True),
    sa.Column("namespace", sa.String(_NAME), nullable=False),
    # workflow_name NULL: the schedule's inline action runs.
    sa.Column("workflow_name", sa.String(_NAME), nullable=True),
    sa.Column("workflow_version", sa.Integer(), nullable=True),
    sa.Column("trigger", sa.String(16), nullable=False),
    sa.Column("scheduled_for", UTCDateTime(), nullable=False),  # the nominal instant
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(32), nullable=True),  # paused | overlap | misfire | …
    sa.Column("attempt", sa.Integer(), nullable=False, default=1),
    sa.Column("max_attempts", sa.Integer(), nullable=False, default=1),
    sa.Column("priority", sa.Integer(), nullable=False, default=0),
    sa.Column("concurrency_key", sa.String(255), nullable=True),
    sa.Column("concurrency_limit", sa.Integer(), nullable=True),  # NULL with a key: 1
    sa.Column("input", JSON, nullable=False),
    sa.Column("queued_at", UTCDateTime(), nullable=True),
    sa.Column("not_before", UTCDateTime(), nullable=True),  # jitter or retry delay
    sa.Column("started_at", UTCDateTime(), nullable=True),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    sa.Column("lateness_ms", sa.BigInteger(), nullable=True),
    sa.Column("worker_id", sa.String(255), nullable=True),
    sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
    sa.Column("idempotency_key", sa.String(255), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("result", JSON, nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    # A dead run someone removed from the dead list (or re-ran): kept in the history.
    sa.Column("dismissed_at", UTCDateTime(), nullable=True),
    _one_of("trigger", ExecutionTrigger),
    _one_of("status", ExecutionStatus),
    sa.CheckConstraint("attempt >= 1 AND max_attempts >= 1", name="attempts"),
)

_c = executions.c
sa.Index(
    "uq_executions_schedule_fire",
    _c.schedule_id,
    _c.scheduled_for,
    unique=True,
    sqlite_where=_c.trigger == ExecutionTrigger.SCHEDULE.value,
    postgresql_where=_c.trigger == ExecutionTrigger.SCHEDULE.value,
)
sa.Index(
    "uq_executions_schedule_idempotency",
    _c.schedule_id,
    _c.idempotency_key,
    unique=True,
    sqlite_where=_c.idempotency_key.is_not(None),
    postgresql_where=_c.idempotency_key.is_not(None),
)
sa.Index(
    "uq_executions_workflow_idempotency",
    _c.namespace,
    _c.workflow_name,
    _c.idempotency_key,
    unique=True,
    sqlite_where=sa.and_(_c.idempotency_key.is_not(None), _c.schedule_id.is_(None)),
    postgresql_where=sa.and_(_c.idempotency_key.is_not(None), _c.schedule_id.is_(None)),
)
# Claiming: WHERE status = 'queued' AND not_before <= :now ORDER BY priority DESC, scheduled_for.
sa.Index("ix_executions_claim", _c.status, _c.priority.desc(), _c.scheduled_for)
# Expired leases: WHERE status = 'running' AND lease_expires_at < :now.
sa.Index("ix_executions_lease", _c.status, _c.lease_expires_at)
# A schedule's history (every trigger), newest first; also serves the ON DELETE SET NULL.
sa.Index("ix_executions_schedule_history", _c.schedule_id, _c.scheduled_for)
# A worker's runs (heartbeats renew their leases): WHERE worker_id = :me AND status = 'running'.
sa.Index("ix_executions_worker", _c.worker_id, _c.status)

missed_ranges = sa.Table(
    "missed_ranges",
    metadata,
    sa.Column("id", UUID(), primary_key=True),
    sa.Column(
        "schedule_id",
        UUID(),
        sa.ForeignKey("schedules.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("first_instant", UTCDateTime(), nullable=False),
    sa.Column("last_instant", UTCDateTime(), nullable=False),
    sa.Column("count", sa.Integer(), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.CheckConstraint("count >= 1 AND first_instant <= last_instant", name="span"),
    sa.Index("ix_missed_ranges_schedule", "schedule_id", "first_instant"),
)

step_results = sa.Table(
    "step_results",
    metadata,
    sa.Column(
        "execution_id",
        UUID(),
        sa.ForeignKey("executions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("step", sa.String(_NAME), primary_key=True),
    sa.Column("attempt", sa.Integer(), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=True),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    sa.Column("status_code", sa.Integer(), nullable=True),  # http
    sa.Column("exit_code", sa.Integer(), nullable=True),  # shell
    sa.Column("output", sa.Text(), nullable=True),  # at most STEP_OUTPUT_MAX_CHARS
    sa.Column("output_truncated", sa.Boolean(), nullable=False, default=False),
    sa.Column("stderr", sa.Text(), nullable=True),  # shell; at most STEP_OUTPUT_MAX_CHARS
    sa.Column("failure", sa.String(16), nullable=True),  # FailureClass, or "lost"
    sa.Column("detail", JSON, nullable=True),  # response headers, resolved target, ...
    sa.Column("error", sa.Text(), nullable=True),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", UUID(), primary_key=True),
    sa.Column("name", sa.String(_NAME), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),  # SHA-256 hex
    sa.Column("scopes", JSON, nullable=False),  # ["read", "write", "admin"]
    sa.Column("namespace", sa.String(_NAME), nullable=True),  # NULL: every namespace
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("last_used_at", UTCDateTime(), nullable=True),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
)

notification_channels = sa.Table(
    "notification_channels",
    metadata,
    sa.Column("id", UUID(), primary_key=True),
    sa.Column("name", sa.String(_NAME), nullable=False, unique=True),
    sa.Column("kind", sa.String(32), nullable=False),  # webhook | slack | email
    sa.Column("config", JSON, nullable=False),
    *_timestamps(),
)

workers = sa.Table(
    "workers",
    metadata,
    sa.Column("id", sa.String(255), primary_key=True),  # host:pid:random
    sa.Column("hostname", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer(), nullable=False),
    sa.Column("slots", sa.Integer(), nullable=False),
    sa.Column("running", sa.Integer(), nullable=False, default=0),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("heartbeat_at", UTCDateTime(), nullable=False),
    sa.Column("stopped_at", UTCDateTime(), nullable=True),
)

scheduler_leases = sa.Table(
    "scheduler_leases",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),  # e.g. "scheduler-leader"
    sa.Column("holder", sa.String(255), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
)
