"""missed(): every instant that did not run, one by one, whether stored as a row or a range."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from tickwork.schedule.policies import ExecutionStatus
from tickwork.scheduler.loop import Scheduler
from tickwork.service.schedules import MissedFire, ScheduleService
from tickwork.testing import FakeClock

from .helpers import MINUTE, T0, document, table_sizes, utc

MISSED, SKIPPED = ExecutionStatus.MISSED, ExecutionStatus.SKIPPED
EVERY_MINUTE = {"cron": "* * * * *"}


def minutes(first: datetime, last: datetime) -> list[datetime]:
    """Every whole minute from ``first`` to ``last``, inclusive."""
    return [first + i * MINUTE for i in range((last - first) // MINUTE + 1)]


def test_missed_lists_every_instant_of_an_outage_including_a_stored_range(
    service: ScheduleService, store_engine: Engine, clock: FakeClock
) -> None:
    # Every minute; the scheduler is away from 12:00 to 15:00 (catch-up window 1h).
    created = service.create(document(trigger=EVERY_MINUTE))
    clock.set(utc(2, 15))
    Scheduler(store_engine, clock).fire_due()
    # 12:01 ... 13:59 (older than the window) went in as one range row; 14:00 ... 14:59
    # (misfires, run_once) as 60 rows; 15:00 ran.
    assert table_sizes(store_engine) == (1, 61, 1)

    found = service.missed(created.id)

    assert found == [
        *(MissedFire(i, MISSED, "catchup_window") for i in minutes(utc(2, 12, 1), utc(2, 13, 59))),
        *(MissedFire(i, MISSED, "misfire") for i in minutes(utc(2, 14), utc(2, 14, 59))),
    ]


def test_missed_lists_a_long_pause_as_skipped_instants(
    service: ScheduleService, store_engine: Engine, clock: FakeClock
) -> None:
    created = service.create(document(trigger=EVERY_MINUTE))
    service.pause(created.id)
    clock.set(utc(2, 14))
    service.resume(created.id)
    assert table_sizes(store_engine) == (1, 0, 1)  # 120 instants, one range

    found = service.missed(created.id)

    assert found == [MissedFire(i, SKIPPED, "paused") for i in minutes(utc(2, 12, 1), utc(2, 14))]


def test_missed_lists_fires_skipped_by_overlap_and_not_runs(
    service: ScheduleService, store_engine: Engine, clock: FakeClock
) -> None:
    created = service.create(document())
    scheduler = Scheduler(store_engine, clock)
    for hour in (13, 14, 15):
        clock.set(utc(2, hour))
        scheduler.fire_due()  # 13:00 runs and stays queued: 14:00 and 15:00 overlap it
    service.trigger_now(created.id)
    service.backfill(created.id, utc(2, 9), utc(2, 10))

    assert service.missed(created.id) == [
        MissedFire(utc(2, 14), SKIPPED, "overlap"),
        MissedFire(utc(2, 15), SKIPPED, "overlap"),
    ]


def test_missed_with_a_limit_gives_the_oldest_instants(
    service: ScheduleService, clock: FakeClock
) -> None:
    # 30 instants skipped while paused: stored one row each (too few for a range).
    created = service.create(document(trigger=EVERY_MINUTE))
    service.pause(created.id)
    clock.set(T0 + 30 * MINUTE)
    service.resume(created.id)
    assert len(service.missed(created.id)) == 30

    found = service.missed(created.id, limit=10)

    assert [m.scheduled_for for m in found] == minutes(utc(2, 12, 1), utc(2, 12, 10))


def test_missed_with_a_limit_has_no_gap_between_a_range_and_later_rows(
    service: ScheduleService, store_engine: Engine, clock: FakeClock
) -> None:
    # A range (12:01 ... 13:59) then 60 rows (14:00 ... 14:59): the first 150 instants
    # are the whole range and the first 31 rows, in order.
    created = service.create(document(trigger=EVERY_MINUTE))
    clock.set(utc(2, 15))
    Scheduler(store_engine, clock).fire_due()

    found = service.missed(created.id, limit=150)

    assert [m.scheduled_for for m in found] == minutes(utc(2, 12, 1), utc(2, 14, 30))


def test_a_range_whose_trigger_changed_since_lists_its_ends(
    service: ScheduleService, store_engine: Engine, clock: FakeClock
) -> None:
    created = service.create(document(trigger=EVERY_MINUTE))
    service.pause(created.id)
    clock.set(utc(2, 14))
    service.resume(created.id)
    service.update(created.id, document(trigger={"cron": "7 * * * *"}))

    found = service.missed(created.id)

    assert found == [
        MissedFire(utc(2, 12, 1), SKIPPED, "paused"),
        MissedFire(utc(2, 14), SKIPPED, "paused"),
    ]
