"""next_fires: the instants a schedule will fire at, in its time zone, within its window."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from tickwork.errors import InvalidSpec
from tickwork.scheduler.loop import Scheduler
from tickwork.service.schedules import MAX_NEXT, ScheduleService
from tickwork.testing import FakeClock

from .helpers import MINUTE, T0, document, utc


def test_next_fires_lists_the_next_instants_from_now(service: ScheduleService) -> None:
    created = service.create(document())
    assert service.next_fires(created.id, 3) == [utc(2, 13), utc(2, 14), utc(2, 15)]


def test_next_fires_follow_new_york_across_the_spring_forward_gap(
    service: ScheduleService, clock: FakeClock
) -> None:
    # On 8 March 2026 New York jumps from 02:00 EST to 03:00 EDT: 02:30 does not exist
    # that night, so the fire comes right after the jump, at 03:00 EDT (07:00 UTC).
    created = service.create(document(trigger={"cron": "30 2 * * *"}, timezone="America/New_York"))
    clock.set(utc(6, 12))

    assert service.next_fires(created.id, 4) == [
        utc(7, 7, 30),  # 02:30 EST (UTC-5)
        utc(8, 7, 0),  # 03:00 EDT, after the gap
        utc(9, 6, 30),  # 02:30 EDT (UTC-4)
        utc(10, 6, 30),
    ]


def test_next_fires_after_a_given_instant(service: ScheduleService) -> None:
    created = service.create(document(trigger={"cron": "0 9 * * *"}, timezone="America/New_York"))
    # 09:00 EST is 14:00 UTC; from 8 March on, 09:00 EDT is 13:00 UTC.
    assert service.next_fires(created.id, 2, after=utc(7, 15)) == [utc(8, 13), utc(9, 13)]


def test_next_fires_stop_at_end_at(service: ScheduleService) -> None:
    created = service.create(document(trigger={"cron": "0 9 * * *"}, end_at="2026-03-05T09:00:00Z"))
    # end_at is inclusive.
    assert service.next_fires(created.id, 10) == [utc(3, 9), utc(4, 9), utc(5, 9)]


def test_next_fires_count_what_max_runs_leaves(
    service: ScheduleService, store_engine: Engine, clock: FakeClock
) -> None:
    created = service.create(document(max_runs=3))
    assert service.next_fires(created.id, 10) == [utc(2, 13), utc(2, 14), utc(2, 15)]

    clock.set(utc(2, 13))
    Scheduler(store_engine, clock).fire_due()  # one of the three used

    assert service.next_fires(created.id, 10) == [utc(2, 14), utc(2, 15)]


def test_a_completed_schedule_has_no_next_fires(
    service: ScheduleService, store_engine: Engine, clock: FakeClock
) -> None:
    created = service.create(document(trigger={"at": "2026-03-02T13:00:00Z"}))
    clock.set(utc(2, 13))
    Scheduler(store_engine, clock).fire_due()
    assert service.next_fires(created.id, 5) == []


def test_a_count_out_of_range_is_refused(service: ScheduleService) -> None:
    created = service.create(document())
    for count in (0, -1, MAX_NEXT + 1):
        with pytest.raises(InvalidSpec) as refused:
            service.next_fires(created.id, count)
        assert refused.value.field == "count"


def test_the_largest_count_is_accepted(service: ScheduleService) -> None:
    created = service.create(document(trigger={"cron": "* * * * *"}))
    fires = service.next_fires(created.id, MAX_NEXT)
    assert fires == [T0 + i * MINUTE for i in range(1, MAX_NEXT + 1)]
