"""One pass in many batches: every due schedule is settled once, whether the batches are
written one after another (SQLite) or each while the next is claimed (PostgreSQL), and a
batch that fails to write leaves its schedules due for the next pass."""

from __future__ import annotations

import gc

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tickwork.errors import StoreUnavailable
from tickwork.scheduler.loop import Scheduler
from tickwork.store.executions import SqlExecutionStore
from tickwork.store.tables import executions, schedules

from .helpers import at, every, fires, make_rig, outcomes

BATCH = 4
SCHEDULES = 3 * BATCH + 1
"""Three full batches and one short one."""


def test_a_pass_settles_every_due_schedule_once_in_full_batches(store_engine: Engine) -> None:
    rig = make_rig(store_engine, batch_size=BATCH)
    jobs = [rig.create(every("*/15 * * * *", f"job-{n:02d}")) for n in range(SCHEDULES)]

    rig.clock.set(at("09:15"))
    report = rig.scheduler.fire_due()

    assert (report.batches, report.schedules, report.inserted) == (4, SCHEDULES, SCHEDULES)
    assert sorted(str(row.schedule_id) for row in report.executions) == sorted(
        str(j.id) for j in jobs
    )
    for job in jobs:
        assert outcomes(store_engine, job.id) == [("09:15", "queued", None)]
    assert rig.scheduler.next_due_at() == at("09:30")


def test_a_batch_that_fails_to_write_is_fired_by_the_next_pass(
    store_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = make_rig(store_engine, batch_size=BATCH)
    jobs = [rig.create(every("*/15 * * * *", f"job-{n:02d}")) for n in range(SCHEDULES)]
    record = SqlExecutionStore.record_fires
    calls = []

    def fail_the_second(self: SqlExecutionStore, *args: object, **kwargs: object) -> int:
        calls.append(1)
        if len(calls) == 2:
            raise StoreUnavailable("connection lost")
        return record(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(SqlExecutionStore, "record_fires", fail_the_second)
    rig.clock.set(at("09:15"))
    with pytest.raises(StoreUnavailable):
        rig.scheduler.fire_due()
    assert gc.isenabled()  # the pass ended: the collector is back on
    monkeypatch.setattr(SqlExecutionStore, "record_fires", record)

    rig.scheduler.fire_due()
    for job in jobs:
        (row,) = fires(store_engine, job.id)
        assert row.scheduled_for == at("09:15")
    assert rig.scheduler.next_due_at() == at("09:30")


def test_a_batch_meeting_fires_another_node_recorded_still_fires_each_once(
    store_engine: Engine,
) -> None:
    rig = make_rig(store_engine, batch_size=BATCH)
    jobs = [rig.create(every("*/15 * * * *", f"job-{n:02d}")) for n in range(SCHEDULES)]
    rig.clock.set(at("09:15"))
    # Two of the 09:15 fires are stored already (another node's), while every schedule
    # still stands at 09:15: the batch must insert the others and skip those two.
    other_node = Scheduler(store_engine, rig.clock, batch_size=BATCH)
    planned = {row.schedule_id: row for row in other_node.fire_due().executions}
    with store_engine.begin() as conn:
        conn.execute(
            sa.delete(executions).where(executions.c.schedule_id.not_in([jobs[0].id, jobs[7].id]))
        )
        conn.execute(sa.update(schedules).values(next_fire_at=at("09:15"), runs_count=0))

    report = rig.scheduler.fire_due()

    assert (report.schedules, report.inserted) == (SCHEDULES, SCHEDULES - 2)
    for job in jobs:
        (row,) = fires(store_engine, job.id)
        assert row.scheduled_for == at("09:15")
    assert {fires(store_engine, j.id)[0].id for j in (jobs[0], jobs[7])} == {
        planned[jobs[0].id].id,
        planned[jobs[7].id].id,
    }
    assert rig.scheduler.next_due_at() == at("09:30")


def test_the_garbage_collector_rests_during_a_pass_and_is_left_as_it_was(
    store_engine: Engine,
) -> None:
    rig = make_rig(store_engine)
    during: list[bool] = []
    scheduler = Scheduler(
        store_engine, rig.clock, batch_size=BATCH, on_fired=lambda _: during.append(gc.isenabled())
    )
    for n in range(SCHEDULES):
        rig.create(every("*/15 * * * *", f"job-{n:02d}"))

    rig.clock.set(at("09:15"))
    scheduler.fire_due()
    assert (during, gc.isenabled()) == ([False] * 4, True)

    gc.disable()  # whoever turned it off keeps it off
    try:
        rig.clock.set(at("09:30"))
        scheduler.fire_due()
        assert not gc.isenabled()
    finally:
        gc.enable()


def _statements(engine: Engine, seen: list[str]) -> None:
    def record(*args: object) -> None:
        seen.append(str(args[2]))

    sa.event.listen(engine, "before_cursor_execute", record)


def test_rules_built_ahead_spare_the_pass_reading_documents(store_engine: Engine) -> None:
    rig = make_rig(store_engine, batch_size=BATCH)
    jobs = [rig.create(every("*/15 * * * *", f"job-{n:02d}")) for n in range(SCHEDULES)]

    assert rig.scheduler.prewarm(at("09:15")) == SCHEDULES
    assert rig.scheduler.prewarm(at("09:15")) == 0  # all cached already
    seen: list[str] = []
    _statements(store_engine, seen)
    rig.clock.set(at("09:15"))
    assert rig.scheduler.fire_due().inserted == SCHEDULES

    assert not [s for s in seen if "document" in s]
    for job in jobs:
        assert outcomes(store_engine, job.id) == [("09:15", "queued", None)]


def test_a_schedule_edited_after_its_rules_were_built_fires_by_the_edit(
    store_engine: Engine,
) -> None:
    rig = make_rig(store_engine)
    job = rig.create(every("*/15 * * * *"))
    rig.clock.set(at("09:01"))
    assert rig.scheduler.prewarm(at("09:15")) == 1

    rig.service.update(job.id, every("*/5 * * * *", max_runs=1))
    rig.clock.set(at("09:05"))
    rig.scheduler.fire_due()

    assert outcomes(store_engine, job.id) == [("09:05", "queued", None)]
    assert rig.scheduler.next_due_at() is None  # max_runs of the edit: completed
