"""Executions in SQL: :class:`SqlExecutionStore`, the ``ExecutionStore`` of ``store.protocols``.

Exactly-once firing rests on the partial unique index ``uq_executions_schedule_fire``
(``(schedule_id, scheduled_for) WHERE trigger = 'schedule'``): :meth:`record_fires` inserts
with ``ON CONFLICT (schedule_id, scheduled_for) WHERE trigger = 'schedule' DO NOTHING``, which
both PostgreSQL and SQLite (3.24+) accept for a partial index, so a fire that is already
stored is skipped, never reported as an error, and the row count says how many were new.
On PostgreSQL a batch is one ``INSERT … SELECT … FROM unnest(arrays)`` (:mod:`.bulk`), its
rows laid out one list per column with no dict per row; on SQLite it goes through the
driver's ``executemany`` (one prepared statement, in process).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from tickwork.errors import Conflict, NotFound
from tickwork.schedule.misfire import MissedRange
from tickwork.schedule.policies import ExecutionStatus, ExecutionTrigger, ScheduleState
from tickwork.store.bulk import insert_columns, update_columns
from tickwork.store.engine import is_postgres
from tickwork.store.errors import translated_errors
from tickwork.store.protocols import (
    ActiveCounts,
    ExecutionRecord,
    MissedRangeRecord,
    NewExecution,
    ScheduleAdvance,
)
from tickwork.store.tables import executions, missed_ranges, schedules

__all__ = ["ExecutionFilter", "SqlExecutionStore", "execution_from_row", "newest_run_id"]

_c = executions.c
_RUNS = executions.alias("runs")
"""The executions table again, for correlated subqueries (built once: aliasing is slow)."""

# Column types for the PostgreSQL bulk path (store.bulk); the order is the INSERT's, and
# the one ``_execution_arrays`` lays each row out in.
_EXECUTION_COLUMNS = (
    ("id", "uuid"),
    ("schedule_id", "uuid"),
    ("schedule_name", "text"),
    ("namespace", "text"),
    ("workflow_name", "text"),
    ("workflow_version", "int"),
    ("trigger", "text"),
    ("scheduled_for", "timestamptz"),
    ("status", "text"),
    ("reason", "text"),
    ("attempt", "int"),
    ("max_attempts", "int"),
    ("priority", "int"),
    ("concurrency_key", "text"),
    ("concurrency_limit", "int"),
    ("input", "jsonb"),
    ("queued_at", "timestamptz"),
    ("not_before", "timestamptz"),
    ("lateness_ms", "bigint"),
    ("idempotency_key", "text"),
    ("created_at", "timestamptz"),
)
_SKIP_FIRED = "ON CONFLICT (schedule_id, scheduled_for) WHERE trigger = 'schedule' DO NOTHING"
_ADVANCE_COLUMNS = (
    ("next_fire_at", "timestamptz"),
    ("last_fired_at", "timestamptz"),
    ("runs_count", "int"),
    ("state", "text"),
)
_ACTIVE = (ExecutionStatus.QUEUED.value, ExecutionStatus.RUNNING.value)
_CANCELLABLE = (
    *_ACTIVE,
    ExecutionStatus.BUFFERED.value,
    ExecutionStatus.WAITING.value,
    ExecutionStatus.RETRYING.value,
)
_INSERT_RETURNING = sa.insert(executions).returning(executions)
"""One run in, as stored out (built once: building it costs more than running it)."""
_NEVER_RAN = (ExecutionStatus.SKIPPED.value, ExecutionStatus.MISSED.value)


@dataclass(frozen=True, slots=True)
class RunTiming:
    """When a run started and ended and how late it was: what a schedule's metrics need."""

    status: ExecutionStatus
    trigger: ExecutionTrigger
    started_at: datetime | None
    finished_at: datetime | None
    lateness_ms: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionFilter:
    """Which runs a list holds; every field left None matches every run."""

    schedule_id: uuid.UUID | None = None
    namespace: str | None = None
    statuses: Sequence[ExecutionStatus] | None = None
    trigger: ExecutionTrigger | None = None
    since: datetime | None = None
    """``scheduled_for`` at or after this instant."""
    until: datetime | None = None
    """``scheduled_for`` before this instant."""
    dismissed: bool | None = None
    """True: only runs removed from the dead list; False: only the others."""


def newest_run_id() -> sa.ScalarSelect[Any]:
    """The id of the newest run (by ``scheduled_for``, then id) of the schedule in the
    enclosing query, ``skipped`` and ``missed`` records left out: a correlated subquery."""
    runs = _RUNS
    return (
        sa.select(runs.c.id)
        .where(
            runs.c.schedule_id == schedules.c.id,
            # Not NOT IN: a list parameter is expanded again at every execution.
            *(runs.c.status != status for status in _NEVER_RAN),
        )
        .order_by(runs.c.scheduled_for.desc(), runs.c.id.desc())
        .limit(1)
        .correlate(schedules)
        .scalar_subquery()
    )


def execution_from_row(row: Mapping[Any, Any]) -> ExecutionRecord:
    """An ``executions`` row as an :class:`ExecutionRecord`."""
    values = dict(row)
    values["trigger"] = ExecutionTrigger(values["trigger"])
    values["status"] = ExecutionStatus(values["status"])
    return ExecutionRecord(**values)


EXECUTION_WIDTH = len(executions.c)
"""How many values :func:`execution_from_values` takes."""
_EXECUTION_KEYS = tuple(column.key for column in executions.c)


def execution_from_values(values: Sequence[Any]) -> ExecutionRecord:
    """An :class:`ExecutionRecord` from the values of ``select(executions)``, in the
    table's column order (cheaper than going through a row mapping, for batches)."""
    fields = dict(zip(_EXECUTION_KEYS, values, strict=True))
    fields["trigger"] = ExecutionTrigger(fields["trigger"])
    fields["status"] = ExecutionStatus(fields["status"])
    return ExecutionRecord(**fields)


class SqlExecutionStore:
    """``ExecutionStore`` on SQLite and PostgreSQL. Stateless: one instance serves every
    connection and thread."""

    def record_fires(self, conn: Connection, fires: Sequence[NewExecution]) -> int:
        if not fires:
            return 0
        with translated_errors():
            if is_postgres(conn):
                return insert_columns(
                    conn,
                    "executions",
                    _EXECUTION_COLUMNS,
                    _execution_arrays(fires),
                    on_conflict=_SKIP_FIRED,
                )
            result = conn.execute(
                _insert_skipping_fired(conn),
                [_row_of(fire) for fire in fires],
                execution_options={"preserve_rowcount": True},
            )
        return result.rowcount

    def insert_run(self, conn: Connection, run: NewExecution) -> ExecutionRecord:
        with translated_errors():
            row = conn.execute(_INSERT_RETURNING, _row_of(run)).mappings().one()
        return execution_from_row(row)

    def advance_schedule(
        self,
        conn: Connection,
        schedule_id: uuid.UUID,
        *,
        next_fire_at: datetime | None,
        last_fired_at: datetime | None,
        runs_count: int,
        state: ScheduleState,
        expected_revision: int | None = None,
    ) -> None:
        statement = (
            sa.update(schedules)
            .where(schedules.c.id == schedule_id)
            .values(
                next_fire_at=next_fire_at,
                last_fired_at=last_fired_at,
                runs_count=runs_count,
                state=ScheduleState(state).value,
            )
        )
        if expected_revision is not None:
            statement = statement.where(schedules.c.revision == expected_revision)
        with translated_errors():
            updated = conn.execute(statement).rowcount
        if updated:
            return
        if expected_revision is None or not _schedule_exists(conn, schedule_id):
            raise NotFound("schedule", str(schedule_id))
        raise Conflict(
            f"schedule {schedule_id} changed since revision {expected_revision}",
            constraint="revision",
        )

    def advance_schedules(self, conn: Connection, advances: Sequence[ScheduleAdvance]) -> None:
        if not advances:
            return
        if is_postgres(conn):
            arrays: list[list[Any]] = [
                [a.schedule_id for a in advances],
                [a.next_fire_at for a in advances],
                [a.last_fired_at for a in advances],
                [a.runs_count for a in advances],
                [ScheduleState(a.state).value for a in advances],
            ]
            with translated_errors():
                update_columns(conn, "schedules", ("id", "uuid"), _ADVANCE_COLUMNS, arrays)
            return
        statement = (
            sa.update(schedules)
            .where(schedules.c.id == sa.bindparam("b_id"))
            .values(
                next_fire_at=sa.bindparam("b_next_fire_at"),
                last_fired_at=sa.bindparam("b_last_fired_at"),
                runs_count=sa.bindparam("b_runs_count"),
                state=sa.bindparam("b_state"),
            )
        )
        rows = [
            {
                "b_id": a.schedule_id,
                "b_next_fire_at": a.next_fire_at,
                "b_last_fired_at": a.last_fired_at,
                "b_runs_count": a.runs_count,
                "b_state": ScheduleState(a.state).value,
            }
            for a in advances
        ]
        with translated_errors():
            conn.execute(statement, rows)

    def record_missed_range(
        self,
        conn: Connection,
        schedule_id: uuid.UUID,
        missed: MissedRange,
        *,
        range_id: uuid.UUID,
        created_at: datetime,
    ) -> None:
        values = {
            "id": range_id,
            "schedule_id": schedule_id,
            "first_instant": missed.first,
            "last_instant": missed.last,
            "count": missed.count,
            "reason": str(missed.reason),
            "created_at": created_at,
        }
        with translated_errors():
            conn.execute(sa.insert(missed_ranges).values(values))

    def list_missed_ranges(
        self, conn: Connection, schedule_id: uuid.UUID
    ) -> list[MissedRangeRecord]:
        query = (
            sa.select(missed_ranges)
            .where(missed_ranges.c.schedule_id == schedule_id)
            .order_by(missed_ranges.c.first_instant)
        )
        with translated_errors():
            rows = conn.execute(query).mappings().all()
        return [
            MissedRangeRecord(
                id=row["id"],
                schedule_id=row["schedule_id"],
                first=row["first_instant"],
                last=row["last_instant"],
                count=row["count"],
                reason=row["reason"],
                created_at=row["created_at"],
            )
            for row in rows
        ]

    def cancel_active(
        self, conn: Connection, schedule_id: uuid.UUID, *, now: datetime, reason: str
    ) -> int:
        statement = (
            sa.update(executions)
            .where(_c.schedule_id == schedule_id, _c.status.in_(_CANCELLABLE))
            .values(status=ExecutionStatus.CANCELLED.value, reason=reason, finished_at=now)
        )
        with translated_errors():
            return conn.execute(statement).rowcount

    def find_by_idempotency_key(
        self, conn: Connection, schedule_id: uuid.UUID, key: str
    ) -> ExecutionRecord | None:
        query = sa.select(executions).where(
            _c.schedule_id == schedule_id, _c.idempotency_key == key
        )
        with translated_errors():
            row = conn.execute(query).mappings().one_or_none()
        return None if row is None else execution_from_row(row)

    def get(self, conn: Connection, execution_id: uuid.UUID) -> ExecutionRecord:
        with translated_errors():
            row = (
                conn.execute(sa.select(executions).where(_c.id == execution_id))
                .mappings()
                .one_or_none()
            )
        if row is None:
            raise NotFound("execution", str(execution_id))
        return execution_from_row(row)

    def list_for_schedule(
        self,
        conn: Connection,
        schedule_id: uuid.UUID,
        *,
        statuses: Sequence[ExecutionStatus] | None = None,
        limit: int = 100,
        oldest_first: bool = False,
    ) -> list[ExecutionRecord]:
        query = sa.select(executions).where(_c.schedule_id == schedule_id).limit(limit)
        if oldest_first:
            query = query.order_by(_c.scheduled_for, _c.id)
        else:
            query = query.order_by(_c.scheduled_for.desc(), _c.id.desc())
        if statuses is not None:
            query = query.where(_c.status.in_([ExecutionStatus(s).value for s in statuses]))
        with translated_errors():
            rows = conn.execute(query).mappings().all()
        return [execution_from_row(row) for row in rows]

    def dismiss(self, conn: Connection, execution_id: uuid.UUID, now: datetime) -> bool:
        """Remove a dead run from the dead list (it stays in the history); False when it is
        not dead or was removed already."""
        statement = (
            sa.update(executions)
            .where(
                _c.id == execution_id,
                _c.status == ExecutionStatus.DEAD.value,
                _c.dismissed_at.is_(None),
            )
            .values(dismissed_at=now)
        )
        with translated_errors():
            return conn.execute(statement).rowcount > 0

    def list_page(
        self,
        conn: Connection,
        where: ExecutionFilter,
        *,
        before: uuid.UUID | None = None,
        limit: int = 50,
    ) -> list[ExecutionRecord]:
        """Up to ``limit`` runs matching ``where``, newest first (by id: ids are UUIDv7, so
        creation order), those with an id below ``before`` only (keyset paging)."""
        query = sa.select(executions).order_by(_c.id.desc()).limit(limit)
        conditions: list[sa.ColumnElement[bool]] = []
        if before is not None:
            conditions.append(_c.id < before)
        if where.schedule_id is not None:
            conditions.append(_c.schedule_id == where.schedule_id)
        if where.namespace is not None:
            conditions.append(_c.namespace == where.namespace)
        if where.statuses:
            conditions.append(_c.status.in_([ExecutionStatus(s).value for s in where.statuses]))
        if where.trigger is not None:
            conditions.append(_c.trigger == ExecutionTrigger(where.trigger).value)
        if where.since is not None:
            conditions.append(_c.scheduled_for >= where.since)
        if where.until is not None:
            conditions.append(_c.scheduled_for < where.until)
        if where.dismissed is not None:
            dismissed = _c.dismissed_at.is_not(None)
            conditions.append(dismissed if where.dismissed else sa.not_(dismissed))
        if conditions:
            query = query.where(*conditions)
        with translated_errors():
            rows = conn.execute(query).mappings().all()
        return [execution_from_row(row) for row in rows]

    def history(
        self,
        conn: Connection,
        schedule_id: uuid.UUID,
        *,
        statuses: Sequence[ExecutionStatus] = (),
        triggers: Sequence[ExecutionTrigger] = (),
        before: tuple[datetime, uuid.UUID] | None = None,
        limit: int = 50,
    ) -> list[ExecutionRecord]:
        """At most ``limit`` executions of the schedule, newest ``scheduled_for`` first (ties:
        newest id first), only those in ``statuses`` and ``triggers`` when given, starting
        after the (scheduled_for, id) ``before`` (keyset pagination)."""
        query = (
            sa.select(executions)
            .where(_c.schedule_id == schedule_id)
            .order_by(_c.scheduled_for.desc(), _c.id.desc())
            .limit(limit)
        )
        if statuses:
            query = query.where(_c.status.in_([ExecutionStatus(s).value for s in statuses]))
        if triggers:
            query = query.where(_c.trigger.in_([ExecutionTrigger(t).value for t in triggers]))
        if before is not None:
            instant, last_id = before
            query = query.where(
                sa.or_(
                    _c.scheduled_for < instant,
                    sa.and_(_c.scheduled_for == instant, _c.id < last_id),
                )
            )
        with translated_errors():
            rows = conn.execute(query).mappings().all()
        return [execution_from_row(row) for row in rows]

    def latest_runs(
        self, conn: Connection, schedule_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, ExecutionRecord]:
        """Each schedule's newest run (by ``scheduled_for``, then id) that is not a
        ``skipped`` or ``missed`` record, in one query; schedules without one are absent."""
        if not schedule_ids:
            return {}
        if len(schedule_ids) == 1:  # one schedule's page: a plain indexed lookup
            query = (
                sa.select(executions)
                .where(_c.schedule_id == schedule_ids[0], _c.status.not_in(_NEVER_RAN))
                .order_by(_c.scheduled_for.desc(), _c.id.desc())
                .limit(1)
            )
            with translated_errors():
                row = conn.execute(query).mappings().first()
            return {} if row is None else {schedule_ids[0]: execution_from_row(row)}
        wanted = sa.select(newest_run_id()).where(schedules.c.id.in_(schedule_ids))
        query = sa.select(executions).where(_c.id.in_(wanted))
        with translated_errors():
            rows = conn.execute(query).mappings().all()
        found = [execution_from_row(row) for row in rows]
        return {run.schedule_id: run for run in found if run.schedule_id is not None}

    def count_by_status(
        self, conn: Connection, schedule_id: uuid.UUID, *, since: datetime
    ) -> dict[ExecutionStatus, int]:
        """The schedule's executions created at or after ``since``, by status."""
        query = (
            sa.select(_c.status, sa.func.count())
            .where(_c.schedule_id == schedule_id, _c.created_at >= since)
            .group_by(_c.status)
        )
        with translated_errors():
            return {ExecutionStatus(status): int(n) for status, n in conn.execute(query)}

    def timings(
        self, conn: Connection, schedule_id: uuid.UUID, *, since: datetime, limit: int
    ) -> list[RunTiming]:
        """Start, end and lateness of at most ``limit`` of the schedule's newest executions
        created at or after ``since`` that started or know their lateness."""
        query = (
            sa.select(_c.status, _c.trigger, _c.started_at, _c.finished_at, _c.lateness_ms)
            .where(
                _c.schedule_id == schedule_id,
                _c.created_at >= since,
                sa.or_(_c.started_at.is_not(None), _c.lateness_ms.is_not(None)),
            )
            .order_by(_c.created_at.desc())
            .limit(limit)
        )
        with translated_errors():
            rows = conn.execute(query).all()
        return [
            RunTiming(ExecutionStatus(status), ExecutionTrigger(trigger), started, finished, late)
            for status, trigger, started, finished, late in rows
        ]

    def count_active(self, conn: Connection, schedule_id: uuid.UUID) -> ActiveCounts:
        return self.count_active_many(conn, [schedule_id])[schedule_id]

    def count_active_many(
        self, conn: Connection, schedule_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, ActiveCounts]:
        counts = dict.fromkeys(schedule_ids, ActiveCounts(0, 0))
        if not schedule_ids:
            return counts
        query = _UNFINISHED_AMONG_ANY if is_postgres(conn) else _UNFINISHED_AMONG_IN
        with translated_errors():
            for schedule_id, active, buffered in conn.execute(query, {"ids": list(schedule_ids)}):
                counts[schedule_id] = ActiveCounts(active=int(active), buffered=int(buffered))
        return counts


def _count_of(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


_UNFINISHED_BY_SCHEDULE = (
    sa.select(
        _c.schedule_id,
        _count_of(_c.status.in_(_ACTIVE)),
        _count_of(_c.status == ExecutionStatus.BUFFERED.value),
    )
    .where(_c.status.in_([*_ACTIVE, ExecutionStatus.BUFFERED.value]))
    .group_by(_c.schedule_id)
)
"""Queued or running, and buffered, executions per schedule, of the schedules ``:ids``:
built once (building a statement costs more than a batch's run of it), with one array
parameter on PostgreSQL (a thousand separate ones cost more to bind than the query
takes), an expanding ``IN`` on SQLite."""
_UNFINISHED_AMONG_ANY = _UNFINISHED_BY_SCHEDULE.where(
    _c.schedule_id == sa.any_(sa.bindparam("ids", type_=postgresql.ARRAY(sa.Uuid())))
)
_UNFINISHED_AMONG_IN = _UNFINISHED_BY_SCHEDULE.where(
    _c.schedule_id.in_(sa.bindparam("ids", expanding=True))
)


def _execution_arrays(fires: Sequence[NewExecution]) -> list[list[Any]]:
    """The rows of ``fires`` as one list per column, in the order of ``_EXECUTION_COLUMNS``
    (PostgreSQL: one array each).

    Each distinct input object is encoded once: the rows of one schedule share its input,
    and schedules without one share the empty input.
    """
    encoded: dict[int, str] = {}
    rows = []
    for fire in fires:
        text = encoded.get(id(fire.input))
        if text is None:
            text = encoded[id(fire.input)] = json.dumps(dict(fire.input))
        rows.append(
            (
                fire.id,
                fire.schedule_id,
                fire.schedule_name,
                fire.namespace,
                fire.workflow_name,
                fire.workflow_version,
                ExecutionTrigger(fire.trigger).value,
                fire.scheduled_for,
                ExecutionStatus(fire.status).value,
                fire.reason,
                1,
                fire.max_attempts,
                fire.priority,
                fire.concurrency_key,
                fire.concurrency_limit,
                text,
                fire.queued_at,
                fire.not_before,
                fire.lateness_ms,
                fire.idempotency_key,
                fire.created_at,
            )
        )
    return [list(column) for column in zip(*rows, strict=True)]


def _insert_skipping_fired(conn: Connection) -> postgresql.Insert | sqlite.Insert:
    """``INSERT INTO executions … ON CONFLICT (schedule_id, scheduled_for)
    WHERE trigger = 'schedule' DO NOTHING``, in the connection's dialect."""
    insert = postgresql.insert if is_postgres(conn) else sqlite.insert
    return insert(executions).on_conflict_do_nothing(
        index_elements=[_c.schedule_id, _c.scheduled_for],
        # A literal, not a bound parameter: SQLite renders the conflict target's WHERE
        # inline, which a bound parameter cannot be under executemany.
        index_where=_c.trigger == sa.literal_column(f"'{ExecutionTrigger.SCHEDULE.value}'"),
    )


def _row_of(fire: NewExecution) -> dict[str, Any]:
    return {
        "id": fire.id,
        "schedule_id": fire.schedule_id,
        "schedule_name": fire.schedule_name,
        "namespace": fire.namespace,
        "workflow_name": fire.workflow_name,
        "workflow_version": fire.workflow_version,
        "trigger": ExecutionTrigger(fire.trigger).value,
        "scheduled_for": fire.scheduled_for,
        "status": ExecutionStatus(fire.status).value,
        "reason": fire.reason,
        "attempt": 1,
        "max_attempts": fire.max_attempts,
        "priority": fire.priority,
        "concurrency_key": fire.concurrency_key,
        "concurrency_limit": fire.concurrency_limit,
        "input": dict(fire.input),
        "queued_at": fire.queued_at,
        "not_before": fire.not_before,
        "lateness_ms": fire.lateness_ms,
        "idempotency_key": fire.idempotency_key,
        "created_at": fire.created_at,
    }


def _schedule_exists(conn: Connection, schedule_id: uuid.UUID) -> bool:
    query = sa.select(schedules.c.id).where(schedules.c.id == schedule_id)
    with translated_errors():
        return conn.execute(query).first() is not None
