"""Paused schedules: nothing fires while paused, and what passed is recorded, never run.

DESIGN, "Misfires": instants that pass while a schedule is paused are recorded
``skipped`` (reason ``paused``) and never caught up, however recent they are on resume.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine

from tickwork.schedule.policies import ExecutionStatus, ScheduleState
from tickwork.service.schedules import MissedFire

from .helpers import MINUTE, at, every, fires, make_rig, outcomes, ranges, set_status


def test_instants_passed_while_paused_are_skipped_on_resume_and_never_run(
    store_engine: Engine,
) -> None:
    rig = make_rig(store_engine)
    job = rig.create(every("*/15 * * * *"))
    rig.fire_at(at("09:15"))
    set_status(store_engine, job.id, at("09:15"), "succeeded")
    rig.clock.set(at("09:20"))
    paused = rig.service.pause(job.id, note="maintenance")
    assert (paused.state, paused.pause_note) == (ScheduleState.PAUSED, "maintenance")

    # The loop keeps passing every 5 minutes: a paused schedule is never due.
    instant = at("09:25")
    while instant <= at("10:10"):
        assert rig.fire_at(instant) == 0
        instant += 5 * MINUTE
    assert rig.scheduler.next_due_at() is None
    assert outcomes(store_engine, job.id) == [("09:15", "succeeded", None)]

    resumed = rig.service.resume(job.id)  # at 10:10; 10:00 is well inside the catch-up window

    assert (resumed.state, resumed.next_fire_at, resumed.pause_note) == (
        ScheduleState.ACTIVE,
        at("10:15"),
        None,
    )
    assert rig.scheduler.fire_due().inserted == 0  # nothing is caught up
    rig.fire_at(at("10:15"))
    assert outcomes(store_engine, job.id) == [
        ("09:15", "succeeded", None),
        ("09:30", "skipped", "paused"),
        ("09:45", "skipped", "paused"),
        ("10:00", "skipped", "paused"),
        ("10:15", "queued", None),
    ]
    for row in fires(store_engine, job.id)[1:4]:
        assert (row.created_at, row.queued_at, row.not_before) == (at("10:10"), None, None)
        assert row.lateness_ms == (at("10:10") - row.scheduled_for) // timedelta(milliseconds=1)
    assert rig.service.get(job.id).runs_count == 5


def test_pausing_settles_what_was_due_before_it_under_the_active_rules(
    store_engine: Engine,
) -> None:
    """09:30 was due (the loop had not got to it yet) when the pause came at 09:31: it is
    owed under the active definition, so it runs; only later instants are skipped."""
    rig = make_rig(store_engine)
    job = rig.create(every("*/15 * * * *"))
    rig.clock.set(at("09:31"))

    rig.service.pause(job.id)
    rig.clock.set(at("10:01"))
    rig.service.resume(job.id)

    assert outcomes(store_engine, job.id) == [
        ("09:15", "missed", "misfire"),
        ("09:30", "queued", None),
        ("09:45", "skipped", "paused"),
        ("10:00", "skipped", "paused"),
    ]


def test_a_schedule_created_paused_fires_nothing_until_resumed(store_engine: Engine) -> None:
    rig = make_rig(store_engine)
    job = rig.create(every("*/15 * * * *", paused=True, pause_note="not yet"))
    assert job.state is ScheduleState.PAUSED

    for minutes in range(5, 65, 5):
        assert rig.fire_at(at("09:00") + minutes * MINUTE) == 0
    rig.clock.set(at("10:05"))
    rig.service.resume(job.id)
    rig.fire_at(at("10:15"))

    assert outcomes(store_engine, job.id) == [
        ("09:15", "skipped", "paused"),
        ("09:30", "skipped", "paused"),
        ("09:45", "skipped", "paused"),
        ("10:00", "skipped", "paused"),
        ("10:15", "queued", None),
    ]


def test_a_long_pause_is_one_range_and_every_instant_is_listed(store_engine: Engine) -> None:
    rig = make_rig(store_engine)
    job = rig.create(every("* * * * *"))
    rig.service.pause(job.id)

    rig.clock.set(at("12:00:30"))
    rig.service.resume(job.id)

    (stored,) = ranges(store_engine, job.id)
    assert (stored.first, stored.last, stored.count, stored.reason) == (
        at("09:01"),
        at("12:00"),
        180,
        "paused",
    )
    assert fires(store_engine, job.id) == []
    assert rig.service.missed(job.id) == [
        MissedFire(at("09:01") + i * MINUTE, ExecutionStatus.SKIPPED, "paused") for i in range(180)
    ]
    assert rig.service.get(job.id).next_fire_at == at("12:01")
