"""Trigger now: a manual run at now, whatever the schedule's state; idempotent by key."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

import pytest
from sqlalchemy.engine import Engine

from tickwork.errors import InvalidSpec
from tickwork.schedule.policies import ExecutionStatus, ExecutionTrigger, ScheduleState
from tickwork.scheduler.loop import Scheduler
from tickwork.service.schedules import ScheduleService
from tickwork.testing import FakeClock

from .helpers import MINUTE, T0, document, execution_rows, table_sizes, utc

MANUAL, SCHEDULE = ExecutionTrigger.MANUAL, ExecutionTrigger.SCHEDULE
QUEUED = ExecutionStatus.QUEUED


def test_trigger_now_queues_a_manual_run_at_now_with_the_schedule_input(
    service: ScheduleService, store_engine: Engine, clock: FakeClock
) -> None:
    created = service.create(
        document(
            input={"day": "mon", "n": 1},
            priority=4,
            concurrency_key="reports",
            retry={"max_attempts": 5},
        )
    )
    clock.advance(7 * MINUTE)

    run, new = service.trigger_now(created.id)

    now = T0 + 7 * MINUTE
    assert new is True
    assert (run.trigger, run.status, run.reason, run.scheduled_for) == (MANUAL, QUEUED, None, now)
    assert (run.queued_at, run.not_before, run.created_at, run.lateness_ms) == (now, now, now, 0)
    assert (run.schedule_id, run.schedule_name, run.namespace) == (created.id, "report", "default")
    assert run.input == {"day": "mon", "n": 1}
    assert (run.priority, run.concurrency_key, run.attempt, run.max_attempts) == (
        4,
        "reports",
        1,
        5,
    )
    assert run.idempotency_key is None
    assert service.executions(created.id) == [run]
    # A manual run is not one of the schedule's instants: the schedule is untouched.
    assert service.get(created.id) == created
    assert table_sizes(store_engine) == (1, 1, 0)


def test_an_input_override_replaces_the_schedule_input(service: ScheduleService) -> None:
    created = service.create(document(input={"day": "mon", "n": 1}))

    run, _ = service.trigger_now(created.id, input={"day": "tue"})
    empty, _ = service.trigger_now(created.id, input={})

    assert run.input == {"day": "tue"}  # replaced, not merged
    assert empty.input == {}  # an empty override is still an override


def test_the_same_idempotency_key_returns_the_first_run(
    service: ScheduleService, store_engine: Engine, clock: FakeClock
) -> None:
    created = service.create(document())
    first, first_new = service.trigger_now(created.id, idempotency_key="deploy-42")
    clock.advance(MINUTE)

    again, again_new = service.trigger_now(
        created.id, input={"other": True}, idempotency_key="deploy-42"
    )

    assert (first_new, again_new) == (True, False)
    assert again == first
    assert first.idempotency_key == "deploy-42"
    other, other_new = service.trigger_now(created.id, idempotency_key="deploy-43")
    assert other_new is True and other.id != first.id
    assert table_sizes(store_engine) == (1, 2, 0)


def test_idempotency_keys_are_per_schedule(service: ScheduleService) -> None:
    one = service.create(document("one"))
    two = service.create(document("two"))
    run_one, new_one = service.trigger_now(one.id, idempotency_key="k")
    run_two, new_two = service.trigger_now(two.id, idempotency_key="k")
    assert (new_one, new_two) == (True, True)
    assert run_one.id != run_two.id


def test_trigger_now_works_while_paused(service: ScheduleService) -> None:
    created = service.create(document())
    service.pause(created.id, note="quiet")

    run, new = service.trigger_now(created.id)

    assert (new, run.status, run.trigger) == (True, QUEUED, MANUAL)
    assert service.get(created.id).state is ScheduleState.PAUSED


def test_trigger_now_works_on_a_completed_schedule(
    service: ScheduleService, store_engine: Engine, clock: FakeClock
) -> None:
    created = service.create(document(trigger={"at": "2026-03-02T13:00:00Z"}))
    clock.set(utc(2, 14))
    Scheduler(store_engine, clock).fire_due()
    assert service.get(created.id).state is ScheduleState.COMPLETED

    run, new = service.trigger_now(created.id)

    assert (new, run.status, run.scheduled_for) == (True, QUEUED, utc(2, 14))


def test_a_manual_run_does_not_stand_in_for_the_fire_at_the_same_instant(
    service: ScheduleService, store_engine: Engine, clock: FakeClock
) -> None:
    created = service.create(document())
    clock.set(utc(2, 13))
    service.trigger_now(created.id)

    Scheduler(store_engine, clock).fire_due()

    # The 13:00 instant is still recorded (skipped: the manual run is in flight).
    assert sorted(execution_rows(store_engine)) == [
        (utc(2, 13), MANUAL, QUEUED, None),
        (utc(2, 13), SCHEDULE, ExecutionStatus.SKIPPED, "overlap"),
    ]


BAD_ARGUMENTS: dict[str, tuple[dict[str, Any], str]] = {
    "input not a mapping": ({"input": "not a mapping"}, "input"),
    "input a list": ({"input": ["a", "list"]}, "input"),
    "input not JSON": ({"input": {"when": date(2026, 3, 2)}}, "input"),
    "key too long": ({"idempotency_key": "k" * 256}, "idempotency_key"),
    "key empty": ({"idempotency_key": ""}, "idempotency_key"),
}


def test_bad_arguments_name_the_field_and_write_nothing(
    service: ScheduleService, store_engine: Engine
) -> None:
    created = service.create(document())

    for case, (arguments, field) in BAD_ARGUMENTS.items():
        with pytest.raises(InvalidSpec) as refused:
            service.trigger_now(created.id, **cast(Any, arguments))
        assert refused.value.field == field, case
    assert table_sizes(store_engine) == (1, 0, 0)


def test_the_longest_idempotency_key_is_accepted(service: ScheduleService) -> None:
    created = service.create(document())
    run, new = service.trigger_now(created.id, idempotency_key="k" * 255)
    assert new and run.idempotency_key == "k" * 255
