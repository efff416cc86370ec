"""Pausing and resuming: instants that pass while paused are recorded skipped, never caught up."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from tickwork.errors import Conflict, InvalidSpec
from tickwork.schedule.policies import ExecutionStatus, ExecutionTrigger, ScheduleState
from tickwork.scheduler.loop import Scheduler
from tickwork.service.schedules import ScheduleService
from tickwork.store.protocols import ScheduleRecord
from tickwork.testing import FakeClock

from .helpers import MINUTE, Changes, document, execution_rows, utc

SCHEDULE = ExecutionTrigger.SCHEDULE
SKIPPED = ExecutionStatus.SKIPPED


def test_pause_stores_the_state_and_the_note_in_record_and_document(
    service: ScheduleService,
) -> None:
    created = service.create(document())

    paused = service.pause(created.id, note="vendor is down")

    assert (paused.state, paused.pause_note, paused.revision) == (
        ScheduleState.PAUSED,
        "vendor is down",
        2,
    )
    assert (paused.document["paused"], paused.document["pause_note"]) == (True, "vendor is down")
    assert service.get(created.id) == paused


def test_resume_clears_the_state_and_the_note(service: ScheduleService) -> None:
    created = service.create(document())
    service.pause(created.id, note="vendor is down")

    resumed = service.resume(created.id)

    assert (resumed.state, resumed.pause_note, resumed.revision) == (ScheduleState.ACTIVE, None, 3)
    assert (resumed.document["paused"], resumed.document["pause_note"]) == (False, None)


def test_a_paused_schedule_is_not_fired_by_the_loop(
    service: ScheduleService, store_engine: Engine, clock: FakeClock
) -> None:
    created = service.create(document())
    service.pause(created.id)
    clock.set(utc(2, 15, 30))

    assert Scheduler(store_engine, clock).fire_due().inserted == 0
    assert execution_rows(store_engine) == []
    assert service.get(created.id).next_fire_at == utc(2, 13)  # still owed, until resumed


def test_resume_records_the_instants_passed_while_paused_as_skipped(
    service: ScheduleService, store_engine: Engine, clock: FakeClock
) -> None:
    created = service.create(document())
    clock.advance(10 * MINUTE)
    service.pause(created.id, note="maintenance")
    clock.set(utc(2, 15, 30))

    resumed = service.resume(created.id)

    # 15:00 is only 30 minutes old, inside the catch-up window: still not caught up.
    assert execution_rows(store_engine) == [
        (utc(2, 13), SCHEDULE, SKIPPED, "paused"),
        (utc(2, 14), SCHEDULE, SKIPPED, "paused"),
        (utc(2, 15), SCHEDULE, SKIPPED, "paused"),
    ]
    assert (resumed.next_fire_at, resumed.runs_count, resumed.last_fired_at) == (
        utc(2, 16),
        3,
        utc(2, 15),
    )
    assert Scheduler(store_engine, clock).fire_due().inserted == 0
    clock.set(utc(2, 16))
    assert Scheduler(store_engine, clock).fire_due().inserted == 1
    assert execution_rows(store_engine)[-1] == (utc(2, 16), SCHEDULE, ExecutionStatus.QUEUED, None)


def test_a_schedule_created_paused_skips_until_resumed(
    service: ScheduleService, store_engine: Engine, clock: FakeClock
) -> None:
    created = service.create(document(paused=True, pause_note="not yet"))
    clock.set(utc(2, 14, 5))

    resumed = service.resume(created.id)

    assert execution_rows(store_engine) == [
        (utc(2, 13), SCHEDULE, SKIPPED, "paused"),
        (utc(2, 14), SCHEDULE, SKIPPED, "paused"),
    ]
    assert (resumed.state, resumed.next_fire_at) == (ScheduleState.ACTIVE, utc(2, 15))


def test_pausing_settles_what_was_owed_while_active(
    service: ScheduleService, store_engine: Engine, clock: FakeClock
) -> None:
    created = service.create(document())
    clock.set(utc(2, 13, 20))  # 13:00 is owed, the loop has not fired it

    paused = service.pause(created.id)

    # 13:00 passed while the schedule was active: it runs, it is not "skipped, paused".
    assert execution_rows(store_engine) == [(utc(2, 13), SCHEDULE, ExecutionStatus.QUEUED, None)]
    assert (paused.state, paused.next_fire_at) == (ScheduleState.PAUSED, utc(2, 14))


def test_pausing_again_replaces_the_note(service: ScheduleService) -> None:
    created = service.create(document())
    service.pause(created.id, note="first")
    again = service.pause(created.id, note="second")
    assert (again.state, again.pause_note) == (ScheduleState.PAUSED, "second")


def test_a_note_longer_than_the_document_allows_is_refused(
    service: ScheduleService, changes: Changes
) -> None:
    created = service.create(document())

    with pytest.raises(InvalidSpec) as refused:
        service.pause(created.id, note="x" * 1001)

    assert refused.value.field == "note"
    assert service.get(created.id) == created
    assert changes.count == 1


def completed_schedule(
    service: ScheduleService, store_engine: Engine, clock: FakeClock
) -> ScheduleRecord:
    """A one-off schedule whose instant has fired."""
    created = service.create(document(trigger={"at": "2026-03-02T13:00:00Z"}))
    clock.set(utc(2, 13))
    Scheduler(store_engine, clock).fire_due()
    done = service.get(created.id)
    assert (done.state, done.next_fire_at) == (ScheduleState.COMPLETED, None)
    return done


def test_pausing_a_completed_schedule_is_a_conflict(
    service: ScheduleService, store_engine: Engine, clock: FakeClock, changes: Changes
) -> None:
    done = completed_schedule(service, store_engine, clock)

    with pytest.raises(Conflict) as refused:
        service.pause(done.id, note="too late")

    assert refused.value.constraint == "state"
    assert "completed" in str(refused.value)
    assert service.get(done.id) == done
    assert changes.count == 1


def test_resuming_a_completed_schedule_is_a_conflict(
    service: ScheduleService, store_engine: Engine, clock: FakeClock, changes: Changes
) -> None:
    done = completed_schedule(service, store_engine, clock)

    with pytest.raises(Conflict) as refused:
        service.resume(done.id)

    assert refused.value.constraint == "state"
    assert service.get(done.id) == done
    assert changes.count == 1
