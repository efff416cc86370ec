"""The whole picture at a glance, for the dashboard: counts, what needs attention, what
fires next, the queue and its workers.

Reads only; a ``caller`` limited to a namespace sees that namespace's schedules and runs
(the queue depths and the workers are the node's, shared by every namespace, as in
``GET /stats``).

Upcoming fires are computed from the schedules' stored rules (the same pure functions the
scheduler uses), so a timeline of hundreds of schedules costs one read, not one per
schedule.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

from sqlalchemy.engine import Engine

from tickwork.clock import Clock
from tickwork.schedule.fires import iter_nominal_fires
from tickwork.schedule.policies import ExecutionStatus, ScheduleState
from tickwork.schedule.rules import rules_from_stored
from tickwork.service.access import SYSTEM, Caller
from tickwork.store import stats
from tickwork.store.executions import ExecutionFilter, SqlExecutionStore
from tickwork.store.protocols import ExecutionRecord, ScheduleRecord
from tickwork.store.queue import QueueDepths, SqlQueueStore, WorkerInfo
from tickwork.store.schedules import SqlScheduleStore

__all__ = [
    "ATTENTION_STATUSES",
    "Counts",
    "OverviewService",
    "QueueView",
    "Upcoming",
    "WorkerView",
    "upcoming_fires",
]

ATTENTION_STATUSES = (
    ExecutionStatus.FAILED,
    ExecutionStatus.DEAD,
    ExecutionStatus.TIMED_OUT,
    ExecutionStatus.MISSED,
)
"""Runs a person should look at: they failed, or a fire never ran."""

MAX_SCHEDULES = 500
"""Most schedules the timeline looks at (the ones firing soonest come first anyway)."""


@dataclass(frozen=True, slots=True)
class Counts:
    """Schedules by state; runs created in the last hour and day, by status."""

    schedules: dict[str, int]
    last_hour: dict[str, int]
    last_day: dict[str, int]


@dataclass(frozen=True, slots=True)
class Upcoming:
    """A schedule's fires coming up, soonest first; ``more``: others follow in the span."""

    schedule_id: uuid.UUID
    namespace: str
    name: str
    timezone: str
    fires: list[datetime]
    more: bool


@dataclass(frozen=True, slots=True)
class WorkerView:
    worker: WorkerInfo
    alive: bool


@dataclass(frozen=True, slots=True)
class QueueView:
    depths: QueueDepths
    oldest_wait: timedelta | None
    workers: list[WorkerView]


class OverviewService:
    def __init__(self, engine: Engine, clock: Clock, *, lease: timedelta) -> None:
        self._engine = engine
        self._clock = clock
        self._lease = lease
        self._queue = SqlQueueStore()
        self._schedules = SqlScheduleStore()
        self._executions = SqlExecutionStore()

    def counts(self, *, caller: Caller = SYSTEM) -> Counts:
        now = self._clock.now()
        with self._engine.connect() as conn:
            states = stats.schedules_by_state(conn, caller.namespace)
            hour = stats.executions_by_status(conn, now - timedelta(hours=1), caller.namespace)
            day = stats.executions_by_status(conn, now - timedelta(days=1), caller.namespace)
        return Counts(
            schedules={s.value: states.get(s.value, 0) for s in ScheduleState},
            last_hour=hour,
            last_day=day,
        )

    def attention(self, *, limit: int = 20, caller: Caller = SYSTEM) -> list[ExecutionRecord]:
        """Runs of the last day that failed or never ran (missed), newest first; dead runs
        someone removed from the dead list have been dealt with."""
        where = ExecutionFilter(
            namespace=caller.namespace,
            statuses=ATTENTION_STATUSES,
            since=self._clock.now() - timedelta(days=1),
            dismissed=False,
        )
        with self._engine.connect() as conn:
            return self._executions.list_page(conn, where, limit=limit)

    def upcoming(
        self,
        horizon: timedelta,
        *,
        schedules: int = 10,
        per_schedule: int = 120,
        caller: Caller = SYSTEM,
    ) -> list[Upcoming]:
        """The active schedules firing first between now and ``now + horizon`` (at most
        ``schedules`` of them), each with its fires in that span (at most ``per_schedule``)."""
        now = self._clock.now()
        with self._engine.connect() as conn:
            records = self._schedules.page(
                conn,
                namespace=caller.namespace,
                tag=None,
                state=ScheduleState.ACTIVE,
                name_prefix=None,
                after=None,
                limit=MAX_SCHEDULES,
            )
        found = upcoming_fires(records, now, now + horizon, per_schedule=per_schedule)
        return found[:schedules]

    def queue(self) -> QueueView:
        now = self._clock.now()
        with self._engine.connect() as conn:
            depths = self._queue.depths(conn)
            workers = self._queue.list_workers(conn)
        oldest = depths.oldest_queued_at
        return QueueView(
            depths=depths,
            oldest_wait=None if oldest is None else max(now - oldest, timedelta(0)),
            workers=[
                WorkerView(w, alive=w.stopped_at is None and now - w.heartbeat_at < self._lease)
                for w in workers
                if w.stopped_at is None or now - w.stopped_at < timedelta(hours=1)
            ],
        )


def upcoming_fires(
    records: Iterable[ScheduleRecord], start: datetime, until: datetime, *, per_schedule: int
) -> list[Upcoming]:
    """Each active schedule of ``records`` that fires in (start, until], with those fires
    (at most ``per_schedule``), the schedule firing first first."""
    found = []
    for record in records:
        due = record.next_fire_at
        if record.state is not ScheduleState.ACTIVE or due is None or due > until:
            continue
        rules = rules_from_stored(
            record.document, schedule_id=record.id, created_at=record.created_at
        )
        fires = list(
            islice(
                iter_nominal_fires(
                    rules.trigger, start, until, window=rules.window, runs_so_far=record.runs_count
                ),
                per_schedule + 1,
            )
        )
        if fires:
            found.append(
                Upcoming(
                    record.id,
                    record.namespace,
                    record.name,
                    record.timezone,
                    fires[:per_schedule],
                    more=len(fires) > per_schedule,
                )
            )
    found.sort(key=lambda upcoming: (upcoming.fires[0], upcoming.namespace, upcoming.name))
    return found
