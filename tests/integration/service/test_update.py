"""Updating a schedule: the document is replaced, what the old one owed is settled first."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from tickwork.errors import Conflict, InvalidDocument
from tickwork.schedule.policies import ExecutionStatus, ExecutionTrigger, ScheduleState
from tickwork.scheduler.loop import Scheduler
from tickwork.service.schedules import ScheduleService
from tickwork.spec.documents import ScheduleDocument
from tickwork.testing import FakeClock

from .helpers import MINUTE, T0, Changes, document, execution_rows, table_sizes, utc


def test_update_replaces_the_document_and_bumps_the_revision(
    service: ScheduleService, clock: FakeClock
) -> None:
    created = service.create(document())
    clock.advance(10 * MINUTE)
    data = document(description="now with words", input={"day": "tue"}, priority=3)

    updated = service.update(created.id, data)

    assert updated.document == ScheduleDocument.from_mapping(data).model_dump(mode="json")
    assert (updated.revision, updated.updated_at, updated.created_at) == (2, T0 + 10 * MINUTE, T0)
    # Same trigger: the next instant stays.
    assert updated.next_fire_at == created.next_fire_at == utc(2, 13)
    assert service.get(created.id) == updated


def test_a_changed_trigger_recomputes_next_fire_from_now(
    service: ScheduleService, clock: FakeClock
) -> None:
    created = service.create(document())  # hourly: next 13:00
    clock.advance(10 * MINUTE)

    updated = service.update(created.id, document(trigger={"cron": "*/15 * * * *"}))

    assert updated.next_fire_at == utc(2, 12, 15)
    assert updated.trigger_kind == "cron"


def test_a_changed_time_zone_recomputes_next_fire(service: ScheduleService) -> None:
    created = service.create(document(trigger={"cron": "0 18 * * *"}))
    assert created.next_fire_at == utc(2, 18)

    updated = service.update(
        created.id, document(trigger={"cron": "0 18 * * *"}, timezone="Asia/Tokyo")
    )

    # 18:00 in Tokyo (UTC+9) is 09:00 UTC: today's has passed, tomorrow's is next.
    assert updated.next_fire_at == utc(3, 9)
    assert updated.timezone == "Asia/Tokyo"


def test_a_changed_trigger_kind_is_stored(service: ScheduleService) -> None:
    created = service.create(document())
    updated = service.update(created.id, document(trigger={"interval": "20m"}))
    # No anchor: the grid runs through the creation instant (12:00), not the edit.
    assert (updated.trigger_kind, updated.next_fire_at) == ("interval", utc(2, 12, 20))


def test_the_expected_revision_guards_against_lost_updates(
    service: ScheduleService, store_engine: Engine, changes: Changes
) -> None:
    created = service.create(document())
    current = service.update(created.id, document(priority=1), expected_revision=1)

    with pytest.raises(Conflict) as refused:
        service.update(created.id, document(priority=2), expected_revision=1)

    assert refused.value.constraint == "revision"
    assert "revision 2, not 1" in str(refused.value)
    assert service.get(created.id) == current
    assert current.document["priority"] == 1
    assert table_sizes(store_engine) == (1, 0, 0)
    assert changes.count == 2


def test_name_and_namespace_cannot_change(service: ScheduleService, changes: Changes) -> None:
    created = service.create(document())

    for field in ("name", "namespace"):
        with pytest.raises(InvalidDocument) as refused:
            service.update(created.id, document(**{field: "other"}))

        assert [p.field for p in refused.value.problems] == [field]
    assert service.get(created.id) == created
    assert changes.count == 1


def test_an_invalid_update_names_the_field_and_changes_nothing(service: ScheduleService) -> None:
    created = service.create(document())

    with pytest.raises(InvalidDocument) as refused:
        service.update(created.id, document(trigger={"cron": "0 25 * * *"}))

    assert [p.field for p in refused.value.problems] == ["trigger.cron"]
    assert service.get(created.id) == created


def test_instants_owed_before_the_edit_are_settled_under_the_old_definition(
    service: ScheduleService, store_engine: Engine, clock: FakeClock
) -> None:
    created = service.create(document())  # hourly: 13:00 is next
    clock.set(utc(2, 13, 20))  # 13:00 passed and nothing fired it

    updated = service.update(created.id, document(trigger={"cron": "*/5 * * * *"}))

    # 13:00 ran (20 minutes late, inside the catch-up window), before the edit.
    assert execution_rows(store_engine) == [
        (utc(2, 13), ExecutionTrigger.SCHEDULE, ExecutionStatus.QUEUED, None),
    ]
    (run,) = service.executions(created.id)
    assert (run.lateness_ms, run.queued_at) == (20 * 60 * 1000, utc(2, 13, 20))
    assert (updated.runs_count, updated.last_fired_at) == (1, utc(2, 13))
    # The new definition owes nothing in the past (not 13:05, 13:10, 13:15).
    assert updated.next_fire_at == utc(2, 13, 25)
    assert Scheduler(store_engine, clock).fire_due().inserted == 0
    clock.set(utc(2, 13, 25))
    assert Scheduler(store_engine, clock).fire_due().inserted == 1
    assert [r[0] for r in execution_rows(store_engine)] == [utc(2, 13), utc(2, 13, 25)]


def test_an_edit_that_keeps_the_trigger_still_settles_what_is_owed(
    service: ScheduleService, store_engine: Engine, clock: FakeClock
) -> None:
    created = service.create(document())
    clock.set(utc(2, 15, 30))  # 13:00, 14:00, 15:00 passed unfired

    updated = service.update(created.id, document(description="edited"))

    assert execution_rows(store_engine) == [
        (utc(2, 13), ExecutionTrigger.SCHEDULE, ExecutionStatus.MISSED, "catchup_window"),
        (utc(2, 14), ExecutionTrigger.SCHEDULE, ExecutionStatus.MISSED, "catchup_window"),
        (utc(2, 15), ExecutionTrigger.SCHEDULE, ExecutionStatus.QUEUED, None),
    ]
    assert (updated.next_fire_at, updated.runs_count) == (utc(2, 16), 3)


def test_an_edit_that_ends_the_schedule_completes_it(
    service: ScheduleService, clock: FakeClock
) -> None:
    created = service.create(document())
    clock.set(utc(2, 13, 30))

    updated = service.update(created.id, document(max_runs=1))

    # The one run it may have was 13:00 (settled by the edit): nothing is left.
    assert (updated.state, updated.next_fire_at, updated.runs_count) == (
        ScheduleState.COMPLETED,
        None,
        1,
    )
