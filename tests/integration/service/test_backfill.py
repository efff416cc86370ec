"""Backfill: one run per trigger instant of a past range, run one after another."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

import pytest
from sqlalchemy.engine import Engine

from tickwork.errors import InvalidSpec
from tickwork.schedule.policies import ExecutionStatus, ExecutionTrigger
from tickwork.scheduler.loop import Scheduler
from tickwork.service.schedules import MAX_BACKFILL, ScheduleService
from tickwork.testing import FakeClock

from .helpers import MINUTE, T0, document, execution_rows, set_status, table_sizes, utc

BACKFILL, SCHEDULE = ExecutionTrigger.BACKFILL, ExecutionTrigger.SCHEDULE
QUEUED, BUFFERED = ExecutionStatus.QUEUED, ExecutionStatus.BUFFERED


def test_backfill_starts_one_run_per_instant_first_queued_the_rest_buffered(
    service: ScheduleService, store_engine: Engine
) -> None:
    created = service.create(document(input={"day": "mon"}, retry={"max_attempts": 2}))

    runs = service.backfill(created.id, utc(2, 7), utc(2, 10))

    # Both ends are inclusive.
    assert [(r.scheduled_for, r.trigger, r.status) for r in runs] == [
        (utc(2, 7), BACKFILL, QUEUED),
        (utc(2, 8), BACKFILL, BUFFERED),
        (utc(2, 9), BACKFILL, BUFFERED),
        (utc(2, 10), BACKFILL, BUFFERED),
    ]
    assert [r.queued_at for r in runs] == [T0, None, None, None]
    assert {(r.input["day"], r.max_attempts, r.schedule_id, r.created_at) for r in runs} == {
        ("mon", 2, created.id, T0)
    }
    assert sorted(service.executions(created.id), key=lambda r: r.scheduled_for) == runs
    # Backfills are not the schedule's instants: it is untouched.
    assert service.get(created.id) == created


def test_backfill_bounds_need_not_fall_on_instants(service: ScheduleService) -> None:
    created = service.create(document())
    runs = service.backfill(created.id, utc(2, 6, 30), utc(2, 9, 45))
    assert [r.scheduled_for for r in runs] == [utc(2, 7), utc(2, 8), utc(2, 9)]


def test_backfill_under_overlap_allow_queues_every_run(service: ScheduleService) -> None:
    created = service.create(document(overlap="allow"))
    runs = service.backfill(created.id, utc(2, 7), utc(2, 9))
    assert [r.status for r in runs] == [QUEUED, QUEUED, QUEUED]


def test_backfill_behind_a_run_in_flight_is_all_buffered(service: ScheduleService) -> None:
    created = service.create(document())
    service.trigger_now(created.id)
    runs = service.backfill(created.id, utc(2, 7), utc(2, 8))
    assert [r.status for r in runs] == [BUFFERED, BUFFERED]


def test_backfill_with_an_input_override(service: ScheduleService) -> None:
    created = service.create(document(input={"day": "mon"}))
    runs = service.backfill(created.id, utc(2, 7), utc(2, 8), input={"day": "sun"})
    assert [r.input for r in runs] == [{"day": "sun"}, {"day": "sun"}]


def test_backfill_may_repeat_instants_that_already_fired(
    service: ScheduleService, store_engine: Engine, clock: FakeClock
) -> None:
    # Only scheduled fires are unique per instant; a backfill reruns on purpose.
    created = service.create(document())
    clock.set(utc(2, 13))
    Scheduler(store_engine, clock).fire_due()
    clock.set(utc(2, 14, 30))

    service.backfill(created.id, utc(2, 13), utc(2, 13))
    service.backfill(created.id, utc(2, 13), utc(2, 13))

    assert sorted(execution_rows(store_engine)) == [
        (utc(2, 13), BACKFILL, BUFFERED, None),
        (utc(2, 13), BACKFILL, BUFFERED, None),
        (utc(2, 13), SCHEDULE, QUEUED, None),
    ]


def test_a_backfill_up_to_now_is_accepted(service: ScheduleService) -> None:
    created = service.create(document())
    runs = service.backfill(created.id, utc(2, 11), T0)
    assert [r.scheduled_for for r in runs] == [utc(2, 11), utc(2, 12)]


def test_the_largest_backfill_is_accepted(service: ScheduleService) -> None:
    created = service.create(document(trigger={"cron": "* * * * *"}))
    start = T0 - (MAX_BACKFILL - 1) * MINUTE
    runs = service.backfill(created.id, start, T0)
    assert len(runs) == MAX_BACKFILL
    assert (runs[0].scheduled_for, runs[-1].scheduled_for) == (start, T0)


BAD_RANGES: dict[str, tuple[str, datetime, datetime, str]] = {
    "end in the future": ("0 * * * *", utc(2, 7), T0 + MINUTE, "end"),
    "start after end": ("0 * * * *", utc(2, 9), utc(2, 8), "start"),
    "no instant in the range": ("0 * * * *", utc(2, 7, 10), utc(2, 7, 50), "start"),
    "too many instants": ("* * * * *", utc(1, 0), utc(2, 0), "end"),
}


def test_a_bad_range_names_the_field_and_writes_nothing(
    service: ScheduleService, store_engine: Engine
) -> None:
    for case, (cron, start, end, field) in BAD_RANGES.items():
        created = service.create(document(case.replace(" ", "-"), trigger={"cron": cron}))

        with pytest.raises(InvalidSpec) as refused:
            service.backfill(created.id, start, end)

        assert refused.value.field == field, case
    assert table_sizes(store_engine) == (len(BAD_RANGES), 0, 0)


def test_a_bad_input_override_is_refused(service: ScheduleService, store_engine: Engine) -> None:
    created = service.create(document())

    for bad in ("not a mapping", {"when": date(2026, 3, 2)}):
        with pytest.raises(InvalidSpec) as refused:
            service.backfill(created.id, utc(2, 7), utc(2, 8), input=cast(Any, bad))
        assert refused.value.field == "input"
    assert table_sizes(store_engine) == (1, 0, 0)


def test_a_backfill_waits_behind_a_buffered_run_too(
    service: ScheduleService, store_engine: Engine
) -> None:
    # 07:00 finished, 08:00 is still buffered (not yet released): a new backfill must not
    # start ahead of it.
    created = service.create(document())
    first, _ = service.backfill(created.id, utc(2, 7), utc(2, 8))
    set_status(store_engine, first.id, ExecutionStatus.SUCCEEDED)

    runs = service.backfill(created.id, utc(2, 9), utc(2, 10))

    assert [r.status for r in runs] == [BUFFERED, BUFFERED]
