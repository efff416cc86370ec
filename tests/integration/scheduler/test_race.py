"""Two schedulers on one store, firing at the same instants from two threads.

Guarantee 1 (exactly-once firing) and 2 (nothing lost) with several nodes: every nominal
instant of every schedule ends as exactly one row or inside exactly one range, the
schedules' ``runs_count`` agree, and each due schedule was settled by one scheduler only
(the fires both planned add up to the rows stored, so the unique key never had to absorb
a duplicate). On PostgreSQL the two split the due rows with ``FOR UPDATE SKIP LOCKED``;
on SQLite (two engines on one file) ``BEGIN IMMEDIATE`` makes them take turns.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tickwork.ids import IdGenerator
from tickwork.schedule.fires import iter_nominal_fires
from tickwork.schedule.misfire import FireAction, FireReason, MissedRange, expand
from tickwork.schedule.rules import rules_from_stored
from tickwork.scheduler.loop import FireReport, Scheduler
from tickwork.store.engine import create_store_engine
from tickwork.store.protocols import ScheduleRecord
from tickwork.store.tables import missed_ranges

from .helpers import MINUTE, T0, count_executions, every, fires, make_rig, ranges

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
BATCH = 25
"""Small batches, so each pass is many transactions and the two schedulers interleave."""
STEPS = [MINUTE] * 20 + [timedelta(hours=3, seconds=30)] + [timedelta(seconds=50)] * 20
"""A quiet start, a 3-hour stall of both (every-minute schedules then owe ranges), and
steps that land between instants."""


def _crons() -> list[str]:
    """300 schedules: every ``o-59/s`` for s in 1..23 (276), and 24 ``* * * * *``."""
    stepped = [f"{o}-59/{s} * * * *" for s in range(1, 24) for o in range(s)]
    return stepped + ["* * * * *"] * 24


def _race(engine_a: Engine, engine_b: Engine) -> None:
    rig = make_rig(engine_a, batch_size=BATCH)
    for index, cron in enumerate(_crons()):
        rig.create(every(cron, f"job-{index:03d}", timezone=ZONES[index % len(ZONES)]))
    schedulers = [
        rig.scheduler,
        Scheduler(engine_b, rig.clock, ids=IdGenerator(rig.clock), batch_size=BATCH),
    ]
    steps = iter(STEPS)
    barrier = threading.Barrier(2, action=lambda: rig.clock.advance(next(steps)))

    def keep_firing(scheduler: Scheduler) -> list[FireReport]:
        reports = []
        try:
            for _ in STEPS:
                barrier.wait(timeout=30)
                reports.append(scheduler.fire_due())
        except BaseException:
            barrier.abort()  # the other thread stops too, instead of waiting for us
            raise
        return reports

    with ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(keep_firing, s) for s in schedulers]
        reports = [run.result() for run in runs]

    end = T0 + sum(STEPS, timedelta(0))
    assert rig.clock.now() == end
    _assert_every_instant_once(engine_a, rig.service.list_all(), end)
    planned = [sum(len(r.executions) for r in mine) for mine in reports]
    inserted = sum(r.inserted for mine in reports for r in mine)
    assert sum(planned) == inserted == count_executions(engine_a)
    assert sum(r.missed_ranges for mine in reports for r in mine) == _count(engine_a)
    assert all(planned), f"one scheduler did all the work ({planned}): no race happened"


def _assert_every_instant_once(
    engine: Engine, schedules: list[ScheduleRecord], end: datetime
) -> None:
    ranged = 0
    for schedule in schedules:
        rules = rules_from_stored(
            schedule.document, schedule_id=schedule.id, created_at=schedule.created_at
        )
        expected = list(iter_nominal_fires(rules.trigger, schedule.created_at, end))
        stored = [row.scheduled_for for row in fires(engine, schedule.id)]
        for record in ranges(engine, schedule.id):
            item = MissedRange(
                record.first,
                record.last,
                record.count,
                FireReason(record.reason),
                FireAction.MISSED,
            )
            stored.extend(d.scheduled_for for d in expand([item], rules.trigger))
            ranged += 1
        assert sorted(stored) == expected, schedule.name
        assert schedule.runs_count == len(expected), schedule.name
        assert schedule.last_fired_at == expected[-1], schedule.name
        assert schedule.next_fire_at == rules.trigger.next_after(end), schedule.name
    # The 25 every-minute schedules (0-59/1 and the 24 "* * * * *") owe one range each
    # for the stall, and no more: a range stored by both schedulers would be counted twice.
    assert ranged == 25


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(missed_ranges)).scalar_one())


@pytest.mark.postgres
def test_two_schedulers_on_postgresql_fire_every_instant_exactly_once(
    pg_database_url: str,
) -> None:
    engine_a = create_store_engine(pg_database_url)
    engine_b = create_store_engine(pg_database_url)
    try:
        _race(engine_a, engine_b)
    finally:
        engine_a.dispose()
        engine_b.dispose()


def test_two_schedulers_on_one_sqlite_file_fire_every_instant_exactly_once(
    sqlite_database_url: str,
) -> None:
    engine_a = create_store_engine(sqlite_database_url)
    engine_b = create_store_engine(sqlite_database_url)
    try:
        _race(engine_a, engine_b)
    finally:
        engine_a.dispose()
        engine_b.dispose()
