"""Runs as users act on them: read one with its steps, cancel it, re-run it.

* **Cancel** ends an unfinished run ``cancelled`` at once. A running one is stopped by its
  worker: at once when it runs in this process (``on_cancel``), else at the worker's next
  lease renewal; whatever its action does after that is not recorded as its outcome.
* **Re-run** starts a new run (trigger ``retry``) of a run that has ended (``dead``,
  ``failed``, ``timed_out``, ``cancelled``, or even ``succeeded``), with the same input and
  nominal instant, under the schedule's current document. The old run stays as it was.
  It needs the write scope only, even when the schedule's action is shell or python:
  the action was approved (by an admin) when the schedule was written, and re-running it
  is no more than starting that schedule by hand, which a writer may do too.
* **Dismiss** removes a dead run from the dead list (the queue page's "remove"): it stays
  in the history, with when it was removed. Re-running a dead run removes it too: it has
  been dealt with.
* **Namespaces.** A caller bound to a namespace sees only that namespace's runs: any
  other run is ``NotFound`` to it, for reading, cancelling and re-running alike.
* **Lists** are newest first by id (UUIDv7: creation order) and paged by the last id
  returned, so a page never repeats or skips a run while new runs arrive.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from tickwork.clock import Clock
from tickwork.errors import Conflict, InvalidSpec, NotFound
from tickwork.ids import IdGenerator
from tickwork.schedule.policies import ExecutionStatus, ExecutionTrigger
from tickwork.service.access import SYSTEM, Caller
from tickwork.store.changes import announce_queued
from tickwork.store.executions import ExecutionFilter, SqlExecutionStore
from tickwork.store.protocols import ExecutionRecord, NewExecution
from tickwork.store.queue import SqlQueueStore, StepRecord

__all__ = ["CANCELLED_BY_USER", "MAX_PAGE", "RunDetail", "RunPage", "RunService"]

CANCELLED_BY_USER = "cancelled_by_user"
MAX_PAGE = 500
"""Most runs one page lists."""

_UNFINISHED = frozenset(
    {
        ExecutionStatus.QUEUED,
        ExecutionStatus.RUNNING,
        ExecutionStatus.BUFFERED,
        ExecutionStatus.WAITING,
        ExecutionStatus.RETRYING,
    }
)


@dataclass(frozen=True, slots=True)
class RunDetail:
    """A run and every attempt of its steps."""

    execution: ExecutionRecord
    steps: list[StepRecord]


@dataclass(frozen=True, slots=True)
class RunPage:
    """Runs, newest first; ``more``: another page follows the last of them."""

    items: list[ExecutionRecord]
    more: bool


class RunService:
    """Read, cancel and re-run executions."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        *,
        ids: IdGenerator | None = None,
        on_queued: Callable[[], None] | None = None,
        on_cancel: Callable[[uuid.UUID], object] | None = None,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._ids = ids or IdGenerator(clock)
        self._on_queued = on_queued or (lambda: None)
        self._on_cancel = on_cancel or (lambda _id: None)
        self._executions = SqlExecutionStore()
        self._queue = SqlQueueStore()

    def get(self, execution_id: uuid.UUID, *, caller: Caller = SYSTEM) -> RunDetail:
        """The run and its steps; ``NotFound`` when there is none (that ``caller`` sees)."""
        with self._engine.connect() as conn:
            run = _visible(self._executions.get(conn, execution_id), caller)
            return RunDetail(run, self._queue.steps(conn, execution_id))

    def list_page(
        self,
        where: ExecutionFilter,
        *,
        caller: Caller = SYSTEM,
        before: uuid.UUID | None = None,
        limit: int = 50,
    ) -> RunPage:
        """Runs matching ``where`` that ``caller`` sees, newest first, older than the run
        ``before`` (the last of the previous page). A caller limited to a namespace sees
        only that one: asking for another finds nothing (as for schedules)."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidSpec("limit", str(limit), f"must be between 1 and {MAX_PAGE}")
        where = replace(where, since=_utc(where.since, "since"), until=_utc(where.until, "until"))
        if caller.namespace is not None:
            if where.namespace not in (None, caller.namespace):
                return RunPage([], more=False)
            where = replace(where, namespace=caller.namespace)
        with self._engine.connect() as conn:
            rows = self._executions.list_page(conn, where, before=before, limit=limit + 1)
        return RunPage(rows[:limit], len(rows) > limit)

    def cancel(self, execution_id: uuid.UUID, *, caller: Caller = SYSTEM) -> ExecutionRecord:
        """Cancel an unfinished run; ``Conflict`` when it has already ended."""
        with self._engine.begin() as conn:
            run = _visible(self._executions.get(conn, execution_id), caller)
            cancelled = self._queue.cancel(conn, execution_id, self._clock.now(), CANCELLED_BY_USER)
            if cancelled is None:
                raise Conflict(
                    f"run {execution_id} has already ended ({run.status}); nothing to cancel",
                    constraint="status",
                )
            announce_queued(conn)  # what it held may start now
            after = self._executions.get(conn, execution_id)
        if run.status is ExecutionStatus.RUNNING:
            self._on_cancel(execution_id)
        self._on_queued()
        return after

    def rerun(self, execution_id: uuid.UUID, *, caller: Caller = SYSTEM) -> ExecutionRecord:
        """A new run (trigger ``retry``) of an ended run; ``Conflict`` while it is unfinished."""
        with self._engine.begin() as conn:
            old = _visible(self._executions.get(conn, execution_id), caller)
            if old.status in _UNFINISHED:
                raise Conflict(
                    f"run {execution_id} is still {old.status}; re-run it once it has ended",
                    constraint="status",
                )
            if old.status in (ExecutionStatus.SKIPPED, ExecutionStatus.MISSED):
                raise Conflict(
                    f"run {execution_id} never ran ({old.status}); backfill its instant instead",
                    constraint="status",
                )
            now = self._clock.now()
            new = NewExecution(
                id=self._ids.new(),
                namespace=old.namespace,
                trigger=ExecutionTrigger.RETRY,
                scheduled_for=old.scheduled_for,
                status=ExecutionStatus.QUEUED,
                created_at=now,
                schedule_id=old.schedule_id,
                schedule_name=old.schedule_name,
                workflow_name=old.workflow_name,
                workflow_version=old.workflow_version,
                reason="rerun",
                max_attempts=old.max_attempts,
                priority=old.priority,
                concurrency_key=old.concurrency_key,
                concurrency_limit=old.concurrency_limit,
                input=old.input,
                queued_at=now,
                lateness_ms=0,
            )
            self._executions.record_fires(conn, [new])
            if old.status is ExecutionStatus.DEAD:
                self._executions.dismiss(conn, old.id, now)
            announce_queued(conn)
            created = self._executions.get(conn, new.id)
        self._on_queued()
        return created

    def dismiss(self, execution_id: uuid.UUID, *, caller: Caller = SYSTEM) -> ExecutionRecord:
        """Remove a dead run from the dead list; ``Conflict`` when it is not dead. Removing
        one twice is not an error (the first removal stands)."""
        with self._engine.begin() as conn:
            run = _visible(self._executions.get(conn, execution_id), caller)
            if run.status is not ExecutionStatus.DEAD:
                raise Conflict(
                    f"run {execution_id} is {run.status}, not dead; only dead runs are "
                    "removed from the dead list",
                    constraint="status",
                )
            self._executions.dismiss(conn, execution_id, self._clock.now())
            return self._executions.get(conn, execution_id)


def _visible(run: ExecutionRecord, caller: Caller) -> ExecutionRecord:
    if not caller.sees(run.namespace):
        raise NotFound("execution", str(run.id))
    return run


def _utc(value: datetime | None, field: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidSpec(
            field, value.isoformat(), "has no UTC offset; add Z or an offset like +01:00"
        )
    return value.astimezone(UTC)
