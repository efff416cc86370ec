"""Deleting a schedule: unfinished runs are cancelled, finished ones stay in the history."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tickwork.errors import NotFound
from tickwork.schedule.policies import ExecutionStatus, ExecutionTrigger
from tickwork.scheduler.loop import Scheduler
from tickwork.service.schedules import ScheduleService
from tickwork.store.tables import executions
from tickwork.testing import FakeClock

from .helpers import Changes, document, set_status, table_sizes, utc


def test_delete_cancels_unfinished_runs_and_keeps_finished_ones(
    service: ScheduleService, store_engine: Engine, clock: FakeClock, changes: Changes
) -> None:
    created = service.create(document())
    scheduler = Scheduler(store_engine, clock)
    clock.set(utc(2, 13))
    scheduler.fire_due()  # 13:00 queued ...
    (first,) = service.executions(created.id)
    set_status(store_engine, first.id, ExecutionStatus.SUCCEEDED)  # ... and done
    clock.set(utc(2, 14))
    scheduler.fire_due()  # 14:00 queued
    backfill = service.backfill(created.id, utc(2, 9), utc(2, 10))  # both buffered
    manual, _ = service.trigger_now(created.id)  # queued
    clock.set(utc(2, 14, 30))

    cancelled = service.delete(created.id)

    assert cancelled == 4
    with pytest.raises(NotFound):
        service.get(created.id)
    c = executions.c
    query = sa.select(
        c.id, c.schedule_id, c.schedule_name, c.trigger, c.status, c.reason, c.finished_at
    ).order_by(c.id)
    with store_engine.connect() as conn:
        stored = {row.id: row for row in conn.execute(query)}
    assert len(stored) == 5
    # The history stays readable by name, without a schedule to point at.
    assert {(r.schedule_id, r.schedule_name) for r in stored.values()} == {(None, "report")}
    assert (stored[first.id].status, stored[first.id].reason) == ("succeeded", None)
    assert stored[first.id].finished_at == utc(2, 13, 1)
    cancelled_ids = [backfill[0].id, backfill[1].id, manual.id]
    for execution_id in cancelled_ids:
        row = stored[execution_id]
        assert (row.status, row.reason, row.finished_at) == (
            "cancelled",
            "schedule_deleted",
            utc(2, 14, 30),
        )
    (scheduled,) = [r for r in stored.values() if r.id != first.id and r.trigger == "schedule"]
    assert (scheduled.status, scheduled.reason) == ("cancelled", "schedule_deleted")
    assert changes.count == 2  # create, delete


def test_delete_cancels_running_and_keeps_skipped_runs(
    service: ScheduleService, store_engine: Engine, clock: FakeClock
) -> None:
    created = service.create(document())
    service.pause(created.id)
    clock.set(utc(2, 13, 30))
    service.resume(created.id)  # 13:00 skipped (paused)
    run, _ = service.trigger_now(created.id)
    set_status(store_engine, run.id, ExecutionStatus.RUNNING)

    assert service.delete(created.id) == 1

    with store_engine.connect() as conn:
        rows = conn.execute(
            sa.select(executions.c.trigger, executions.c.status, executions.c.reason).order_by(
                executions.c.scheduled_for
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        (ExecutionTrigger.SCHEDULE.value, "skipped", "paused"),
        (ExecutionTrigger.MANUAL.value, "cancelled", "schedule_deleted"),
    ]


def test_delete_removes_the_missed_ranges_and_frees_the_name(
    service: ScheduleService, store_engine: Engine, clock: FakeClock
) -> None:
    created = service.create(document(trigger={"cron": "* * * * *"}))
    clock.set(utc(2, 15))
    Scheduler(store_engine, clock).fire_due()
    assert table_sizes(store_engine)[2] == 1  # 12:01 ... 13:59 stored as one range

    assert service.delete(created.id) == 1  # the 15:00 run

    assert table_sizes(store_engine) == (0, 61, 0)
    again = service.create(document())
    assert again.id != created.id
