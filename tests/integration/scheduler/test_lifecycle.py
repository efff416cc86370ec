"""A schedule's window: max_runs, end_at and start_at, and one-off ``at`` triggers.

A schedule that has no nominal instant left becomes ``completed`` (``next_fire_at`` None)
and the loop never picks it again (DESIGN, "Execution identity"; ``schedule/fires.py``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from tickwork.schedule.policies import ScheduleState

from .helpers import HOUR, MINUTE, Rig, at, document, every, make_rig, outcomes


def _state(rig: Rig, name: str = "job") -> tuple[ScheduleState, datetime | None, int]:
    """(state, next_fire_at, runs_count) of the schedule as stored."""
    schedule = rig.service.find("default", name)
    return schedule.state, schedule.next_fire_at, schedule.runs_count


def test_max_runs_completes_the_schedule_after_its_last_fire(store_engine: Engine) -> None:
    rig = make_rig(store_engine)
    job = rig.create(every("*/15 * * * *", max_runs=3, overlap="allow"))

    rig.fire_at(at("09:15"))
    rig.fire_at(at("09:30"))
    assert _state(rig) == (ScheduleState.ACTIVE, at("09:45"), 2)
    rig.fire_at(at("09:45"))
    assert _state(rig) == (ScheduleState.COMPLETED, None, 3)

    assert rig.fire_at(at("10:00")) == 0
    assert rig.fire_at(at("13:00")) == 0
    assert rig.scheduler.next_due_at() is None
    assert outcomes(store_engine, job.id) == [
        ("09:15", "queued", None),
        ("09:30", "queued", None),
        ("09:45", "queued", None),
    ]


def test_max_runs_counts_instants_that_did_not_run(store_engine: Engine) -> None:
    """max_runs caps nominal instants, whatever became of them: fires skipped by overlap
    use theirs up, so the schedule's ledger is a function of its definition alone."""
    rig = make_rig(store_engine)
    job = rig.create(every("*/15 * * * *", max_runs=3))  # overlap: skip

    for instant in ("09:15", "09:30", "09:45", "10:00"):
        rig.fire_at(at(instant))

    assert outcomes(store_engine, job.id) == [
        ("09:15", "queued", None),
        ("09:30", "skipped", "overlap"),
        ("09:45", "skipped", "overlap"),
    ]
    assert _state(rig) == (ScheduleState.COMPLETED, None, 3)


def test_max_runs_reached_during_an_outage(store_engine: Engine) -> None:
    """Down from 09:00 to 10:07: only the 3 instants the schedule still owes are decided."""
    rig = make_rig(store_engine)
    job = rig.create(every("*/15 * * * *", max_runs=3))

    rig.fire_at(at("10:07"))

    assert outcomes(store_engine, job.id) == [
        ("09:15", "missed", "misfire"),
        ("09:30", "missed", "misfire"),
        ("09:45", "queued", None),
    ]
    assert _state(rig) == (ScheduleState.COMPLETED, None, 3)


def test_end_at_is_inclusive_and_completes_the_schedule(store_engine: Engine) -> None:
    rig = make_rig(store_engine)
    job = rig.create(every("*/15 * * * *", end_at="2026-03-02T10:00:00Z", overlap="allow"))

    for instant in ("09:15", "09:30", "09:45"):
        rig.fire_at(at(instant))
    assert _state(rig) == (ScheduleState.ACTIVE, at("10:00"), 3)
    rig.fire_at(at("10:00"))
    assert _state(rig) == (ScheduleState.COMPLETED, None, 4)
    assert rig.fire_at(at("10:15")) == 0

    assert [t for t, _, _ in outcomes(store_engine, job.id)] == ["09:15", "09:30", "09:45", "10:00"]


def test_start_at_delays_the_first_fire(store_engine: Engine) -> None:
    rig = make_rig(store_engine)
    job = rig.create(every("*/15 * * * *", start_at="2026-03-02T12:00:00Z"))
    assert job.next_fire_at == at("12:00")
    assert rig.scheduler.next_due_at() == at("12:00")

    instant = at("09:15")
    while instant < at("12:00"):
        assert rig.fire_at(instant) == 0
        instant += 15 * MINUTE
    rig.fire_at(at("12:00"))

    assert outcomes(store_engine, job.id) == [("12:00", "queued", None)]
    assert _state(rig) == (ScheduleState.ACTIVE, at("12:15"), 1)


def test_at_trigger_fires_once_then_completes(store_engine: Engine) -> None:
    rig = make_rig(store_engine)
    job = rig.create(document("once", {"at": "2026-03-02T10:00:00Z"}))
    assert job.next_fire_at == at("10:00")

    assert rig.fire_at(at("09:59")) == 0
    assert rig.fire_at(at("10:00")) == 1
    assert rig.fire_at(at("10:00") + HOUR) == 0

    assert outcomes(store_engine, job.id) == [("10:00", "queued", None)]
    assert _state(rig, "once") == (ScheduleState.COMPLETED, None, 1)


def test_at_trigger_missed_by_more_than_the_window_is_recorded_and_completes(
    store_engine: Engine,
) -> None:
    rig = make_rig(store_engine)
    job = rig.create(document("once", {"at": "2026-03-02T10:00:00Z"}))

    rig.fire_at(at("12:00"))

    assert outcomes(store_engine, job.id) == [("10:00", "missed", "catchup_window")]
    assert _state(rig, "once") == (ScheduleState.COMPLETED, None, 1)
