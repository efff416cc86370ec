"""The run queue in SQL: claiming executions under a lease, and writing how they ended.

What the worker asks of the store (the scheduler and the service fill the queue):

* **Claim.** ``queued`` runs whose ``not_before`` has passed, by priority then nominal
  instant, are set ``running`` with ``worker_id`` and ``lease_expires_at``. On PostgreSQL
  the rows are picked ``FOR UPDATE SKIP LOCKED``, so workers on several nodes split the
  queue instead of queueing behind each other; SQLite's ``BEGIN IMMEDIATE`` already makes
  one claim at a time.
* **Concurrency keys.** A run whose key already has ``concurrency_limit`` (default 1) runs
  going is set ``waiting`` (reason ``concurrency``) instead of claimed, and goes back to
  ``queued`` when a run of that key ends. On PostgreSQL a transaction-scoped advisory lock
  per key makes "count, then claim" atomic across workers.
* **Leases.** A worker renews the leases of the runs it holds; a run whose lease expired
  (its worker died) is retried as a new attempt, or ``dead`` when none is left.
* **Retries and holds** are rows set ``retrying`` / ``waiting`` with a ``not_before``;
  :meth:`SqlQueueStore.promote_due` puts them back to ``queued`` when it passes.
* **Ending a run** frees what it held: the next ``buffered`` fire of its schedule (overlap
  ``buffer_one``/``buffer_all``, backfills) and the runs waiting on its concurrency key.

Every write that ends or moves a ``running`` row checks that it is still ``running`` under
the same worker, so a worker that lost its lease (or a run cancelled meanwhile) cannot
overwrite what happened since. Locks are taken schedule rows first, executions second, the
same order as the scheduler and the service, so the two never deadlock.
"""

from __future__ import annotations

import json
import uuid
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from tickwork.schedule.policies import ExecutionStatus, ScheduleState
from tickwork.store.bulk import (
    JSON_TEXT,
    insert_from_arrays,
    sqlite_executemany,
    update_from_arrays,
)
from tickwork.store.engine import is_postgres
from tickwork.store.errors import translated_errors
from tickwork.store.executions import (
    EXECUTION_WIDTH,
    execution_from_row,
    execution_from_values,
)
from tickwork.store.protocols import ExecutionRecord
from tickwork.store.tables import executions, schedules, step_results, workers, workflows

__all__ = [
    "CONCURRENCY_REASON",
    "LEASE_LOST_REASON",
    "ClaimedRun",
    "FinishedRun",
    "HeldRun",
    "PlanSource",
    "QueueDepths",
    "SqlQueueStore",
    "StepRecord",
    "WorkerInfo",
]

CONCURRENCY_REASON = "concurrency"
"""``reason`` of a run ``waiting`` for a slot of its concurrency key."""
LEASE_LOST_REASON = "lease_expired"
"""``reason`` of a run retried or ended because its worker stopped renewing its lease."""
SHUTDOWN_REASON = "worker_shutdown"
"""``reason`` of a run handed back to the queue by a worker shutting down."""

_c = executions.c
_s = schedules.c
_Q = ExecutionStatus.QUEUED.value
_RUNNING = ExecutionStatus.RUNNING.value
_BUFFERED = ExecutionStatus.BUFFERED.value
_WAITING = ExecutionStatus.WAITING.value
_RETRYING = ExecutionStatus.RETRYING.value
_TERMINAL_FAILURES = (
    ExecutionStatus.FAILED,
    ExecutionStatus.DEAD,
    ExecutionStatus.TIMED_OUT,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanSource:
    """The fields of a schedule's document that say what its runs execute and how, as
    stored now.

    Objects come as JSON text, read out by the database: equal documents give equal text,
    so the runs of a thousand schedules with the same action share one parsed plan, and
    the rest of each document (its trigger, name, input…) is never parsed by the worker.
    """

    action: str | None
    """``action`` as JSON text; None for a schedule that names a workflow."""
    workflow: str | None
    """``workflow``: the name of the workflow the schedule starts."""
    timeout: str | None
    retry: str | None
    """``retry`` as JSON text."""
    pause_after_failures: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimedRun:
    """A run a worker now holds, with what it runs under."""

    execution: ExecutionRecord
    plan: PlanSource | None
    """From the schedule's document as stored now; None when the run has no schedule."""
    schedule_revision: int | None
    workflow: str | None = None
    """The named workflow the run starts (``workflow_name``), as stored now: JSON text."""
    workflow_version: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StepRecord:
    """One attempt of one step, as ``step_results`` keeps it."""

    execution_id: uuid.UUID
    step: str
    attempt: int
    status: ExecutionStatus
    started_at: datetime | None
    finished_at: datetime | None
    status_code: int | None = None
    exit_code: int | None = None
    output: str | None = None
    output_truncated: bool = False
    stderr: str | None = None
    failure: str | None = None
    detail: Mapping[str, Any] | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FinishedRun:
    """How a claimed run's attempt ended: a final status, or ``retrying`` at ``not_before``."""

    execution_id: uuid.UUID
    status: ExecutionStatus
    finished_at: datetime
    schedule_name: str | None = None  # for logs
    error: str | None = None
    result: Any = None
    not_before: datetime | None = None  # retrying: when the next attempt may start
    steps: tuple[StepRecord, ...] = ()
    pause_after_failures: int | None = None
    """The schedule's ``pause_after_failures``: pause it when this run makes the streak."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HeldRun:
    """A claimed run put back without an attempt: ``waiting`` (e.g. an open circuit) until
    ``not_before``."""

    execution_id: uuid.UUID
    reason: str
    not_before: datetime
    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerInfo:
    id: str
    hostname: str
    pid: int
    slots: int
    running: int
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueDepths:
    queued: int
    oldest_queued_at: datetime | None
    running: int
    retrying: int
    waiting: int
    buffered: int


@dataclass(frozen=True, slots=True)
class EndedRuns:
    """What :meth:`SqlQueueStore.finish` wrote: the runs it ended (or set retrying), and
    how many queued runs that freed (buffered fires, concurrency waiters)."""

    recorded: frozenset[uuid.UUID]
    released: int


class SqlQueueStore:
    """The run queue on SQLite and PostgreSQL. Stateless; the caller owns the transaction."""

    # ----------------------------------------------------------------------------------
    # Claiming

    def promote_due(self, conn: Connection, now: datetime) -> int:
        """Put ``retrying`` and ``waiting`` runs whose ``not_before`` passed back in the
        queue; return how many. (Concurrency waiters have no ``not_before``: a run of their
        key ending releases them.)"""
        due = sa.and_(
            _c.status.in_((_RETRYING, _WAITING)),
            _c.not_before.is_not(None),
            _c.not_before <= now,
        )
        statement = (
            sa.update(executions).where(_unlocked(conn, due)).values(status=_Q, queued_at=now)
        )
        with translated_errors():
            return conn.execute(statement).rowcount

    def claim(
        self,
        conn: Connection,
        *,
        now: datetime,
        worker_id: str,
        lease_until: datetime,
        limit: int,
    ) -> list[ClaimedRun]:
        """Claim up to ``limit`` queued runs that may start at ``now`` (see module docs)."""
        if limit < 1:
            return []
        query = (
            sa.select(_c.id, _c.concurrency_key, _c.concurrency_limit)
            .where(_c.status == _Q, sa.or_(_c.not_before.is_(None), _c.not_before <= now))
            .order_by(_c.priority.desc(), _c.scheduled_for, _c.id)
            .limit(limit)
        )
        if is_postgres(conn):
            query = query.with_for_update(skip_locked=True)
        with translated_errors():
            candidates = conn.execute(query).all()
            if not candidates:
                return []
            allowed, waiting = self._within_concurrency(conn, candidates)
            if waiting:
                conn.execute(
                    sa.update(executions)
                    .where(_c.id.in_(waiting))
                    # No not_before: only a run of its key ending releases it, never the
                    # clock (promote_due would put it back in the queue at every pass).
                    .values(status=_WAITING, reason=CONCURRENCY_REASON, not_before=None)
                )
            if not allowed:
                return []
            start = (
                sa.update(executions)
                .where(_c.id.in_(allowed))
                .values(
                    status=_RUNNING,
                    worker_id=worker_id,
                    lease_expires_at=lease_until,
                    started_at=now,
                    reason=None,
                )
            )
            if is_postgres(conn):
                # One round trip: the rows the UPDATE returns, joined to their schedules.
                started: sa.TableClause | sa.CTE = start.returning(*executions.c).cte("started")
            else:
                conn.execute(start)
                started = executions
            rows = conn.execute(_claimed_query(started, allowed))
            return [_claimed(row, EXECUTION_WIDTH) for row in rows]

    def _within_concurrency(
        self, conn: Connection, candidates: Sequence[sa.Row[Any, Any, Any]]
    ) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
        """Split candidates into those their concurrency key has room for, and the rest."""
        keys = sorted({row.concurrency_key for row in candidates if row.concurrency_key})
        if not keys:
            return [row.id for row in candidates], []
        if is_postgres(conn):
            for key in keys:  # sorted: two claims lock keys in the same order
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_key_lock(key))))
        running: dict[str, int] = dict.fromkeys(keys, 0)
        counted = conn.execute(
            sa.select(_c.concurrency_key, sa.func.count())
            .where(_c.status == _RUNNING, _c.concurrency_key.in_(keys))
            .group_by(_c.concurrency_key)
        )
        for key, count in counted:
            running[key] = int(count)
        allowed, waiting = [], []
        for row in candidates:
            key = row.concurrency_key
            if key is None:
                allowed.append(row.id)
            elif running[key] < (row.concurrency_limit or 1):
                running[key] += 1
                allowed.append(row.id)
            else:
                waiting.append(row.id)
        return allowed, waiting

    def next_due_at(self, conn: Connection) -> datetime | None:
        """The earliest ``not_before`` of a run that is waiting for time to pass (queued
        with jitter, retrying, held): when a worker with free slots should look again."""
        query = sa.select(sa.func.min(_c.not_before)).where(
            _c.status.in_((_Q, _RETRYING, _WAITING)), _c.not_before.is_not(None)
        )
        with translated_errors():
            value: datetime | None = conn.execute(query).scalar()
        return value

    # ----------------------------------------------------------------------------------
    # Leases

    def renew_leases(
        self,
        conn: Connection,
        worker_id: str,
        execution_ids: Iterable[uuid.UUID],
        lease_until: datetime,
    ) -> set[uuid.UUID]:
        """Extend the leases of the runs ``worker_id`` still holds; return their ids. A run
        missing from the answer was cancelled or taken over: stop working on it."""
        ids = list(execution_ids)
        if not ids:
            return set()
        statement = (
            sa.update(executions)
            .where(_c.id.in_(ids), _c.worker_id == worker_id, _c.status == _RUNNING)
            .values(lease_expires_at=lease_until)
            .returning(_c.id)
        )
        with translated_errors():
            return set(conn.execute(statement).scalars())

    def recover_expired(self, conn: Connection, now: datetime) -> list[ExecutionRecord]:
        """Runs whose worker stopped renewing the lease: retried as a new attempt when one
        is left (``retrying``, due now), else ``dead``. The lost attempt is recorded as a
        step with status ``failed`` and failure ``lost``. Returns the runs as they were."""
        query = sa.select(executions).where(_c.status == _RUNNING, _c.lease_expires_at < now)
        if is_postgres(conn):
            query = query.with_for_update(skip_locked=True)
        with translated_errors():
            expired = [execution_from_row(row) for row in conn.execute(query).mappings()]
            if not expired:
                return []
            self._lock_schedules(conn, [e.schedule_id for e in expired])
            for run in expired:
                error = f"worker {run.worker_id} stopped renewing its lease"
                if run.attempt < run.max_attempts:
                    values: dict[str, Any] = {
                        "status": _RETRYING,
                        "attempt": run.attempt + 1,
                        "not_before": now,
                    }
                else:
                    values = {"status": ExecutionStatus.DEAD.value, "finished_at": now}
                conn.execute(
                    sa.update(executions)
                    .where(_c.id == run.id, _c.status == _RUNNING)
                    .values(
                        **values,
                        worker_id=None,
                        lease_expires_at=None,
                        reason=LEASE_LOST_REASON,
                        error=error,
                    )
                )
            self._insert_steps(
                conn,
                [
                    StepRecord(
                        execution_id=run.id,
                        step="action",
                        attempt=run.attempt,
                        status=ExecutionStatus.FAILED,
                        started_at=run.started_at,
                        finished_at=now,
                        failure="lost",
                        error=f"worker {run.worker_id} stopped renewing its lease",
                    )
                    for run in expired
                ],
            )
            dead = [run for run in expired if run.attempt >= run.max_attempts]
            self._release(conn, dead, now)
        return expired

    # ----------------------------------------------------------------------------------
    # Ending runs

    def finish(
        self, conn: Connection, worker_id: str, runs: Sequence[FinishedRun], now: datetime
    ) -> EndedRuns:
        """Record how each run's attempt ended (only runs ``worker_id`` still holds), its
        step, the schedule's failure streak, and free what the ended runs held.

        A constant number of statements per batch, whatever its size: the worker records
        thousands of runs a second this way."""
        if not runs:
            return EndedRuns(frozenset(), 0)
        with translated_errors():
            held = self._held(conn, worker_id, [run.execution_id for run in runs])
            mine = [run for run in runs if run.execution_id in held]
            ended = [held[r.execution_id] for r in mine if r.status is not ExecutionStatus.RETRYING]
            buffered = self._with_buffered(conn, {run.schedule_id for run in ended})
            streaks = _streaks(mine, held)
            failing = {s for s, streak in streaks.items() if streak.failures}
            self._lock_schedules(conn, buffered | failing)
            if mine:
                self._write_finished(conn, worker_id, mine, held)
            self._insert_steps(conn, [step for run in runs for step in run.steps])
            self._count_failures(conn, streaks, now)
            released = self._release(
                conn,
                [run for run in ended if run.schedule_id in buffered or run.concurrency_key],
                now,
            )
        return EndedRuns(frozenset(run.execution_id for run in mine), released)

    def _write_finished(
        self,
        conn: Connection,
        worker_id: str,
        runs: Sequence[FinishedRun],
        held: Mapping[uuid.UUID, _Held],
    ) -> None:
        rows = [_finish_row(run, held[run.execution_id]) for run in runs]
        if is_postgres(conn):
            update_from_arrays(
                conn,
                "executions",
                ("id", "uuid"),
                _FINISH_COLUMNS,
                rows,
                where="executions.status = 'running' AND executions.worker_id = %s",
                where_params=(worker_id,),
                also="worker_id = NULL, lease_expires_at = NULL",
            )
            return
        sqlite_executemany(
            conn,
            "UPDATE executions SET status = ?, finished_at = ?, error = ?, result = ?, "
            "not_before = ?, attempt = ?, worker_id = NULL, lease_expires_at = NULL "
            "WHERE id = ? AND status = 'running' AND worker_id = ?",
            (*_FINISH_COLUMNS, ("id", "uuid"), ("worker_id", "text")),
            [{**row, "worker_id": worker_id} for row in rows],
        )

    def _with_buffered(
        self, conn: Connection, schedule_ids: set[uuid.UUID | None]
    ) -> set[uuid.UUID | None]:
        """Which of these schedules have a buffered fire waiting (usually none)."""
        wanted = [i for i in schedule_ids if i is not None]
        if not wanted:
            return set()
        query = (
            sa.select(_c.schedule_id)
            .where(_c.status == _BUFFERED, _c.schedule_id.in_(wanted))
            .distinct()
        )
        return set(conn.execute(query).scalars())

    def hold(self, conn: Connection, worker_id: str, runs: Sequence[HeldRun]) -> int:
        """Put claimed runs back as ``waiting`` until their ``not_before`` (not an attempt)."""
        if not runs:
            return 0
        statement = (
            sa.update(executions)
            .where(
                _c.id == sa.bindparam("b_id"),
                _c.status == _RUNNING,
                _c.worker_id == worker_id,
            )
            .values(
                status=_WAITING,
                reason=sa.bindparam("b_reason"),
                not_before=sa.bindparam("b_not_before"),
                error=sa.bindparam("b_error"),
                worker_id=None,
                lease_expires_at=None,
                started_at=None,
            )
        )
        rows = [
            {
                "b_id": run.execution_id,
                "b_reason": run.reason,
                "b_not_before": run.not_before,
                "b_error": run.error,
            }
            for run in runs
        ]
        with translated_errors():
            return conn.execute(
                statement, rows, execution_options={"preserve_rowcount": True}
            ).rowcount

    def hand_back(
        self, conn: Connection, worker_id: str, execution_ids: Sequence[uuid.UUID]
    ) -> int:
        """A worker shutting down returns runs it could not finish: ``queued`` again, same
        attempt, for another worker (or this one after a restart)."""
        if not execution_ids:
            return 0
        statement = (
            sa.update(executions)
            .where(
                _c.id.in_(list(execution_ids)),
                _c.status == _RUNNING,
                _c.worker_id == worker_id,
            )
            .values(
                status=_Q,
                reason=SHUTDOWN_REASON,
                worker_id=None,
                lease_expires_at=None,
                started_at=None,
            )
        )
        with translated_errors():
            return conn.execute(statement).rowcount

    def cancel(
        self, conn: Connection, execution_id: uuid.UUID, now: datetime, reason: str
    ) -> ExecutionRecord | None:
        """Cancel one unfinished run (a running one's worker stops it at its next lease
        renewal, or at once in process); None when it had already ended. Frees what it
        held, like any run that ends."""
        row = conn.execute(sa.select(executions).where(_c.id == execution_id)).mappings().first()
        if row is None:
            return None
        run = execution_from_row(row)
        self._lock_schedules(conn, [run.schedule_id])
        unfinished = (_Q, _RUNNING, _BUFFERED, _WAITING, _RETRYING)
        with translated_errors():
            cancelled = conn.execute(
                sa.update(executions)
                .where(_c.id == execution_id, _c.status.in_(unfinished))
                .values(
                    status=ExecutionStatus.CANCELLED.value,
                    reason=reason,
                    finished_at=now,
                    lease_expires_at=None,
                )
            ).rowcount
            if not cancelled:
                return None
            self._release(conn, [run], now)
        return run

    # ----------------------------------------------------------------------------------
    # Workers

    def register_worker(self, conn: Connection, info: WorkerInfo) -> None:
        values = {
            "id": info.id,
            "hostname": info.hostname,
            "pid": info.pid,
            "slots": info.slots,
            "running": info.running,
            "started_at": info.started_at,
            "heartbeat_at": info.heartbeat_at,
            "stopped_at": None,
        }
        insert = postgresql.insert if is_postgres(conn) else sqlite.insert
        statement = insert(workers).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[workers.c.id],
            set_={k: statement.excluded[k] for k in values if k != "id"},
        )
        with translated_errors():
            conn.execute(statement)

    def worker_heartbeat(
        self, conn: Connection, worker_id: str, now: datetime, running: int, *, stopped: bool
    ) -> None:
        values: dict[str, Any] = {"heartbeat_at": now, "running": running}
        if stopped:
            values["stopped_at"] = now
        with translated_errors():
            conn.execute(sa.update(workers).where(workers.c.id == worker_id).values(values))

    def depths(self, conn: Connection) -> QueueDepths:
        """How many runs wait (queued, and the oldest of them), run, or wait for time."""
        query = (
            sa.select(_c.status, sa.func.count(), sa.func.min(_c.queued_at))
            .where(_c.status.in_((_Q, _RUNNING, _RETRYING, _WAITING, _BUFFERED)))
            .group_by(_c.status)
        )
        with translated_errors():
            found = {status: (int(count), oldest) for status, count, oldest in conn.execute(query)}
        return QueueDepths(
            queued=found.get(_Q, (0, None))[0],
            oldest_queued_at=found.get(_Q, (0, None))[1],
            running=found.get(_RUNNING, (0, None))[0],
            retrying=found.get(_RETRYING, (0, None))[0],
            waiting=found.get(_WAITING, (0, None))[0],
            buffered=found.get(_BUFFERED, (0, None))[0],
        )

    def list_workers(self, conn: Connection) -> list[WorkerInfo]:
        with translated_errors():
            rows = conn.execute(sa.select(workers).order_by(workers.c.started_at)).mappings()
            return [WorkerInfo(**dict(row)) for row in rows]

    def steps(self, conn: Connection, execution_id: uuid.UUID) -> list[StepRecord]:
        """Every recorded step attempt of a run, oldest attempt first."""
        query = (
            sa.select(step_results)
            .where(step_results.c.execution_id == execution_id)
            .order_by(step_results.c.attempt, step_results.c.started_at)
        )
        with translated_errors():
            rows = conn.execute(query).mappings()
            found = []
            for row in rows:
                values = dict(row)
                values["status"] = ExecutionStatus(values["status"])
                found.append(StepRecord(**values))
        return found

    # ----------------------------------------------------------------------------------
    # Helpers

    def _held(
        self, conn: Connection, worker_id: str, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, _Held]:
        """Which of ``ids`` ``worker_id`` still holds, with what finishing them needs."""
        query = sa.select(
            _c.id, _c.attempt, _c.not_before, _c.schedule_id, _c.concurrency_key
        ).where(_c.id.in_(list(ids)), _c.status == _RUNNING, _c.worker_id == worker_id)
        return {
            run_id: _Held(attempt, not_before, schedule_id, key)
            for run_id, attempt, not_before, schedule_id, key in conn.execute(query)
        }

    def _lock_schedules(self, conn: Connection, ids: Iterable[uuid.UUID | None]) -> None:
        """Lock the schedules' rows (PostgreSQL), in id order, before touching their runs."""
        wanted = sorted({i for i in ids if i is not None})
        if wanted and is_postgres(conn):
            conn.execute(
                sa.select(_s.id).where(_s.id.in_(wanted)).order_by(_s.id).with_for_update()
            )

    def _insert_steps(self, conn: Connection, steps: Sequence[StepRecord]) -> None:
        if not steps:
            return
        rows = [
            {
                "execution_id": step.execution_id,
                "step": step.step,
                "attempt": step.attempt,
                "status": _status(step.status),
                "started_at": step.started_at,
                "finished_at": step.finished_at,
                "status_code": step.status_code,
                "exit_code": step.exit_code,
                "output": _text(step.output),
                "output_truncated": step.output_truncated,
                "stderr": _text(step.stderr),
                "failure": step.failure,
                "detail": None if step.detail is None else _json_text(dict(step.detail)),
                "error": _text(step.error),
            }
            for step in steps
        ]
        if is_postgres(conn):
            insert_from_arrays(
                conn, "step_results", _STEP_COLUMNS, rows, on_conflict="ON CONFLICT DO NOTHING"
            )
            return
        names = ", ".join(name for name, _ in _STEP_COLUMNS)
        marks = ", ".join("?" for _ in _STEP_COLUMNS)
        sqlite_executemany(
            conn,
            f"INSERT INTO step_results ({names}) VALUES ({marks}) ON CONFLICT DO NOTHING",
            _STEP_COLUMNS,
            rows,
        )

    def _count_failures(
        self, conn: Connection, streaks: Mapping[uuid.UUID, _Streak], now: datetime
    ) -> None:
        """Schedules' failure streaks: a success resets it, a final failure extends it and
        pauses the schedule when it reaches ``pause_after_failures``."""
        resets = sorted(s for s, streak in streaks.items() if streak.reset)
        if resets:
            conn.execute(
                sa.update(schedules)
                .where(_s.id.in_(resets), _s.consecutive_failures != 0)
                .values(consecutive_failures=0)
            )
        for schedule_id, streak in sorted(streaks.items()):
            if not streak.failures:
                continue
            conn.execute(
                sa.update(schedules)
                .where(_s.id == schedule_id)
                .values(consecutive_failures=_s.consecutive_failures + streak.failures)
            )
            if streak.pause_after is not None:
                conn.execute(
                    sa.update(schedules)
                    .where(
                        _s.id == schedule_id,
                        _s.state == ScheduleState.ACTIVE.value,
                        _s.consecutive_failures >= streak.pause_after,
                    )
                    .values(
                        state=ScheduleState.PAUSED.value,
                        pause_note=f"paused after {streak.pause_after} consecutive failures",
                        revision=_s.revision + 1,
                        updated_at=now,
                    )
                )

    def _release(self, conn: Connection, ended: Sequence[_Ends], now: datetime) -> int:
        """Free what ended runs held: each schedule's oldest buffered fire once nothing of
        it is queued or running, and the runs waiting on their concurrency keys."""
        released = 0
        for schedule_id in sorted({run.schedule_id for run in ended if run.schedule_id}):
            busy = conn.execute(
                sa.select(_c.id)
                .where(_c.schedule_id == schedule_id, _c.status.in_((_Q, _RUNNING)))
                .limit(1)
            ).first()
            if busy is not None:
                continue
            oldest = conn.execute(
                sa.select(_c.id)
                .where(_c.schedule_id == schedule_id, _c.status == _BUFFERED)
                .order_by(_c.scheduled_for, _c.id)
                .limit(1)
            ).scalar()
            if oldest is not None:
                released += conn.execute(
                    sa.update(executions)
                    .where(_c.id == oldest, _c.status == _BUFFERED)
                    .values(status=_Q, queued_at=now)
                ).rowcount
        keys = sorted({run.concurrency_key for run in ended if run.concurrency_key})
        if keys:
            waiting = sa.and_(
                _c.status == _WAITING,
                _c.reason == CONCURRENCY_REASON,
                _c.concurrency_key.in_(keys),
            )
            released += conn.execute(
                sa.update(executions)
                .where(_unlocked(conn, waiting))
                .values(status=_Q, queued_at=now, reason=None)
            ).rowcount
        return released


def _unlocked(conn: Connection, where: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    """``where``, less the rows another transaction holds (PostgreSQL): whoever holds one
    is changing it (cancelling, releasing, promoting it), and waiting for it could close a
    cycle of row locks between two such writers; SQLite has one writer at a time."""
    if not is_postgres(conn):
        return where
    return _c.id.in_(sa.select(_c.id).where(where).with_for_update(skip_locked=True))


def _claimed_query(started: sa.TableClause | sa.CTE, ids: Sequence[uuid.UUID]) -> sa.Select[Any]:
    """The claimed runs (``started``: the executions table, or the rows an UPDATE returned)
    with what :class:`ClaimedRun` reads of their schedules and workflows, in claim order."""
    run, _w = started.c, workflows.c
    document = _s.document
    query = sa.select(
        *(run[column.key] for column in executions.c),
        _s.revision,
        document["action"].as_string(),
        document["workflow"].as_string(),
        document["timeout"].as_string(),
        document["retry"].as_string(),
        document["pause_after_failures"].as_integer(),
        sa.cast(_w.document, sa.Text),
        _w.version,
    ).select_from(
        started.outerjoin(schedules, _s.id == run.schedule_id).outerjoin(
            workflows, sa.and_(_w.namespace == run.namespace, _w.name == run.workflow_name)
        )
    )
    if started is executions:
        query = query.where(run.id.in_(ids))
    return query.order_by(run.priority.desc(), run.scheduled_for, run.id)


def _claimed(row: sa.Row[Any], width: int) -> ClaimedRun:
    """A row of the claim's final query: the execution's columns, then its schedule's."""
    revision, action, workflow, timeout, retry, pause_after, workflow_text, version = row[width:]
    return ClaimedRun(
        execution=execution_from_values(row[:width]),
        plan=None
        if revision is None
        else PlanSource(
            action=action,
            workflow=workflow,
            timeout=timeout,
            retry=retry,
            pause_after_failures=pause_after,
        ),
        schedule_revision=revision,
        workflow=workflow_text,
        workflow_version=version,
    )


@dataclass(frozen=True, slots=True)
class _Held:
    """What recording the end of a run needs of its row."""

    attempt: int
    not_before: datetime | None
    schedule_id: uuid.UUID | None
    concurrency_key: str | None


class _Ends(Protocol):
    """A run that ended, as :meth:`SqlQueueStore._release` sees it."""

    @property
    def schedule_id(self) -> uuid.UUID | None: ...

    @property
    def concurrency_key(self) -> str | None: ...


def _finish_row(run: FinishedRun, held: _Held) -> dict[str, Any]:
    retrying = run.status is ExecutionStatus.RETRYING
    return {
        "id": run.execution_id,
        "status": _status(run.status),
        "finished_at": None if retrying else run.finished_at,
        "error": _text(run.error),
        "result": _json_text(run.result),
        "not_before": run.not_before if retrying else held.not_before,
        "attempt": held.attempt + 1 if retrying else held.attempt,
    }


_FINISH_COLUMNS = (
    ("status", "text"),
    ("finished_at", "timestamptz"),
    ("error", "text"),
    ("result", JSON_TEXT),
    ("not_before", "timestamptz"),
    ("attempt", "int"),
)
_STEP_COLUMNS = (
    ("execution_id", "uuid"),
    ("step", "text"),
    ("attempt", "int"),
    ("status", "text"),
    ("started_at", "timestamptz"),
    ("finished_at", "timestamptz"),
    ("status_code", "int"),
    ("exit_code", "int"),
    ("output", "text"),
    ("output_truncated", "bool"),
    ("stderr", "text"),
    ("failure", "text"),
    ("detail", JSON_TEXT),
    ("error", "text"),
)


@dataclass(slots=True)
class _Streak:
    """What a batch of ended runs does to one schedule's failure streak."""

    reset: bool = False  # a success: the streak starts again from ``failures``
    failures: int = 0  # final failures since the last success in the batch
    pause_after: int | None = None


def _streaks(
    runs: Sequence[FinishedRun], held: Mapping[uuid.UUID, _Held]
) -> dict[uuid.UUID, _Streak]:
    streaks: dict[uuid.UUID, _Streak] = {}
    for run in runs:
        schedule_id = held[run.execution_id].schedule_id
        if schedule_id is None:
            continue
        if run.status is ExecutionStatus.SUCCEEDED:
            streaks[schedule_id] = _Streak(reset=True)
        elif run.status in _TERMINAL_FAILURES:
            streak = streaks.setdefault(schedule_id, _Streak())
            streak.failures += 1
            streak.pause_after = run.pause_after_failures
    return streaks


def _status(status: ExecutionStatus | str) -> str:
    """The stored text of a status (an enum, or its text from a caller that had one)."""
    return status.value if isinstance(status, ExecutionStatus) else ExecutionStatus(status).value


def _text(value: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL: a step's output may (binary on stdout)."""
    return None if value is None else value.replace("\x00", "\ufffd")


def _json_text(value: Any) -> str | None:
    """``value`` as JSON text without NUL in any string (PostgreSQL's jsonb refuses
    \\u0000); None stays SQL NULL."""
    if value is None:
        return None
    text = _JSON.encode(value)
    if "\\u0000" in text:  # rare; and a string may hold a backslash and "u0000" itself
        text = _JSON.encode(_json(value))
    return text


_JSON = json.JSONEncoder()
"""Encodes as ``json.dumps`` does, which is what the JSON column type stores."""


def _json(value: Any) -> Any:
    """A JSON value without NUL in any string (PostgreSQL's jsonb refuses \\u0000)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [_json(item) for item in value]
    if isinstance(value, dict):
        return {_json(key): _json(item) for key, item in value.items()}
    return value


def _key_lock(key: str) -> int:
    """A stable 63-bit advisory lock number for a concurrency key (never ``hash()``)."""
    return zlib.crc32(b"tickwork:concurrency:" + key.encode()) | (1 << 40)
